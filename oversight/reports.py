"""Complaints (举报) and cases: reporting, tracking, triage, investigation, measures, closing and exposure.

"发现一起,查处一起,曝光一起": anyone reports (signed in or not) and follows the case with a tracking code; the
bureau of the region concerned accepts it, assigns an officer, investigates, takes measures and answers within a
deadline counted in working days; a substantiated case can go on the public exposure list (曝光台), which shows
what was found and what was done, never who reported it.
"""

import datetime
import hashlib
import secrets
from collections.abc import Sequence

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import mask_name, normalise_phone
from accounts.models import Membership, Role, User
from accreditation.models import Organisation
from accreditation.rules import MAX_ATTACHMENT_BYTES, sniff_content_type
from accreditation.selectors import directory
from assessments.models import Plan
from assessments.plans import public_plans
from certificates.models import Certificate
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify
from core.ratelimit import check_rate
from occupations.models import Qualification, Region
from occupations.workdays import add_working_days

from .exposures import exposure_publish
from .models import (
    Complaint,
    ComplaintAttachment,
    ComplaintKind,
    ComplaintNote,
    ComplaintPolicy,
    Exposure,
    Sanction,
)
from .sanctions import sanction_apply

DEFAULT_RESPONSE_WORKING_DAYS = 15  # used only where no ComplaintPolicy row applies
MAX_ATTACHMENTS = 3
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 5000
# No 0/O or 1/I/L: codes are read off a screen and typed back in. 31 symbols ** 12 ≈ 2^59 possibilities.
TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
TRACKING_LENGTH = 12
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalise_tracking_code(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def _new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _i in range(TRACKING_LENGTH))


def format_tracking_code(code: str) -> str:
    """ABCD-EFGH-JKMN: easier to copy down; the dashes are ignored when it is typed back."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# --- Reads, scoped ---------------------------------------------------------------------------------------------


def complaints_for(actor: Actor) -> QuerySet[Complaint]:
    """Cases the actor handles: operators all, bureau staff those of their region. Nobody else sees any."""
    qs = Complaint.objects.select_related(
        "region", "organisation", "certificate", "plan", "qualification", "assigned_to"
    )
    if actor.is_operator:
        return qs
    return qs.filter(Region.within_q("region", actor.bureau_prefixes))


def complaint_get(actor: Actor, complaint_id: int) -> Complaint:
    complaint = complaints_for(actor).filter(pk=complaint_id).first()
    if complaint is None:
        raise NotFound()
    return complaint


def complaint_track(code: str) -> Complaint | None:
    """The case a tracking code belongs to, or None. Only the code's hash is stored and compared."""
    code = normalise_tracking_code(code)
    if len(code) != TRACKING_LENGTH:
        return None
    return Complaint.objects.select_related("region").filter(tracking_hash=_hash_code(code)).first()


def tracking_view(complaint: Complaint) -> dict:
    """What the reporter sees: the case's progress and the answer, nothing about the investigation's notes."""
    exposure = Exposure.objects.filter(complaint=complaint, withdrawn_at__isnull=True).first()
    return {
        "number": complaint.number,
        "kind": complaint.kind,
        "kind_label": complaint.get_kind_display(),
        "status": complaint.status,
        "status_label": complaint.get_status_display(),
        "region_name": complaint.region.full_name,
        "received_on": complaint.received_on,
        "due_on": complaint.due_on,
        "due_provisional": complaint.due_provisional,
        "due_note": complaint.due_note,
        "outcome": complaint.outcome,
        "outcome_label": complaint.get_outcome_display() if complaint.outcome else "",
        "reply": complaint.reply if not complaint.is_open else "",
        "closed_on": timezone.localdate(complaint.closed_at) if complaint.closed_at else None,
        "exposure_id": exposure.id if exposure else None,
    }


def officers_for(complaint: Complaint) -> list[User]:
    """Bureau staff whose jurisdiction contains the case's region: who it may be assigned to."""
    memberships = Membership.objects.filter(role=Role.BUREAU_STAFF).select_related("user", "bureau__region")
    code = complaint.region.code
    users = {m.user_id: m.user for m in memberships if code.startswith(m.bureau.region.prefix)}
    return sorted(users.values(), key=lambda u: u.username)


def response_working_days(region: Region, kind: str, on: datetime.date) -> int:
    """The answering deadline's length for a case of `kind` received in `region` on `on` (ComplaintPolicy)."""
    rows = ComplaintPolicy.objects.filter(effective_from__lte=on).filter(Q(kind=kind) | Q(kind=""))
    best: tuple[int, int, datetime.date] | None = None
    days = DEFAULT_RESPONSE_WORKING_DAYS
    for row in rows:
        if not region.code.startswith(row.region_prefix):
            continue
        rank = (bool(row.kind), len(row.region_prefix), row.effective_from)
        if best is None or rank > best:
            best, days = rank, row.response_working_days
    return days


# --- Reporting (public) ----------------------------------------------------------------------------------------


def _checked_contact(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if "@" in value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValidationFailed(_("电子邮箱格式不正确"), details={"field": "reporter_contact"}) from None
        return value[:128]
    try:
        return normalise_phone(value)
    except ValidationFailed:
        raise ValidationFailed(
            _("联系方式请填写11位手机号码或电子邮箱"), details={"field": "reporter_contact"}
        ) from None


def _checked_uploads(uploads: Sequence) -> list[tuple[object, str]]:
    uploads = [u for u in uploads if u is not None]
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationFailed(_("最多上传%(n)d个文件") % {"n": MAX_ATTACHMENTS}, details={"field": "attachments"})
    checked = []
    for upload in uploads:
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise ValidationFailed(_("单个文件不能超过10MB"), details={"field": "attachments", "name": upload.name})
        if upload.size == 0:
            raise ValidationFailed(_("文件为空"), details={"field": "attachments", "name": upload.name})
        head = upload.read(16)
        upload.seek(0)
        content_type = sniff_content_type(head)
        if content_type is None:
            raise ValidationFailed(
                _("只接受PDF、PNG或JPEG文件:%(name)s") % {"name": upload.name},
                details={"field": "attachments", "name": upload.name},
            )
        checked.append((upload, content_type))
    return checked


def _save_attachment(
    complaint: Complaint, upload, content_type: str, *, actor: Actor, from_reporter: bool
) -> ComplaintAttachment:
    attachment = ComplaintAttachment(
        complaint=complaint,
        title=(getattr(upload, "name", "") or _("材料"))[:128],
        content_type=content_type,
        size=upload.size,
        from_reporter=from_reporter,
        uploaded_by=actor.user,
    )
    attachment.file.save(f"c{complaint.id}{_EXTENSIONS[content_type]}", upload, save=False)
    attachment.save()
    return attachment


def _subject_region(
    organisation: Organisation | None, certificate: Certificate | None, plan: Plan | None
) -> Region | None:
    if organisation is not None:
        return organisation.region
    if certificate is not None:
        return Region.objects.filter(code=certificate.region_code).first()
    if plan is not None:
        return plan.organisation.region
    return None


def _notify_new_case(complaint: Complaint) -> None:
    """The staff of the most local bureau(s) over the region hear of a new case; higher levels see it in lists."""
    memberships = Membership.objects.filter(role=Role.BUREAU_STAFF).select_related("user", "bureau__region")
    code = complaint.region.code
    covering = [m for m in memberships if code.startswith(m.bureau.region.prefix)]
    if not covering:
        return
    nearest = max(len(m.bureau.region.prefix) for m in covering)
    notify(
        users=[m.user for m in covering if len(m.bureau.region.prefix) == nearest],
        title=_("新的举报待受理:%(n)s") % {"n": complaint.number},
        body=_("%(kind)s,答复期限%(due)s。") % {"kind": complaint.get_kind_display(), "due": complaint.due_on},
        link=f"/oversight/complaints/{complaint.id}/",
    )


def _number(prefix: str, obj_id: int, on: datetime.date) -> str:
    return f"{prefix}{on:%Y}{obj_id:06d}"


@transaction.atomic
def complaint_submit(
    *,
    actor: Actor,
    kind: str,
    description: str,
    organisation_id: int | None = None,
    certificate_number: str = "",
    plan_id: int | None = None,
    qualification_id: int | None = None,
    subject_name: str = "",
    region_code: str = "",
    reporter_name: str = "",
    reporter_contact: str = "",
    attachments: Sequence = (),
    challenge_error: ValidationFailed | None = None,
    client_ip: str = "",
) -> tuple[Complaint, str]:
    """File a report. Returns the case and its tracking code, which is shown once and never stored.

    Every field is checked before any is refused, so that the reporter corrects them all at once: the error's
    message lists each problem and details["errors"] holds one {"field", "message"} per field (details["field"]
    is the first). `challenge_error` is the arithmetic question's failure, reported with the others. With
    `client_ip`, an accepted report counts against the address's allowance (RATE_LIMITS "public_report"); a form
    sent back for corrections does not."""
    errors: list[dict] = []

    def fail(field: str, message) -> None:
        errors.append({"field": field, "message": str(message)})

    def check(field: str, run):
        try:
            return run()
        except ValidationFailed as exc:
            fail(exc.details.get("field", field), exc.message)
            return None

    if kind not in ComplaintKind.values:
        fail("kind", _("请选择举报类型"))
    organisation = None
    if organisation_id:
        organisation = directory().filter(pk=organisation_id).first()
        if organisation is None:
            fail("organisation_id", _("所选机构不在公示目录中"))
    certificate_number = (certificate_number or "").strip().upper().replace(" ", "")[:32]
    certificate = Certificate.objects.filter(number=certificate_number).first() if certificate_number else None
    plan = None
    if plan_id:
        plan = public_plans().filter(pk=plan_id).first()
        if plan is None:
            fail("plan_id", _("所选认定计划不存在或未公开"))
    qualification = None
    if qualification_id:
        qualification = Qualification.objects.filter(pk=qualification_id, status=Qualification.Status.CANCELLED).first()
        if qualification is None:
            fail("qualification_id", _("请选择目录清单中已取消的职业资格"))
    subject_name = (subject_name or "").strip()[:128]
    if not (organisation or certificate_number or plan or subject_name):
        fail("subject_name", _("请填写被举报的单位、个人或证书编号"))
    region = _subject_region(organisation, certificate, plan)
    if region is None:
        region = Region.objects.filter(code=(region_code or "").strip()).first()
        if region is None:
            fail("region_code", _("请选择问题发生地"))
    description = (description or "").strip()
    if len(description) < DESCRIPTION_MIN:
        fail("description", _("请具体描述问题(至少%(n)d个字)") % {"n": DESCRIPTION_MIN})
    elif len(description) > DESCRIPTION_MAX:
        fail("description", _("举报内容不超过%(n)d字,可上传附件") % {"n": DESCRIPTION_MAX})
    uploads = check("attachments", lambda: _checked_uploads(attachments))
    reporter_contact = check("reporter_contact", lambda: _checked_contact(reporter_contact))
    if challenge_error is not None:
        fail("challenge", challenge_error.message)
    if errors:
        message = ";".join(e["message"] for e in errors)
        raise ValidationFailed(message, details={"field": errors[0]["field"], "errors": errors})
    if client_ip:
        check_rate("public_report", client_ip)
    today = timezone.localdate()
    deadline = add_working_days(today, response_working_days(region, kind, today))
    code = _new_tracking_code()
    complaint = Complaint(
        tracking_hash=_hash_code(code),
        source=Complaint.Source.PUBLIC,
        kind=kind,
        region=region,
        organisation=organisation,
        certificate=certificate,
        certificate_number=certificate_number,
        plan=plan,
        qualification=qualification,
        subject_name=subject_name,
        description=description,
        reporter=actor.user,
        reporter_name=(reporter_name or "").strip()[:64],
        reporter_contact=reporter_contact,
        received_on=today,
        due_on=deadline.date,
        due_provisional=deadline.provisional,
        due_note=deadline.explanation[:128],
    )
    complaint.full_clean(exclude=["number", "tracking_hash"])
    complaint.save()
    complaint.number = _number("JB", complaint.id, today)
    complaint.save(update_fields=["number"])
    for upload, content_type in uploads:
        _save_attachment(complaint, upload, content_type, actor=actor, from_reporter=True)
    audit_record(
        actor=actor,
        action="complaint.submit",
        obj=complaint,
        # Never the reporter's name or contact: the audit log is readable by more people than the case.
        after={
            "number": complaint.number,
            "kind": kind,
            "region": region.code,
            "organisation": organisation.id if organisation else None,
            "certificate_number": certificate_number,
            "plan": plan.id if plan else None,
            "attachments": len(uploads),
            "due_on": complaint.due_on,
        },
        region_code=region.code,
    )
    _notify_new_case(complaint)
    return complaint, code


# --- Handling (bureau) -----------------------------------------------------------------------------------------


def _case_state(c: Complaint) -> dict:
    return {"status": c.status, "assigned_to": c.assigned_to_id, "outcome": c.outcome}


def _for_update(actor: Actor, complaint_id: int) -> Complaint:
    actor.require_authenticated()
    complaint = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("region", "organisation", "certificate")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None or not (actor.is_operator or actor.oversees_region(complaint.region)):
        raise NotFound()
    return complaint


def _require_status(complaint: Complaint, allowed: tuple) -> None:
    if complaint.status not in allowed:
        raise Conflict(
            _("案件当前状态为“%(s)s”,不能执行此操作") % {"s": complaint.get_status_display()},
            details={"status": complaint.status},
        )


def _record(actor: Actor, complaint: Complaint, action: str, before: dict, reason: str = "", **extra) -> None:
    audit_record(
        actor=actor,
        action=f"complaint.{action}",
        obj=complaint,
        before=before,
        after={**_case_state(complaint), **extra},
        reason=reason,
        region_code=complaint.region.code,
    )


def _officer(complaint: Complaint, assignee_id: int) -> User:
    officer = next((u for u in officers_for(complaint) if u.id == assignee_id), None)
    if officer is None:
        raise ValidationFailed(_("承办人须为该地区人社部门的工作人员"), details={"field": "assignee_id"})
    return officer


def _assign(actor: Actor, complaint: Complaint, assignee_id: int) -> None:
    officer = _officer(complaint, assignee_id)
    complaint.assigned_to = officer
    complaint.status = Complaint.Status.INVESTIGATING
    if officer != actor.user:
        notify(
            users=[officer],
            title=_("案件已交您承办:%(n)s") % {"n": complaint.number},
            body=_("答复期限%(due)s。") % {"due": complaint.due_on},
            link=f"/oversight/complaints/{complaint.id}/",
        )


@transaction.atomic
def complaint_accept(*, actor: Actor, complaint_id: int, assignee_id: int | None = None) -> Complaint:
    """Triage: the case is within the bureau's remit and will be investigated (by `assignee_id`, if given)."""
    complaint = _for_update(actor, complaint_id)
    _require_status(complaint, (Complaint.Status.RECEIVED,))
    before = _case_state(complaint)
    complaint.status = Complaint.Status.ACCEPTED
    complaint.accepted_at = timezone.now()
    if assignee_id:
        _assign(actor, complaint, assignee_id)
    complaint.save()
    _record(actor, complaint, "accept", before)
    return complaint


@transaction.atomic
def complaint_assign(*, actor: Actor, complaint_id: int, assignee_id: int) -> Complaint:
    complaint = _for_update(actor, complaint_id)
    _require_status(complaint, (Complaint.Status.ACCEPTED, Complaint.Status.INVESTIGATING))
    before = _case_state(complaint)
    _assign(actor, complaint, assignee_id)
    complaint.save()
    _record(actor, complaint, "assign", before)
    return complaint


@transaction.atomic
def complaint_reject(*, actor: Actor, complaint_id: int, reason: str) -> Complaint:
    """Not a matter for this bureau, or not a matter at all: closed with the reason as the reporter's answer."""
    complaint = _for_update(actor, complaint_id)
    _require_status(complaint, (Complaint.Status.RECEIVED, Complaint.Status.ACCEPTED))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写不予受理的理由(将答复举报人)"), details={"field": "reason"})
    before = _case_state(complaint)
    complaint.status = Complaint.Status.REJECTED
    complaint.reply = reason
    complaint.closed_at = timezone.now()
    complaint.save()
    _record(actor, complaint, "reject", before, reason=reason)
    return complaint


@transaction.atomic
def complaint_note_add(*, actor: Actor, complaint_id: int, text: str) -> ComplaintNote:
    complaint = _for_update(actor, complaint_id)
    _require_status(complaint, (Complaint.Status.ACCEPTED, Complaint.Status.INVESTIGATING))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("请填写调查记录"), details={"field": "text"})
    note = ComplaintNote.objects.create(complaint=complaint, author=actor.user, text=text)
    if complaint.status == Complaint.Status.ACCEPTED:
        before = _case_state(complaint)
        complaint.status = Complaint.Status.INVESTIGATING
        complaint.assigned_to = complaint.assigned_to or actor.user
        complaint.save()
        _record(actor, complaint, "start_investigation", before)
    audit_record(
        actor=actor,
        action="complaint.note",
        obj=complaint,
        after={"note": note.id, "length": len(text)},
        region_code=complaint.region.code,
    )
    return note


@transaction.atomic
def complaint_attach(*, actor: Actor, complaint_id: int, upload) -> ComplaintAttachment:
    """Evidence gathered by the officer (PDF, PNG or JPEG, at most 10 MB)."""
    complaint = _for_update(actor, complaint_id)
    _require_status(complaint, (Complaint.Status.ACCEPTED, Complaint.Status.INVESTIGATING))
    ((upload, content_type),) = _checked_uploads([upload])
    attachment = _save_attachment(complaint, upload, content_type, actor=actor, from_reporter=False)
    audit_record(
        actor=actor,
        action="complaint.attach",
        obj=complaint,
        after={"attachment": attachment.id, "size": attachment.size, "content_type": content_type},
        region_code=complaint.region.code,
    )
    return attachment


@transaction.atomic
def complaint_sanction(
    *,
    actor: Actor,
    complaint_id: int,
    kind: str,
    reason: str,
    certificate_id: int | None = None,
    organisation_id: int | None = None,
) -> Sanction:
    """A measure decided on the case: suspend or revoke a certificate, warn an employer, suspend a filing…"""
    complaint = _for_update(actor, complaint_id)
    _require_status(complaint, (Complaint.Status.INVESTIGATING,))
    return sanction_apply(
        actor=actor,
        kind=kind,
        reason=reason,
        reference=_("案件编号%(n)s") % {"n": complaint.number},
        complaint=complaint,
        certificate_id=certificate_id,
        organisation_id=organisation_id,
    )


def _public_subject(complaint: Complaint) -> str:
    if complaint.organisation_id:
        return complaint.organisation.name
    if complaint.certificate_id:
        return _("证书 %(n)s(持证人 %(name)s)") % {
            "n": complaint.certificate.number,
            "name": mask_name(complaint.certificate.holder_name),
        }
    if complaint.plan_id:
        return f"{complaint.plan.organisation.name}「{complaint.plan.title}」"
    return mask_name(complaint.subject_name) if complaint.subject_name else complaint.certificate_number


@transaction.atomic
def complaint_close(
    *,
    actor: Actor,
    complaint_id: int,
    outcome: str,
    finding: str,
    reply: str,
    measures: str = "",
    publish: bool = False,
    public_subject: str = "",
) -> Complaint:
    """Close the case with its outcome and the answer to the reporter; publish it on the exposure list if asked.

    Only substantiated findings are published, and only the fields written for publication.
    """
    complaint = _for_update(actor, complaint_id)
    _require_status(complaint, (Complaint.Status.INVESTIGATING,))
    if outcome not in Complaint.Outcome.values:
        raise ValidationFailed(_("请选择办理结果"), details={"field": "outcome"})
    finding, measures, reply = (finding or "").strip(), (measures or "").strip(), (reply or "").strip()
    if not finding:
        raise ValidationFailed(_("请填写调查认定的事实"), details={"field": "finding"})
    if not reply:
        raise ValidationFailed(_("请填写给举报人的答复"), details={"field": "reply"})
    if publish:
        if outcome == Complaint.Outcome.UNSUBSTANTIATED:
            raise ValidationFailed(_("查无实据的案件不予曝光"), details={"field": "publish"})
        if not measures:
            raise ValidationFailed(_("曝光须写明处理措施"), details={"field": "measures"})
    before = _case_state(complaint)
    complaint.status = Complaint.Status.CLOSED
    complaint.outcome, complaint.finding, complaint.measures, complaint.reply = outcome, finding, measures, reply
    complaint.closed_at = timezone.now()
    complaint.save()
    _record(actor, complaint, "close", before, published=publish)
    flag = getattr(complaint, "guazheng_flag", None)
    if flag is not None:
        from .guazheng import flag_case_closed

        flag_case_closed(actor=actor, flag=flag, complaint=complaint)
    if complaint.kind == Complaint.Kind.CANCELLED_QUALIFICATION:
        from .comebacks import findings_case_closed

        findings_case_closed(actor=actor, complaint=complaint)
    if publish:
        exposure_publish(
            actor=actor,
            reference=complaint.number,
            region=complaint.region,
            category=complaint.get_kind_display(),
            subject=(public_subject or "").strip() or _public_subject(complaint),
            finding=finding,
            measures=measures,
            complaint=complaint,
            organisation_id=complaint.organisation_id,
        )
    return complaint


def open_case_for_detection(
    *,
    actor: Actor,
    kind: str,
    region: Region,
    description: str,
    organisation,
    certificate: Certificate | None = None,
    plan: Plan | None = None,
    qualification: Qualification | None = None,
) -> Complaint:
    """A case opened by the bureau from a data check (no reporter, no tracking code), under investigation at once.

    Called inside the caller's transaction, after the caller has authorised the actor.
    """
    today = timezone.localdate()
    deadline = add_working_days(today, response_working_days(region, kind, today))
    complaint = Complaint(
        source=Complaint.Source.DETECTION,
        kind=kind,
        status=Complaint.Status.INVESTIGATING,
        region=region,
        organisation=organisation,
        certificate=certificate,
        certificate_number=certificate.number if certificate else "",
        plan=plan,
        qualification=qualification,
        description=description,
        received_on=today,
        due_on=deadline.date,
        due_provisional=deadline.provisional,
        due_note=deadline.explanation[:128],
        assigned_to=actor.user,
        accepted_at=timezone.now(),
    )
    complaint.full_clean(exclude=["number", "tracking_hash"])
    complaint.save()
    complaint.number = _number("JB", complaint.id, today)
    complaint.save(update_fields=["number"])
    audit_record(
        actor=actor,
        action="complaint.open_from_detection",
        obj=complaint,
        after={
            "number": complaint.number,
            "kind": kind,
            "certificate": certificate.number if certificate else "",
            "qualification": qualification.name if qualification else "",
            **_case_state(complaint),
        },
        region_code=region.code,
    )
    return complaint


def require_case_handler(actor: Actor) -> None:
    """Pages that list cases are for bureau staff; everyone else is told so rather than shown an empty list."""
    actor.require_authenticated()
    if not (actor.bureau_prefixes or actor.is_operator):
        raise PermissionDenied(_("仅人社部门工作人员可以办理举报案件"))
