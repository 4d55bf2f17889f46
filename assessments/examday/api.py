"""Exam-day API, mounted under /api/v1/assessments: tickets and check-in, through the same services as the pages."""

import datetime

from ninja import Router, Schema

from accounts.actors import Actor
from core.errors import PlatformError

from ..scoring.access import admin_plan
from . import selectors, services
from .models import AdmissionTicket, CheckIn

router = Router(tags=["exam day"])


class TicketsIssueIn(Schema):
    registration_ids: list[int] | None = None


class TicketOut(Schema):
    registration_id: int
    number: str
    seat: int
    name: str
    issued_at: datetime.datetime


class TicketDetailOut(TicketOut):
    token: str
    sessions: list[dict]


class CheckInIn(Schema):
    status: str
    code: str = ""
    registration_id: int | None = None
    id_checked: bool = False
    note: str = ""
    issue_binding_code: bool = False


class CheckInOut(Schema):
    registration_id: int
    name: str
    kind: str
    status: str
    id_checked: bool
    method: str
    recorded_at: datetime.datetime
    binding_code: str | None = None
    binding_code_refused: str | None = None


class RosterRowOut(Schema):
    registration_id: int
    name: str
    ticket_number: str | None
    seat: int | None
    status: str
    id_checked: bool


def _ticket(t: AdmissionTicket) -> dict:
    return {
        "registration_id": t.registration_id,
        "number": t.number,
        "seat": t.seat,
        "name": t.registration.person.name,
        "issued_at": t.issued_at,
    }


def _checkin(c: CheckIn) -> dict:
    return {
        "registration_id": c.registration_id,
        "name": c.registration.person.name,
        "kind": c.component.kind,
        "status": c.status,
        "id_checked": c.id_checked,
        "method": c.method,
        "recorded_at": c.recorded_at,
    }


@router.get("/plans/{plan_id}/tickets", response=list[TicketOut], summary="计划的准考证(机构管理员)")
def tickets_list(request, plan_id: int):
    plan = admin_plan(Actor.from_request(request), plan_id, lock=False)
    return [_ticket(t) for t in selectors.tickets_of(plan).order_by("seat")]


@router.post(
    "/plans/{plan_id}/tickets", response=list[TicketOut], summary="发放准考证(未发放的全部,或重新发放所列考生)"
)
def tickets_issue(request, plan_id: int, payload: TicketsIssueIn):
    issued = services.tickets_issue(
        actor=Actor.from_request(request), plan_id=plan_id, registration_ids=payload.registration_ids
    )
    return [_ticket(t) for t in issued]


@router.get("/registrations/{registration_id}/ticket", response=TicketDetailOut, summary="本人或本机构考生的准考证")
def ticket_detail(request, registration_id: int):
    ticket = services.ticket_for(Actor.from_request(request), registration_id)
    sessions = [
        {"kind": c.kind, "starts_at": c.starts_at.isoformat(), "ends_at": c.ends_at.isoformat(), "room": c.room}
        for c in selectors.ticket_sessions(ticket)
    ]
    return _ticket(ticket) | {"token": services.ticket_token(ticket), "sessions": sessions}


@router.get("/plans/{plan_id}/checkin/{kind}", response=list[RosterRowOut], summary="考场签到名单")
def checkin_roster(request, plan_id: int, kind: str):
    plan, component = selectors.checkin_session(Actor.from_request(request), plan_id, kind)
    return [
        {
            "registration_id": r.registration.id,
            "name": r.registration.person.name,
            "ticket_number": r.ticket.number if r.ticket else None,
            "seat": r.ticket.seat if r.ticket else None,
            "status": r.checkin.status if r.checkin else "waiting",
            "id_checked": bool(r.checkin and r.checkin.id_checked),
        }
        for r in selectors.session_roster(plan, component)
    ]


@router.post("/plans/{plan_id}/checkin/{kind}", response=CheckInOut, summary="签到(扫码或准考证号,须核验证件)或记缺考")
def checkin_record(request, plan_id: int, kind: str, payload: CheckInIn):
    checkin = services.checkin_record(
        actor=Actor.from_request(request),
        plan_id=plan_id,
        kind=kind,
        status=payload.status,
        code=payload.code,
        registration_id=payload.registration_id,
        id_checked=payload.id_checked,
        note=payload.note,
    )
    out = _checkin(checkin)
    if payload.issue_binding_code:
        # After the check-in is recorded: a refusal here (already bound, not allowed) leaves the check-in standing,
        # and the answer says both.
        try:
            out["binding_code"] = services.checkin_binding_code(actor=Actor.from_request(request), checkin=checkin)
        except PlatformError as exc:
            out["binding_code_refused"] = exc.message
    return out
