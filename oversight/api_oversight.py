"""Oversight API: public reporting, tracking and the exposure list; cases, 挂证 checks, inspections and
dashboards for bureau staff; certificate-reliance declarations for employers.

Mounted in config/api.py: `public_router` (no authentication) at /oversight/public, `router` at /oversight.
"""

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from accounts.actors import Actor
from core.errors import NotFound, ValidationFailed
from core.ratelimit import client_ip

from . import dashboards, exposures, guazheng, inspections, reports
from .challenge import challenge_new, public_submission_guard
from .models import Complaint, Exposure, GuazhengFlag, Inspection, Rectification, Sanction
from .schemas import (
    AcceptIn,
    CaseAssignIn,
    ChallengeOut,
    CloseIn,
    ComplaintDetailOut,
    ComplaintIn,
    ComplaintOut,
    ComplaintReceiptOut,
    ConclusionIn,
    DashboardOut,
    DrawIn,
    DrawOut,
    EscalateIn,
    ExposureOut,
    FindingsIn,
    FlagOut,
    ImportOut,
    InspectionOut,
    InspectionPlanIn,
    NoteIn,
    NoteOut,
    ReasonIn,
    RectificationIn,
    RectificationOut,
    RectificationReviewIn,
    RelianceEndIn,
    RelianceIn,
    RelianceOut,
    SanctionIn,
    SanctionOut,
    ScanIn,
    ScanOut,
    TrackIn,
    TrackOut,
)

router = Router(tags=["oversight"])
public_router = Router(tags=["oversight-public"], auth=None)


class Mapped:
    """A queryset seen through a function and sliced lazily, so @paginate converts one page, not the table."""

    def __init__(self, queryset, fn):
        self.queryset, self.fn = queryset, fn

    def __getitem__(self, window: slice) -> list:
        return [self.fn(obj) for obj in self.queryset[window]]

    def __len__(self) -> int:
        return self.queryset.count()


# --- Converters ---------------------------------------------------------------------------------------------------


def sanction_out(s: Sanction) -> dict:
    return {
        "id": s.id,
        "kind": s.kind,
        "kind_label": s.get_kind_display(),
        "organisation_id": s.organisation_id,
        "organisation_name": s.organisation.name if s.organisation_id else "",
        "certificate_number": s.certificate.number if s.certificate_id else "",
        "reason": s.reason,
        "decided_at": s.decided_at,
    }


def complaint_out(c: Complaint) -> dict:
    return {
        "id": c.id,
        "number": c.number,
        "source": c.source,
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "status": c.status,
        "status_label": c.get_status_display(),
        "region_code": c.region.code,
        "region_name": c.region.full_name,
        "subject": c.subject_label,
        "organisation_id": c.organisation_id,
        "certificate_id": c.certificate_id,
        "certificate_number": c.certificate_number,
        "plan_id": c.plan_id,
        "qualification": c.qualification.name if c.qualification_id else "",
        "received_on": c.received_on,
        "due_on": c.due_on,
        "due_provisional": c.due_provisional,
        "overdue": c.is_open and c.due_on < timezone.localdate(),
        "assigned_to": c.assigned_to.display_name if c.assigned_to_id else "",
        "outcome": c.outcome,
    }


def complaint_detail_out(c: Complaint) -> dict:
    return {
        **complaint_out(c),
        "description": c.description,
        "subject_name": c.subject_name,
        "reporter_name": c.reporter_name,
        "reporter_contact": c.reporter_contact,
        "finding": c.finding,
        "measures": c.measures,
        "reply": c.reply,
        "due_note": c.due_note,
        "notes": [
            {
                "id": n.id,
                "author": n.author.display_name if n.author_id else "",
                "text": n.text,
                "created_at": n.created_at,
            }
            for n in c.notes.select_related("author")
        ],
        "attachments": [
            {
                "id": a.id,
                "title": a.title,
                "content_type": a.content_type,
                "size": a.size,
                "from_reporter": a.from_reporter,
                "uploaded_at": a.uploaded_at,
            }
            for a in c.attachments.all()
        ],
        "sanctions": [sanction_out(s) for s in c.sanctions.select_related("organisation", "certificate")],
    }


def exposure_out(e: Exposure) -> dict:
    return {
        "id": e.id,
        "reference": e.reference,
        "region_name": e.region.full_name,
        "category": e.category,
        "subject": e.subject,
        "finding": e.finding,
        "measures": e.measures,
        "published_on": e.published_on,
        "sanctions": exposures.exposure_sanctions(e),
    }


def reliance_out(r) -> dict:
    return {
        "id": r.id,
        "employer_id": r.employer_id,
        "employer_name": r.employer.name,
        "certificate_number": r.certificate.number,
        "holder_name": r.certificate.holder_name,
        "purpose": r.purpose,
        "purpose_label": r.get_purpose_display(),
        "start": r.start,
        "end": r.end,
    }


def flag_out(f: GuazhengFlag) -> dict:
    return {
        "id": f.id,
        "rule": f.rule,
        "rule_label": f.get_rule_display(),
        "status": f.status,
        "status_label": f.get_status_display(),
        "certificate_id": f.certificate_id,
        "certificate_number": f.certificate.number,
        "employer_id": f.employer_id,
        "employer_name": f.employer.name,
        "other_employer_id": f.other_employer_id,
        "other_employer_name": f.other_employer.name if f.other_employer_id else "",
        "period_start": f.period_start,
        "period_end": f.period_end,
        "evidence": f.evidence,
        "complaint_id": f.complaint_id,
        "resolution": f.resolution,
    }


def rectification_out(r: Rectification) -> dict:
    return {
        "id": r.id,
        "inspection_id": r.inspection_id,
        "inspection_number": r.inspection.number,
        "organisation_name": r.inspection.organisation.name,
        "item": r.item,
        "item_label": str(inspections.CHECKLIST.get(r.item, r.item)),
        "requirement": r.requirement,
        "working_days": r.working_days,
        "ordered_on": r.ordered_on,
        "due_on": r.due_on,
        "due_provisional": r.due_provisional,
        "due_note": r.due_note,
        "status": r.status,
        "status_label": r.get_status_display(),
        "overdue": r.is_overdue_on(timezone.localdate()),
        "evidence_text": r.evidence_text,
        "submitted_at": r.submitted_at,
        "verified_at": r.verified_at,
        "review_note": r.review_note,
    }


def inspection_out(actor: Actor, i: Inspection, *, detail: bool = True) -> dict:
    """`detail` adds the supervisors' reports with issues (inspectors only); lists leave them out."""
    return {
        "id": i.id,
        "number": i.number,
        "organisation_id": i.organisation_id,
        "organisation_name": i.organisation.name,
        "kind": i.kind,
        "kind_label": i.get_kind_display(),
        "status": i.status,
        "status_label": i.get_status_display(),
        "reason": i.reason,
        "scheduled_on": i.scheduled_on,
        "conducted_on": i.conducted_on,
        "results": i.results,
        "summary": i.summary,
        "conclusion": i.conclusion,
        "draw_id": i.draw_id,
        "rectifications": [rectification_out(r) for r in i.rectifications.select_related("inspection__organisation")],
        "sanctions": [sanction_out(s) for s in i.sanctions.select_related("organisation", "certificate")],
        "supervision_issues": inspections.supervision_issues(i.organisation)
        if detail and inspections.is_inspector(actor, i)
        else [],
    }


# --- Public --------------------------------------------------------------------------------------------------------


@public_router.get("/challenge", response=ChallengeOut, summary="获取举报验证题(公开)")
def challenge(request):
    c = challenge_new()
    return {"token": c.token, "question": c.question}


@public_router.post("/complaints", response={201: ComplaintReceiptOut}, summary="提交举报(公开,可匿名)")
def complaint_submit(request, payload: Form[ComplaintIn], attachments: File[list[UploadedFile]] = None):
    public_submission_guard(
        client_ip=client_ip(request),
        honeypot=payload.website,
        challenge_token=payload.challenge_token,
        challenge_answer=payload.challenge_answer,
    )
    data = payload.dict(exclude={"challenge_token", "challenge_answer", "website"})
    # No CSRF check on this router, so a session is not trusted to name the reporter: the API files anonymously.
    complaint, code = reports.complaint_submit(actor=Actor.anonymous(), attachments=attachments or [], **data)
    return Status(
        201,
        {
            "number": complaint.number,
            "tracking_code": reports.format_tracking_code(code),
            "due_on": complaint.due_on,
            "due_provisional": complaint.due_provisional,
            "due_note": complaint.due_note,
        },
    )


@public_router.post("/track", response=TrackOut, summary="凭查询码查看举报办理进度(公开)")
def track(request, payload: TrackIn):
    complaint = reports.complaint_track(payload.code)
    if complaint is None:
        raise NotFound(_("查询码不正确"))
    return reports.tracking_view(complaint)


@public_router.get("/exposures", response=list[ExposureOut], summary="曝光台(公开)")
@paginate
def exposure_list(request, region: str = ""):
    return Mapped(exposures.exposures_public(region_code=region), exposure_out)


@public_router.get("/exposures/{exposure_id}", response=ExposureOut, summary="曝光详情(公开)")
def exposure_detail(request, exposure_id: int):
    exposure = exposures.exposures_public().filter(pk=exposure_id).first()
    if exposure is None:
        raise NotFound()
    return exposure_out(exposure)


# --- Cases (bureau) ------------------------------------------------------------------------------------------------


@router.get("/complaints", response=list[ComplaintOut], summary="举报案件(本辖区)")
@paginate
def complaint_list(request, status: str = "", kind: str = "", overdue: bool = False):
    reports.require_case_handler(request.auth)
    qs = reports.complaints_for(request.auth)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if overdue:
        qs = qs.overdue()
    return Mapped(qs, complaint_out)


@router.get("/complaints/{complaint_id}", response=ComplaintDetailOut, summary="案件详情")
def complaint_detail(request, complaint_id: int):
    return complaint_detail_out(reports.complaint_get(request.auth, complaint_id))


def _detail(actor: Actor, complaint_id: int) -> dict:
    return complaint_detail_out(reports.complaint_get(actor, complaint_id))


@router.post("/complaints/{complaint_id}/accept", response=ComplaintDetailOut, summary="受理")
def complaint_accept(request, complaint_id: int, payload: AcceptIn):
    reports.complaint_accept(actor=request.auth, complaint_id=complaint_id, assignee_id=payload.assignee_id)
    return _detail(request.auth, complaint_id)


@router.post("/complaints/{complaint_id}/assign", response=ComplaintDetailOut, summary="指定承办人")
def complaint_assign(request, complaint_id: int, payload: CaseAssignIn):
    reports.complaint_assign(actor=request.auth, complaint_id=complaint_id, assignee_id=payload.assignee_id)
    return _detail(request.auth, complaint_id)


@router.post("/complaints/{complaint_id}/reject", response=ComplaintDetailOut, summary="不予受理")
def complaint_reject(request, complaint_id: int, payload: ReasonIn):
    reports.complaint_reject(actor=request.auth, complaint_id=complaint_id, reason=payload.reason)
    return _detail(request.auth, complaint_id)


@router.post("/complaints/{complaint_id}/notes", response={201: NoteOut}, summary="添加调查记录")
def complaint_note(request, complaint_id: int, payload: NoteIn):
    note = reports.complaint_note_add(actor=request.auth, complaint_id=complaint_id, text=payload.text)
    author = note.author.display_name if note.author_id else ""
    return Status(201, {"id": note.id, "author": author, "text": note.text, "created_at": note.created_at})


@router.post("/complaints/{complaint_id}/sanctions", response={201: SanctionOut}, summary="作出处理措施")
def complaint_sanction(request, complaint_id: int, payload: SanctionIn):
    sanction = reports.complaint_sanction(actor=request.auth, complaint_id=complaint_id, **payload.dict())
    return Status(201, sanction_out(sanction))


@router.post("/complaints/{complaint_id}/close", response=ComplaintDetailOut, summary="办结(可曝光)")
def complaint_close(request, complaint_id: int, payload: CloseIn):
    reports.complaint_close(actor=request.auth, complaint_id=complaint_id, **payload.dict())
    return _detail(request.auth, complaint_id)


@router.post("/exposures/{exposure_id}/withdraw", response=ExposureOut, summary="撤下曝光")
def exposure_withdraw(request, exposure_id: int, payload: ReasonIn):
    return exposure_out(exposures.exposure_withdraw(actor=request.auth, exposure_id=exposure_id, reason=payload.reason))


# --- 挂证 ---------------------------------------------------------------------------------------------------------


@router.get("/reliances", response=list[RelianceOut], summary="证书使用申报(本单位或本辖区)")
@paginate
def reliance_list(request, employer_id: int | None = None, certificate_number: str = ""):
    qs = guazheng.reliances_for(request.auth)
    if employer_id:
        qs = qs.filter(employer_id=employer_id)
    if certificate_number:
        qs = qs.filter(certificate__number=certificate_number.strip().upper())
    return Mapped(qs, reliance_out)


@router.post("/reliances", response={201: RelianceOut}, summary="申报使用的证书")
def reliance_declare(request, payload: RelianceIn):
    return Status(201, reliance_out(guazheng.reliance_declare(actor=request.auth, **payload.dict())))


@router.post("/reliances/{reliance_id}/end", response=RelianceOut, summary="结束使用")
def reliance_end(request, reliance_id: int, payload: RelianceEndIn):
    return reliance_out(guazheng.reliance_end(actor=request.auth, reliance_id=reliance_id, end=payload.end))


@router.post(
    "/insurance-imports",
    response={200: ImportOut, 422: ImportOut},
    summary="导入参保记录(xlsx,全部成功才保存)",
)
def insurance_import(
    request,
    period_from: Form[str],
    period_to: Form[str],
    file: File[UploadedFile],
    region_code: Form[str] = "",
):
    try:
        start, end = guazheng.parse_month(period_from), guazheng.parse_month(period_to)
    except ValueError as exc:
        raise ValidationFailed(str(exc), details={"field": "period"}) from None
    report, batch = guazheng.insurance_import(
        actor=request.auth, upload=file, period_from=start, period_to=end, region_code=region_code
    )
    return Status(200 if report.ok else 422, {**report.as_dict(), "batch_id": batch.id if batch else None})


@router.post("/guazheng/scan", response=ScanOut, summary="重新比对挂证疑点")
def guazheng_scan(request, payload: ScanIn):
    return guazheng.guazheng_scan(actor=request.auth, region_code=payload.region_code).as_dict()


@router.get("/guazheng/flags", response=list[FlagOut], summary="挂证疑点(本辖区)")
@paginate
def flag_list(request, status: str = ""):
    request.auth.require_bureau()
    qs = guazheng.flags_for(request.auth)
    if status:
        qs = qs.filter(status=status)
    return Mapped(qs, flag_out)


@router.get("/guazheng/flags/{flag_id}", response=FlagOut, summary="挂证疑点详情")
def flag_detail(request, flag_id: int):
    return flag_out(guazheng.flag_get(request.auth, flag_id))


@router.post("/guazheng/flags/{flag_id}/investigate", response={201: ComplaintDetailOut}, summary="立案调查")
def flag_investigate(request, flag_id: int):
    complaint = guazheng.flag_investigate(actor=request.auth, flag_id=flag_id)
    return Status(201, _detail(request.auth, complaint.id))


@router.post("/guazheng/flags/{flag_id}/dismiss", response=FlagOut, summary="排除疑点")
def flag_dismiss(request, flag_id: int, payload: ReasonIn):
    guazheng.flag_dismiss(actor=request.auth, flag_id=flag_id, reason=payload.reason)
    return flag_out(guazheng.flag_get(request.auth, flag_id))


# --- Inspections -----------------------------------------------------------------------------------------------------


@router.get("/inspections", response=list[InspectionOut], summary="督查(本辖区或本机构;列表不含督导问题)")
@paginate
def inspection_list(request, status: str = ""):
    qs = inspections.inspections_for(request.auth)
    if status:
        qs = qs.filter(status=status)
    return Mapped(qs, lambda i: inspection_out(request.auth, i, detail=False))


@router.post("/inspections", response={201: InspectionOut}, summary="计划专项督查")
def inspection_plan(request, payload: InspectionPlanIn):
    i = inspections.inspection_plan(actor=request.auth, **payload.dict())
    return Status(201, inspection_out(request.auth, i))


@router.post("/inspections/draw", response={201: DrawOut}, summary="随机抽取被检查机构")
def inspection_draw(request, payload: DrawIn):
    draw = inspections.inspection_draw(actor=request.auth, **payload.dict())
    return Status(
        201,
        {
            "id": draw.id,
            "region_code": draw.region.code,
            "seed": draw.seed,
            "pool": draw.pool,
            "chosen": draw.chosen,
            "inspection_ids": list(draw.inspections.values_list("id", flat=True)),
        },
    )


@router.get("/inspections/{inspection_id}", response=InspectionOut, summary="督查详情")
def inspection_detail(request, inspection_id: int):
    return inspection_out(request.auth, inspections.inspection_get(request.auth, inspection_id))


@router.post("/inspections/{inspection_id}/findings", response=InspectionOut, summary="记录检查结果")
def inspection_findings(request, inspection_id: int, payload: FindingsIn):
    data = payload.dict()
    i = inspections.inspection_record_findings(actor=request.auth, inspection_id=inspection_id, **data)
    return inspection_out(request.auth, i)


@router.post("/inspections/{inspection_id}/rectifications", response={201: RectificationOut}, summary="下达限期整改")
def rectification_order(request, inspection_id: int, payload: RectificationIn):
    r = inspections.rectification_order(actor=request.auth, inspection_id=inspection_id, **payload.dict())
    return Status(201, rectification_out(r))


@router.post("/inspections/{inspection_id}/escalate", response={201: SanctionOut}, summary="暂停或撤销备案")
def inspection_escalate(request, inspection_id: int, payload: EscalateIn):
    s = inspections.inspection_escalate(actor=request.auth, inspection_id=inspection_id, **payload.dict())
    return Status(201, sanction_out(s))


@router.post("/inspections/{inspection_id}/close", response=InspectionOut, summary="结案")
def inspection_close(request, inspection_id: int, payload: ConclusionIn):
    i = inspections.inspection_close(actor=request.auth, inspection_id=inspection_id, conclusion=payload.conclusion)
    return inspection_out(request.auth, i)


@router.get("/rectifications", response=list[RectificationOut], summary="整改事项(本辖区或本机构)")
@paginate
def rectification_list(request, status: str = "", overdue: bool = False):
    qs = inspections.rectifications_for(request.auth)
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.overdue()
    return Mapped(qs, rectification_out)


@router.post("/rectifications/{rectification_id}/submit", response=RectificationOut, summary="报送整改情况")
def rectification_submit(request, rectification_id: int, evidence_text: Form[str], file: File[UploadedFile] = None):
    r = inspections.rectification_submit(
        actor=request.auth, rectification_id=rectification_id, evidence_text=evidence_text, upload=file
    )
    return rectification_out(r)


@router.post("/rectifications/{rectification_id}/review", response=RectificationOut, summary="验收或退回整改")
def rectification_review(request, rectification_id: int, payload: RectificationReviewIn):
    r = inspections.rectification_review(actor=request.auth, rectification_id=rectification_id, **payload.dict())
    return rectification_out(r)


# --- Dashboards -------------------------------------------------------------------------------------------------------


@router.get("/dashboard", response=DashboardOut, summary="监管数据看板(本辖区)")
def dashboard(request, region: str = "", months: int = 12):
    board = dashboards.dashboard_for(actor=request.auth, region_code=region, months=months)
    return {
        "scope": board.scope_label,
        "region_code": board.region.code if board.region else "",
        "since": board.since,
        "until": board.until,
        "figures": board.figures,
        "panels": [
            {
                "key": p.key,
                "title": p.title,
                "headers": [str(h) for h in p.headers],
                "rows": p.rows,
                "note": p.note,
                "available": p.available,
            }
            for p in board.panels.values()
        ],
    }


@router.get("/dashboard/{panel}.xlsx", summary="导出看板数据(xlsx)")
def dashboard_export(request, panel: str, region: str = "", months: int = 12):
    data, name = dashboards.panel_export(actor=request.auth, panel=panel, region_code=region, months=months)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
