"""Registration (报名), eligibility (申报条件) and the organisation's review.

Eligibility is computed here, once, from the standard's rule set, for the page, the API and bulk imports alike;
the result (route met or what is missing) is stored on the registration and shown to the candidate.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.conflicts import records_conflicts
from accounts.identity import id_type_from_label, normalise_id_number, normalise_phone
from accounts.models import Person, Role, User
from accounts.services import person_get_or_create
from accreditation.selectors import organisations_for
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, PlatformError, ValidationFailed
from core.images import photo_clean
from core.notifications import notify
from core.schema_types import parse_iso_date
from core.spreadsheets import Column, ImportReport, RowError, parse_date, read_rows
from occupations.catalogue import occupation_problems
from occupations.equivalence import skill_level_routes
from occupations.levels import level_from_text, level_spellings
from occupations.models import Level, StandardLevel

from . import eligibility as el
from .employment.services import employment_at_registration, employment_require_for_approval
from .integrity.services import integrity_require
from .models import Plan, Registration
from .signals import held_certificates, registration_approved

REGISTRATION_OPEN = (Plan.Status.PUBLISHED,)


# --- Eligibility ------------------------------------------------------------------------------------------


def _date(value) -> datetime.date | None:
    if value is None or value == "":
        return None
    return parse_iso_date(value)  # text YYYY-MM-DD only: a number (20250301, 0) is not a date


def evidence_for(person: Person, data: dict) -> el.Evidence:
    """The candidate's declared evidence plus every certificate this platform holds for them (verified), as the
    certificates app answers `held_certificates` (it sits above assessments)."""
    platform: dict[str, el.HeldCertificate] = {}
    for _receiver, held in held_certificates.send(sender=Person, person=person):
        platform.update(held or {})
    platform_numbers = set(platform)
    certificates = list(platform.values())
    for c in data.get("prior_certificates") or []:
        if c.get("number") in platform_numbers:
            continue  # already counted, verified
        certificates.append(
            el.HeldCertificate(
                occupation_code=c.get("occupation_code", ""),
                level_code=str(c.get("level", "")),
                issued_on=_date(c.get("issued_on")) or datetime.date.max,
                verified=False,
            )
        )
    return el.Evidence(
        birth_date=person.birth_date,
        work_years=float(data.get("work_years") or 0),
        apprenticeship_completed=bool(data.get("apprenticeship_completed")),
        education=[
            el.Education(
                kind=e.get("kind", ""),
                in_field=bool(e.get("in_field")),
                graduated_on=_date(e.get("graduated_on")),
                final_year_student=bool(e.get("final_year_student")),
            )
            for e in data.get("education") or []
        ],
        certificates=certificates,
        certificate_kinds=[
            el.HeldCredential(
                kind=c.get("kind", ""), obtained_on=_date(c.get("obtained_on")) or datetime.date.max, verified=False
            )
            for c in data.get("credentials") or []
        ],
        titles=[
            el.Title(
                grade=t.get("grade", ""), obtained_on=_date(t.get("obtained_on")) or datetime.date.max, verified=False
            )
            for t in data.get("titles") or []
        ],
    )


def _level_maps() -> tuple[dict[str, int], dict[str, str]]:
    levels = list(Level.objects.values_list("code", "rank", "name"))
    return {c: r for c, r, _n in levels}, {c: n for c, _r, n in levels}


def judging_day(plan: Plan) -> tuple[datetime.date, str]:
    """The day eligibility is judged on, and what that day is: the plan's exam date (its first session), or the
    registration deadline for a plan not yet scheduled. Someone who qualifies by the exam may register before."""
    first = min((c.starts_at for c in plan.components.all()), default=None)
    if first is not None:
        return timezone.localtime(first).date(), _("考核日期")
    return plan.registration_closes, _("报名截止日")


def evaluate_eligibility(
    plan: Plan, level: Level, person: Person, data: dict, *, on: datetime.date | None = None, level_maps=None
) -> el.EligibilityResult:
    """The one place eligibility is decided: the standard's routes for the level, against the evidence, on the
    plan's exam date unless `on` is given."""
    on_label = ""
    if on is None:
        on, on_label = judging_day(plan)
    standard_level = StandardLevel.objects.filter(standard=plan.standard, level=level).first()
    routes = list(standard_level.eligibility) if standard_level else []
    # Titles and education count as the 贯通 rules in force on the day allow (dated data, occupations/equivalence).
    routes += skill_level_routes(
        level_code=level.code,
        template=plan.standard.template,
        on=on,
        region_code=plan.organisation.region.code,
        existing_codes=[r.get("code") for r in routes if isinstance(r, dict)],
    )
    rank, names = level_maps or _level_maps()
    return el.evaluate(
        routes,
        evidence_for(person, data),
        on=on,
        occupation_code=plan.occupation.code,
        level_rank=rank,
        level_names=names,
        on_label=str(on_label),
    )


EVIDENCE_FIELDS = ("work_years", "apprenticeship_completed", "education", "prior_certificates", "titles", "credentials")


def _evidence_data(reg: Registration) -> dict:
    return {f: getattr(reg, f) for f in EVIDENCE_FIELDS}


# --- Registering ------------------------------------------------------------------------------------------


def caught_by_cancellation(plan: Plan) -> bool:
    """Is the plan's qualification cancelled by its last exam day? Its candidates were then asked to choose (or it
    had none yet when the change was confirmed); only those registered before may go on (occupations.changes)."""
    last_exam = plan.components.aggregate(last=Max("ends_at"))["last"]
    if last_exam is not None and occupation_problems(plan.occupation, timezone.localdate(last_exam)):
        return True
    return plan.cancellation_choices.exists()


def _plan_open_for(plan_id: int) -> Plan:
    plan = Plan.objects.select_for_update().select_related("organisation__region", "occupation", "standard")
    plan = plan.filter(pk=plan_id, status__in=[Plan.Status.PUBLISHED]).first()
    if plan is None:
        raise NotFound(_("认定计划不存在或未发布"))
    if caught_by_cancellation(plan):
        raise Conflict(
            _("该计划所属职业资格已取消,只为取消前已报名的考生继续完成认定,不再接受新报名"),
            code="qualification_cancelled",
        )
    today = timezone.localdate()
    if not plan.registration_opens <= today <= plan.registration_closes:
        raise Conflict(
            _("不在报名时间内(%(a)s至%(b)s)") % {"a": plan.registration_opens, "b": plan.registration_closes},
            code="registration_closed",
        )
    return plan


def _check_level(plan: Plan, level_code: str) -> Level:
    level = plan.levels.filter(code=str(level_code)).first()
    if level is None:
        raise ValidationFailed(_("该计划不含所报等级"), details={"field": "level"})
    return level


def _clean_evidence(data: dict) -> dict:
    try:
        years = Decimal(str(data.get("work_years") or 0))
    except InvalidOperation:
        raise ValidationFailed(_("工作年限应为数字"), details={"field": "work_years"}) from None
    if years < 0 or years > 60:
        raise ValidationFailed(_("工作年限应在0到60年之间"), details={"field": "work_years"})
    clean = {"work_years": years, "apprenticeship_completed": bool(data.get("apprenticeship_completed"))}
    for key in ("education", "prior_certificates", "titles", "credentials"):
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValidationFailed(_("材料格式不正确"), details={"field": key})
        for item in value:
            for date_key in ("issued_on", "graduated_on", "obtained_on"):
                if item.get(date_key) not in (None, ""):
                    try:
                        item[date_key] = str(_date(item[date_key]))
                    except ValueError:
                        raise ValidationFailed(_("日期格式不正确"), details={"field": key}) from None
        clean[key] = value
    return clean


def _create_registration(
    actor: Actor,
    plan: Plan,
    level: Level,
    person: Person,
    evidence: dict,
    *,
    source: str,
    employer_name: str = "",
    phone: str = "",
    work_history: str = "",
    photo=None,
    level_maps=None,
    graduating_class=None,
) -> Registration:
    if plan.registrations.filter(person=person, level=level, status__in=Registration.ACTIVE).exists():
        raise Conflict(
            _("%(name)s 已报名本计划的%(level)s,不能重复报名") % {"name": person.name, "level": level.label},
            code="duplicate_registration",
        )
    if plan.registrations.filter(status__in=Registration.ACTIVE).count() >= plan.capacity:
        raise Conflict(_("报名人数已满"), code="plan_full")
    employment = employment_at_registration(plan, person)
    result = evaluate_eligibility(plan, level, person, evidence, level_maps=level_maps)
    reg = Registration(
        plan=plan,
        person=person,
        level=level,
        source=source,
        graduating_class=graduating_class,
        registered_by=actor.user,
        employer_name=employer_name,
        phone=phone,
        work_history=work_history,
        pledge_accepted_at=timezone.now(),
        eligibility=result.as_dict(),
        eligibility_status=str(result.status),
        employment_status=employment.status,
        employment_note=employment.explanation,
        **evidence,
    )
    if photo is not None:  # checked and re-encoded: no EXIF, no other bytes than a fresh JPEG's (core/images.py)
        reg.photo.save(f"reg-{person.id}.jpg", photo_clean(photo), save=False)
    try:
        with transaction.atomic():
            reg.save()
    except IntegrityError:  # the partial unique index caught a concurrent duplicate
        raise Conflict(
            _("%(name)s 已报名本计划的该等级,不能重复报名") % {"name": person.name}, code="duplicate_registration"
        ) from None
    audit_record(
        actor=actor,
        action="registration.submit",
        obj=reg,
        region_code=plan.organisation.region.code,
        organisation_id=plan.organisation_id,
        after={
            "plan": plan.id,
            "person": person.id,
            "level": level.code,
            "source": source,
            "eligibility": reg.eligibility_status,
            "employment": reg.employment_status,
        },
    )
    return reg


@transaction.atomic
def registration_submit(
    *,
    actor: Actor,
    plan_id: int,
    level: str,
    name: str,
    id_type: str,
    id_number: str,
    pledge: bool,
    phone: str = "",
    employer_name: str = "",
    work_history: str = "",
    photo=None,
    **evidence,
) -> Registration:
    """A worker registers themselves online, with an integrity pledge (诚信承诺)."""
    actor.require_authenticated()
    if actor.user is None:
        raise PermissionDenied(_("个人报名须由本人登录办理"))
    # Typing a name and an ID number proves nothing (both are printed on every certificate): only an account
    # bound by proof (accounts.binding) registers, and only as the person it is bound to.
    actor.require_person()
    if not pledge:
        raise ValidationFailed(_("请阅读并同意诚信承诺"), details={"field": "pledge"})
    plan = _plan_open_for(plan_id)
    level_obj = _check_level(plan, level)
    person = actor.person
    if id_number:
        id_number = normalise_id_number(id_type, id_number)
        if (person.id_type, person.id_number) != (id_type, id_number):
            raise PermissionDenied(_("只能为本人报名;为职工报名请使用单位批量报名"))
    reg = _create_registration(
        actor,
        plan,
        level_obj,
        person,
        _clean_evidence(evidence),
        source="online",
        employer_name=(employer_name or "").strip(),
        phone=normalise_phone(phone),
        work_history=(work_history or "").strip(),
        photo=photo,
    )
    return reg


BULK_COLUMNS = [
    Column("name", "姓名", example="张伟"),
    Column("id_type", "证件类型", required=False, example="居民身份证"),
    Column("id_number", "证件号码", example="220102199501012238"),
    Column("phone", "手机号码", required=False, example="13500000004"),
    Column("level", "申报等级", example="四级"),
    Column("work_years", "工作年限", example="6"),
    Column("cert_level", "已取得本职业证书等级", required=False, example="五级"),
    Column("cert_number", "证书编号", required=False, example=""),
    Column("cert_issued_on", "发证日期", required=False, example="2020-06-30"),
]


def _level_code(text, table: dict[str, Level]) -> str:
    level = level_from_text(text, table)
    if level is None:
        raise ValidationFailed(_("等级“%(v)s”无法识别") % {"v": str(text or "").strip()})
    return level.code


@records_conflicts
def registrations_import(*, actor: Actor, plan_id: int, upload, partial: bool = False) -> ImportReport:
    """An employer registers its staff from a spreadsheet. All rows or none unless `partial` is asked for, in which
    case the good rows are saved and every bad row is reported; nothing is ever dropped silently."""
    employer_ids = actor.organisation_ids(Role.ORG_ADMIN)
    if not employer_ids:
        raise PermissionDenied(_("单位批量报名须由用人单位管理员办理"))
    employer = organisations_for(actor).filter(pk__in=employer_ids).first()
    rows = read_rows(upload, BULK_COLUMNS)
    maps = _level_maps()
    spellings = level_spellings()
    with transaction.atomic():
        plan = _plan_open_for(plan_id)

        def save_row(record: dict) -> None:
            id_type = id_type_from_label(record.get("id_type"))
            level = _check_level(plan, _level_code(record.get("level"), spellings))
            evidence = {"work_years": record.get("work_years") or 0}
            if record.get("cert_level"):
                evidence["prior_certificates"] = [
                    {
                        "occupation_code": plan.occupation.code,
                        "level": _level_code(record["cert_level"], spellings),
                        "number": str(record.get("cert_number") or "").strip(),
                        "issued_on": str(parse_date(record["cert_issued_on"]))
                        if record.get("cert_issued_on")
                        else None,
                    }
                ]
            person = person_get_or_create(
                actor=actor,
                name=str(record.get("name") or ""),
                id_type=id_type,
                id_number=str(record.get("id_number") or ""),
                phone=str(record.get("phone") or ""),
                source="import",
                organisation=plan.organisation,
            )
            _create_registration(
                actor,
                plan,
                level,
                person,
                _clean_evidence(evidence),
                source="bulk",
                employer_name=employer.name if employer else "",
                phone=normalise_phone(str(record.get("phone") or "")),
                level_maps=maps,
            )

        return import_rows(rows, save_row, partial=partial)


def import_rows(rows: list[tuple[int, dict]], save_row: Callable[[dict], object], *, partial: bool) -> ImportReport:
    """Save each row in its own savepoint and report every bad row with its reason. Call inside a transaction:
    unless `partial`, one bad row rolls the whole import back, so an upload saves all its rows or none."""
    report = ImportReport(total=len(rows))
    for number, record in rows:
        try:
            with transaction.atomic():
                save_row(record)
            report.created += 1
        except (PlatformError, ValueError) as exc:
            report.errors.append(RowError(number, getattr(exc, "message", None) or str(exc)))
    if report.errors and not partial:
        transaction.set_rollback(True)
        report.created = 0
    return report


# --- Review ----------------------------------------------------------------------------------------------


def registrations_for(actor: Actor) -> QuerySet[Registration]:
    """A candidate sees their own; an organisation the registrations for its plans (and those it submitted);
    bureau staff those of organisations in their region."""
    qs = Registration.objects.select_related("plan__organisation__region", "plan__occupation", "person", "level")
    if actor.is_operator:
        return qs
    q = Q(plan__organisation__in=organisations_for(actor))
    if actor.person is not None:
        q |= Q(person=actor.person)
    if actor.user is not None:
        q |= Q(registered_by=actor.user)
    return qs.filter(q)


def registration_get(actor: Actor, registration_id: int) -> Registration:
    reg = registrations_for(actor).filter(pk=registration_id).first()
    if reg is None:
        raise NotFound()
    return reg


def _candidate_users(reg: Registration) -> list[User]:
    return list(User.objects.filter(Q(person=reg.person) | Q(pk=reg.registered_by_id)))


@transaction.atomic
def registration_review(*, actor: Actor, registration_id: int, decision: str, reason: str = "") -> Registration:
    """The organisation approves, rejects (with reason) or asks for more evidence (with what is needed)."""
    reg = Registration.objects.select_for_update().select_related("plan__organisation__region", "level", "person")
    reg = reg.filter(pk=registration_id).first()
    if reg is None:
        raise NotFound()
    registration_get(actor, reg.id)
    actor.require_org_role(reg.plan.organisation_id, Role.ORG_ADMIN)
    if reg.status not in (Registration.Status.SUBMITTED, Registration.Status.MORE_EVIDENCE):
        raise Conflict(_("该报名当前状态为“%(s)s”,不能审核") % {"s": reg.get_status_display()})
    reason = (reason or "").strip()
    targets = {
        "approve": Registration.Status.APPROVED,
        "reject": Registration.Status.REJECTED,
        "more_evidence": Registration.Status.MORE_EVIDENCE,
    }
    if decision not in targets:
        raise ValidationFailed(_("未知的审核决定"), details={"field": "decision"})
    if decision != "approve" and not reason:
        raise ValidationFailed(_("请填写理由或需补充的材料"), details={"field": "reason"})
    if decision == "approve":
        # Judged again on the exam date as it stands now: the plan may have been rescheduled since registration.
        result = evaluate_eligibility(reg.plan, reg.level, reg.person, _evidence_data(reg))
        if str(result.status) != reg.eligibility_status or result.on.isoformat() != reg.eligibility.get("evaluated_on"):
            reg.eligibility, reg.eligibility_status = result.as_dict(), str(result.status)
            reg.save(update_fields=["eligibility", "eligibility_status"])
    if decision == "approve" and reg.eligibility_status == el.Status.INELIGIBLE:
        raise Conflict(_("按申报材料不符合任何申报条件,不能审核通过;可要求补充材料"), code="ineligible")
    if decision == "approve":
        employment_require_for_approval(reg)
        integrity_require(reg.plan, step="registration.approve", candidate_person_id=reg.person_id)
    before = {"status": reg.status}
    reg.status, reg.review_reason = targets[decision], reason
    reg.reviewed_by, reg.reviewed_at = actor.user, timezone.now()
    reg.save(update_fields=["status", "review_reason", "reviewed_by", "reviewed_at"])
    audit_record(
        actor=actor,
        action=f"registration.{decision}",
        obj=reg,
        before=before,
        after={"status": reg.status},
        reason=reason,
        region_code=reg.plan.organisation.region.code,
        organisation_id=reg.plan.organisation_id,
    )
    if decision == "approve":
        registration_approved.send(sender=Registration, registration=reg, actor=actor)
    titles = {"approve": _("报名审核通过"), "reject": _("报名审核未通过"), "more_evidence": _("报名需补充材料")}
    notify(
        users=_candidate_users(reg),
        title=f"{titles[decision]}:{reg.plan.title}",
        body=reason or reg.eligibility.get("summary", ""),
        link=f"/assessments/registrations/{reg.id}/",
    )
    return reg


@transaction.atomic
def registration_update_evidence(*, actor: Actor, registration_id: int, **evidence) -> Registration:
    """The candidate adds evidence after being asked; eligibility is evaluated again and review starts over."""
    reg = Registration.objects.select_for_update().select_related(
        "plan__organisation__region", "plan__standard", "plan__occupation", "level", "person"
    )
    reg = reg.filter(pk=registration_id).first()
    if reg is None or not (actor.person == reg.person or (actor.user and reg.registered_by_id == actor.user.id)):
        raise NotFound()
    if reg.status not in (Registration.Status.SUBMITTED, Registration.Status.MORE_EVIDENCE):
        raise Conflict(_("当前状态不能修改申报材料"))
    clean = _clean_evidence({**_evidence_data(reg), **evidence})
    for key, value in clean.items():
        setattr(reg, key, value)
    result = evaluate_eligibility(reg.plan, reg.level, reg.person, clean)
    before = {"status": reg.status, "eligibility": reg.eligibility_status}
    reg.eligibility, reg.eligibility_status = result.as_dict(), str(result.status)
    reg.status = Registration.Status.SUBMITTED
    reg.save()
    audit_record(
        actor=actor,
        action="registration.update_evidence",
        obj=reg,
        before=before,
        after={"status": reg.status, "eligibility": reg.eligibility_status},
        region_code=reg.plan.organisation.region.code,
        organisation_id=reg.plan.organisation_id,
    )
    return reg


@transaction.atomic
def registration_withdraw(*, actor: Actor, registration_id: int, reason: str = "") -> Registration:
    reg = (
        Registration.objects.select_for_update()
        .select_related("plan__organisation__region")
        .filter(pk=registration_id)
        .first()
    )
    if reg is None or not (actor.person == reg.person or (actor.user and reg.registered_by_id == actor.user.id)):
        raise NotFound()
    if reg.status not in Registration.ACTIVE:
        raise Conflict(_("该报名已结束,不能撤回"))
    first = reg.plan.components.order_by("starts_at").first()
    if first is not None and first.starts_at <= timezone.now():
        raise Conflict(_("考核已开始,不能撤回报名"))
    before = {"status": reg.status}
    reg.status = Registration.Status.WITHDRAWN
    reg.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="registration.withdraw",
        obj=reg,
        before=before,
        after={"status": reg.status},
        reason=reason,
        region_code=reg.plan.organisation.region.code,
        organisation_id=reg.plan.organisation_id,
    )
    return reg


def organisation_registered(organisation_id: int, person_id: int) -> bool:
    """Whether this person is (or was) a candidate in one of the organisation's plans."""
    return Registration.objects.filter(plan__organisation_id=organisation_id, person_id=person_id).exists()
