"""数据上报 API: the reporting records an organisation or bureau may see, their feedback, and resending."""

import datetime
import uuid

from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from . import services
from .models import ReportRecord
from .selectors import overdue, records_for

router = Router(tags=["national reporting"])


class RecordOut(Schema):
    id: int
    record_id: uuid.UUID
    kind: str
    event: str
    subject: str
    organisation: str = Field(alias="organisation.name")
    region_code: str
    status: str
    status_label: str = Field(alias="get_status_display")
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_error: str
    feedback_code: str
    feedback_message: str
    receipt: str
    due_on: datetime.date
    due_provisional: bool
    due_explanation: str
    overdue: bool
    resent_as: int | None
    created_at: datetime.datetime
    answered_at: datetime.datetime | None

    @staticmethod
    def resolve_next_attempt_at(record: ReportRecord) -> datetime.datetime | None:
        return record.next_attempt_at if record.status == ReportRecord.Status.PENDING else None

    @staticmethod
    def resolve_overdue(record: ReportRecord) -> bool:
        return record.status in ReportRecord.OPEN and record.due_on < timezone.localdate()

    @staticmethod
    def resolve_resent_as(record: ReportRecord) -> int | None:
        resent = getattr(record, "resent_as", None)
        return resent.id if resent else None


class SummaryOut(Schema):
    configured: bool
    by_status: dict[str, int]
    overdue: int


def filtered(request, status: str = "", kind: str = "", overdue_only: bool = False):
    qs = records_for(request.auth)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if overdue_only:
        qs = overdue(qs)
    return qs


@router.get("/records", response=list[RecordOut], summary="上报记录及国家数据库反馈(本机构或本辖区)")
@paginate
def record_list(request, status: str = "", kind: str = "", overdue_only: bool = False):
    return filtered(request, status, kind, overdue_only)


@router.get("/summary", response=SummaryOut, summary="上报情况汇总:各状态数量与逾期数量")
def record_summary(request):
    from django.db.models import Count

    from .wire import adapter

    qs = records_for(request.auth)
    by_status = {row["status"]: row["n"] for row in qs.order_by().values("status").annotate(n=Count("id"))}
    return {"configured": adapter() is not None, "by_status": by_status, "overdue": overdue(qs).count()}


@router.post("/records/{record_id}/resend", response=RecordOut, summary="更正后重新上报被退回的记录")
def record_resend(request, record_id: int):
    record = services.record_resend(actor=request.auth, record_id=record_id)
    record = records_for(request.auth).get(pk=record.pk)
    return record
