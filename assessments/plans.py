"""Plans (认定计划): created by an approved organisation inside its filed scope, published, rescheduled or cancelled."""

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role, User
from accreditation.models import Organisation
from accreditation.selectors import organisations_for, scope_allows
from core.audit import audit_record, snapshot
from core.errors import Conflict, NotFound, ValidationFailed
from core.notifications import notify
from occupations.models import Level, Occupation, Region

from .models import Plan, PlanComponent, Registration
from .signals import plan_arrangements_changed

PLAN_FIELDS = [
    "title",
    "work_type",
    "venue",
    "capacity",
    "registration_opens",
    "registration_closes",
    "fee",
    "status",
    "status_reason",
]


def plans_for(actor: Actor) -> QuerySet[Plan]:
    """Plans the actor manages or oversees: their organisation's, or those in their bureau's region."""
    return Plan.objects.filter(organisation__in=organisations_for(actor)).select_related(
        "organisation__region", "occupation", "standard"
    )


def plan_get(actor: Actor, plan_id: int) -> Plan:
    plan = plans_for(actor).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    return plan


def public_plans() -> QuerySet[Plan]:
    """Published plans, for anyone: the announcements (公告)."""
    return (
        Plan.objects.filter(status__in=[Plan.Status.PUBLISHED, Plan.Status.PUBLICITY, Plan.Status.FINALISED])
        .select_related("organisation__region", "occupation")
        .prefetch_related("levels", "components")
    )


def _plan_for_update(actor: Actor, plan_id: int) -> Plan:
    plan = Plan.objects.select_for_update().select_related("organisation__region", "occupation").filter(pk=plan_id)
    plan = plan.first()
    if plan is None or not organisations_for(actor).filter(pk=plan.organisation_id).exists():
        raise NotFound()
    actor.require_org_role(plan.organisation_id, Role.ORG_ADMIN)
    return plan


def _components(data: list[dict], level_codes: list[str], standard) -> list[dict]:
    """Each component the levels need, with a start and end; checked against the standard's durations."""
    needed: dict[str, int] = {}
    for sl in standard.levels.filter(level__code__in=level_codes):
        for c in sl.components:
            needed[c["kind"]] = max(needed.get(c["kind"], 0), int(c.get("min_minutes") or 0))
    given = {c["kind"]: c for c in data}
    problems, result = [], []
    for kind, minutes in needed.items():
        c = given.get(kind)
        if c is None or not c.get("starts_at") or not c.get("ends_at"):
            problems.append(
                _("缺少“%(k)s”的时间安排") % {"k": dict(PlanComponent._meta.get_field("kind").choices)[kind]}
            )
            continue
        starts, ends = c["starts_at"], c["ends_at"]
        if isinstance(starts, str):
            starts, ends = datetime.datetime.fromisoformat(starts), datetime.datetime.fromisoformat(ends)
        if timezone.is_naive(starts):
            starts, ends = timezone.make_aware(starts), timezone.make_aware(ends)
        if (ends - starts).total_seconds() < minutes * 60:
            problems.append(
                _("“%(k)s”时长不足标准规定的%(m)d分钟")
                % {"k": dict(PlanComponent._meta.get_field("kind").choices)[kind], "m": minutes}
            )
            continue
        result.append({"kind": kind, "starts_at": starts, "ends_at": ends, "room": (c.get("room") or "").strip()})
    if problems:
        raise ValidationFailed(";".join(problems), details={"field": "components", "problems": problems})
    return result


def _checked_plan(
    organisation: Organisation,
    occupation_code: str,
    level_codes: list[str],
    opens,
    closes,
    capacity,
    fee,
    components: list[dict],
    caught: bool = False,
):
    occupation = Occupation.objects.filter(code=occupation_code).first()
    if occupation is None:
        raise ValidationFailed(_("职业编码不存在"), details={"field": "occupation_code"})
    levels = list(Level.objects.filter(code__in=level_codes))
    if not levels or len(levels) != len(set(level_codes)):
        raise ValidationFailed(_("请选择有效的等级"), details={"field": "levels"})
    if closes < opens:
        raise ValidationFailed(_("报名截止日期早于开始日期"), details={"field": "registration_closes"})
    try:
        capacity = int(capacity)
        fee = Decimal(str(fee or 0))
    except (ValueError, InvalidOperation):
        raise ValidationFailed(_("人数或收费格式不正确")) from None
    if capacity < 1:
        raise ValidationFailed(_("计划人数至少为1"), details={"field": "capacity"})
    if fee < 0:
        raise ValidationFailed(_("收费不能为负数"), details={"field": "fee"})
    checked = _components(components, level_codes, occupation.standard_on(opens) or _no_standard())
    first_day = min(c["starts_at"] for c in checked).date() if checked else opens
    last_day = max(c["ends_at"] for c in checked).date() if checked else closes
    if first_day <= closes:
        raise ValidationFailed(_("考核应安排在报名截止之后"), details={"field": "components"})
    for level in levels:
        for day in {closes, first_day, last_day}:
            decision = scope_allows(organisation, occupation, level, day, caught=caught)
            if not decision.allowed:
                raise Conflict(decision.reason, code="outside_scope", details={"level": level.code, "date": day})
    standard = occupation.standard_on(first_day)
    return occupation, levels, standard, capacity, fee, checked


def _no_standard():
    raise ValidationFailed(_("该职业尚无施行中的国家职业技能标准"))


@transaction.atomic
def plan_create(
    *,
    actor: Actor,
    organisation_id: int,
    occupation_code: str,
    levels: list[str],
    title: str,
    venue: str,
    capacity: int,
    registration_opens: datetime.date,
    registration_closes: datetime.date,
    components: list[dict],
    fee=0,
    work_type: str = "",
    description: str = "",
) -> Plan:
    """A draft plan. Refused, with the reason, outside the filed scope or validity, or while suspended."""
    actor.require_org_role(organisation_id, Role.ORG_ADMIN)
    organisation = Organisation.objects.select_related("region").get(pk=organisation_id)
    if not (title or "").strip() or not (venue or "").strip():
        raise ValidationFailed(_("请填写计划名称和考核地点"))
    occupation, level_objs, standard, capacity, fee, checked = _checked_plan(
        organisation, occupation_code, levels, registration_opens, registration_closes, capacity, fee, components
    )
    plan = Plan.objects.create(
        organisation=organisation,
        occupation=occupation,
        standard=standard,
        title=title.strip(),
        work_type=(work_type or "").strip(),
        venue=venue.strip(),
        capacity=capacity,
        registration_opens=registration_opens,
        registration_closes=registration_closes,
        fee=fee,
        description=(description or "").strip(),
    )
    plan.levels.set(level_objs)
    for c in checked:
        PlanComponent.objects.create(plan=plan, **c)
    audit_record(
        actor=actor,
        action="plan.create",
        obj=plan,
        after={**snapshot(plan, PLAN_FIELDS), "levels": levels, "occupation": occupation_code},
        region_code=organisation.region.code,
        organisation_id=organisation.id,
    )
    return plan


@transaction.atomic
def plan_publish(*, actor: Actor, plan_id: int) -> Plan:
    plan = _plan_for_update(actor, plan_id)
    if plan.status != Plan.Status.DRAFT:
        raise Conflict(_("只有草稿状态的计划可以发布"))
    # Today for the filing; the last exam day too, for a catalogue change that takes effect before then.
    last = plan.components.order_by("-ends_at").first()
    days = sorted({timezone.localdate(), *([timezone.localtime(last.ends_at).date()] if last else [])})
    for level in plan.levels.all():
        for day in days:
            decision = scope_allows(plan.organisation, plan.occupation, level, day)
            if not decision.allowed:
                raise Conflict(decision.reason, code="outside_scope", details={"level": level.code, "date": day})
    before = snapshot(plan, PLAN_FIELDS)
    plan.status = Plan.Status.PUBLISHED
    plan.published_at = timezone.now()
    plan.save(update_fields=["status", "published_at"])
    audit_record(
        actor=actor,
        action="plan.publish",
        obj=plan,
        before=before,
        after=snapshot(plan, PLAN_FIELDS),
        region_code=plan.organisation.region.code,
        organisation_id=plan.organisation_id,
    )
    plan_arrangements_changed.send(sender=Plan, plan=plan, actor=actor)
    return plan


def _candidates_to_notify(plan: Plan) -> list[User]:
    """The candidates' own accounts and whoever registered them (an employer registering staff in bulk)."""
    regs = plan.registrations.filter(status__in=Registration.ACTIVE)
    return list(User.objects.filter(Q(person_id__in=regs.values("person_id")) | Q(id__in=regs.values("registered_by"))))


@transaction.atomic
def plan_reschedule(*, actor: Actor, plan_id: int, components: list[dict], reason: str) -> Plan:
    """Move component dates; every registered candidate is told, in-app and by e-mail."""
    plan = _plan_for_update(actor, plan_id)
    if plan.status not in (Plan.Status.DRAFT, Plan.Status.PUBLISHED):
        raise Conflict(_("计划当前状态不能调整时间"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写调整理由"), details={"field": "reason"})
    level_codes = [lv.code for lv in plan.levels.all()]
    before = [{"kind": c.kind, "starts_at": c.starts_at, "ends_at": c.ends_at} for c in plan.components.all()]
    _o, _l, _s, _c, _f, checked = _checked_plan(
        plan.organisation,
        plan.occupation.code,
        level_codes,
        plan.registration_opens,
        plan.registration_closes,
        plan.capacity,
        plan.fee,
        components,
        # A plan caught by a cancellation may still be moved for the candidates who chose to continue.
        caught=plan.cancellation_choices.exists(),
    )
    plan.components.all().delete()
    for c in checked:
        PlanComponent.objects.create(plan=plan, **c)
    audit_record(
        actor=actor,
        action="plan.reschedule",
        obj=plan,
        before={"components": before},
        after={"components": checked},
        reason=reason,
        region_code=plan.organisation.region.code,
        organisation_id=plan.organisation_id,
    )
    if plan.status == Plan.Status.PUBLISHED:
        plan_arrangements_changed.send(sender=Plan, plan=plan, actor=actor)
    when = ";".join(
        f"{dict(PlanComponent._meta.get_field('kind').choices)[c['kind']]} "
        f"{timezone.localtime(c['starts_at']):%Y-%m-%d %H:%M}"
        for c in checked
    )
    notify(
        users=_candidates_to_notify(plan),
        title=_("考核时间调整:%(t)s") % {"t": plan.title},
        body=_("新的安排:%(when)s。理由:%(r)s") % {"when": when, "r": reason},
        link=f"/assessments/plans/{plan.id}/",
    )
    return plan


@transaction.atomic
def plan_cancel(*, actor: Actor, plan_id: int, reason: str) -> Plan:
    """Cancel a plan: its registrations are cancelled and every candidate is told why."""
    plan = _plan_for_update(actor, plan_id)
    if plan.status not in (Plan.Status.DRAFT, Plan.Status.PUBLISHED):
        raise Conflict(_("计划当前状态不能取消"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写取消理由"), details={"field": "reason"})
    users = _candidates_to_notify(plan)
    before = snapshot(plan, PLAN_FIELDS)
    plan.status, plan.status_reason = Plan.Status.CANCELLED, reason
    plan.save(update_fields=["status", "status_reason"])
    cancelled = plan.registrations.filter(status__in=Registration.ACTIVE).update(status=Registration.Status.CANCELLED)
    audit_record(
        actor=actor,
        action="plan.cancel",
        obj=plan,
        before=before,
        after={**snapshot(plan, PLAN_FIELDS), "registrations_cancelled": cancelled},
        reason=reason,
        region_code=plan.organisation.region.code,
        organisation_id=plan.organisation_id,
    )
    notify(
        users=users,
        title=_("认定计划已取消:%(t)s") % {"t": plan.title},
        body=reason,
        link=f"/assessments/plans/{plan.id}/",
    )
    return plan


def plan_search(qs: QuerySet[Plan], q: str = "", occupation: str = "", region: str = "") -> QuerySet[Plan]:
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(organisation__name__icontains=q) | Q(occupation__name__icontains=q))
    if occupation:
        qs = qs.filter(occupation__code=occupation)
    if region:
        qs = qs.filter(Region.inside_q("organisation__region", region))
    return qs
