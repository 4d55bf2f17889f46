"""Bureau review of results API, mounted under /api/v1/assessments."""

import datetime

from ninja import Field, Router, Schema

from accounts.actors import Actor

from . import selectors, services

router = Router(tags=["result review"])


class ReviewOut(Schema):
    id: int
    plan_id: int
    plan_title: str = Field(alias="plan.title")
    status: str
    summary: dict
    note: str
    submitted_at: datetime.datetime
    due_on: datetime.date
    due_provisional: bool
    decided_at: datetime.datetime | None
    reason: str


class PlanReviewOut(Schema):
    plan_id: int
    required: bool
    working_days: int | None
    policy_basis: str
    issuance_blocked_by: str
    reviews: list[ReviewOut]


class SubmitIn(Schema):
    note: str = ""


class ResultReviewDecideIn(Schema):
    approve: bool
    reason: str = ""


@router.get("/plans/{plan_id}/result-review", response=PlanReviewOut, summary="发证前成绩审核:政策与报送记录")
def plan_review(request, plan_id: int):
    plan, policy, reviews = selectors.plan_review_state(Actor.from_request(request), plan_id)
    return {
        "plan_id": plan.id,
        "required": policy is not None,
        "working_days": policy.working_days if policy else None,
        "policy_basis": policy.basis if policy else "",
        "issuance_blocked_by": selectors.issuance_blocker(plan),
        "reviews": list(reviews),
    }


@router.post("/plans/{plan_id}/result-review", response=ReviewOut, summary="报送成绩审核(机构管理员)")
def review_submit(request, plan_id: int, payload: SubmitIn):
    return services.review_submit(actor=Actor.from_request(request), plan_id=plan_id, note=payload.note)


@router.get("/result-reviews", response=list[ReviewOut], summary="辖区内待审核与已审核的成绩(人社部门)")
def review_queue(request, status: str = ""):
    qs = selectors.reviews_for(Actor.from_request(request))
    if status:
        qs = qs.filter(status=status)
    return list(qs[:500])


@router.post("/result-reviews/{review_id}/decide", response=ReviewOut, summary="审核通过或退回(人社部门)")
def review_decide(request, review_id: int, payload: ResultReviewDecideIn):
    review = services.review_decide(
        actor=Actor.from_request(request), review_id=review_id, approve=payload.approve, reason=payload.reason
    )
    return review
