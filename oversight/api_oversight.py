"""Oversight API: public reporting, tracking and the exposure list; cases, 挂证 checks, inspections and
dashboards for bureau staff; certificate-reliance declarations for employers.

Mounted in config/api.py: `public_router` (no authentication) at /oversight/public, `router` at /oversight.
"""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from accounts.actors import Actor
from core.errors import NotFound, ValidationFailed
from core.ratelimit import client_ip

from . import dashboards, exposures, guazheng, inspections, reports
from .challenge import challenge_new, public_submission_guard
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
    InspectionDetailOut,
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


# --- Public --------------------------------------------------------------------------------------------------------


@public_router.get("/challenge", response=ChallengeOut, summary="获取举报验证题(公开)")
def challenge(request):
    c = challenge_new()
    return {"token": c.token, "question": c.question}


@public_router.post("/complaints", response={201: ComplaintReceiptOut}, summary="提交举报(公开,可匿名)")
def complaint_submit(request, payload: Form[ComplaintIn], attachments: File[list[UploadedFile]] = None):
    challenge_error = public_submission_guard(
        client_ip=client_ip(request),
        honeypot=payload.website,
        challenge_token=payload.challenge_token,
        challenge_answer=payload.challenge_answer,
    )
    data = payload.dict(exclude={"challenge_token", "challenge_answer", "website"})
    # No CSRF check on this router, so a session is not trusted to name the reporter: the API files anonymously.
    complaint, code = reports.complaint_submit(
        actor=Actor.anonymous(),
        attachments=attachments or [],
        challenge_error=challenge_error,
        client_ip=client_ip(request),
        **data,
    )
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
    return exposures.exposures_public(region_code=region)


@public_router.get("/exposures/{exposure_id}", response=ExposureOut, summary="曝光详情(公开)")
def exposure_detail(request, exposure_id: int):
    exposure = exposures.exposures_public().filter(pk=exposure_id).first()
    if exposure is None:
        raise NotFound()
    return exposure


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
    return qs


@router.get("/complaints/{complaint_id}", response=ComplaintDetailOut, summary="案件详情")
def complaint_detail(request, complaint_id: int):
    return reports.complaint_get(request.auth, complaint_id)


@router.post("/complaints/{complaint_id}/accept", response=ComplaintDetailOut, summary="受理")
def complaint_accept(request, complaint_id: int, payload: AcceptIn):
    reports.complaint_accept(actor=request.auth, complaint_id=complaint_id, assignee_id=payload.assignee_id)
    return reports.complaint_get(request.auth, complaint_id)


@router.post("/complaints/{complaint_id}/assign", response=ComplaintDetailOut, summary="指定承办人")
def complaint_assign(request, complaint_id: int, payload: CaseAssignIn):
    reports.complaint_assign(actor=request.auth, complaint_id=complaint_id, assignee_id=payload.assignee_id)
    return reports.complaint_get(request.auth, complaint_id)


@router.post("/complaints/{complaint_id}/reject", response=ComplaintDetailOut, summary="不予受理")
def complaint_reject(request, complaint_id: int, payload: ReasonIn):
    reports.complaint_reject(actor=request.auth, complaint_id=complaint_id, reason=payload.reason)
    return reports.complaint_get(request.auth, complaint_id)


@router.post("/complaints/{complaint_id}/notes", response={201: NoteOut}, summary="添加调查记录")
def complaint_note(request, complaint_id: int, payload: NoteIn):
    note = reports.complaint_note_add(actor=request.auth, complaint_id=complaint_id, text=payload.text)
    author = note.author.display_name if note.author_id else ""
    return Status(201, {"id": note.id, "author": author, "text": note.text, "created_at": note.created_at})


@router.post("/complaints/{complaint_id}/sanctions", response={201: SanctionOut}, summary="作出处理措施")
def complaint_sanction(request, complaint_id: int, payload: SanctionIn):
    sanction = reports.complaint_sanction(actor=request.auth, complaint_id=complaint_id, **payload.dict())
    return Status(201, sanction)


@router.post("/complaints/{complaint_id}/close", response=ComplaintDetailOut, summary="办结(可曝光)")
def complaint_close(request, complaint_id: int, payload: CloseIn):
    reports.complaint_close(actor=request.auth, complaint_id=complaint_id, **payload.dict())
    return reports.complaint_get(request.auth, complaint_id)


@router.post("/exposures/{exposure_id}/withdraw", response=ExposureOut, summary="撤下曝光")
def exposure_withdraw(request, exposure_id: int, payload: ReasonIn):
    return exposures.exposure_withdraw(actor=request.auth, exposure_id=exposure_id, reason=payload.reason)


# --- 挂证 ---------------------------------------------------------------------------------------------------------


@router.get("/reliances", response=list[RelianceOut], summary="证书使用申报(本单位或本辖区)")
@paginate
def reliance_list(request, employer_id: int | None = None, certificate_number: str = ""):
    qs = guazheng.reliances_for(request.auth)
    if employer_id:
        qs = qs.filter(employer_id=employer_id)
    if certificate_number:
        qs = qs.filter(certificate__number=certificate_number.strip().upper())
    return qs


@router.post("/reliances", response={201: RelianceOut}, summary="申报使用的证书")
def reliance_declare(request, payload: RelianceIn):
    return Status(201, guazheng.reliance_declare(actor=request.auth, **payload.dict()))


@router.post("/reliances/{reliance_id}/end", response=RelianceOut, summary="结束使用")
def reliance_end(request, reliance_id: int, payload: RelianceEndIn):
    return guazheng.reliance_end(actor=request.auth, reliance_id=reliance_id, end=payload.end)


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
    return qs


@router.get("/guazheng/flags/{flag_id}", response=FlagOut, summary="挂证疑点详情")
def flag_detail(request, flag_id: int):
    return guazheng.flag_get(request.auth, flag_id)


@router.post("/guazheng/flags/{flag_id}/investigate", response={201: ComplaintDetailOut}, summary="立案调查")
def flag_investigate(request, flag_id: int):
    complaint = guazheng.flag_investigate(actor=request.auth, flag_id=flag_id)
    return Status(201, reports.complaint_get(request.auth, complaint.id))


@router.post("/guazheng/flags/{flag_id}/dismiss", response=FlagOut, summary="排除疑点")
def flag_dismiss(request, flag_id: int, payload: ReasonIn):
    guazheng.flag_dismiss(actor=request.auth, flag_id=flag_id, reason=payload.reason)
    return guazheng.flag_get(request.auth, flag_id)


# --- Inspections -----------------------------------------------------------------------------------------------------


@router.get("/inspections", response=list[InspectionOut], summary="督查(本辖区或本机构;列表不含督导问题)")
@paginate
def inspection_list(request, status: str = ""):
    qs = inspections.inspections_for(request.auth)
    if status:
        qs = qs.filter(status=status)
    return qs


@router.post("/inspections", response={201: InspectionDetailOut}, summary="计划专项督查")
def inspection_plan(request, payload: InspectionPlanIn):
    i = inspections.inspection_plan(actor=request.auth, **payload.dict())
    return Status(201, i)


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


@router.get("/inspections/{inspection_id}", response=InspectionDetailOut, summary="督查详情")
def inspection_detail(request, inspection_id: int):
    return inspections.inspection_get(request.auth, inspection_id)


@router.post("/inspections/{inspection_id}/findings", response=InspectionDetailOut, summary="记录检查结果")
def inspection_findings(request, inspection_id: int, payload: FindingsIn):
    data = payload.dict()
    i = inspections.inspection_record_findings(actor=request.auth, inspection_id=inspection_id, **data)
    return i


@router.post("/inspections/{inspection_id}/rectifications", response={201: RectificationOut}, summary="下达限期整改")
def rectification_order(request, inspection_id: int, payload: RectificationIn):
    r = inspections.rectification_order(actor=request.auth, inspection_id=inspection_id, **payload.dict())
    return Status(201, r)


@router.post("/inspections/{inspection_id}/escalate", response={201: SanctionOut}, summary="暂停或撤销备案")
def inspection_escalate(request, inspection_id: int, payload: EscalateIn):
    s = inspections.inspection_escalate(actor=request.auth, inspection_id=inspection_id, **payload.dict())
    return Status(201, s)


@router.post("/inspections/{inspection_id}/close", response=InspectionDetailOut, summary="结案")
def inspection_close(request, inspection_id: int, payload: ConclusionIn):
    i = inspections.inspection_close(actor=request.auth, inspection_id=inspection_id, conclusion=payload.conclusion)
    return i


@router.get("/rectifications", response=list[RectificationOut], summary="整改事项(本辖区或本机构)")
@paginate
def rectification_list(request, status: str = "", overdue: bool = False):
    qs = inspections.rectifications_for(request.auth)
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.overdue()
    return qs


@router.post("/rectifications/{rectification_id}/submit", response=RectificationOut, summary="报送整改情况")
def rectification_submit(request, rectification_id: int, evidence_text: Form[str], file: File[UploadedFile] = None):
    r = inspections.rectification_submit(
        actor=request.auth, rectification_id=rectification_id, evidence_text=evidence_text, upload=file
    )
    return r


@router.post("/rectifications/{rectification_id}/review", response=RectificationOut, summary="验收或退回整改")
def rectification_review(request, rectification_id: int, payload: RectificationReviewIn):
    r = inspections.rectification_review(actor=request.auth, rectification_id=rectification_id, **payload.dict())
    return r


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
