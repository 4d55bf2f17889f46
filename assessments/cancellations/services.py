"""Candidates caught by a cancellation (notice section 四): continue with the assessment, or be refunded.

When a catalogue change that ends a qualification is confirmed, every active registration of a plan announced
before it (`caught_plans`) gets a CancellationChoice. The candidate (or whoever registered
them) chooses; a refund withdraws the registration from the plan at once, and the organisation records the
refund (amount, date, reference). Those who continue go on through scoring, publicity and finalisation as
normal: the plan is marked as caught, which the scope rule honours after the effective date.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import mask_id_number
from accounts.models import Role, User
from accounts.selectors import organisation_admins
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.notifications import notify

from ..models import CancellationChoice, Plan, Registration
from ..plans import plan_get


def caught_plans(qualification, effective_on: datetime.date) -> QuerySet[Plan]:
    """Announced plans whose assessment is not over before the change: their candidates must choose (section 四).

    Plans already in publicity have been assessed; they finish and issue certificates as normal.
    """
    return (
        Plan.objects.filter(occupation__qualification=qualification, status=Plan.Status.PUBLISHED)
        .annotate(last_day=Max("components__ends_at"))
        .filter(Q(last_day__isnull=True) | Q(last_day__date__gte=effective_on))
    )


def catalogue_change_impact(*, occupations, ending: bool, qualification, effective_on, impact, **_kwargs) -> None:
    """occupations.signals.catalogue_change_impact: the plans of the affected occupations, which of them the change
    catches, and their active candidates (ID numbers masked)."""
    caught = set(caught_plans(qualification, effective_on).values_list("id", flat=True)) if ending else set()
    plans = (
        Plan.objects.filter(
            occupation__in=occupations, status__in=[Plan.Status.DRAFT, Plan.Status.PUBLISHED, Plan.Status.PUBLICITY]
        )
        .select_related("organisation")
        .annotate(active=Count("registrations", filter=Q(registrations__status__in=Registration.ACTIVE)))
        .order_by("registration_opens", "id")
    )
    for plan in plans:
        impact.organisation_ids.add(plan.organisation_id)
        impact.plans.append(
            {
                "id": plan.id,
                "title": plan.title,
                "organisation": plan.organisation.name,
                "status": plan.get_status_display(),
                "registrations": plan.active,
                "caught": plan.id in caught,
            }
        )
    regs = (
        Registration.objects.filter(plan__in=[p["id"] for p in impact.plans], status__in=Registration.ACTIVE)
        .select_related("person", "level", "plan")
        .order_by("plan_id", "id")
    )
    impact.candidates = [
        {
            "registration_id": r.id,
            "name": r.person.name,
            "id_number": mask_id_number(r.person.id_number),
            "plan_id": r.plan_id,
            "plan": r.plan.title,
            "level": r.level.label,
            "status": r.get_status_display(),
            "must_choose": r.plan_id in caught,
        }
        for r in regs
    ]


def catalogue_change_confirmed(*, change, title: str, **_kwargs) -> dict:
    """occupations.signals.catalogue_change_confirmed: a choice for every candidate of a caught plan, and a
    notification to each of them (and to whoever registered them)."""
    regs = choices_open_for(change) if change.ends_recognition else []
    if regs:
        users = User.objects.filter(
            Q(person_id__in=[r.person_id for r in regs]) | Q(id__in=[r.registered_by_id for r in regs])
        )
        notify(
            users=list(users),
            title=title,
            body=_("您报名的认定计划在取消前已公告,请选择继续参加认定或申请退费。"),
            link="/assessments/my/",
        )
    return {"choices_opened": len(regs)}


def choices_open_for(change) -> list[Registration]:
    """One choice per caught candidate, inside the confirming transaction."""
    plan_ids = list(caught_plans(change.qualification, change.effective_on).values_list("id", flat=True))
    regs = list(
        Registration.objects.filter(plan_id__in=plan_ids, status__in=Registration.ACTIVE)
        .exclude(cancellation_choice__isnull=False)
        .order_by("id")
    )
    CancellationChoice.objects.bulk_create(
        [CancellationChoice(change=change, registration=r, plan_id=r.plan_id) for r in regs]
    )
    return regs


def _base() -> QuerySet[CancellationChoice]:
    return CancellationChoice.objects.select_related(
        "change__qualification", "registration__person", "registration__level", "plan__organisation__region"
    )


def my_choices(actor: Actor) -> QuerySet[CancellationChoice]:
    """The choices the actor makes: as the candidate, or as whoever registered the candidate."""
    actor.require_authenticated()
    q = Q(pk__in=[])
    if actor.person is not None:
        q |= Q(registration__person=actor.person)
    if actor.user is not None:
        q |= Q(registration__registered_by=actor.user)
    return _base().filter(q)


def plan_choices(actor: Actor, plan_id: int) -> tuple[Plan, QuerySet[CancellationChoice]]:
    """The organisation's (and its bureau's) view of one plan's choices."""
    plan = plan_get(actor, plan_id)
    return plan, _base().filter(plan=plan)


def choices_summary(choices) -> dict:
    out = {"total": 0, "pending": 0, "continue": 0, "refund_due": 0, "refunded": 0}
    for c in choices:
        out["total"] += 1
        if c.choice == CancellationChoice.Choice.CONTINUE:
            out["continue"] += 1
        elif c.choice == CancellationChoice.Choice.REFUND:
            out["refunded" if c.refunded else "refund_due"] += 1
        else:
            out["pending"] += 1
    return out


def _state(c: CancellationChoice) -> dict:
    return {
        "choice": c.choice,
        "refund_amount": c.refund_amount,
        "refunded_on": c.refunded_on,
        "refund_reference": c.refund_reference,
        "registration_status": c.registration.status,
    }


def _for_update(choice_id: int) -> CancellationChoice:
    c = (
        CancellationChoice.objects.select_for_update(of=("self",))
        .select_related("registration__person", "plan__organisation__region", "change__qualification")
        .filter(pk=choice_id)
        .first()
    )
    if c is None:
        raise NotFound()
    return c


@transaction.atomic
def choice_make(*, actor: Actor, choice_id: int, choice: str) -> CancellationChoice:
    """The candidate decides once; a refund withdraws the registration, which cannot then be undone."""
    actor.require_authenticated()
    c = _for_update(choice_id)
    reg = c.registration
    if not (actor.person == reg.person or (actor.user is not None and reg.registered_by_id == actor.user.id)):
        raise NotFound()
    if choice not in (CancellationChoice.Choice.CONTINUE, CancellationChoice.Choice.REFUND):
        raise ValidationFailed(_("请选择继续参加认定或退费"), details={"field": "choice"})
    if c.choice:
        raise Conflict(_("已选择“%(c)s”,不能更改;如有特殊情况请联系评价机构") % {"c": c.get_choice_display()})
    if reg.status not in Registration.ACTIVE or c.plan.status != Plan.Status.PUBLISHED:
        raise Conflict(_("该报名或认定计划已结束,无需再选择"))
    first = c.plan.components.order_by("starts_at").first()
    if choice == CancellationChoice.Choice.REFUND and first is not None and first.starts_at <= timezone.now():
        raise Conflict(_("考核已开始,不能再选择退费"))
    before = _state(c)
    c.choice, c.chosen_at, c.chosen_by = choice, timezone.now(), actor.user
    c.save(update_fields=["choice", "chosen_at", "chosen_by"])
    if choice == CancellationChoice.Choice.REFUND:
        reg = Registration.objects.select_for_update().get(pk=reg.pk)
        reg.status = Registration.Status.WITHDRAWN
        reg.review_reason = _("职业资格取消,考生选择退费")
        reg.save(update_fields=["status", "review_reason"])
        c.registration = reg
    audit_record(
        actor=actor,
        action=f"cancellation_choice.{choice}",
        obj=c,
        before=before,
        after=_state(c),
        region_code=c.plan.organisation.region.code,
        organisation_id=c.plan.organisation_id,
    )
    if choice == CancellationChoice.Choice.REFUND:
        notify(
            users=organisation_admins(c.plan.organisation_id),
            title=_("考生选择退费:%(n)s(%(p)s)") % {"n": reg.person.name, "p": c.plan.title},
            body=_("请办理退费并登记金额、日期和凭证号。"),
            link=f"/assessments/manage/plans/{c.plan_id}/cancellation/",
        )
    return c


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, AttributeError):
        raise ValidationFailed(_("退费金额格式不正确"), details={"field": "amount"}) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(_("退费金额最多两位小数"), details={"field": "amount"})
    return amount


@transaction.atomic
def refund_record(
    *, actor: Actor, choice_id: int, amount, refunded_on: datetime.date | None, reference: str
) -> CancellationChoice:
    """The organisation records the refund it paid: no more than the fee, not in the future, with a reference."""
    c = _for_update(choice_id)
    plan_get(actor, c.plan_id)  # another tenant's choice is a 404
    actor.require_org_role(c.plan.organisation_id, Role.ORG_ADMIN)
    if c.choice != CancellationChoice.Choice.REFUND:
        raise Conflict(_("考生未选择退费"))
    if c.refunded:
        raise Conflict(_("该考生的退费已登记"))
    amount = _amount(amount)
    if amount <= 0:
        raise ValidationFailed(_("退费金额应大于0"), details={"field": "amount"})
    if amount > c.plan.fee:
        raise ValidationFailed(
            _("退费金额不能超过收费标准%(fee)s元") % {"fee": c.plan.fee}, details={"field": "amount"}
        )
    if refunded_on is None:
        raise ValidationFailed(_("请填写退费日期"), details={"field": "refunded_on"})
    if refunded_on > timezone.localdate():
        raise ValidationFailed(_("退费日期不能晚于今天"), details={"field": "refunded_on"})
    if refunded_on < timezone.localtime(c.chosen_at).date():
        raise ValidationFailed(_("退费日期不能早于考生选择退费的日期"), details={"field": "refunded_on"})
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed(_("请填写退费凭证号(如转账流水号)"), details={"field": "reference"})
    if len(reference) > 64:
        raise ValidationFailed(_("凭证号不超过64个字符"), details={"field": "reference"})
    before = _state(c)
    c.refund_amount, c.refunded_on, c.refund_reference = amount, refunded_on, reference
    c.refund_recorded_by, c.refund_recorded_at = actor.user, timezone.now()
    c.save(
        update_fields=["refund_amount", "refunded_on", "refund_reference", "refund_recorded_by", "refund_recorded_at"]
    )
    audit_record(
        actor=actor,
        action="cancellation_choice.refund",
        obj=c,
        before=before,
        after=_state(c),
        region_code=c.plan.organisation.region.code,
        organisation_id=c.plan.organisation_id,
    )
    reg = c.registration
    notify(
        users=list(User.objects.filter(Q(person=reg.person) | Q(pk=reg.registered_by_id))),
        title=_("退费已办理:%(p)s") % {"p": c.plan.title},
        body=_("金额%(a)s元,日期%(d)s,凭证号%(r)s") % {"a": amount, "d": refunded_on, "r": reference},
        link="/assessments/my/",
    )
    return c
