"""Re-sits (补考) requested by the candidate or their organisation: the rules are resit_register's (rules in rules.py) (a failed
component, the same organisation, occupation, standard and level, within the standard's window); the re-sit then
goes through the new plan's panels, tickets, check-in and scoring like any registration."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.errors import NotFound

from ..employment.services import employment_require_for_approval
from ..examday.services import tickets_auto_issue
from ..integrity.services import integrity_require
from ..models import ComponentResult, Registration
from ..scoring.access import plan_audit, scoring_plans
from ..scoring.rules import CARRIED
from .rules import resit_basis, resit_plan_problem


@transaction.atomic
def resit_register(
    *, actor: Actor, registration_id: int, plan_id: int, today: datetime.date | None = None
) -> Registration:
    """Register a failed candidate for a re-sit in another plan of the same organisation, occupation, standard
    and level, within the standard's window after the first sitting was finalised. Components passed before are
    carried (status "carried"), so only the failed or missed ones are taken again."""
    today = today or timezone.localdate()
    basis = resit_basis(actor, registration_id)
    original, rules, results, failed, deadline = (
        basis.original,
        basis.rules,
        basis.results,
        basis.failed,
        basis.deadline,
    )
    plan = scoring_plans(lock=True).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(_("补考须在原认定机构的计划中办理"))
    problem = resit_plan_problem(basis, plan, today)
    if problem is not None:
        raise problem

    now = timezone.now()
    reg = Registration(
        plan=plan,
        person=original.person,
        level=original.level,
        status=Registration.Status.APPROVED,
        source=original.source,
        registered_by=actor.user,
        employer_name=original.employer_name,
        phone=original.phone,
        work_years=original.work_years,
        work_history=original.work_history,
        apprenticeship_completed=original.apprenticeship_completed,
        education=original.education,
        prior_certificates=original.prior_certificates,
        titles=original.titles,
        credentials=original.credentials,
        pledge_accepted_at=now,
        eligibility=original.eligibility,
        eligibility_status=original.eligibility_status,
        review_reason=_("补考:沿用报名#%(id)d的资格审核结果") % {"id": original.id},
        reviewed_by=actor.user,
        reviewed_at=now,
        resit_of=original,
    )
    reg.full_clean()
    reg.save()
    employment_require_for_approval(reg)
    integrity_require(plan, step="registration.approve", candidate_person_id=original.person_id)
    carried = [
        ComponentResult(
            registration=reg,
            kind=c.kind,
            status=CARRIED,
            score=results[c.kind].score,
            passed=True,
            rule=f"carried from #{original.id}",
            locked_at=now,
            note=(_("沿用《%(p)s》合格成绩") % {"p": original.plan.title})[:255],
        )
        for c in rules.components
        if c not in failed
    ]
    ComponentResult.objects.bulk_create(carried)
    plan_audit(
        actor,
        plan,
        "registration.resit",
        obj=reg,
        after={
            "resit_of": original.id,
            "person": original.person_id,
            "level": original.level.code,
            "retake": [c.kind for c in failed],
            "carried": {r.kind: str(r.score) for r in carried},
            "deadline": deadline,
        },
    )
    return reg


@transaction.atomic
def resit_request(*, actor: Actor, registration_id: int, plan_id: int) -> Registration:
    resit = resit_register(actor=actor, registration_id=registration_id, plan_id=plan_id)
    # Approved as it is made: the re-sit candidate gets a ticket at once, with the next seat, once the re-sit plan's
    # arrangements are complete (or when they become so).
    tickets_auto_issue(actor=actor, plan=resit.plan, registration_ids=[resit.pk])
    return resit
