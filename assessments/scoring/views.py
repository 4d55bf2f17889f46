"""Pages for scoring (assessors and the organisation), publicity (the public) and finalisation (the organisation).

Views parse, call one service or selector, and respond; every rule is in assessments/scoring/rules.py, its services and publicity.py.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.models import Role
from core.errors import PlatformError, ValidationFailed
from core.pages import perform, safe_next
from core.ratelimit import client_ip

from .. import publicity
from ..models import COMPONENT_KINDS, ComponentResult, Objection, Publication, ScoreCorrection
from . import access, rules, selectors, services, sheets

SHEET_PAGE_SIZE = 50
RESULTS_PAGE_SIZE = 50
MARK_CHOICES = [("scored", gettext_lazy("评分")), ("absent", gettext_lazy("缺考")), ("void", gettext_lazy("违纪"))]


# --- Assessors ---------------------------------------------------------------------------------------------------


@login_required
def my_sessions(request):
    """The assessor's plans and components, with whether each sheet is submitted."""
    return render(
        request,
        "assessments/scoring/my_sessions.html",
        {"sessions": selectors.assessor_plans(Actor.from_request(request))},
    )


def _sheet_rows(sheet: selectors.ScoreSheet, page, posted=None, errors=None) -> list[dict]:
    errors = errors or {}
    rows = []
    for row in page.object_list:
        reg_id = row.registration.id
        if posted is not None and str(reg_id) in posted:
            status, value = posted[str(reg_id)]
        elif row.score is not None:
            status, value = row.score.status, "" if row.score.value is None else str(row.score.value)
        else:
            status, value = "scored", ""
        rows.append({"row": row, "status": status, "value": value, "error": errors.get(reg_id, "")})
    return rows


def _render_sheet(request, sheet: selectors.ScoreSheet, *, posted=None, errors=None, report=None, status=200):
    page = Paginator(sheet.rows, SHEET_PAGE_SIZE).get_page(request.GET.get("page"))
    done = sum(1 for r in sheet.rows if r.score is not None)
    return render(
        request,
        "assessments/scoring/sheet.html",
        {
            "sheet": sheet,
            "page": page,
            "rows": _sheet_rows(sheet, page, posted, errors),
            "choices": MARK_CHOICES,
            "done": done,
            "total": len(sheet.rows),
            "report": report,
        },
        status=status,
    )


@login_required
def score_sheet(request, plan_id: int, kind: str):
    """One component's score sheet for the signed-in assessor: save as often as needed, then submit once."""
    actor = Actor.from_request(request)
    sheet = selectors.score_sheet(actor=actor, plan_id=plan_id, kind=kind)
    if request.method != "POST":
        return _render_sheet(request, sheet)
    here = f"{reverse('assessments:score_sheet', args=[plan_id, kind])}?page={request.GET.get('page', '1')}"
    submitting = request.POST.get("action") == "submit"
    posted, entries = {}, []
    for reg_id in request.POST.getlist("registration"):
        status = request.POST.get(f"status_{reg_id}", "scored")
        value = request.POST.get(f"value_{reg_id}", "").strip()
        posted[reg_id] = (status, value)
        if status != "scored" or value:
            entries.append({"registration_id": reg_id, "status": status, "value": value or None})
    saved = []
    if entries:  # what is typed on the page is saved first, also when the assessor goes straight to "submit"
        try:
            saved = services.score_enter(actor=actor, plan_id=plan_id, kind=kind, entries=entries)
        except ValidationFailed as exc:
            errors = {}
            for e in exc.details.get("errors", []):
                try:
                    errors[int(e.get("registration_id"))] = e["reason"]
                except (TypeError, ValueError):
                    continue
            messages.error(request, exc.message)
            return _render_sheet(request, sheet, posted=posted, errors=errors, status=422)
        except PlatformError as exc:
            messages.error(request, exc.message)
            return redirect(here)
    if submitting:
        if perform(
            request,
            lambda: services.score_submit(actor=actor, plan_id=plan_id, kind=kind),
            _("评分已提交,不能再修改"),
        ):
            return redirect("assessments:score_mine")
        return redirect(here)
    if not saved:
        messages.info(request, _("本页没有填写成绩"))
    else:
        messages.success(request, _("已保存%(n)d名考生的成绩(尚未提交)") % {"n": len(saved)})
    return redirect(here)


@login_required
def score_sheet_workbook(request, plan_id: int, kind: str):
    data = sheets.score_sheet_workbook(actor=Actor.from_request(request), plan_id=plan_id, kind=kind)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="scores-{plan_id}-{kind}.xlsx"'
    return response


@login_required
@require_POST
def score_import(request, plan_id: int, kind: str):
    actor = Actor.from_request(request)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择电子表格文件"))
        return redirect("assessments:score_sheet", plan_id=plan_id, kind=kind)
    report = perform(request, lambda: sheets.scores_import(actor=actor, plan_id=plan_id, kind=kind, upload=upload))
    if report is not None and not report.ok:
        sheet = selectors.score_sheet(actor=actor, plan_id=plan_id, kind=kind)
        return _render_sheet(request, sheet, report=report, status=422)
    if report is not None:
        messages.success(request, _("已导入%(n)d条成绩(尚未提交)") % {"n": report.created})
    return redirect("assessments:score_sheet", plan_id=plan_id, kind=kind)


# --- The organisation: scoring ---------------------------------------------------------------------------------


@login_required
def score_overview(request, plan_id: int):
    """Per component: who has submitted, whether it can be locked; and corrections awaiting a second admin."""
    actor = Actor.from_request(request)
    plan, components, corrections = selectors.scoring_overview(actor=actor, plan_id=plan_id)
    publication = Publication.objects.filter(plan=plan).first()
    return render(
        request,
        "assessments/scoring/overview.html",
        {
            "plan": plan,
            "components": components,
            "corrections": list(corrections),
            "is_admin": plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN),
            "publication": publication,
            "me": request.user,
        },
    )


@login_required
@require_POST
def score_lock(request, plan_id: int, kind: str):
    actor = Actor.from_request(request)
    results = perform(request, lambda: services.component_lock(actor=actor, plan_id=plan_id, kind=kind))
    if results is not None:
        messages.success(
            request,
            _("“%(k)s”已锁定:%(n)d名考生,其中合格%(p)d名")
            % {"k": rules.KIND_LABELS[kind], "n": len(results), "p": sum(r.passed for r in results)},
        )
    return redirect("assessments:score_overview", plan_id=plan_id)


@login_required
def results_plan(request, plan_id: int):
    """Every candidate's component results with the marks behind them; corrections are asked for here."""
    actor = Actor.from_request(request)
    plan = access.results_plan(actor, plan_id)
    level_rules = rules.level_rules(plan)
    qs = selectors.plan_results(plan)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(person__name__contains=q) | Q(person__id_number=q.upper()))
    page = Paginator(qs, RESULTS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for reg in page.object_list:
        rule = level_rules.get(reg.level_id)
        specs = rule.components if rule else ()
        results = {r.kind: r for r in reg.results.all()}
        marks: dict[str, list] = {}
        for s in reg.scores.all():
            marks.setdefault(s.kind, []).append(s)
        outcome, explanation = rules.outcome_of(reg, components=specs)
        rows.append(
            {
                "reg": reg,
                "cells": [
                    {
                        "spec": spec,
                        "result": results.get(spec.kind),
                        "rule": rules.rule_label(results[spec.kind].rule) if spec.kind in results else "",
                        "marks": marks.get(spec.kind, []),
                    }
                    for spec in specs
                ],
                "outcome": reg.outcome if reg.finalised_at else outcome,
                "explanation": explanation,
            }
        )
    return render(
        request,
        "assessments/scoring/results.html",
        {
            "plan": plan,
            "page": page,
            "rows": rows,
            "q": q,
            "outcomes": dict(publicity.OUTCOME_LABELS),
            "is_admin": plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN),
            "correctable": plan.status in ("published", "publicity"),
            "choices": MARK_CHOICES,
        },
    )


@login_required
@require_POST
def correction_request(request, result_id: int):
    actor = Actor.from_request(request)
    result = ComponentResult.objects.filter(pk=result_id).values_list("registration__plan_id", flat=True).first()
    perform(
        request,
        lambda: services.correction_request(
            actor=actor,
            result_id=result_id,
            reason=request.POST.get("reason", ""),
            new_score=request.POST.get("new_score") or None,
            new_status=request.POST.get("new_status") or None,
        ),
        _("更正申请已提交,须由另一名管理员复核"),
    )
    default = reverse("assessments:results_plan", args=[result]) if result else reverse("assessments:score_mine")
    return redirect(safe_next(request, default))


@login_required
@require_POST
def correction_decide(request, correction_id: int):
    actor = Actor.from_request(request)
    approve = request.POST.get("approve") == "1"
    perform(
        request,
        lambda: services.correction_decide(actor=actor, correction_id=correction_id, approve=approve),
        _("已批准更正,成绩已修改") if approve else _("已驳回更正申请"),
    )
    # Only to know where to go back to; the overview itself checks who may see the plan.
    plan_id = (
        ScoreCorrection.objects.filter(pk=correction_id).values_list("result__registration__plan_id", flat=True).first()
    )
    if plan_id:
        return redirect("assessments:score_overview", plan_id=plan_id)
    return redirect("assessments:score_mine")


# --- Publicity: the public page ------------------------------------------------------------------------------


def publicity_page(request, plan_id: int):
    """成绩公示: masked names and ID numbers, scores and outcomes; an objection form while publicity runs."""
    name, id_number = request.GET.get("name", "").strip(), request.GET.get("id_number", "").strip()
    try:
        found = publicity.public_results(plan_id, name=name, id_number=id_number, client_ip=client_ip(request))
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        found = publicity.public_results(plan_id)
        name = id_number = ""
    page = Paginator(found.registrations, RESULTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/scoring/publicity.html",
        {
            "plan": found.plan,
            "publication": found.publication,
            "page": page,
            "rows": found.rows(page.object_list),
            "name": name,
            "id_number": id_number,
            "open": publicity.accepting_objections(found.plan, found.publication),
            "kinds": COMPONENT_KINDS,
        },
    )


@require_POST
def publicity_objection(request, plan_id: int):
    raw_number = request.POST.get("registration_id", "").strip()
    try:
        registration_id = int(raw_number) if raw_number else None
    except ValueError:
        messages.error(request, _("考生序号应为数字"))
        return redirect("assessments:publicity_page", plan_id=plan_id)
    perform(
        request,
        lambda: publicity.objection_raise(
            actor=Actor.from_request(request),
            plan_id=plan_id,
            text=request.POST.get("text", ""),
            registration_id=registration_id,
            contact=request.POST.get("contact", ""),
            client_ip=client_ip(request),
        ),
        _("异议已提交,评价机构将在公示期内答复"),
    )
    return redirect(f"{reverse('assessments:publicity_page', args=[plan_id])}#objection")


# --- Publicity: the organisation ------------------------------------------------------------------------------


@login_required
def publicity_manage(request, plan_id: int):
    """Open publicity, answer objections, finalise: the organisation's page for the end of a plan."""
    actor = Actor.from_request(request)
    plan = access.admin_plan(actor, plan_id, lock=False)
    publication = Publication.objects.filter(plan=plan).first()
    today = timezone.localdate()
    objections = (
        list(Objection.objects.filter(publication=publication).select_related("registration__person"))
        if publication
        else []
    )
    return render(
        request,
        "assessments/scoring/manage_publicity.html",
        {
            "plan": plan,
            "publication": publication,
            "objections": objections,
            "open_blockers": publicity.publication_blockers(plan) if publication is None else [],
            "finalise_blockers": publicity.finalise_blockers(plan, today) if publication else [],
        },
    )


@login_required
@require_POST
def publicity_open(request, plan_id: int):
    actor = Actor.from_request(request)
    publication = perform(request, lambda: publicity.publication_open(actor=actor, plan_id=plan_id))
    if publication is not None:
        messages.success(
            request,
            _("成绩公示已开始,公示期至%(d)s") % {"d": publication.ends_on}
            + (f"({publication.calendar_note})" if publication.calendar_note else ""),
        )
    return redirect("assessments:publicity_manage", plan_id=plan_id)


@login_required
@require_POST
def publicity_answer(request, objection_id: int):
    actor = Actor.from_request(request)
    perform(
        request,
        lambda: publicity.objection_answer(
            actor=actor, objection_id=objection_id, response=request.POST.get("response", "")
        ),
        _("已答复"),
    )
    plan_id = Objection.objects.filter(pk=objection_id).values_list("publication__plan_id", flat=True).first()
    if plan_id:
        return redirect("assessments:publicity_manage", plan_id=plan_id)
    return redirect("assessments:score_mine")


@login_required
@require_POST
def publicity_finalise(request, plan_id: int):
    actor = Actor.from_request(request)
    summary = perform(request, lambda: publicity.plan_finalise(actor=actor, plan_id=plan_id))
    if summary is not None:
        text = _("已办结:%(t)d名考生,合格%(p)d名,不合格%(f)d名,缺考%(a)d名,违纪%(v)d名。") % {
            "t": summary.total,
            "p": summary.passed,
            "f": summary.failed,
            "a": summary.absent,
            "v": summary.void,
        }
        if summary.certificates_started:
            text += _("已转入证书核发。")
        messages.success(request, text)
    return redirect("assessments:publicity_manage", plan_id=plan_id)
