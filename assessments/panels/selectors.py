"""Who could sit on a plan's panel or supervise it, declared relationships, and the plans a supervisor sees."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Bureau, Person
from accreditation.models import Appointment
from accreditation.selectors import acting_appointments
from core.errors import NotFound, ValidationFailed
from occupations.models import Region

from ..models import (
    PanelMember,
    Plan,
    Registration,
    RelationshipDeclaration,
)
from .rules import (
    KIND_LABELS,
    Availability,
    active_appointments,
    assessor_refusals,
    facts_for,
    plan_kinds,
    supervisor_refusals,
)

# --- Who could be chosen -------------------------------------------------------------------------------------


def require_kind(plan: Plan, kind: str) -> None:
    if kind not in plan_kinds(plan):
        raise ValidationFailed(
            _("本计划没有“%(kind)s”科目") % {"kind": KIND_LABELS.get(kind, kind)}, details={"field": "kind"}
        )


def panel_candidates(plan: Plan, kind: str) -> list[Availability]:
    """Every assessor of the plan's organisation (active or not): who is available, and why the others are not."""
    require_kind(plan, kind)
    facts = facts_for(plan)
    on_panel = set(PanelMember.objects.filter(plan=plan, kind=kind).values_list("appointment_id", flat=True))
    out = []
    for a in active_appointments().filter(organisation_id=plan.organisation_id, role=Appointment.Role.ASSESSOR):
        refusals = assessor_refusals(facts, a)
        out.append(Availability(a, not refusals, refusals, assigned=a.id in on_panel))
    return sorted(out, key=lambda x: (not x.available, x.assigned, x.appointment.person.name, x.appointment.id))


def _covering_bureau_ids(region: Region) -> list[int]:
    return [b.id for b in Bureau.objects.select_related("region") if b.region.contains(region)]


def external_supervisors(plan: Plan) -> QuerySet[Appointment]:
    return active_appointments().filter(
        role=Appointment.Role.EXTERNAL_SUPERVISOR, bureau_id__in=_covering_bureau_ids(plan.organisation.region)
    )


def supervisor_candidates(plan: Plan) -> list[Availability]:
    """External supervisors of the bureaus covering the organisation's region and the organisation's internal
    supervisors, with why each is or is not eligible."""
    facts = facts_for(plan)
    internal = active_appointments().filter(
        role=Appointment.Role.INTERNAL_SUPERVISOR, organisation_id=plan.organisation_id
    )
    out = []
    for a in [*external_supervisors(plan), *internal]:
        refusals = supervisor_refusals(facts, a)
        out.append(Availability(a, not refusals, refusals, assigned=a.id == plan.supervisor_id))
    return sorted(out, key=lambda x: (not x.available, x.appointment.role, x.appointment.person.name))


def relationships_of(person: Person | None) -> QuerySet[RelationshipDeclaration]:
    if person is None:
        return RelationshipDeclaration.objects.none()
    return RelationshipDeclaration.objects.filter(declarant=person).select_related("other").order_by("-created_at")


def persons_judged_by(person: Person) -> QuerySet[Person]:
    """Candidates of the plans this person sits on a panel of or supervises: the only ones they may name by id."""
    plan_ids = set(PanelMember.objects.filter(appointment__person=person).values_list("plan_id", flat=True))
    plan_ids |= set(Plan.objects.filter(supervisor__person=person).values_list("id", flat=True))
    return Person.objects.filter(
        registrations__plan_id__in=plan_ids, registrations__status__in=Registration.ACTIVE
    ).distinct()


def supervised_plans(actor: Actor) -> QuerySet[Plan]:
    """Plans whose assigned supervisor is this actor's person ("my sessions")."""
    if actor.person is None:
        return Plan.objects.none()
    return (
        Plan.objects.filter(supervisor__in=acting_appointments(actor).values("pk"))
        .select_related("organisation__region", "occupation", "supervisor__person")
        .prefetch_related("components", "levels", "supervision_reports")
        .order_by("-registration_closes", "-id")
    )


def supervised_plan_get(actor: Actor, plan_id: int) -> Plan:
    plan = supervised_plans(actor).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    return plan
