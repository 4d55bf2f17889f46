"""Employment at the employer: the facts (insurance records, uploaded documents, the bureau's word), the checks at
registration, approval and finalisation, the employer's uploads and the bureau's review.

Insurance records live in the oversight app, above this one: they are asked for through
`assessments.signals.employment_records`, which oversight answers."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Person, Role, User
from accounts.selectors import organisation_admins
from accounts.services import person_get_or_create
from accreditation.models import Organisation
from accreditation.rules import MAX_ATTACHMENT_BYTES, sniff_content_type
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from core.notifications import notify
from core.schema_types import parse_iso_date

from ..models import EmploymentProof, Plan, Registration
from ..policy import policy_for
from ..signals import employment_records
from .rules import RULE_CODE, EmploymentDecision, decide

EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
BUREAU_WORD = ("accepted", "refused")


def exam_day(plan: Plan) -> datetime.date:
    first = min((c.starts_at for c in plan.components.all()), default=None)
    return timezone.localtime(first).date() if first is not None else plan.registration_closes


def employment_decision(
    plan: Plan, person: Person, *, on: datetime.date, bureau_status: str = ""
) -> EmploymentDecision:
    """Is `person` employed by the plan's organisation on `on`, by what record, and if not, what happens."""
    org = plan.organisation
    if org.kind != Organisation.Kind.EMPLOYER:
        return decide(
            employer_plan=False, person_name="", employer_name="", insured=[], proofs=[], bureau_status="", mode=""
        )
    insured = [
        str(text)
        for _receiver, answer in employment_records.send(sender=Person, person=person, organisation=org, on=on)
        for text in answer or []
    ]
    proofs = [
        _("%(kind)s(材料编号%(id)d,%(start)s起)") % {"kind": p.get_kind_display(), "id": p.id, "start": p.valid_from}
        for p in EmploymentProof.objects.filter(organisation=org, person=person).order_by("id")
        if p.covers(on)
    ]
    return decide(
        employer_plan=True,
        person_name=person.name,
        employer_name=org.name,
        insured=insured,
        proofs=proofs,
        bureau_status=bureau_status if bureau_status in BUREAU_WORD else "",
        mode=policy_for(org.region.code, on).employer_staff_check,
    )


def _violation(step: str, decisions: list[tuple[Registration | None, EmploymentDecision]]) -> RuleViolation:
    return RuleViolation(
        _("用人单位只评价本单位职工(含派遣、实习人员),不能%(step)s:%(list)s")
        % {"step": step, "list": ";".join(d.explanation for _r, d in decisions)},
        details={
            "rule_code": RULE_CODE,
            "findings": [
                {"registration_id": r.id if r else None, "status": d.status, "explanation": d.explanation}
                for r, d in decisions
            ],
        },
    )


def employment_at_registration(plan: Plan, person: Person) -> EmploymentDecision:
    """Checked when a candidate registers for an employer's plan: refused outright where the region's policy says
    so, otherwise the registration records that it waits for the bureau."""
    decision = employment_decision(plan, person, on=timezone.localdate())
    if decision.status == "refused":
        raise _violation(_("报名"), [(None, decision)])
    return decision


def _refresh(plan: Plan, reg: Registration, on: datetime.date) -> EmploymentDecision:
    decision = employment_decision(plan, reg.person, on=on, bureau_status=reg.employment_status)
    if (reg.employment_status, reg.employment_note) != (decision.status, decision.explanation):
        Registration.objects.filter(pk=reg.pk).update(
            employment_status=decision.status, employment_note=decision.explanation
        )
        reg.employment_status, reg.employment_note = decision.status, decision.explanation
    return decision


def employment_require_for_approval(reg: Registration) -> None:
    """Checked again when the organisation approves: the records may have changed since registration."""
    decision = _refresh(reg.plan, reg, timezone.localdate())
    if not decision.ok:
        raise _violation(_("审核通过该考生"), [(reg, decision)])


def employment_require_for_finalisation(plan: Plan, registrations: list[Registration]) -> None:
    """Checked for every approved candidate on the exam date before the plan is finalised."""
    if plan.organisation.kind != Organisation.Kind.EMPLOYER:
        return
    day = exam_day(plan)
    failing = []
    for reg in registrations:
        decision = _refresh(plan, reg, day)
        if not decision.ok:
            failing.append((reg, decision))
    if failing:
        raise _violation(_("办结计划"), failing)


# --- The employer's documents --------------------------------------------------------------------------------


@transaction.atomic
def employment_proof_add(
    *,
    actor: Actor,
    organisation_id: int,
    name: str,
    id_type: str,
    id_number: str,
    kind: str,
    upload,
    valid_from,
    valid_until=None,
) -> EmploymentProof:
    """An employer's admin uploads a labour contract, dispatch or internship agreement (PDF, PNG or JPEG, checked by
    content) for one person."""
    actor.require_org_role(organisation_id, Role.ORG_ADMIN)
    org = Organisation.objects.select_related("region").get(pk=organisation_id)
    if org.kind != Organisation.Kind.EMPLOYER:
        raise Conflict(_("只有用人单位需要上传本单位职工证明材料"), code="not_employer")
    if kind not in EmploymentProof.Kind.values:
        raise ValidationFailed(_("请选择材料类型"), details={"field": "kind"})
    try:
        start = parse_iso_date(valid_from) if not isinstance(valid_from, datetime.date) else valid_from
        end = (
            None
            if valid_until in (None, "")
            else (parse_iso_date(valid_until) if not isinstance(valid_until, datetime.date) else valid_until)
        )
    except ValueError:
        raise ValidationFailed(_("日期格式不正确"), details={"field": "valid_from"}) from None
    if start is None:
        raise ValidationFailed(_("请填写起始日期"), details={"field": "valid_from"})
    if end is not None and end < start:
        raise ValidationFailed(_("截止日期不能早于起始日期"), details={"field": "valid_until"})
    if upload is None or upload.size == 0:
        raise ValidationFailed(_("请上传材料"), details={"field": "file"})
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(_("文件超过10MB上限"), details={"field": "file"})
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise ValidationFailed(_("只接受PDF、PNG或JPEG文件"), details={"field": "file"})
    person = person_get_or_create(actor=actor, name=name, id_type=id_type or "ric", id_number=id_number)
    proof = EmploymentProof(
        organisation=org,
        person=person,
        kind=kind,
        content_type=content_type,
        valid_from=start,
        valid_until=end,
        uploaded_by=actor.user,
    )
    proof.document.save(f"employment-{org.id}-{person.id}{EXTENSIONS[content_type]}", upload, save=False)
    proof.full_clean()
    proof.save()
    audit_record(
        actor=actor,
        action="employment_proof.add",
        obj=proof,
        after={"person": person.id, "kind": kind, "valid_from": start, "valid_until": end},
        region_code=org.region.code,
        organisation_id=org.id,
    )
    return proof


# --- The bureau's review -------------------------------------------------------------------------------------


@transaction.atomic
def employment_review(*, actor: Actor, registration_id: int, accept: bool, reason: str) -> Registration:
    """Bureau staff over the employer's region decide on a candidate sent for review: accepted, the organisation
    may approve them; refused, the registration is rejected. Audited; the organisation and candidate are told."""
    actor.require_authenticated()
    reg = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("plan__organisation__region", "person")
        .filter(pk=registration_id)
        .first()
    )
    if reg is None:
        raise NotFound()
    region = reg.plan.organisation.region
    if not (actor.is_operator or actor.oversees_region(region)):
        if reg.plan.organisation_id in actor.organisation_ids():
            raise PermissionDenied(_("本单位职工核验由机构所在地的人社部门审核"))
        raise NotFound()
    if actor.user is None:
        raise PermissionDenied(_("须由人社部门工作人员本人登录办理"))
    if reg.employment_status != "review" or reg.status not in Registration.ACTIVE:
        raise Conflict(_("该报名不在待人社部门审核状态"), code="not_in_review")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写审核意见"), details={"field": "reason"})
    before = {"employment_status": reg.employment_status, "status": reg.status}
    reg.employment_status = "accepted" if accept else "refused"
    reg.employment_note = f"{reg.employment_note};{_('人社部门审核意见')}:{reason}"
    fields = ["employment_status", "employment_note"]
    if not accept:
        reg.status, reg.review_reason = Registration.Status.REJECTED, reason
        reg.reviewed_by, reg.reviewed_at = actor.user, timezone.now()
        fields += ["status", "review_reason", "reviewed_by", "reviewed_at"]
    reg.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="registration.employment_accept" if accept else "registration.employment_refuse",
        obj=reg,
        before=before,
        after={"employment_status": reg.employment_status, "status": reg.status},
        reason=reason,
        region_code=region.code,
        organisation_id=reg.plan.organisation_id,
    )
    verdict = _("认可为本单位职工") if accept else _("不予认可,报名不予受理")
    notify(
        users=[*organisation_admins(reg.plan.organisation_id), *User.objects.filter(person=reg.person)],
        title=_("本单位职工核验:%(name)s %(v)s") % {"name": reg.person.name, "v": verdict},
        body=reason,
        link=f"/assessments/registrations/{reg.id}/",
    )
    return reg
