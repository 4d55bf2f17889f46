from datetime import datetime
from typing import Any

from ninja import Query, Router, Schema
from ninja.pagination import paginate

from core.audit import audit_verify
from core.schema_types import Instant

from .selectors import audit_entries_for

router = Router(tags=["oversight"])


class AuditOut(Schema):
    seq: int
    at: datetime
    actor_label: str
    action: str
    object_type: str
    object_id: str
    region_code: str
    organisation_id: int | None
    before: Any
    after: Any
    reason: str
    request_id: str


class AuditFilter(Schema):
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: Instant | None = None
    until: Instant | None = None


@router.get("/audit", response=list[AuditOut], summary="审计日志检索(本辖区)")
@paginate
def audit_list(request, filters: AuditFilter = Query(...)):
    return audit_entries_for(request.auth, filters=filters.dict())


class ChainOut(Schema):
    ok: bool
    checked: int
    problem: str


@router.get("/audit/verify", response=ChainOut, summary="审计链完整性校验")
def audit_chain(request):
    request.auth.require_bureau()
    report = audit_verify()
    return {"ok": report.ok, "checked": report.checked, "problem": report.problem}
