"""The integrity of a plan through the API: what holds and what does not, and the bureau's exceptions.

Mounted under /api/v1/assessments. Reads go through `plan_get` (another tenant's plan is a 404)."""

import datetime
from typing import Any

from ninja import Field, Router, Schema, Status

from ..plans import plan_get
from . import services

router = Router(tags=["assessments"])


class IntegrityFindingOut(Schema):
    rule_code: str
    rule_label: str
    family: str
    kind: str
    kind_label: str
    explanation: str
    record: dict[str, Any]
    appointment_id: int | None
    person_name: str


class IntegrityExceptionOut(Schema):
    id: int
    plan_id: int
    rule_code: str
    kind: str
    appointment_id: int | None
    record_type: str
    record_id: int | None
    finding: str
    reason: str
    granted_by: str = Field(alias="granted_by.username")
    granted_at: datetime.datetime
    revoked_at: datetime.datetime | None
    revoke_reason: str


class IntegrityExceptedOut(Schema):
    finding: IntegrityFindingOut
    exception_id: int


class IntegrityOut(Schema):
    plan_id: int
    ok: bool
    open: list[IntegrityFindingOut]
    excepted: list[IntegrityExceptedOut]
    exceptions: list[IntegrityExceptionOut]


class IntegrityExceptionIn(Schema):
    rule_code: str
    kind: str
    reason: str
    appointment_id: int | None = None
    record_type: str = ""
    record_id: int | None = None


class IntegrityRevokeIn(Schema):
    reason: str


@router.get("/plans/{plan_id}/integrity", response=IntegrityOut, summary="考培分离、考评人员资格与考评组人数核查")
def plan_integrity(request, plan_id: int):
    report = services.plan_integrity(plan_get(request.auth, plan_id))
    return {
        "plan_id": plan_id,
        "ok": report.ok,
        "open": [f.as_dict() for f in report.open],
        "excepted": [{"finding": f.as_dict(), "exception_id": e.id} for f, e in report.excepted],
        "exceptions": list(report.exceptions),
    }


@router.post(
    "/plans/{plan_id}/integrity/exceptions",
    response={201: IntegrityExceptionOut},
    summary="人社部门对一项问题核准例外(须填写理由)",
)
def exception_grant(request, plan_id: int, payload: IntegrityExceptionIn):
    exception = services.exception_grant(actor=request.auth, plan_id=plan_id, **payload.dict())
    return Status(201, exception)


@router.post(
    "/integrity/exceptions/{exception_id}/revoke", response=IntegrityExceptionOut, summary="撤销例外核准(须填写理由)"
)
def exception_revoke(request, exception_id: int, payload: IntegrityRevokeIn):
    return services.exception_revoke(actor=request.auth, exception_id=exception_id, reason=payload.reason)
