"""The bureau's review of results before issuance (成绩审核), where the region's policy (ResultReviewPolicy, data with
effective dates) asks for it, as 广东 and 深圳 do:

- the organisation submits the finalised results (报送); the bureau approves or returns them (with the reason)
  within the policy's working days (a deadline "from" the day of submission does not count that day);
- a returned review is answered by a new submission; certificates are issued only while the latest review is
  approved and the results are still exactly those approved (certificates/issuance.py asks issuance_blocker);
- where no policy asks for a review, nothing changes.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from occupations.workdays import add_working_days

from ..models import Plan
from ..scoring.access import admin_plan, plan_audit
from .models import ResultReview
from .selectors import latest_review, plan_policy, results_digest, reviews_for


@transaction.atomic
def review_submit(*, actor: Actor, plan_id: int, note: str = "") -> ResultReview:
    plan = admin_plan(actor, plan_id)
    policy = plan_policy(plan)
    if policy is None:
        raise Conflict(_("本地区没有发证前审核成绩的规定,无需报送"), code="review_not_required")
    if plan.status != Plan.Status.FINALISED:
        raise Conflict(_("认定结果办结后方可报送人社部门审核"), code="not_finalised")
    latest = latest_review(plan)
    digest, summary = results_digest(plan)
    if latest is not None and latest.status == ResultReview.Status.PENDING:
        raise Conflict(_("成绩已报送,正在审核中"), code="review_pending")
    if latest is not None and latest.status == ResultReview.Status.APPROVED and latest.digest == digest:
        raise Conflict(_("成绩已审核通过,无需重复报送"), code="review_approved")
    note = (note or "").strip()
    if latest is not None and latest.status == ResultReview.Status.RETURNED and not note:
        raise ValidationFailed(_("成绩曾被退回,重新报送时请说明处理情况"), details={"field": "note"})
    now = timezone.now()
    deadline = add_working_days(timezone.localtime(now).date(), policy.working_days)
    review = ResultReview(
        plan=plan,
        policy=policy,
        digest=digest,
        summary=summary,
        note=note,
        submitted_by=actor.user,
        submitted_at=now,
        due_on=deadline.date,
        due_provisional=deadline.provisional,
    )
    review.full_clean()
    review.save()
    plan_audit(
        actor,
        plan,
        "result_review.submit",
        obj=review,
        after={"summary": summary, "due_on": deadline.date},
        reason=note,
    )
    return review


@transaction.atomic
def review_decide(*, actor: Actor, review_id: int, approve: bool, reason: str = "") -> ResultReview:
    """Bureau staff over the organisation's region approve the results or return them with the reason."""
    actor.require_authenticated()
    review = reviews_for(actor).select_for_update(of=("self",)).filter(pk=review_id).first()
    if review is None:
        if ResultReview.objects.filter(pk=review_id, plan__organisation__in=_own_orgs(actor)).exists():
            raise PermissionDenied(_("仅人社部门工作人员可审核成绩"))
        raise NotFound()
    if actor.user is None:
        raise PermissionDenied(_("成绩审核须由人社部门工作人员本人登录办理"))
    if review.status != ResultReview.Status.PENDING:
        raise Conflict(_("该次报送已审核"), code="already_decided")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationFailed(_("退回时请写明理由"), details={"field": "reason"})
    if approve and results_digest(review.plan)[0] != review.digest:
        raise Conflict(_("报送后成绩有变化,请退回机构重新报送"), code="results_changed")
    review.status = ResultReview.Status.APPROVED if approve else ResultReview.Status.RETURNED
    review.decided_by, review.decided_at, review.reason = actor.user, timezone.now(), reason
    review.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    late = timezone.localtime(review.decided_at).date() > review.due_on
    plan_audit(
        actor,
        review.plan,
        "result_review.approve" if approve else "result_review.return",
        obj=review,
        before={"status": ResultReview.Status.PENDING},
        after={"status": review.status, "due_on": review.due_on, "late": late},
        reason=reason,
    )
    return review


def _own_orgs(actor: Actor) -> set[int]:
    return actor.organisation_ids()
