"""Writes for organisations. Every function is atomic, validates, and writes the audit log."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import normalise_credit_code, normalise_phone
from accounts.models import Membership, Role
from accounts.selectors import organisation_admins
from core.audit import audit_record, snapshot
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.images import seal_clean
from core.notifications import notify
from occupations.models import Level, Occupation, Region

from .models import Filing, FilingAttachment, FilingReminder, Organisation, PrefixCounter, ScopeLine
from .rules import MAX_ATTACHMENT_BYTES, scope_line_problems, sniff_content_type
from .selectors import organisations_for

ORG_FIELDS = [
    "name",
    "kind",
    "credit_code",
    "region",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "provides_training",
]


@transaction.atomic
def organisation_seal_set(*, actor: Actor, organisation_id: int, upload) -> Organisation:
    """The organisation's admin uploads its seal image (checked and re-encoded, core/images.py); certificate PDFs
    print it where the national layout stamps the seal. None removes it."""
    org = Organisation.objects.select_for_update().select_related("region").filter(pk=organisation_id).first()
    if org is None or not organisations_for(actor).filter(pk=organisation_id).exists():
        raise NotFound()
    actor.require_org_role(org.id, Role.ORG_ADMIN)
    before = org.seal.name if org.seal else ""
    if upload is None:
        org.seal = None
    else:
        org.seal.save(f"seal-{org.id}.png", seal_clean(upload), save=False)
    org.save(update_fields=["seal"])
    audit_record(
        actor=actor,
        action="organisation.seal_remove" if upload is None else "organisation.seal_set",
        obj=org,
        before={"seal": before},
        after={"seal": org.seal.name if org.seal else ""},
        region_code=org.region.code,
        organisation_id=org.id,
    )
    return org


def organisation_register(
    *,
    actor: Actor,
    name: str,
    kind: str,
    credit_code: str,
    region_code: str,
    contact_name: str,
    contact_phone: str,
    address: str = "",
    contact_email: str = "",
    provides_training: bool = False,
) -> Organisation:
    """An organisation registers itself; the registering user becomes its admin. One per credit code."""
    actor.require_authenticated()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("请填写机构名称"), details={"field": "name"})
    if kind not in Organisation.Kind.values:
        raise ValidationFailed(_("机构类型应为 Y(用人单位)或 S(社会培训评价组织)"), details={"field": "kind"})
    credit_code = normalise_credit_code(credit_code)
    region = Region.objects.filter(code=(region_code or "").strip(), active=True).first()
    if region is None:
        raise ValidationFailed(_("所在地区代码无效,请从列表中选择地市或县区"), details={"field": "region_code"})
    if region.kind == Region.Kind.PROVINCE:
        raise ValidationFailed(_("请选择机构所在的地市或县区,不能只选省份"), details={"field": "region_code"})
    if not (contact_name or "").strip():
        raise ValidationFailed(_("请填写联系人"), details={"field": "contact_name"})
    contact_phone = normalise_phone(contact_phone)
    if not contact_phone:
        raise ValidationFailed(_("请填写联系电话"), details={"field": "contact_phone"})
    if Organisation.objects.filter(credit_code=credit_code).exists():
        raise Conflict(_("该统一社会信用代码已注册,请联系该机构管理员"), details={"field": "credit_code"})
    org = Organisation(
        name=name,
        kind=kind,
        credit_code=credit_code,
        region=region,
        address=address.strip(),
        contact_name=contact_name.strip(),
        contact_phone=contact_phone,
        contact_email=contact_email.strip(),
        provides_training=provides_training,
    )
    org.full_clean(exclude=["credit_code"])
    try:
        with transaction.atomic():
            org.save()
            if actor.user is not None:
                Membership.objects.create(user=actor.user, role=Role.ORG_ADMIN, organisation=org)
            audit_record(
                actor=actor,
                action="organisation.register",
                obj=org,
                region_code=region.code,
                organisation_id=org.id,
                after=snapshot(org, ORG_FIELDS),
            )
    except IntegrityError:
        raise Conflict(_("该统一社会信用代码已注册,请联系该机构管理员"), details={"field": "credit_code"}) from None
    return org


# --- Filings -----------------------------------------------------------------------------------------------

FILING_FIELDS = ["status", "national_code", "valid_from", "valid_until", "status_reason"]


def _filing_for_update(filing_id: int) -> Filing:
    filing = Filing.objects.select_for_update().select_related("organisation__region").filter(pk=filing_id).first()
    if filing is None:
        raise NotFound()
    return filing


def _require_org_admin(actor: Actor, filing: Filing) -> None:
    actor.require_org_role(filing.organisation_id, Role.ORG_ADMIN)


def _require_region_bureau(actor: Actor, organisation: Organisation) -> None:
    """Bureau staff whose region contains the organisation's; others get 404 (or 403 if they can see it)."""
    actor.require_authenticated()
    if actor.is_operator or actor.oversees_region(organisation.region):
        return
    if organisation.id in actor.organisation_ids():
        raise PermissionDenied(_("只有机构所在地的人社部门可以审核"))
    raise NotFound()


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写理由"), details={"field": "reason"})
    return reason


def _transition(
    actor: Actor, filing: Filing, *, allowed_from: tuple, to: str, action: str, reason: str = "", **changes
) -> Filing:
    if filing.status not in allowed_from:
        raise Conflict(
            _("备案当前状态为“%(status)s”,不能执行此操作") % {"status": filing.get_status_display()},
            details={"status": filing.status},
        )
    before = snapshot(filing, FILING_FIELDS)
    filing.status = to
    filing.status_reason = reason
    for key, value in changes.items():
        setattr(filing, key, value)
    filing.save()
    audit_record(
        actor=actor,
        action=f"filing.{action}",
        obj=filing,
        before=before,
        after=snapshot(filing, FILING_FIELDS),
        reason=reason,
        region_code=filing.organisation.region.code,
        organisation_id=filing.organisation_id,
    )
    return filing


def _validated_scope(lines: list[dict], on, organisation: Organisation) -> list[tuple[Occupation, list[Level]]]:
    """[{"occupation_code": "6-31-01-03", "levels": ["5", "4"]}] → checked lines, or every problem at once."""
    if not lines:
        raise ValidationFailed(_("备案范围至少包含一个职业"), details={"field": "scope"})
    problems, result, seen = [], [], set()
    for i, line in enumerate(lines, start=1):
        code = (line.get("occupation_code") or "").strip()
        occupation = Occupation.objects.select_related("qualification").filter(code=code).first()
        if occupation is None:
            problems.append({"line": i, "occupation_code": code, "reasons": [_("职业编码不存在")]})
            continue
        if code in seen:
            problems.append({"line": i, "occupation_code": code, "reasons": [_("同一职业重复填写")]})
            continue
        seen.add(code)
        level_codes = sorted(set(line.get("levels") or []))
        reasons = scope_line_problems(occupation, level_codes, on, organisation_kind=organisation.kind)
        if reasons:
            problems.append({"line": i, "occupation_code": code, "occupation": occupation.name, "reasons": reasons})
            continue
        result.append((occupation, list(Level.objects.filter(code__in=level_codes))))
    if problems:
        summary = ";".join(f"{p.get('occupation') or p['occupation_code']}:{''.join(p['reasons'])}" for p in problems)
        raise ValidationFailed(_("备案范围不符合要求:%(summary)s") % {"summary": summary}, details={"scope": problems})
    return result


def _write_scope(filing: Filing, scope: list[tuple[Occupation, list[Level]]]) -> None:
    filing.scope_lines.all().delete()
    for occupation, levels in scope:
        line = ScopeLine.objects.create(filing=filing, occupation=occupation, occupation_edition=occupation.edition)
        line.levels.set(levels)


def _scope_snapshot(filing: Filing) -> list[dict]:
    return [
        {"occupation": line.occupation.code, "levels": sorted(lv.code for lv in line.levels.all())}
        for line in filing.scope_lines.select_related("occupation").prefetch_related("levels")
    ]


@transaction.atomic
def filing_create(*, actor: Actor, organisation_id: int, scope: list[dict], note: str = "") -> Filing:
    """A draft filing with its scope. One open application per organisation at a time."""
    actor.require_org_role(organisation_id, Role.ORG_ADMIN)
    organisation = Organisation.objects.select_for_update().select_related("region").get(pk=organisation_id)
    if Filing.objects.filter(organisation=organisation, status__in=Filing.OPEN).exists():
        raise Conflict(_("已有一份未办结的备案申请,请在原申请上修改"))
    checked = _validated_scope(scope, timezone.localdate(), organisation)
    filing = Filing.objects.create(organisation=organisation, note=(note or "").strip())
    _write_scope(filing, checked)
    audit_record(
        actor=actor,
        action="filing.create",
        obj=filing,
        after={"scope": _scope_snapshot(filing), "status": "draft"},
        region_code=organisation.region.code,
        organisation_id=organisation.id,
    )
    return filing


@transaction.atomic
def filing_update_scope(*, actor: Actor, filing_id: int, scope: list[dict], note: str | None = None) -> Filing:
    filing = _filing_for_update(filing_id)
    _require_org_admin(actor, filing)
    if not filing.is_editable:
        raise Conflict(_("只有草稿或退回修改的申请可以修改"))
    before = _scope_snapshot(filing)
    _write_scope(filing, _validated_scope(scope, timezone.localdate(), filing.organisation))
    if note is not None:
        filing.note = note.strip()
        filing.save(update_fields=["note", "updated_at"])
    audit_record(
        actor=actor,
        action="filing.update_scope",
        obj=filing,
        before={"scope": before},
        after={"scope": _scope_snapshot(filing)},
        region_code=filing.organisation.region.code,
        organisation_id=filing.organisation_id,
    )
    return filing


@transaction.atomic
def filing_attach(*, actor: Actor, filing_id: int, title: str, upload) -> FilingAttachment:
    """Attach a PDF, PNG or JPEG (checked by content, at most 10 MB) to a draft or returned filing."""
    filing = _filing_for_update(filing_id)
    _require_org_admin(actor, filing)
    if not filing.is_editable:
        raise Conflict(_("只有草稿或退回修改的申请可以上传材料"))
    title = (title or "").strip() or getattr(upload, "name", "") or _("申请材料")
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(_("文件超过10MB上限"), details={"field": "file", "size": upload.size})
    if upload.size == 0:
        raise ValidationFailed(_("文件为空"), details={"field": "file"})
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise ValidationFailed(_("只接受PDF、PNG或JPEG文件"), details={"field": "file"})
    attachment = FilingAttachment(
        filing=filing, title=title[:128], content_type=content_type, size=upload.size, uploaded_by=actor.user
    )
    attachment.file.save(f"filing{filing.id}{_EXTENSIONS[content_type]}", upload, save=False)
    attachment.save()
    audit_record(
        actor=actor,
        action="filing.attach",
        obj=filing,
        after={"attachment": attachment.id, "title": attachment.title, "size": attachment.size},
        region_code=filing.organisation.region.code,
        organisation_id=filing.organisation_id,
    )
    return attachment


_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


@transaction.atomic
def filing_submit(*, actor: Actor, filing_id: int) -> Filing:
    filing = _filing_for_update(filing_id)
    _require_org_admin(actor, filing)
    if filing.is_editable:
        # The catalogue may have changed since the draft was written.
        _validated_scope(
            [{"occupation_code": s["occupation"], "levels": s["levels"]} for s in _scope_snapshot(filing)],
            timezone.localdate(),
            filing.organisation,
        )
        if not filing.attachments.exists():
            raise ValidationFailed(_("请先上传申请材料"), details={"field": "attachments"})
    return _transition(
        actor,
        filing,
        allowed_from=(Filing.Status.DRAFT, Filing.Status.RETURNED),
        to=Filing.Status.SUBMITTED,
        action="submit",
        submitted_at=timezone.now(),
    )


@transaction.atomic
def filing_start_review(*, actor: Actor, filing_id: int) -> Filing:
    filing = _filing_for_update(filing_id)
    _require_region_bureau(actor, filing.organisation)
    return _transition(
        actor, filing, allowed_from=(Filing.Status.SUBMITTED,), to=Filing.Status.UNDER_REVIEW, action="start_review"
    )


@transaction.atomic
def filing_return(*, actor: Actor, filing_id: int, reason: str) -> Filing:
    filing = _filing_for_update(filing_id)
    _require_region_bureau(actor, filing.organisation)
    return _transition(
        actor,
        filing,
        allowed_from=(Filing.Status.UNDER_REVIEW,),
        to=Filing.Status.RETURNED,
        action="return",
        reason=_require_reason(reason),
    )


@transaction.atomic
def filing_reject(*, actor: Actor, filing_id: int, reason: str) -> Filing:
    filing = _filing_for_update(filing_id)
    _require_region_bureau(actor, filing.organisation)
    return _transition(
        actor,
        filing,
        allowed_from=(Filing.Status.UNDER_REVIEW,),
        to=Filing.Status.REJECTED,
        action="reject",
        reason=_require_reason(reason),
        decided_at=timezone.now(),
        decided_by=actor.user,
    )


def filing_default_valid_until(actor: Actor, today: datetime.date | None = None) -> datetime.date:
    """The day before the same date N years on, N being the approving bureau's policy (3 unless set).
    An approval on 29 February runs to 28 February."""
    today = today or timezone.localdate()
    years = max((b.filing_validity_years for b in actor.bureaus()), default=3)
    try:
        anniversary = today.replace(year=today.year + years)
    except ValueError:  # 29 February, and the target year is not a leap year
        anniversary = today.replace(year=today.year + years, day=28) + datetime.timedelta(days=1)
    return anniversary - datetime.timedelta(days=1)


def _assign_prefix(organisation: Organisation, national_code: str) -> str:
    """Positions 1–13: type letter, 4-digit code, 2-digit province, 6-digit serial within the province."""
    province = organisation.region.province_code
    PrefixCounter.objects.get_or_create(province_code=province)
    counter = PrefixCounter.objects.select_for_update().get(province_code=province)
    if counter.last_serial >= 999_999:
        raise Conflict(_("本省机构序号已用尽"))
    counter.last_serial += 1
    counter.save(update_fields=["last_serial"])
    return f"{organisation.kind}{national_code}{province}{counter.last_serial:06d}"


@transaction.atomic
def filing_approve(
    *,
    actor: Actor,
    filing_id: int,
    valid_until: datetime.date | None = None,
    national_code: str | None = None,
    reason: str = "",
) -> Filing:
    """File the organisation: its prefix is assigned on first approval and kept for life; a renewal replaces the
    filing in force."""
    filing = _filing_for_update(filing_id)
    _require_region_bureau(actor, filing.organisation)
    if filing.status != Filing.Status.UNDER_REVIEW:
        raise Conflict(_("备案当前状态为“%(status)s”,不能批准") % {"status": filing.get_status_display()})
    national_code = (national_code or filing.national_code or "0000").strip()
    if not (len(national_code) == 4 and national_code.isdigit()):
        raise ValidationFailed(_("全国备案机构代码应为4位数字,省级备案为0000"), details={"field": "national_code"})
    today = timezone.localdate()
    # A qualification may have been cancelled (or moved out of the catalogue) while the filing was in review.
    _validated_scope(
        [{"occupation_code": s["occupation"], "levels": s["levels"]} for s in _scope_snapshot(filing)],
        today,
        filing.organisation,
    )
    if valid_until is None:
        valid_until = filing_default_valid_until(actor, today)
    if valid_until <= today:
        raise ValidationFailed(_("有效期截止日期应晚于今天"), details={"field": "valid_until"})
    organisation = Organisation.objects.select_for_update().select_related("region").get(pk=filing.organisation_id)
    filing.organisation = organisation
    previous = Filing.objects.select_for_update().filter(organisation=organisation, status__in=Filing.IN_FORCE).first()
    if previous is not None:
        _transition(
            actor,
            previous,
            allowed_from=Filing.IN_FORCE,
            to=Filing.Status.EXPIRED,
            action="superseded",
            reason=_("被新的备案取代"),
        )
    if not organisation.number_prefix:
        organisation.number_prefix = _assign_prefix(organisation, national_code)
        organisation.save(update_fields=["number_prefix"])
        audit_record(
            actor=actor,
            action="organisation.assign_prefix",
            obj=organisation,
            after={"number_prefix": organisation.number_prefix},
            region_code=organisation.region.code,
            organisation_id=organisation.id,
        )
    filing = _transition(
        actor,
        filing,
        allowed_from=(Filing.Status.UNDER_REVIEW,),
        to=Filing.Status.APPROVED,
        action="approve",
        reason=(reason or "").strip(),
        national_code=national_code,
        valid_from=today,
        valid_until=valid_until,
        decided_at=timezone.now(),
        decided_by=actor.user,
    )
    notify(
        users=organisation_admins(organisation.id),
        title=_("备案已通过"),
        body=_("%(org)s 的备案申请已通过,有效期至%(until)s。") % {"org": organisation.name, "until": valid_until},
        link=f"/accreditation/filings/{filing.id}/",
    )
    return filing


@transaction.atomic
def filing_suspend(*, actor: Actor, filing_id: int, reason: str) -> Filing:
    filing = _filing_for_update(filing_id)
    _require_region_bureau(actor, filing.organisation)
    filing = _transition(
        actor,
        filing,
        allowed_from=(Filing.Status.APPROVED,),
        to=Filing.Status.SUSPENDED,
        action="suspend",
        reason=_require_reason(reason),
    )
    notify(
        users=organisation_admins(filing.organisation_id),
        title=_("备案已暂停"),
        body=reason,
        link=f"/accreditation/filings/{filing.id}/",
    )
    return filing


@transaction.atomic
def filing_reinstate(*, actor: Actor, filing_id: int, reason: str) -> Filing:
    filing = _filing_for_update(filing_id)
    _require_region_bureau(actor, filing.organisation)
    if filing.valid_until and filing.valid_until < timezone.localdate():
        raise Conflict(_("备案已超过有效期,不能恢复,请重新申请"))
    return _transition(
        actor,
        filing,
        allowed_from=(Filing.Status.SUSPENDED,),
        to=Filing.Status.APPROVED,
        action="reinstate",
        reason=_require_reason(reason),
    )


@transaction.atomic
def filing_revoke(*, actor: Actor, filing_id: int, reason: str) -> Filing:
    filing = _filing_for_update(filing_id)
    _require_region_bureau(actor, filing.organisation)
    filing = _transition(
        actor,
        filing,
        allowed_from=Filing.IN_FORCE,
        to=Filing.Status.REVOKED,
        action="revoke",
        reason=_require_reason(reason),
        decided_at=timezone.now(),
        decided_by=actor.user,
    )
    notify(
        users=organisation_admins(filing.organisation_id),
        title=_("备案已撤销"),
        body=reason,
        link=f"/accreditation/filings/{filing.id}/",
    )
    return filing


REMINDER_DAYS = (90, 30, 7)


def filings_expire_and_remind(*, today: datetime.date | None = None) -> dict:
    """The daily job: expire filings past their validity, and remind organisations 90, 30 and 7 days ahead."""
    today = today or timezone.localdate()
    expired = reminded = 0
    for filing_id in Filing.objects.filter(status__in=Filing.IN_FORCE, valid_until__lt=today).values_list(
        "id", flat=True
    ):
        with transaction.atomic():
            filing = _filing_for_update(filing_id)
            if filing.status in Filing.IN_FORCE and filing.valid_until < today:
                _transition(
                    Actor.platform(),
                    filing,
                    allowed_from=Filing.IN_FORCE,
                    to=Filing.Status.EXPIRED,
                    action="expire",
                    reason=_("备案有效期届满"),
                )
                notify(
                    users=organisation_admins(filing.organisation_id),
                    title=_("备案已到期"),
                    body=_("%(org)s 的备案已于%(until)s到期,需重新申请备案后方可继续开展认定。")
                    % {"org": filing.organisation.name, "until": filing.valid_until},
                    link=f"/accreditation/filings/{filing.id}/",
                )
                expired += 1
    horizon = today + datetime.timedelta(days=max(REMINDER_DAYS))
    upcoming = Filing.objects.filter(
        status=Filing.Status.APPROVED, valid_until__gte=today, valid_until__lte=horizon
    ).select_related("organisation")
    for filing in upcoming:
        left = (filing.valid_until - today).days
        threshold = min(d for d in REMINDER_DAYS if d >= left)
        # One reminder per threshold crossed; a filing approved late gets only the nearest one.
        if filing.reminders.filter(days_before__lte=threshold).exists():
            continue
        with transaction.atomic():
            _reminder, created = FilingReminder.objects.get_or_create(filing=filing, days_before=threshold)
            if created:
                notify(
                    users=organisation_admins(filing.organisation_id),
                    title=_("备案即将到期"),
                    body=_("%(org)s 的备案将于%(until)s到期(剩余%(left)d天),请及时申请延续。")
                    % {"org": filing.organisation.name, "until": filing.valid_until, "left": left},
                    link=f"/accreditation/filings/{filing.id}/",
                )
                reminded += 1
    return {"expired": expired, "reminded": reminded}
