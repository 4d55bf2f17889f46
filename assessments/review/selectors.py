"""Reads for the bureau's review of results: the policy in force, the plan's review state, the bureau's queue."""

import datetime
import hashlib
import json

from django.db.models import Q, QuerySet
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.errors import NotFound
from occupations.models import Region

from ..models import ComponentResult, Plan, Registration
from ..plans import plans_for
from .models import ResultReview, ResultReviewPolicy


def policy_for(region_code: str, on: datetime.date) -> ResultReviewPolicy | None:
    """The policy of the most specific region prefix in force on `on` (the latest effective_from among those)."""
    prefixes = [region_code[:n] for n in range(1, len(region_code) + 1)]
    return (
        ResultReviewPolicy.objects.filter(region_prefix__in=prefixes, effective_from__lte=on)
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gte=on))
        .annotate(specificity=Length("region_prefix"))
        .order_by("-specificity", "-effective_from")
        .first()
    )


def plan_policy(plan: Plan) -> ResultReviewPolicy | None:
    """The policy that governs the plan: its organisation's region, on the day its results were finalised (today
    while they are not). A policy that says no review is the same as none."""
    day = timezone.localtime(plan.finalised_at).date() if plan.finalised_at else timezone.localdate()
    policy = policy_for(plan.organisation.region.code, day)
    return policy if policy is not None and policy.required else None


def results_digest(plan: Plan) -> tuple[str, dict]:
    """A fingerprint of every outcome and component result of the plan, and counts to show the bureau. A correction
    after approval changes it, and the approval then no longer covers the results."""
    regs = list(
        plan.registrations.filter(status=Registration.Status.APPROVED)
        .order_by("id")
        .values_list("id", "person__id_number", "level_id", "outcome")
    )
    results = list(
        ComponentResult.objects.filter(registration__plan=plan)
        .order_by("registration_id", "kind")
        .values_list("registration_id", "kind", "status", "score", "passed")
    )
    payload = json.dumps([regs, [[*r[:3], str(r[3]), r[4]] for r in results]], ensure_ascii=False, default=str)
    outcomes: dict[str, int] = {}
    for _id, _number, _level, outcome in regs:
        outcomes[outcome or "pending"] = outcomes.get(outcome or "pending", 0) + 1
    return hashlib.sha256(payload.encode()).hexdigest(), {"candidates": len(regs), "outcomes": outcomes}


def latest_review(plan: Plan) -> ResultReview | None:
    return plan.result_reviews.order_by("-submitted_at", "-id").first()


def issuance_blocker(plan: Plan) -> str:
    """Why certificates of this plan may not be issued yet because of the bureau's review; empty when they may."""
    if plan_policy(plan) is None:
        return ""
    review = latest_review(plan)
    if review is None:
        return _("本地区规定成绩须经人社部门审核后方可发证,请先报送审核")
    if review.status == ResultReview.Status.PENDING:
        return _("成绩正在人社部门审核中(期限%(d)s),审核通过后方可发证") % {"d": review.due_on}
    if review.status == ResultReview.Status.RETURNED:
        return _("人社部门已退回成绩:%(r)s。请处理后重新报送") % {"r": review.reason}
    if results_digest(plan)[0] != review.digest:
        return _("成绩在人社部门审核通过后有变化,须重新报送审核")
    return ""


def reviews_for(actor: Actor) -> QuerySet[ResultReview]:
    """The reviews of organisations in the actor's bureau's region (everything for the operator)."""
    qs = ResultReview.objects.select_related("plan__organisation__region", "policy", "submitted_by", "decided_by")
    if actor.is_operator:
        return qs
    prefixes = actor.bureau_prefixes
    if not prefixes:
        return qs.none()
    return qs.filter(Region.within_q("plan__organisation__region", prefixes))


def plan_review_state(actor: Actor, plan_id: int):
    """The plan (for its organisation, or the bureau over it), its policy and every submission, newest first."""
    plan = plans_for(actor).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    return plan, plan_policy(plan), list(plan.result_reviews.select_related("submitted_by", "decided_by"))
