"""双证书 pages for a school admin: graduating classes, the class-list upload, one-step approval."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role
from core.errors import PermissionDenied
from core.pages import perform
from core.spreadsheets import template_workbook

from ..eligibility import EDUCATION_KINDS
from ..models import Plan
from ..plans import plans_for
from . import services as schools


def _school_plans(actor: Actor):
    admin_of = actor.organisation_ids(Role.ORG_ADMIN)
    return (
        plans_for(actor)
        .filter(organisation_id__in=admin_of, status__in=[Plan.Status.DRAFT, Plan.Status.PUBLISHED])
        .exclude(organisation__school_kind="")
    )


@login_required
def class_list(request):
    actor = Actor.from_request(request)
    if not actor.organisation_ids(Role.ORG_ADMIN) and not actor.bureau_prefixes and not actor.is_operator:
        raise PermissionDenied(_("仅院校评价机构和人社部门可以查看"))
    if request.method == "POST":
        try:
            graduation_date = datetime.date.fromisoformat(request.POST.get("graduation_date", ""))
        except ValueError:
            graduation_date = None
        if graduation_date is None:
            messages.error(request, _("请填写毕业日期"))
        else:
            created = perform(
                request,
                lambda: schools.class_create(
                    actor=actor,
                    plan_id=int(request.POST.get("plan_id") or 0),
                    name=request.POST.get("name", ""),
                    major=request.POST.get("major", ""),
                    graduation_date=graduation_date,
                    education_kind=request.POST.get("education_kind", ""),
                ),
                _("毕业班已建立,请上传班级名单"),
            )
            if created is not None:
                return redirect("assessments:class", class_id=created.id)
        return redirect("assessments:classes")
    classes = schools.classes_for(actor).order_by("-graduation_date")  # each with its counts
    return render(
        request,
        "assessments/classes.html",
        {"classes": classes, "plans": _school_plans(actor), "education_kinds": EDUCATION_KINDS},
    )


@login_required
def class_detail(request, class_id: int):
    actor = Actor.from_request(request)
    graduating_class = schools.class_get(actor, class_id)
    is_admin = graduating_class.plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    if request.method == "POST" and is_admin:
        action = request.POST.get("action")
        if action == "import" and request.FILES.get("file"):
            report = perform(
                request,
                lambda: schools.class_import(actor=actor, class_id=class_id, upload=request.FILES["file"]),
            )
            if report is not None:
                request.session["class_import_report"] = report.as_dict()
        elif action == "approve":
            count = perform(request, lambda: schools.class_approve(actor=actor, class_id=class_id))
            if count is not None:
                messages.success(request, _("已审核通过%(n)d人") % {"n": count})
        return redirect("assessments:class", class_id=class_id)
    regs = graduating_class.registrations.select_related("person", "level", "certificate").order_by("person__name")
    return render(
        request,
        "assessments/class_detail.html",
        {
            "c": graduating_class,
            "is_admin": is_admin,
            "regs": regs,
            "summary": schools.class_summary(graduating_class),
            "education_label": EDUCATION_KINDS.get(graduating_class.education_kind, graduating_class.education_kind),
            "import_report": request.session.pop("class_import_report", None),
        },
    )


def class_template(request):
    data = template_workbook(schools.CLASS_COLUMNS, "毕业班名单")
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="graduating-class-template.xlsx"'
    return response
