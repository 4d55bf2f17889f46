"""Reads for the scoring pages and the API: an assessor's plans, a score sheet, a plan's overview and results."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from accounts.actors import Actor
from accreditation.models import Appointment
from accreditation.selectors import acting_appointments
from core.errors import Conflict

from ..examday.selectors import present_ids
from ..integrity.rules import split_by_exceptions
from ..integrity.services import active_exceptions, integrity_require, plan_findings
from ..models import COMPONENT_KINDS, PanelMember, Plan, Registration, Score, ScoreCorrection
from .access import assessor_seat, require_scoring_open, results_plan
from .rules import KIND_LABELS, level_rules
from .services import candidates_for, lock_state, locked_ids, require_not_submitted, sheet_submitted

# --- Reads for pages and the API -----------------------------------------------------------------------------


@dataclass
class AssessorPlan:
    plan: Plan
    kinds: list[dict]


def assessor_plans(actor: Actor) -> list[AssessorPlan]:
    """Plans where the actor sits on a panel, with each component and whether their sheet is submitted."""
    person = actor.person
    if person is None:
        return []
    members = (
        PanelMember.objects.filter(
            appointment__in=acting_appointments(actor).values("pk"), appointment__status=Appointment.Status.ACTIVE
        )
        .exclude(plan__status__in=[Plan.Status.DRAFT, Plan.Status.CANCELLED])
        .select_related("plan__organisation", "plan__occupation")
        .order_by("-plan__registration_closes", "plan_id", "kind")
    )
    submitted = set(
        Score.objects.filter(assessor__person=person, submitted_at__isnull=False)
        .values_list("registration__plan_id", "kind")
        .distinct()
    )
    plans: dict[int, AssessorPlan] = {}
    for m in members:
        entry = plans.setdefault(m.plan_id, AssessorPlan(m.plan, []))
        entry.kinds.append(
            {"kind": m.kind, "label": KIND_LABELS[m.kind], "submitted": (m.plan_id, m.kind) in submitted}
        )
    return list(plans.values())


@dataclass
class SheetRow:
    registration: Registration
    score: Score | None
    locked: bool
    present: bool = True


@dataclass
class ScoreSheet:
    plan: Plan
    kind: str
    label: str
    appointment: Appointment
    rows: list[SheetRow]
    submitted_at: datetime.datetime | None
    problem: str

    @property
    def editable(self) -> bool:
        return not self.problem


def score_sheet(*, actor: Actor, plan_id: int, kind: str) -> ScoreSheet:
    plan, appointment = assessor_seat(actor, plan_id, kind, lock=False)
    submitted_at = sheet_submitted(plan, kind, appointment)
    problem = ""
    try:
        require_scoring_open(plan, kind)
        require_not_submitted(plan, kind, appointment)
        integrity_require(plan, step="score.enter", kinds=[kind])
    except Conflict as exc:
        problem = exc.message
    mine = {
        s.registration_id: s for s in Score.objects.filter(registration__plan=plan, kind=kind, assessor=appointment)
    }
    locked, present = locked_ids(plan, kind), present_ids(plan, kind)
    rows = [SheetRow(r, mine.get(r.id), r.id in locked, r.id in present) for r in candidates_for(plan, kind)]
    return ScoreSheet(plan, kind, KIND_LABELS[kind], appointment, rows, submitted_at, problem)


@dataclass
class ComponentOverview:
    kind: str
    label: str
    candidates: int
    locked: int
    panel: list[dict]
    problems: list[str]
    ready: bool


def scoring_overview(*, actor: Actor, plan_id: int) -> tuple[Plan, list[ComponentOverview], QuerySet]:
    """For the organisation: each component's panel and submissions, whether it can be locked, and the
    corrections waiting for a decision."""
    plan = results_plan(actor, plan_id)
    rules = level_rules(plan)
    kinds = [k for k, _label in COMPONENT_KINDS if plan.components.filter(kind=k).exists()]
    per_assessor = {
        (row["kind"], row["assessor_id"]): row
        for row in Score.objects.filter(registration__plan=plan)
        .values("kind", "assessor_id")
        .annotate(n=Count("id"), pending=Count("id", filter=Q(submitted_at__isnull=True)), at=Max("submitted_at"))
    }
    overview = []
    exceptions = active_exceptions(plan)
    for kind in kinds:
        state = lock_state(plan, kind, rules)
        panel = []
        for m in state.panel:
            row = per_assessor.get((kind, m.appointment_id), {})
            panel.append(
                {
                    "name": m.appointment.person.name,
                    "entered": row.get("n", 0),
                    "submitted": bool(row) and not row.get("pending"),
                    "submitted_at": row.get("at") if row and not row.get("pending") else None,
                }
            )
        problems = list(state.problems)
        if state.candidates:
            open_findings, _excepted = split_by_exceptions(plan_findings(plan, [kind]), exceptions)
            problems += [f.sentence() for f in open_findings]
        overview.append(
            ComponentOverview(
                kind,
                KIND_LABELS[kind],
                len(state.candidates) + state.locked,
                state.locked,
                panel,
                problems,
                bool(state.candidates) and not problems,
            )
        )
    corrections = (
        ScoreCorrection.objects.filter(result__registration__plan=plan, status=ScoreCorrection.Status.PENDING)
        .select_related("result__registration__person", "requested_by")
        .order_by("requested_at")
    )
    return plan, overview, corrections


def plan_results(plan: Plan) -> QuerySet[Registration]:
    """Every approved registration of the plan with its results and each assessor's marks (two extra queries)."""
    return (
        plan.registrations.filter(status=Registration.Status.APPROVED)
        .select_related("person", "level")
        .prefetch_related("results", "scores__assessor__person")
        .order_by("level__rank", "id")
    )
