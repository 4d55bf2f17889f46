"""Who may act on a plan's scores: its organisation's admin, the assessors on its panel, and who sees full results."""

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role
from accreditation.models import Appointment
from accreditation.selectors import acting_appointments, appointed_without_role
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied

from ..models import PanelMember, Plan
from ..plans import plans_for
from .rules import KIND_LABELS, check_kind

# --- Who may act ---------------------------------------------------------------------------------------------


def scoring_plans(lock: bool) -> QuerySet[Plan]:
    qs = Plan.objects.select_related("organisation__region", "occupation", "standard")
    return qs.select_for_update(of=("self",)) if lock else qs


def _visible(actor: Actor, plan: Plan) -> bool:
    return plans_for(actor).filter(pk=plan.pk).exists()


def require_admin(actor: Actor, plan: Plan) -> None:
    """Organisation admins act; anyone else who can see the plan gets 403, everyone else 404."""
    actor.require_authenticated()
    if plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN):
        return
    if _visible(actor, plan):
        raise PermissionDenied(_("仅本机构管理员可执行此操作"))
    raise NotFound()


def admin_plan(actor: Actor, plan_id: int, *, lock: bool = True) -> Plan:
    plan = scoring_plans(lock).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    require_admin(actor, plan)
    return plan


def can_see_full_results(actor: Actor, plan: Plan) -> bool:
    """The organisation's admins, bureau staff over its region and operators see names and ID numbers."""
    return (
        actor.is_operator
        or plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
        or actor.oversees_region(plan.organisation.region)
    )


def results_plan(actor: Actor, plan_id: int) -> Plan:
    """The plan, for someone allowed to see its full results (403 for other members, 404 for other tenants)."""
    actor.require_authenticated()
    plan = plans_for(actor).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    if not can_see_full_results(actor, plan):
        raise PermissionDenied(_("仅机构管理员和人社部门可查看完整成绩"))
    return plan


def assessor_seat(actor: Actor, plan_id: int, kind: str, *, lock: bool) -> tuple[Plan, Appointment]:
    """The plan and the actor's appointment on its panel for `kind`: 403 for members who are not on that panel,
    404 for everyone who cannot see the plan at all."""
    actor.require_authenticated()
    check_kind(kind)
    plan = scoring_plans(lock).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    person = actor.person
    seats = PanelMember.objects.none()
    if person is not None:
        seats = PanelMember.objects.filter(
            plan=plan,
            appointment__in=acting_appointments(actor).values("pk"),
            appointment__status=Appointment.Status.ACTIVE,
        ).select_related("appointment__person")
    seat = next((m for m in seats if m.kind == kind), None)
    if seat is not None:
        return plan, seat.appointment
    appointed_here = (
        person is not None
        and PanelMember.objects.filter(plan=plan, kind=kind, appointment__person=person).exists()
        and appointed_without_role(actor)
    )
    if seats or appointed_here or _visible(actor, plan):
        if person is None and actor.user is not None:
            actor.require_person()  # an assessor's login not bound by proof scores nothing: say how to bind
        if appointed_here:
            raise PermissionDenied(
                _("您已被登记为考评员,但尚未接受机构发出的角色邀请;接受邀请后方可评分"), code="invitation_required"
            )
        raise PermissionDenied(_("您不是该计划“%(k)s”考评组成员,不能录入成绩") % {"k": KIND_LABELS[kind]})
    raise NotFound()


def require_scoring_open(plan: Plan, kind: str | None = None) -> None:
    if plan.status != Plan.Status.PUBLISHED:
        raise Conflict(
            _("计划当前状态为“%(s)s”,不能评分或锁定成绩") % {"s": plan.get_status_display()}, code="scoring_closed"
        )
    if kind is None:
        return
    component = plan.components.filter(kind=kind).first()
    if component is None:
        raise Conflict(_("该计划未安排“%(k)s”") % {"k": KIND_LABELS[kind]})
    if component.starts_at > timezone.now():
        raise Conflict(
            _("“%(k)s”于%(t)s开始,开始后方可录入成绩")
            % {"k": KIND_LABELS[kind], "t": f"{timezone.localtime(component.starts_at):%Y-%m-%d %H:%M}"},
            code="not_started",
        )


def plan_audit(actor: Actor, plan: Plan, action: str, obj=None, **kwargs) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj if obj is not None else plan,
        region_code=plan.organisation.region.code,
        organisation_id=plan.organisation_id,
        **kwargs,
    )
