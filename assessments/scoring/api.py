"""Scoring, publicity and finalisation API. Mounted under /api/v1/assessments.

Every scoping rule lives in the services: another tenant's plan, result, correction or objection is a 404.
"""

import datetime
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from accounts.actors import Actor
from core.ratelimit import client_ip

from .. import publicity
from ..models import ComponentResult, Objection, Registration
from . import access, rules, selectors, services, sheets

router = Router(tags=["assessments"])


# --- Schemas ---------------------------------------------------------------------------------------------------


class ScoreEntryIn(Schema):
    registration_id: int
    value: Decimal | None = None
    status: str = "scored"


class ScoresIn(Schema):
    entries: list[ScoreEntryIn]


class ScoreOut(Schema):
    registration_id: int
    status: str
    value: Decimal | None
    submitted: bool


class ScoresSavedOut(Schema):
    saved: int
    scores: list[ScoreOut]


class SubmittedOut(Schema):
    kind: str
    submitted: int


class LockedOut(Schema):
    kind: str
    locked: int
    passed: int
    failed: int
    absent: int
    void: int


class ImportReportOut(Schema):
    total: int
    created: int
    errors: list[dict]


class MarkOut(Schema):
    assessor_name: str
    status: str
    value: Decimal | None
    submitted_at: datetime.datetime | None


class ResultOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    status: str
    status_label: str = Field(alias="get_status_display")
    score: Decimal | None
    passed: bool
    rule: str
    rule_label: str
    note: str
    locked_at: datetime.datetime | None

    @staticmethod
    def resolve_rule_label(r: ComponentResult) -> str:
        return rules.rule_label(r.rule)


class CandidateResultsOut(Schema):
    registration_id: int
    person_name: str
    id_type: str
    id_number: str
    level: str
    level_label: str
    results: list[ResultOut]
    marks: dict[str, list[MarkOut]]
    outcome: str
    outcome_label: str
    explanation: str
    finalised: bool


class CorrectionIn(Schema):
    reason: str
    new_score: Decimal | None = None
    new_status: str | None = None


class DecideIn(Schema):
    approve: bool


class CorrectionOut(Schema):
    id: int
    result_id: int
    registration_id: int = Field(alias="result.registration_id")
    kind: str = Field(alias="result.kind")
    old_status: str
    old_score: Decimal | None
    new_status: str
    new_score: Decimal | None
    reason: str
    status: str
    requested_at: datetime.datetime
    decided_at: datetime.datetime | None


class PublicationOut(Schema):
    plan_id: int
    starts_on: datetime.date
    ends_on: datetime.date
    provisional: bool
    calendar_note: str


class PublicComponentOut(Schema):
    kind: str
    label: str
    status: str
    status_label: str
    score: Decimal | None
    passed: bool


class PublicRowOut(Schema):
    number: int
    name: str
    id_number: str
    level: str
    components: list[PublicComponentOut]
    outcome: str
    outcome_label: str


class PublicResultsOut(Schema):
    plan_id: int
    title: str
    organisation_name: str
    occupation_name: str
    starts_on: datetime.date
    ends_on: datetime.date
    provisional: bool
    calendar_note: str
    accepting_objections: bool
    count: int
    rows: list[PublicRowOut]


class ResultObjectionIn(Schema):
    text: str
    registration_id: int | None = None
    contact: str = ""


class ObjectionReceivedOut(Schema):
    id: int
    raised_at: datetime.datetime


class AnswerIn(Schema):
    response: str


class ResultObjectionOut(Schema):
    id: int
    registration_id: int | None
    text: str
    contact: str
    raised_at: datetime.datetime
    response: str
    responded_at: datetime.datetime | None


class FinaliseOut(Schema):
    plan_id: int
    finalised_at: datetime.datetime
    total: int
    passed: int
    failed: int
    absent: int
    void: int
    certificates_started: bool
    certificate_batch: Any = None


class AssessorKindOut(Schema):
    kind: str
    label: str
    submitted: bool


class AssessorPlanOut(Schema):
    plan_id: int
    title: str
    organisation_name: str
    occupation_name: str
    status: str
    kinds: list[AssessorKindOut]


# --- Converters ----------------------------------------------------------------------------------------------


def candidate_out(reg: Registration, level_rules: dict) -> dict:
    rule = level_rules.get(reg.level_id)
    outcome, explanation = rules.outcome_of(reg, components=rule.components if rule else ())
    if reg.finalised_at:
        outcome = reg.outcome
    marks: dict[str, list[dict]] = {}
    for s in reg.scores.all():
        marks.setdefault(s.kind, []).append(
            {
                "assessor_name": s.assessor.person.name,
                "status": s.status,
                "value": s.value,
                "submitted_at": s.submitted_at,
            }
        )
    return {
        "registration_id": reg.id,
        "person_name": reg.person.name,
        "id_type": reg.person.id_type,
        "id_number": reg.person.id_number,
        "level": reg.level.code,
        "level_label": reg.level.label,
        "results": list(reg.results.all()),
        "marks": marks,
        "outcome": outcome,
        "outcome_label": str(dict(Registration.Outcome.choices).get(outcome, "")),
        "explanation": explanation,
        "finalised": reg.finalised_at is not None,
    }


# --- Assessors ---------------------------------------------------------------------------------------------------


@router.get("/my/assessor-plans", response=list[AssessorPlanOut], summary="我参加评分的认定计划(考评员)")
def my_assessor_plans(request):
    return [
        {
            "plan_id": p.plan.id,
            "title": p.plan.title,
            "organisation_name": p.plan.organisation.name,
            "occupation_name": p.plan.occupation.name,
            "status": p.plan.status,
            "kinds": p.kinds,
        }
        for p in selectors.assessor_plans(request.auth)
    ]


@router.post("/plans/{plan_id}/scores/{kind}", response=ScoresSavedOut, summary="录入或修改本人评分(提交前)")
def score_enter(request, plan_id: int, kind: str, payload: ScoresIn):
    scores = services.score_enter(
        actor=request.auth, plan_id=plan_id, kind=kind, entries=[e.dict() for e in payload.entries]
    )
    return {
        "saved": len(scores),
        "scores": [
            {
                "registration_id": s.registration_id,
                "status": s.status,
                "value": s.value,
                "submitted": s.submitted_at is not None,
            }
            for s in scores
        ],
    }


@router.post("/plans/{plan_id}/scores/{kind}/submit", response=SubmittedOut, summary="提交本人评分(提交后锁定)")
def score_submit(request, plan_id: int, kind: str):
    count = services.score_submit(actor=request.auth, plan_id=plan_id, kind=kind)
    return {"kind": kind, "submitted": count}


@router.post(
    "/plans/{plan_id}/scores/{kind}/import",
    response={200: ImportReportOut, 422: ImportReportOut},
    summary="从电子表格导入本人评分(xlsx:证件号码、申报等级、成绩;全部无误才保存)",
)
def score_import(request, plan_id: int, kind: str, file: File[UploadedFile]):
    report = sheets.scores_import(actor=request.auth, plan_id=plan_id, kind=kind, upload=file)
    return Status(200 if report.ok else 422, report.as_dict())


# --- The organisation ----------------------------------------------------------------------------------------------


@router.post("/plans/{plan_id}/scores/{kind}/lock", response=LockedOut, summary="锁定科目成绩(机构管理员)")
def component_lock(request, plan_id: int, kind: str):
    results = services.component_lock(actor=request.auth, plan_id=plan_id, kind=kind)
    return {
        "kind": kind,
        "locked": len(results),
        "passed": sum(r.passed for r in results),
        "failed": sum(1 for r in results if r.status == "scored" and not r.passed),
        "absent": sum(1 for r in results if r.status == "absent"),
        "void": sum(1 for r in results if r.status == "void"),
    }


@router.get("/plans/{plan_id}/results", response=list[CandidateResultsOut], summary="计划成绩(机构与人社部门,完整)")
@paginate
def plan_results(request, plan_id: int):
    plan = access.results_plan(request.auth, plan_id)
    level_rules = rules.level_rules(plan)
    return [candidate_out(reg, level_rules) for reg in selectors.plan_results(plan)]


@router.post("/results/{result_id}/corrections", response={201: CorrectionOut}, summary="申请更正已锁定的成绩")
def correction_request(request, result_id: int, payload: CorrectionIn):
    correction = services.correction_request(actor=request.auth, result_id=result_id, **payload.dict())
    return Status(201, correction)


@router.post("/corrections/{correction_id}/decide", response=CorrectionOut, summary="复核成绩更正(须另一名管理员)")
def correction_decide(request, correction_id: int, payload: DecideIn):
    correction = services.correction_decide(actor=request.auth, correction_id=correction_id, approve=payload.approve)
    return correction


@router.post("/plans/{plan_id}/publication", response={201: PublicationOut}, summary="开始成绩公示")
def publication_open(request, plan_id: int):
    p = publicity.publication_open(actor=request.auth, plan_id=plan_id)
    return Status(
        201,
        {
            "plan_id": p.plan_id,
            "starts_on": p.starts_on,
            "ends_on": p.ends_on,
            "provisional": p.provisional,
            "calendar_note": p.calendar_note,
        },
    )


@router.get("/plans/{plan_id}/objections", response=list[ResultObjectionOut], summary="公示异议(机构管理员)")
def objection_list(request, plan_id: int):
    plan = access.admin_plan(request.auth, plan_id, lock=False)
    return Objection.objects.filter(publication__plan=plan)


@router.post("/objections/{objection_id}/answer", response=ResultObjectionOut, summary="答复公示异议")
def objection_answer(request, objection_id: int, payload: AnswerIn):
    return publicity.objection_answer(actor=request.auth, objection_id=objection_id, response=payload.response)


@router.post("/plans/{plan_id}/finalise", response=FinaliseOut, summary="公示期满办结,确定认定结果并转入发证")
def plan_finalise(request, plan_id: int):
    return publicity.plan_finalise(actor=request.auth, plan_id=plan_id).as_dict()


# --- The public ------------------------------------------------------------------------------------------------


@router.get(
    "/public/plans/{plan_id}/results", response=PublicResultsOut, auth=None, summary="成绩公示(公开,姓名与证件号脱敏)"
)
def public_results(request, plan_id: int, name: str = "", id_number: str = "", limit: int = 100, offset: int = 0):
    found = publicity.public_results(plan_id, name=name, id_number=id_number, client_ip=client_ip(request))
    limit, offset = max(1, min(limit, 500)), max(0, offset)
    plan, pub = found.plan, found.publication
    return {
        "plan_id": plan.id,
        "title": plan.title,
        "organisation_name": plan.organisation.name,
        "occupation_name": plan.occupation.name,
        "starts_on": pub.starts_on,
        "ends_on": pub.ends_on,
        "provisional": pub.provisional,
        "calendar_note": pub.calendar_note,
        "accepting_objections": publicity.accepting_objections(plan, pub),
        "count": found.registrations.count(),
        "rows": [asdict(row) for row in found.rows(found.registrations[offset : offset + limit])],
    }


@router.post(
    "/public/plans/{plan_id}/objections",
    response={201: ObjectionReceivedOut},
    auth=None,
    summary="对公示成绩提出异议(公开,匿名提交限频)",
)
def objection_raise(request, plan_id: int, payload: ResultObjectionIn):
    objection = publicity.objection_raise(
        actor=Actor.from_request(request),
        plan_id=plan_id,
        text=payload.text,
        registration_id=payload.registration_id,
        contact=payload.contact,
        client_ip=client_ip(request),
    )
    return Status(201, {"id": objection.id, "raised_at": objection.raised_at})
