"""Pages for oversight: the public reporting channel, tracking and exposure list; cases, 挂证 checks,
inspections, dashboards and the audit trail for bureau staff; declarations and rectification for organisations.

Views parse, authorise (through the scoped selectors), call one service and respond.
"""

import datetime
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from pydantic import ValidationError as PydanticValidationError

from accounts.actors import Actor
from accounts.models import Role
from accounts.pages import object_action
from accreditation.models import Filing, Organisation
from accreditation.selectors import directory, organisations_for
from assessments.plans import public_plans
from core.audit import audit_verify
from core.audit_words import ENTITY_LABELS, action_words, actor_words, describe_objects, object_model
from core.errors import NotFound, PermissionDenied, PlatformError, ValidationFailed
from core.models import AuditEntry
from core.pages import form_input, perform
from core.ratelimit import client_ip
from core.spreadsheets import template_workbook
from occupations.models import Qualification, Region
from occupations.search import region_code_for

from . import dashboards, guazheng, inspections, reports
from . import exposures as exposure_list
from .challenge import HONEYPOT_FIELD, challenge_new, public_submission_guard
from .models import (
    CertificateReliance,
    Complaint,
    ComplaintAttachment,
    GuazhengFlag,
    Inspection,
    Sanction,
)
from .schemas import (
    AcceptIn,
    CaseAssignIn,
    CloseIn,
    ConclusionIn,
    DrawIn,
    EscalateIn,
    FindingsIn,
    InspectionPlanIn,
    NoteIn,
    ReasonIn,
    RectificationIn,
    RectificationReviewIn,
    RelianceEndIn,
    RelianceIn,
    SanctionIn,
)
from .selectors import audit_entries_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TRACKING_SESSION_KEY = "oversight_tracking_receipt"


def _date(value: str | None, field: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("日期格式应为 2026-03-01"), details={"field": field}) from None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _history(object_type: str, object_id: int) -> QuerySet[AuditEntry]:
    return (
        AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id))
        .select_related("actor__person")
        .order_by("seq")
    )


# --- Public: reporting, tracking, exposure -------------------------------------------------------------------------


def _report_context(data: dict, error: PlatformError | None = None) -> dict:
    organisation = plan = None
    if data.get("organisation_id"):
        organisation = directory().filter(pk=_int(data["organisation_id"])).first()
    if data.get("plan_id"):
        plan = public_plans().filter(pk=_int(data["plan_id"])).first()
    return {
        "data": data,
        "organisation": organisation,
        "plan": plan,
        "kinds": Complaint.Kind.choices,
        "cancelled": Qualification.objects.filter(status=Qualification.Status.CANCELLED).order_by("name"),
        "challenge": challenge_new(),
        "honeypot": HONEYPOT_FIELD,
        "error": error.message if error else "",
        "error_field": error.details.get("field") if error else "",
        # Every field's error at once: {field: message}, shown beside each field.
        "field_errors": {e["field"]: e["message"] for e in error.details.get("errors", [])} if error else {},
        "max_files": reports.MAX_ATTACHMENTS,
    }


REPORT_FIELDS = (
    "kind",
    "description",
    "organisation_id",
    "certificate_number",
    "plan_id",
    "qualification_id",
    "subject_name",
    "region_code",
    "reporter_name",
    "reporter_contact",
)


def report(request):
    """举报: anyone, signed in or not. Linked from the verification page (?certificate=…), the directory
    (?organisation=…) and plan announcements (?plan=…)."""
    actor = Actor.from_request(request)
    if request.method != "POST":
        data = {
            "kind": request.GET.get("kind", ""),
            "certificate_number": request.GET.get("certificate", ""),
            "organisation_id": request.GET.get("organisation", ""),
            "plan_id": request.GET.get("plan", ""),
        }
        return render(request, "oversight/report.html", _report_context(data))
    data = {k: request.POST.get(k, "") for k in REPORT_FIELDS}
    try:
        challenge_error = public_submission_guard(
            client_ip=client_ip(request),
            honeypot=request.POST.get(HONEYPOT_FIELD, ""),
            challenge_token=request.POST.get("challenge_token", ""),
            challenge_answer=request.POST.get("challenge_answer", ""),
        )
        complaint, code = reports.complaint_submit(
            actor=actor,
            kind=data["kind"],
            description=data["description"],
            organisation_id=_int(data["organisation_id"]),
            certificate_number=data["certificate_number"],
            plan_id=_int(data["plan_id"]),
            qualification_id=_int(data["qualification_id"]),
            subject_name=data["subject_name"],
            region_code=data["region_code"],
            reporter_name=data["reporter_name"],
            reporter_contact=data["reporter_contact"],
            attachments=request.FILES.getlist("attachments"),
            challenge_error=challenge_error,
            client_ip=client_ip(request),
        )
    except PlatformError as exc:
        return render(request, "oversight/report.html", _report_context(data, exc), status=exc.status)
    # Held in the session only until the next page shows it once (post/redirect/get); the database keeps its hash.
    request.session[_TRACKING_SESSION_KEY] = {
        "number": complaint.number,
        "code": reports.format_tracking_code(code),
        "due_on": complaint.due_on.isoformat(),
        "due_provisional": complaint.due_provisional,
        "due_note": complaint.due_note,
    }
    return redirect("oversight:report_done")


def report_done(request):
    receipt = request.session.pop(_TRACKING_SESSION_KEY, None)
    if receipt is None:
        return redirect("oversight:track")
    response = render(request, "oversight/report_done.html", {"receipt": receipt})
    response["Cache-Control"] = "no-store"
    return response


def track(request):
    """The reporter follows the case with the tracking code (posted, so it never sits in a URL or a log)."""
    context: dict = {}
    if request.method == "POST":
        complaint = reports.complaint_track(request.POST.get("code", ""))
        if complaint is None:
            context["error"] = _("查询码不正确,请核对后重新输入")
            response = render(request, "oversight/track.html", context, status=404)
        else:
            context["case"] = reports.tracking_view(complaint)
            response = render(request, "oversight/track.html", context)
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "oversight/track.html", context)


def exposures(request):
    region = region_code_for(request.GET.get("region", ""))
    page = Paginator(exposure_list.exposures_public(region_code=region), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "oversight/exposures.html",
        {
            "page": page,
            "region": region,
        },
    )


def exposure(request, exposure_id: int):
    item = exposure_list.exposures_public().filter(pk=exposure_id).first()
    if item is None:
        raise NotFound()
    return render(
        request, "oversight/exposure.html", {"item": item, "sanctions": exposure_list.exposure_sanctions(item)}
    )


# --- Bureau: cases ------------------------------------------------------------------------------------------------


@login_required
def complaints(request):
    actor = Actor.from_request(request)
    reports.require_case_handler(actor)
    qs = reports.complaints_for(actor)
    status, kind = request.GET.get("status") or "open", request.GET.get("kind", "")
    overdue = bool(request.GET.get("overdue"))
    if status == "open":
        qs = qs.filter(status__in=Complaint.OPEN)
    elif status != "all":
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if overdue:
        qs = qs.overdue()
    page = Paginator(qs.order_by("due_on", "id"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "oversight/complaints.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "overdue": overdue,
            "statuses": Complaint.Status.choices,
            "kinds": Complaint.Kind.choices,
            "today": timezone.localdate(),
        },
    )


def _related_organisations(complaint: Complaint) -> list[Organisation]:
    orgs = {}
    for org in (
        complaint.organisation,
        complaint.plan.organisation if complaint.plan_id else None,
        complaint.certificate.organisation if complaint.certificate_id else None,
    ):
        if org is not None:
            orgs[org.id] = org
    flag = GuazhengFlag.objects.filter(complaint=complaint).select_related("employer", "other_employer").first()
    if flag is not None:
        for org in (flag.employer, flag.other_employer):
            if org is not None:
                orgs[org.id] = org
    return list(orgs.values())


@login_required
def complaint_detail(request, complaint_id: int):
    actor = Actor.from_request(request)
    complaint = reports.complaint_get(actor, complaint_id)
    return render(
        request,
        "oversight/complaint_detail.html",
        {
            "c": complaint,
            "notes": complaint.notes.select_related("author"),
            "attachments": complaint.attachments.all(),
            "sanctions": complaint.sanctions.select_related("organisation", "certificate"),
            "officers": reports.officers_for(complaint),
            "organisations": _related_organisations(complaint),
            "sanction_kinds": Sanction.Kind.choices,
            "outcomes": Complaint.Outcome.choices,
            "flag": GuazhengFlag.objects.filter(complaint=complaint).first(),
            "exposure": getattr(complaint, "exposure", None),
            "history": _history("oversight.complaint", complaint.id),
            "overdue": complaint.is_open and complaint.due_on < timezone.localdate(),
        },
    )


_complaint_action = partial(
    object_action, lookup=reports.complaint_get, url_kwarg="complaint_id", redirect_to="oversight:complaint"
)


complaint_accept = _complaint_action(
    AcceptIn,
    lambda actor, cid, data: reports.complaint_accept(actor=actor, complaint_id=cid, assignee_id=data.assignee_id),
    gettext_lazy("已受理"),
)
complaint_assign = _complaint_action(
    CaseAssignIn,
    lambda actor, cid, data: reports.complaint_assign(actor=actor, complaint_id=cid, assignee_id=data.assignee_id),
    gettext_lazy("已指定承办人"),
)
complaint_reject = _complaint_action(
    ReasonIn,
    lambda actor, cid, data: reports.complaint_reject(actor=actor, complaint_id=cid, reason=data.reason),
    gettext_lazy("已作出不予受理决定"),
)
complaint_note = _complaint_action(
    NoteIn,
    lambda actor, cid, data: reports.complaint_note_add(actor=actor, complaint_id=cid, text=data.text),
    gettext_lazy("调查记录已保存"),
)
complaint_sanction = _complaint_action(
    SanctionIn,
    lambda actor, cid, data: reports.complaint_sanction(actor=actor, complaint_id=cid, **data.dict()),
    gettext_lazy("处理措施已执行"),
)
complaint_close = _complaint_action(
    CloseIn,
    lambda actor, cid, data: reports.complaint_close(actor=actor, complaint_id=cid, **data.dict()),
    gettext_lazy("案件已办结"),
)


@login_required
@require_POST
def complaint_attach(request, complaint_id: int):
    actor = Actor.from_request(request)
    complaint = reports.complaint_get(actor, complaint_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择文件"))
    else:
        perform(
            request,
            lambda: reports.complaint_attach(actor=actor, complaint_id=complaint.id, upload=upload),
            _("材料已上传"),
        )
    return redirect("oversight:complaint", complaint_id=complaint.id)


@login_required
def complaint_attachment(request, complaint_id: int, attachment_id: int):
    complaint = reports.complaint_get(Actor.from_request(request), complaint_id)
    attachment = ComplaintAttachment.objects.filter(complaint=complaint, pk=attachment_id).first()
    if attachment is None:
        raise NotFound()
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = f'attachment; filename="{complaint.number}-{attachment.id}"'
    return response


@login_required
@require_POST
def exposure_withdraw(request, exposure_id: int):
    actor = Actor.from_request(request)
    perform(
        request,
        lambda: exposure_list.exposure_withdraw(
            actor=actor, exposure_id=exposure_id, reason=form_input(request, ReasonIn).reason
        ),
        _("已撤下曝光"),
    )
    return redirect("oversight:exposures")


# --- 挂证 -----------------------------------------------------------------------------------------------------------


@login_required
def guazheng_page(request):
    """Bureau: flags raised, the insurance data behind them, and the import of new records."""
    actor = Actor.from_request(request)
    actor.require_bureau()
    report = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择参保数据文件"))
        else:

            def run():
                try:
                    start = guazheng.parse_month(request.POST.get("period_from"))
                    end = guazheng.parse_month(request.POST.get("period_to"))
                except ValueError as exc:
                    raise ValidationFailed(str(exc), details={"field": "period"}) from None
                return guazheng.insurance_import(
                    actor=actor,
                    upload=upload,
                    period_from=start,
                    period_to=end,
                    region_code=request.POST.get("region_code", ""),
                )[0]

            report = perform(request, run)
            if report is not None and report.ok:
                messages.success(request, _("已导入%(n)d条参保记录,挂证比对已开始") % {"n": report.created})
                return redirect("oversight:guazheng")
    status = request.GET.get("status", GuazhengFlag.Status.OPEN)
    flags = guazheng.flags_for(actor)
    if status != "all":
        flags = flags.filter(status=status)
    return render(
        request,
        "oversight/guazheng.html",
        {
            "page": Paginator(flags, 30).get_page(request.GET.get("page")),
            "status": status,
            "statuses": GuazhengFlag.Status.choices,
            "imports": guazheng.imports_for(actor)[:10],
            "report": report,
            "within": actor.jurisdiction_codes,
            "region_default": actor.has_default_region,
        },
    )


@login_required
@require_POST
def guazheng_scan(request):
    actor = Actor.from_request(request)
    result = perform(request, lambda: guazheng.guazheng_scan(actor=actor))
    if result is not None:
        messages.success(
            request,
            _("比对完成:检查证书%(c)d张,新发现%(r)d条疑点,%(x)d条疑点不再成立")
            % {"c": result.certificates, "r": result.raised + result.reopened, "x": result.cleared},
        )
    return redirect("oversight:guazheng")


def insurance_template(request):
    data = template_workbook(guazheng.INSURANCE_COLUMNS, "参保记录")
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="insurance-records-template.xlsx"'
    return response


@login_required
def flag_detail(request, flag_id: int):
    flag = guazheng.flag_get(Actor.from_request(request), flag_id)
    return render(
        request,
        "oversight/flag_detail.html",
        {"flag": flag, "history": _history("oversight.guazhengflag", flag.id)},
    )


@login_required
@require_POST
def flag_investigate(request, flag_id: int):
    actor = Actor.from_request(request)
    flag = guazheng.flag_get(actor, flag_id)
    complaint = perform(request, lambda: guazheng.flag_investigate(actor=actor, flag_id=flag.id), _("已立案调查"))
    if complaint is not None:
        return redirect("oversight:complaint", complaint_id=complaint.id)
    return redirect("oversight:flag", flag_id=flag.id)


@login_required
@require_POST
def flag_dismiss(request, flag_id: int):
    actor = Actor.from_request(request)
    flag = guazheng.flag_get(actor, flag_id)
    perform(
        request,
        lambda: guazheng.flag_dismiss(actor=actor, flag_id=flag.id, reason=form_input(request, ReasonIn).reason),
        _("已排除该疑点"),
    )
    return redirect("oversight:flag", flag_id=flag.id)


@login_required
def reliances(request):
    """Employers declare the certificates they rely on; bureau staff see their region's declarations."""
    actor = Actor.from_request(request)
    employers = list(Organisation.objects.filter(pk__in=actor.organisation_ids(Role.ORG_ADMIN)).order_by("name"))
    if not employers and not (actor.bureau_prefixes or actor.is_operator):
        raise PermissionDenied(_("仅用人单位管理员或人社部门工作人员可以查看证书使用申报"))
    if request.method == "POST":

        def declare():
            data = form_input(request, RelianceIn)
            return guazheng.reliance_declare(actor=actor, **data.dict())

        perform(request, declare, _("申报已保存"))
        return redirect("oversight:reliances")
    qs = guazheng.reliances_for(actor)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(certificate__number=q.upper()) | qs.filter(certificate__holder_name=q)
    return render(
        request,
        "oversight/reliances.html",
        {
            "page": Paginator(qs, 30).get_page(request.GET.get("page")),
            "employers": employers,
            "purposes": CertificateReliance.Purpose.choices,
            "q": q,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def reliance_end(request, reliance_id: int):
    actor = Actor.from_request(request)

    def end():
        data = form_input(request, RelianceEndIn)
        return guazheng.reliance_end(actor=actor, reliance_id=reliance_id, end=data.end)

    perform(request, end, _("已结束使用"))
    return redirect("oversight:reliances")


# --- Inspections --------------------------------------------------------------------------------------------------


@login_required
def inspections_page(request):
    actor = Actor.from_request(request)
    is_bureau = bool(actor.bureau_prefixes or actor.is_operator)
    if not is_bureau and not actor.organisation_ids(Role.ORG_ADMIN):
        raise PermissionDenied(_("仅人社部门工作人员或评价机构管理员可以查看督查"))
    if request.method == "POST":
        inspection = perform(
            request,
            lambda: inspections.inspection_plan(actor=actor, **form_input(request, InspectionPlanIn).dict()),
            _("已计划专项督查"),
        )
        if inspection is not None:
            return redirect("oversight:inspection", inspection_id=inspection.id)
        return redirect("oversight:inspections")
    status = request.GET.get("status", "")
    qs = inspections.inspections_for(actor)
    if status:
        qs = qs.filter(status=status)
    today = timezone.localdate()
    filed = (
        organisations_for(actor).filter(filings__status__in=Filing.IN_FORCE).distinct().order_by("name")
        if is_bureau
        else Organisation.objects.none()
    )
    return render(
        request,
        "oversight/inspections.html",
        {
            "page": Paginator(qs, 30).get_page(request.GET.get("page")),
            "status": status,
            "statuses": Inspection.Status.choices,
            "is_bureau": is_bureau,
            "overdue": inspections.rectifications_for(actor).overdue(today)[:50],
            "organisations": filed,
            "within": actor.jurisdiction_codes,
            "region_default": actor.has_default_region,
            "today": today,
        },
    )


@login_required
def inspection_detail(request, inspection_id: int):
    actor = Actor.from_request(request)
    inspection = inspections.inspection_get(actor, inspection_id)
    inspector = inspections.is_inspector(actor, inspection)
    today = timezone.localdate()
    results = inspection.results or {}
    return render(
        request,
        "oversight/inspection_detail.html",
        {
            "i": inspection,
            "inspector": inspector,
            "is_org_admin": inspection.organisation_id in actor.organisation_ids(Role.ORG_ADMIN),
            "items": [
                (key, label, results.get(key, {}).get("result", ""), results.get(key, {}).get("note", ""))
                for key, label in inspections.CHECKLIST.items()
            ],
            "choices": inspections.RESULTS.items(),
            "checklist": inspections.CHECKLIST.items(),
            "rectifications": [
                (r, r.is_overdue_on(today), inspections.CHECKLIST.get(r.item, r.item))
                for r in inspection.rectifications.all()
            ],
            "sanctions": inspection.sanctions.select_related("organisation"),
            "supervision": inspections.supervision_issues(inspection.organisation) if inspector else [],
            "filing": inspection.organisation.filings.filter(status__in=Filing.IN_FORCE).first(),
            "history": AuditEntry.objects.filter(
                Q(object_type="oversight.inspection", object_id=str(inspection.id))
                | Q(
                    object_type="oversight.rectification",
                    object_id__in=[str(pk) for pk in inspection.rectifications.values_list("pk", flat=True)],
                )
            ).order_by("seq"),
            "today": today,
        },
    )


@login_required
@require_POST
def inspection_draw(request):
    """A random draw of organisations to inspect (双随机): the seed is the platform's, never the officer's."""
    actor = Actor.from_request(request)

    def draw():
        data = form_input(request, DrawIn)
        return inspections.inspection_draw(
            actor=actor, count=data.count, scheduled_on=data.scheduled_on, region_code=data.region_code
        )

    result = perform(request, draw)
    if result is not None:
        messages.success(
            request,
            _("已从%(pool)d家已备案机构中随机抽取%(n)d家(随机种子%(seed)d)")
            % {"pool": len(result.pool), "n": len(result.chosen), "seed": result.seed},
        )
    return redirect("oversight:inspections")


_inspection_action = partial(
    object_action, lookup=inspections.inspection_get, url_kwarg="inspection_id", redirect_to="oversight:inspection"
)


@login_required
@require_POST
def inspection_findings(request, inspection_id: int):
    """The checklist is posted flat (result_<item>, note_<item>) and read into the API's FindingsIn."""
    actor = Actor.from_request(request)
    inspection = inspections.inspection_get(actor, inspection_id)
    post = request.POST

    def record():
        try:
            data = FindingsIn.model_validate(
                {
                    "conducted_on": post.get("conducted_on") or timezone.localdate(),
                    "results": {
                        key: {"result": post.get(f"result_{key}", ""), "note": post.get(f"note_{key}", "")}
                        for key in inspections.CHECKLIST
                    },
                    "summary": post.get("summary", ""),
                }
            )
        except PydanticValidationError:
            raise ValidationFailed(_("检查日期格式应为 YYYY-MM-DD"), details={"field": "conducted_on"}) from None
        return inspections.inspection_record_findings(actor=actor, inspection_id=inspection.id, **data.dict())

    perform(request, record, _("检查结果已保存"))
    return redirect("oversight:inspection", inspection_id=inspection.id)


inspection_rectify = _inspection_action(
    RectificationIn,
    lambda actor, iid, data: inspections.rectification_order(
        actor=actor, inspection_id=iid, item=data.item, requirement=data.requirement, working_days=data.working_days
    ),
    _("已下达限期整改"),
)
inspection_escalate = _inspection_action(
    EscalateIn,
    lambda actor, iid, data: inspections.inspection_escalate(actor=actor, inspection_id=iid, **data.dict()),
    _("已作出处理决定"),
)
inspection_close = _inspection_action(
    ConclusionIn,
    lambda actor, iid, data: inspections.inspection_close(actor=actor, inspection_id=iid, conclusion=data.conclusion),
    _("督查已结案"),
)


def _rectification(request, rectification_id: int):
    rect = inspections.rectifications_for(Actor.from_request(request)).filter(pk=rectification_id).first()
    if rect is None:
        raise NotFound()
    return rect


@login_required
@require_POST
def rectification_submit(request, rectification_id: int):
    rect = _rectification(request, rectification_id)
    perform(
        request,
        lambda: inspections.rectification_submit(
            actor=Actor.from_request(request),
            rectification_id=rect.id,
            evidence_text=request.POST.get("evidence_text", ""),
            upload=request.FILES.get("file"),
        ),
        _("整改情况已报送"),
    )
    return redirect("oversight:inspection", inspection_id=rect.inspection_id)


@login_required
@require_POST
def rectification_review(request, rectification_id: int):
    rect = _rectification(request, rectification_id)

    def review():
        data = form_input(request, RectificationReviewIn)
        inspections.rectification_review(
            actor=Actor.from_request(request), rectification_id=rect.id, accept=data.accept, note=data.note
        )
        return data

    data = perform(request, review)
    if data is not None:
        messages.success(request, _("已验收") if data.accept else _("已退回重新整改"))
    return redirect("oversight:inspection", inspection_id=rect.inspection_id)


@login_required
def rectification_evidence(request, rectification_id: int):
    rect = inspections.rectifications_for(Actor.from_request(request)).filter(pk=rectification_id).first()
    if rect is None or not rect.evidence_file:
        raise NotFound()
    response = FileResponse(rect.evidence_file.open("rb"), content_type=rect.evidence_content_type)
    response["Content-Disposition"] = f'attachment; filename="rectification-{rect.id}"'
    return response


# --- Dashboards and the audit trail ----------------------------------------------------------------------------------


@login_required
def dashboard(request):
    actor = Actor.from_request(request)
    # Typed without picking, a filter means its best match (as in the directory); outside the jurisdiction is 404.
    region = region_code_for(request.GET.get("region", ""))
    months = _int(request.GET.get("months")) or 12
    board = dashboards.dashboard_for(actor=actor, region_code=region, months=months)
    return render(
        request,
        "oversight/dashboard.html",
        {
            "board": board,
            "panels": [board.panels[k] for k in (*dashboards.PROVINCE_PANELS, *dashboards.PANELS) if k in board.panels],
            "region": region,
            "months": months,
            "month_choices": (3, 6, 12, 24, 36),
            "within": actor.jurisdiction_codes,
        },
    )


@login_required
def dashboard_export(request, panel: str):
    actor = Actor.from_request(request)
    data, name = dashboards.panel_export(
        actor=actor,
        panel=panel,
        region_code=request.GET.get("region", ""),
        months=_int(request.GET.get("months")) or 12,
    )
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


CHAIN_CACHE_KEY = "oversight:audit_chain_report"
CHAIN_CACHE_SECONDS = 300


def _chain_status() -> dict:
    """Walking the whole chain is linear in its length, so one result serves every page view for a few minutes."""
    status = cache.get(CHAIN_CACHE_KEY)
    if status is None:
        report = audit_verify()
        status = {
            "ok": report.ok,
            "checked": report.checked,
            "problem": report.problem,
            "seq": report.seq,
            "at": timezone.now(),
        }
        cache.set(CHAIN_CACHE_KEY, status, CHAIN_CACHE_SECONDS)
    return status


AUDIT_FILTERS = ("object_type", "object_id", "actor", "action")


def _audit_object_types() -> list[tuple[str, str]]:
    """The kinds of audited objects, named by their models' verbose names, for the filter."""
    types = AuditEntry.objects.order_by().values_list("object_type", flat=True).distinct()
    named = []
    for object_type in types:
        model = object_model(object_type)
        if model is not None:
            named.append((object_type, str(model._meta.verbose_name)))
    return sorted(named, key=lambda kv: kv[1])


@login_required
def audit(request):
    """The audit trail of the actor's region: search by object, actor, action and time."""
    actor = Actor.from_request(request)
    actor.require_bureau()
    filters = {k: request.GET.get(k, "").strip() for k in AUDIT_FILTERS}
    since, until = request.GET.get("since", ""), request.GET.get("until", "")
    query = dict(filters)
    try:
        if since:
            query["since"] = timezone.make_aware(datetime.datetime.combine(_date(since, "since"), datetime.time.min))
        if until:
            query["until"] = timezone.make_aware(datetime.datetime.combine(_date(until, "until"), datetime.time.max))
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        query.pop("since", None)
        query.pop("until", None)
    qs = audit_entries_for(actor, filters=query).select_related("actor__person")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    objects = describe_objects(page.object_list)
    regions = dict(
        Region.objects.filter(code__in={e.region_code for e in page.object_list if e.region_code}).values_list(
            "code", "name"
        )
    )
    rows = [
        {
            "entry": e,
            "what": action_words(e.action),
            "who": actor_words(e),
            "object": objects[(e.object_type, e.object_id)],
            "region": regions.get(e.region_code, ""),
        }
        for e in page.object_list
    ]
    params = request.GET.copy()
    params.pop("page", None)
    if request.GET.get("recheck"):
        cache.delete(CHAIN_CACHE_KEY)
    return render(
        request,
        "oversight/audit.html",
        {
            "page": page,
            "rows": rows,
            "object_types": _audit_object_types(),
            "entities": sorted(((f"{k}.", str(v)) for k, v in ENTITY_LABELS.items()), key=lambda kv: kv[1]),
            "filters": filters,
            "since": since,
            "until": until,
            "querystring": params.urlencode(),
            "chain": _chain_status(),
        },
    )
