"""Panels, supervisors, recusal declarations and supervision reports: the API over assessments/panels/ (rules, selectors, services).

Mounted under /api/v1/assessments. Reads go through `plan_get` (another tenant's plan is a 404); writes through
the services, whose refusals carry the rule and the record in `details.refusals`.
"""

import datetime
from typing import Any

from ninja import Field, Router, Schema, Status

from accreditation.models import Appointment
from core.errors import PermissionDenied

from ..models import Plan
from ..plans import plan_get
from . import rules, selectors, services

router = Router(tags=["assessments"])


class RefusalOut(Schema):
    rule_code: str
    rule_label: str
    explanation: str
    record: dict[str, Any]


class PanelMemberOut(Schema):
    appointment_id: int
    person_name: str = Field(alias="appointment.person.name")
    kind: str
    assigned_at: datetime.datetime


class ComponentPanelOut(Schema):
    kind: str
    label: str
    required: int
    candidates: int
    odd: bool
    assigned: int
    ok: bool
    problems: list[str]
    members: list[PanelMemberOut]


class SupervisorOut(Schema):
    """The supervisor's appointment."""

    appointment_id: int = Field(alias="id")
    person_name: str = Field(alias="person.name")
    role: str
    role_label: str = Field(alias="get_role_display")
    bureau_name: str | None
    organisation_name: str | None

    @staticmethod
    def resolve_bureau_name(a: Appointment) -> str | None:
        return a.bureau.name if a.bureau_id else None

    @staticmethod
    def resolve_organisation_name(a: Appointment) -> str | None:
        return a.organisation.name if a.organisation_id else None


class PanelOut(Schema):
    plan_id: int
    ok: bool
    components: list[ComponentPanelOut]
    supervisor: SupervisorOut | None


class AvailabilityOut(Schema):
    """rules.Availability: an appointment, whether it may be seated, and why not."""

    appointment_id: int = Field(alias="appointment.id")
    person_name: str = Field(alias="appointment.person.name")
    person_id_number: str = Field(alias="appointment.person.masked_id_number")
    role: str = Field(alias="appointment.role")
    status: str = Field(alias="appointment.status")
    valid_from: datetime.date = Field(alias="appointment.valid_from")
    valid_until: datetime.date | None = Field(alias="appointment.valid_until")
    scopes: list[str]
    assigned: bool
    available: bool
    refusals: list[RefusalOut]

    @staticmethod
    def resolve_scopes(x: rules.Availability) -> list[str]:
        return [str(s) for s in x.appointment.scopes.all()]

    @staticmethod
    def resolve_refusals(x: rules.Availability) -> list[dict]:
        return [r.as_dict() for r in x.refusals]


class AssignIn(Schema):
    appointment_id: int


class ReasonIn(Schema):
    reason: str


class RelationshipIn(Schema):
    kind: str
    note: str = ""
    other_person_id: int | None = None
    name: str = ""
    id_type: str = "ric"
    id_number: str = ""


class RelationshipOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    other_name: str = Field(alias="other.name")
    other_id_number: str = Field(alias="other.masked_id_number")
    note: str
    created_at: datetime.datetime


class ReportIn(Schema):
    checklist: dict[str, str]
    findings: str = ""


class ReportOut(Schema):
    id: int
    plan_id: int
    supervisor_id: int
    checklist: dict[str, str]
    findings: str
    submitted_at: datetime.datetime


class ComponentTimeOut(Schema):
    kind: str
    label: str = Field(alias="get_kind_display")
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    room: str


class SupervisedPlanOut(Schema):
    id: int
    title: str
    status: str
    organisation_name: str = Field(alias="organisation.name")
    occupation_name: str = Field(alias="occupation.name")
    venue: str
    components: list[ComponentTimeOut]
    reports: int

    @staticmethod
    def resolve_reports(p: Plan) -> int:
        return len(p.supervision_reports.all())


def panel_out(plan: Plan) -> dict:
    """The plan's panels (rules.ComponentPanel, read by ComponentPanelOut) and its supervisor's appointment."""
    components = rules.panel_status(plan)
    supervisor = (
        Appointment.objects.select_related("person", "bureau", "organisation").get(pk=plan.supervisor_id)
        if plan.supervisor_id
        else None
    )
    return {
        "plan_id": plan.id,
        "ok": all(c.ok for c in components) and supervisor is not None,
        "components": components,
        "supervisor": supervisor,
    }


# --- Panels ----------------------------------------------------------------------------------------------------


@router.get("/plans/{plan_id}/panel", response=PanelOut, summary="考评组:各科目所需与已安排人数、成员与问题")
def panel_detail(request, plan_id: int):
    return panel_out(plan_get(request.auth, plan_id))


@router.get(
    "/plans/{plan_id}/panel/{kind}/candidates",
    response=list[AvailabilityOut],
    summary="可安排的考评员,及不可安排者的回避理由",
)
def panel_candidate_list(request, plan_id: int, kind: str):
    plan = plan_get(request.auth, plan_id)
    return selectors.panel_candidates(plan, kind)


@router.post("/plans/{plan_id}/panel/{kind}", response={201: PanelMemberOut}, summary="安排考评员(考培分离与回避校验)")
def panel_assign(request, plan_id: int, kind: str, payload: AssignIn):
    member = services.panel_assign(
        actor=request.auth, plan_id=plan_id, kind=kind, appointment_id=payload.appointment_id
    )
    return Status(201, member)


@router.post("/plans/{plan_id}/panel/{kind}/{appointment_id}/remove", response=PanelOut, summary="移出考评组")
def panel_remove(request, plan_id: int, kind: str, appointment_id: int, payload: ReasonIn):
    services.panel_remove(
        actor=request.auth, plan_id=plan_id, kind=kind, appointment_id=appointment_id, reason=payload.reason
    )
    return panel_out(plan_get(request.auth, plan_id))


# --- Supervisors ------------------------------------------------------------------------------------------------


@router.get(
    "/plans/{plan_id}/supervisor/candidates",
    response=list[AvailabilityOut],
    summary="可指派的督导员,及不符合条件者的理由(人社部门)",
)
def supervisor_candidate_list(request, plan_id: int):
    plan = plan_get(request.auth, plan_id)
    if not services.can_assign_supervisor(request.auth, plan):
        raise PermissionDenied()
    return selectors.supervisor_candidates(plan)


@router.post("/plans/{plan_id}/supervisor", response=SupervisorOut, summary="指派督导员(人社部门)")
def supervisor_assign(request, plan_id: int, payload: AssignIn):
    plan = services.supervisor_assign(actor=request.auth, plan_id=plan_id, appointment_id=payload.appointment_id)
    return plan.supervisor


@router.post("/plans/{plan_id}/supervisor/random", response=SupervisorOut, summary="随机抽取外部督导员(人社部门)")
def supervisor_assign_random(request, plan_id: int):
    plan = services.supervisor_assign_random(actor=request.auth, plan_id=plan_id)
    return plan.supervisor


# --- Declarations and supervision reports -----------------------------------------------------------------------


@router.post("/relationships", response={201: RelationshipOut}, summary="考评员、督导员申报回避关系")
def relationship_declare(request, payload: RelationshipIn):
    declaration = services.relationship_declare(actor=request.auth, **payload.dict())
    return Status(201, declaration)


@router.get("/relationships", response=list[RelationshipOut], summary="本人申报的回避关系")
def relationship_list(request):
    return selectors.relationships_of(request.auth.person)


@router.post("/plans/{plan_id}/supervision-report", response={201: ReportOut}, summary="提交督导报告(本计划督导员)")
def supervision_report_submit(request, plan_id: int, payload: ReportIn):
    report = services.supervision_report_submit(
        actor=request.auth, plan_id=plan_id, checklist=payload.checklist, findings=payload.findings
    )
    return Status(201, report)


@router.get("/supervision/my-plans", response=list[SupervisedPlanOut], summary="我督导的认定计划")
def supervision_my_plans(request):
    return selectors.supervised_plans(request.auth)
