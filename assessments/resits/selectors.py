"""Re-sits (补考): which of the organisation's plans a failed candidate may re-sit in, and why the others not."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from accounts.actors import Actor

from ..models import Plan
from ..resits.rules import ResitBasis, resit_basis, resit_plan_problem


@dataclass
class ResitOption:
    plan: Plan
    problem: str  # empty when the plan can take the re-sit
    exam_day: datetime.date | None

    @property
    def open(self) -> bool:
        return not self.problem


def resit_options(
    actor: Actor, registration_id: int, today: datetime.date | None = None
) -> tuple[ResitBasis, list[ResitOption]]:
    """The re-sit's basis (what is taken again, what is carried, the last day) and every published plan of the same
    organisation, occupation and level, each with the reason it cannot take the re-sit, if any."""
    today = today or timezone.localdate()
    basis = resit_basis(actor, registration_id)
    original = basis.original
    plans = (
        Plan.objects.filter(
            organisation_id=original.plan.organisation_id,
            occupation_id=original.plan.occupation_id,
            levels=original.level_id,
            status=Plan.Status.PUBLISHED,
        )
        .exclude(pk=original.plan_id)
        .select_related("organisation", "occupation")
        .prefetch_related("components")
        .order_by("registration_closes", "id")
    )
    options = []
    for plan in plans:
        problem = resit_plan_problem(basis, plan, today)
        starts = min((c.starts_at for c in plan.components.all()), default=None)
        options.append(
            ResitOption(plan, problem.message if problem else "", timezone.localtime(starts).date() if starts else None)
        )
    return basis, options
