"""Reads for exam day: who may run a session's check-in, who is present, a session's roster."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role
from accreditation.models import Appointment
from accreditation.selectors import acting_appointments
from core.errors import NotFound, PermissionDenied

from ..models import COMPONENT_KINDS, PanelMember, Plan, PlanComponent, Registration
from ..plans import plans_for
from .models import AdmissionTicket, CheckIn

KIND_LABELS: dict[str, str] = {k: str(label) for k, label in COMPONENT_KINDS}


def present_ids(plan: Plan, kind: str) -> set[int]:
    """Registrations checked in (ID document checked) at the plan's `kind` session: the only ones who may be scored."""
    return set(
        CheckIn.objects.filter(component__plan=plan, component__kind=kind, status=CheckIn.Status.PRESENT).values_list(
            "registration_id", flat=True
        )
    )


def _runs_session(actor: Actor, plan: Plan, kind: str) -> bool:
    """The organisation's admin, the plan's supervisor (督导员) or an assessor on the component's panel."""
    if plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN):
        return True
    person = actor.person
    if person is None:
        return False
    active = Appointment.Status.ACTIVE
    acting = acting_appointments(actor).filter(status=active)
    if plan.supervisor_id and acting.filter(pk=plan.supervisor_id).exists():
        return True
    return PanelMember.objects.filter(plan=plan, kind=kind, appointment__in=acting.values("pk")).exists()


def _involved(actor: Actor, plan: Plan) -> bool:
    person = actor.person
    if person is None:
        return False
    return (plan.supervisor_id is not None and plan.supervisor.person_id == person.id) or PanelMember.objects.filter(
        plan=plan, appointment__person=person
    ).exists()


def checkin_session(actor: Actor, plan_id: int, kind: str, *, lock: bool = False) -> tuple[Plan, PlanComponent]:
    """The plan and its `kind` session for someone who runs its check-in: 403 for others who can see the plan (its
    bureau, its other members, an assessor of another component), 404 for everyone else."""
    actor.require_authenticated()
    if kind not in KIND_LABELS:
        raise NotFound(_("没有这个考核科目"))
    qs = Plan.objects.select_related("organisation__region", "occupation", "supervisor__person")
    if lock:
        qs = qs.select_for_update(of=("self",))
    plan = qs.filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    if not _runs_session(actor, plan, kind):
        if _involved(actor, plan) or plans_for(actor).filter(pk=plan.pk).exists():
            raise PermissionDenied(_("仅本场督导员、考评员或机构管理员可办理签到"))
        raise NotFound()
    component = plan.components.filter(kind=kind).first()
    if component is None:
        raise NotFound(_("该计划未安排“%(k)s”") % {"k": KIND_LABELS[kind]})
    return plan, component


def sessions_for(actor: Actor) -> list[tuple[Plan, PlanComponent]]:
    """Sessions of published plans whose check-in the actor runs (as supervisor or panel assessor)."""
    person = actor.person
    if person is None:
        return []
    acting = acting_appointments(actor).filter(status=Appointment.Status.ACTIVE).values("pk")
    panels = set(PanelMember.objects.filter(appointment__in=acting).values_list("plan_id", "kind"))
    supervised = set(Plan.objects.filter(supervisor__in=acting).values_list("id", flat=True))
    components = (
        PlanComponent.objects.filter(plan__status=Plan.Status.PUBLISHED)
        .select_related("plan__organisation")
        .order_by("starts_at")
    )
    plan_ids = supervised | {p for p, _k in panels}
    return [
        (c.plan, c)
        for c in components.filter(plan_id__in=plan_ids)
        if c.plan_id in supervised or (c.plan_id, c.kind) in panels
    ]


@dataclass
class RosterRow:
    registration: Registration
    ticket: AdmissionTicket | None
    checkin: CheckIn | None


def session_roster(plan: Plan, component: PlanComponent) -> list[RosterRow]:
    """Approved candidates of the plan whose level needs this component, by seat, with their check-in."""
    from ..scoring.services import candidates_for

    regs = list(candidates_for(plan, component.kind).select_related("ticket"))
    checkins = {c.registration_id: c for c in CheckIn.objects.filter(component=component).select_related("recorded_by")}
    rows = [RosterRow(r, getattr(r, "ticket", None), checkins.get(r.id)) for r in regs]
    rows.sort(key=lambda row: (row.ticket is None, row.ticket.seat if row.ticket else 0, row.registration.id))
    return rows


def tickets_of(plan: Plan) -> QuerySet[AdmissionTicket]:
    return AdmissionTicket.objects.filter(registration__plan=plan).select_related(
        "registration__person", "registration__level"
    )


def ticket_sessions(ticket: AdmissionTicket) -> list[PlanComponent]:
    """The sessions the ticket's holder sits: the components their level needs, less any carried from a re-sit."""
    from ..models import ComponentResult
    from ..scoring.rules import level_rules

    reg = ticket.registration
    rules = level_rules(reg.plan).get(reg.level_id)
    carried = set(
        ComponentResult.objects.filter(registration=reg, status=ComponentResult.Status.CARRIED).values_list(
            "kind", flat=True
        )
    )
    return [
        c
        for c in reg.plan.components.order_by("starts_at")
        if rules is not None and rules.spec(c.kind) is not None and c.kind not in carried
    ]


def ticket_view(ticket: AdmissionTicket):
    """Everything printed on the ticket (the ID number masked: the ticket is shown at the door and handed around)."""
    from django.utils import timezone

    from .pdf import TicketSession, TicketView
    from .services import ticket_token

    reg = ticket.registration
    photo = None
    if reg.photo:
        with reg.photo.open("rb") as handle:
            photo = handle.read()
    sessions = tuple(
        TicketSession(
            KIND_LABELS[c.kind],
            f"{timezone.localtime(c.starts_at):%Y-%m-%d %H:%M}—{timezone.localtime(c.ends_at):%H:%M}",
            c.room,
        )
        for c in ticket_sessions(ticket)
    )
    return TicketView(
        number=ticket.number,
        seat=ticket.seat,
        holder_name=reg.person.name,
        id_number_display=reg.person.masked_id_number,
        occupation=reg.plan.occupation.name,
        level=reg.level.label,
        plan_title=reg.plan.title,
        organisation=reg.plan.organisation.name,
        venue=reg.plan.venue,
        sessions=sessions,
        token=ticket_token(ticket),
        photo=photo,
    )
