"""Re-sit API, mounted under /api/v1/assessments: for the candidate (their own registration) and the organisation."""

import datetime

from ninja import Router, Schema

from accounts.actors import Actor

from . import selectors, services

router = Router(tags=["re-sits"])


class ResitPlanOut(Schema):
    plan_id: int
    title: str
    exam_day: datetime.date | None
    registration_closes: datetime.date
    open: bool
    problem: str


class ResitOptionsOut(Schema):
    registration_id: int
    retake: list[str]
    carried: dict[str, str]
    deadline: datetime.date
    plans: list[ResitPlanOut]


class ResitIn(Schema):
    plan_id: int


class ResitOut(Schema):
    registration_id: int
    plan_id: int
    resit_of: int
    status: str
    retake: list[str]


@router.get(
    "/registrations/{registration_id}/resit", response=ResitOptionsOut, summary="补考:可重考的科目、期限与可报计划"
)
def resit_options(request, registration_id: int):
    basis, options = selectors.resit_options(Actor.from_request(request), registration_id)
    failed = {c.kind for c in basis.failed}
    return {
        "registration_id": basis.original.id,
        "retake": [c.kind for c in basis.failed],
        "carried": {k: str(r.score) for k, r in basis.results.items() if k not in failed and r.passed},
        "deadline": basis.deadline,
        "plans": [
            {
                "plan_id": o.plan.id,
                "title": o.plan.title,
                "exam_day": o.exam_day,
                "registration_closes": o.plan.registration_closes,
                "open": o.open,
                "problem": o.problem,
            }
            for o in options
        ],
    }


@router.post("/registrations/{registration_id}/resit", response=ResitOut, summary="申请补考(本人或机构管理员)")
def resit_request(request, registration_id: int, payload: ResitIn):
    resit = services.resit_request(
        actor=Actor.from_request(request), registration_id=registration_id, plan_id=payload.plan_id
    )
    carried = set(resit.results.values_list("kind", flat=True))
    return {
        "registration_id": resit.id,
        "plan_id": resit.plan_id,
        "resit_of": resit.resit_of_id,
        "status": resit.status,
        "retake": sorted({c.kind for c in resit.plan.components.all()} - carried),
    }
