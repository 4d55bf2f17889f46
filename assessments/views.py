import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.identity import ID_TYPES
from accounts.models import Role
from accreditation.selectors import filing_in_force, organisation_get
from core.errors import NotFound, PermissionDenied
from core.files import private_file_response
from core.pages import perform, safe_next
from core.spreadsheets import template_workbook
from occupations.models import Level
from occupations.search import occupation_code_for, region_code_for

from . import plans as plan_services
from . import registration as reg_services
from .cancellations import services as cancellations
from .eligibility import EDUCATION_KINDS, TITLE_GRADES
from .integrity import services as integrity
from .integrity.selectors import marks_hidden
from .models import COMPONENT_KINDS, Plan, Registration

# --- Public announcements and the worker's pages -----------------------------------------------------------


def plan_list(request):
    q = request.GET.get("q", "").strip()
    occupation = occupation_code_for(request.GET.get("occupation", ""))
    region = region_code_for(request.GET.get("region", ""))
    qs = plan_services.plan_search(plan_services.public_plans(), q, occupation, region)
    qs = qs.annotate(active=Count("registrations", filter=Q(registrations__status__in=Registration.ACTIVE)))
    page = Paginator(qs.order_by("-registration_opens", "-id"), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/plan_list.html",
        {
            "page": page,
            "q": q,
            "occupation": occupation,
            "region": region,
            "today": timezone.localdate(),
        },
    )


def plan_detail(request, plan_id: int):
    plan = plan_services.public_plans().filter(pk=plan_id).first()
    actor = Actor.from_request(request)
    if plan is None:
        plan = plan_services.plan_get(actor, plan_id) if actor.is_authenticated else None
        if plan is None:
            raise NotFound()
    today = timezone.localdate()
    mine = []
    if actor.person is not None:
        mine = list(plan.registrations.filter(person=actor.person).select_related("level"))
    caught = plan.status == Plan.Status.PUBLISHED and reg_services.caught_by_cancellation(plan)
    return render(
        request,
        "assessments/plan_detail.html",
        {
            "plan": plan,
            "mine": mine,
            "caught": caught,
            "open": plan.status == Plan.Status.PUBLISHED
            and not caught
            and plan.registration_opens <= today <= plan.registration_closes,
            "registered": plan.registrations.filter(status__in=Registration.ACTIVE).count(),
        },
    )


def _evidence_from_post(post) -> dict:
    data = {"work_years": post.get("work_years") or 0, "apprenticeship_completed": bool(post.get("apprenticeship"))}
    if post.get("edu_kind"):
        data["education"] = [
            {
                "kind": post["edu_kind"],
                "in_field": bool(post.get("edu_in_field")),
                "graduated_on": post.get("edu_graduated_on") or None,
                "final_year_student": bool(post.get("edu_final_year")),
            }
        ]
    if post.get("cert_level"):
        data["prior_certificates"] = [
            {
                "occupation_code": post.get("cert_occupation") or "",
                "level": post["cert_level"],
                "number": post.get("cert_number", "").strip(),
                "issued_on": post.get("cert_issued_on") or None,
            }
        ]
    if post.get("title_grade"):
        data["titles"] = [{"grade": post["title_grade"], "obtained_on": post.get("title_obtained_on") or None}]
    return data


@login_required
def register(request, plan_id: int):
    actor = Actor.from_request(request)
    plan = plan_services.public_plans().filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    if request.method == "POST":
        reg = perform(
            request,
            lambda: reg_services.registration_submit(
                actor=actor,
                plan_id=plan.id,
                level=request.POST.get("level", ""),
                name=request.POST.get("name", ""),
                id_type=request.POST.get("id_type", "ric"),
                id_number=request.POST.get("id_number", ""),
                phone=request.POST.get("phone", ""),
                employer_name=request.POST.get("employer_name", ""),
                work_history=request.POST.get("work_history", ""),
                pledge=bool(request.POST.get("pledge")),
                photo=request.FILES.get("photo"),
                **_evidence_from_post(request.POST),
            ),
            _("报名已提交,请关注审核结果"),
        )
        if reg is not None:
            return redirect("assessments:registration", registration_id=reg.id)
    person = actor.person
    # Initial values for every field (template filter arguments cannot look up missing keys).
    post = {
        k: request.POST.get(k, "")
        for k in ("name", "id_number", "phone", "employer_name", "work_history", "work_years")
    }
    if person is not None:
        post.update(name=person.name, id_number=person.id_number, phone=post["phone"] or person.phone)
    return render(
        request,
        "assessments/register.html",
        {
            "plan": plan,
            "person": person,
            "id_types": ID_TYPES,
            "post": post,
            "levels": sorted(plan.levels.all(), key=lambda lv: lv.rank),
            "all_levels": Level.objects.order_by("-rank"),
            "education_kinds": EDUCATION_KINDS,
            "title_grades": TITLE_GRADES,
        },
    )


@login_required
def my_registrations(request):
    actor = Actor.from_request(request)
    regs = Registration.objects.none()
    if actor.person is not None:
        regs = Registration.objects.filter(person=actor.person).select_related("plan__organisation", "level")
    return render(
        request,
        "assessments/my_registrations.html",
        {"regs": regs.order_by("-created_at"), "choices": cancellations.my_choices(actor).order_by("-created_at")},
    )


@login_required
@require_POST
def my_choice(request, choice_id: int):
    """The candidate's answer to a cancellation: continue with the assessment, or be refunded."""
    actor = Actor.from_request(request)
    choice = request.POST.get("choice", "")
    done = _("已选择继续参加认定") if choice == "continue" else _("已选择退费,报名已撤回;评价机构办理退费后会通知您")
    perform(request, lambda: cancellations.choice_make(actor=actor, choice_id=choice_id, choice=choice), done)
    return redirect("assessments:my_registrations")


@login_required
def registration_detail(request, registration_id: int):
    actor = Actor.from_request(request)
    reg = reg_services.registration_get(actor, registration_id)
    is_candidate = actor.person == reg.person or (actor.user and reg.registered_by_id == actor.user.id)
    is_reviewer = reg.plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    hidden = marks_hidden(actor, reg)
    if request.method == "POST" and is_candidate:
        action = request.POST.get("action")
        if action == "evidence":
            perform(
                request,
                lambda: reg_services.registration_update_evidence(
                    actor=actor, registration_id=reg.id, **_evidence_from_post(request.POST)
                ),
                _("材料已更新,重新进入审核"),
            )
        elif action == "withdraw":
            perform(
                request,
                lambda: reg_services.registration_withdraw(actor=actor, registration_id=reg.id),
                _("报名已撤回"),
            )
        return redirect("assessments:registration", registration_id=reg.id)
    return render(
        request,
        "assessments/registration_detail.html",
        {
            "reg": reg,
            "is_candidate": is_candidate,
            "is_reviewer": is_reviewer,
            "results": [] if hidden else reg.results.order_by("kind"),
            "marks_hidden": hidden,
            "can_review_employment": actor.is_operator or actor.oversees_region(reg.plan.organisation.region),
            "all_levels": Level.objects.order_by("-rank"),
            "education_kinds": EDUCATION_KINDS,
            "title_grades": TITLE_GRADES,
        },
    )


@login_required
@require_POST
def registration_review(request, registration_id: int):
    actor = Actor.from_request(request)
    reg = reg_services.registration_get(actor, registration_id)
    perform(
        request,
        lambda: reg_services.registration_review(
            actor=actor,
            registration_id=reg.id,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
        ),
        _("审核意见已保存"),
    )
    return redirect(safe_next(request, reg_detail_url(reg.id)))


def reg_detail_url(registration_id: int) -> str:
    from django.urls import reverse

    return reverse("assessments:registration", args=[registration_id])


# --- The organisation's plans ------------------------------------------------------------------------------


@login_required
def manage(request):
    actor = Actor.from_request(request)
    orgs = [m.organisation for m in actor.memberships if m.role == Role.ORG_ADMIN]
    qs = plan_services.plans_for(actor).filter(organisation__in=orgs) if orgs else plan_services.plans_for(actor)
    if not orgs and not actor.bureau_prefixes and not actor.is_operator:
        raise PermissionDenied(_("仅评价机构和人社部门可以查看"))
    qs = qs.annotate(active=Count("registrations", filter=Q(registrations__status__in=Registration.ACTIVE)))
    page = Paginator(qs.order_by("-id"), 30).get_page(request.GET.get("page"))
    return render(request, "assessments/manage.html", {"page": page, "orgs": orgs})


def _components_from_post(post) -> list[dict]:
    out = []
    for kind, _label in COMPONENT_KINDS:
        date, start, end = post.get(f"{kind}_date"), post.get(f"{kind}_start"), post.get(f"{kind}_end")
        if date and start and end:
            out.append(
                {
                    "kind": kind,
                    "starts_at": datetime.datetime.fromisoformat(f"{date}T{start}"),
                    "ends_at": datetime.datetime.fromisoformat(f"{date}T{end}"),
                    "room": post.get(f"{kind}_room", ""),
                }
            )
    return out


@login_required
def plan_new(request, org_id: int):
    actor = Actor.from_request(request)
    org = organisation_get(actor, org_id)
    actor.require_org_role(org.id, Role.ORG_ADMIN)
    filing = filing_in_force(org)
    if request.method == "POST":

        def create():
            return plan_services.plan_create(
                actor=actor,
                organisation_id=org.id,
                occupation_code=request.POST.get("occupation_code", ""),
                levels=request.POST.getlist("levels"),
                title=request.POST.get("title", ""),
                venue=request.POST.get("venue", ""),
                capacity=request.POST.get("capacity") or 0,
                registration_opens=datetime.date.fromisoformat(request.POST["registration_opens"]),
                registration_closes=datetime.date.fromisoformat(request.POST["registration_closes"]),
                components=_components_from_post(request.POST),
                fee=request.POST.get("fee") or 0,
                work_type=request.POST.get("work_type", ""),
                description=request.POST.get("description", ""),
            )

        try:
            plan = perform(request, create, _("认定计划已保存为草稿,核对后请发布"))
        except (KeyError, ValueError):
            messages.error(request, _("日期或时间格式不正确"))
            plan = None
        if plan is not None:
            return redirect("assessments:manage_plan", plan_id=plan.id)
    return render(
        request,
        "assessments/plan_form.html",
        {
            "org": org,
            "filing": filing,
            "post": request.POST,
            "kinds": COMPONENT_KINDS,
            # Each occupation of the filing with its own levels: the form offers only what the filing allows
            # (学徒工 and 特级/首席技师 only where an employer filed them); plan_create refuses anything else.
            "lines": filing.scope_lines.select_related("occupation").prefetch_related("levels") if filing else [],
            "chosen_levels": request.POST.getlist("levels"),
        },
    )


@login_required
def manage_plan(request, plan_id: int):
    actor = Actor.from_request(request)
    plan = plan_services.plan_get(actor, plan_id)
    is_admin = plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    if request.method == "POST" and is_admin:
        action = request.POST.get("action")
        if action == "publish":
            perform(request, lambda: plan_services.plan_publish(actor=actor, plan_id=plan.id), _("计划已发布"))
        elif action == "cancel":
            perform(
                request,
                lambda: plan_services.plan_cancel(actor=actor, plan_id=plan.id, reason=request.POST.get("reason", "")),
                _("计划已取消,已通知考生"),
            )
        elif action == "reschedule":
            try:
                components = _components_from_post(request.POST)
            except ValueError:
                components = []
            perform(
                request,
                lambda: plan_services.plan_reschedule(
                    actor=actor, plan_id=plan.id, components=components, reason=request.POST.get("reason", "")
                ),
                _("时间已调整,已通知考生"),
            )
        elif action == "import" and request.FILES.get("file"):
            report = perform(
                request,
                lambda: reg_services.registrations_import(
                    actor=actor,
                    plan_id=plan.id,
                    upload=request.FILES["file"],
                    partial=bool(request.POST.get("partial")),
                ),
            )
            if report is not None:
                request.session["import_report"] = report.as_dict()
        return redirect("assessments:manage_plan", plan_id=plan.id)
    status = request.GET.get("status", "")
    regs = plan.registrations.select_related("person", "level").order_by("created_at")
    if status:
        regs = regs.filter(status=status)
    return render(
        request,
        "assessments/manage_plan.html",
        {
            "plan": plan,
            "is_admin": is_admin,
            "status": status,
            "statuses": Registration.Status.choices,
            "page": Paginator(regs, 50).get_page(request.GET.get("page")),
            "kinds": COMPONENT_KINDS,
            "import_report": request.session.pop("import_report", None),
            "counts": _status_counts(plan),
            "caught": plan.cancellation_choices.exists(),
            "integrity": integrity.plan_integrity(plan),
            "can_except": integrity.can_except(actor, plan),
        },
    )


def _status_counts(plan) -> list[tuple[str, int]]:
    """How many registrations in each status, labelled, in the order of the status list (审核通过 32, 待审核 1)."""
    counts = dict(plan.registrations.values_list("status").annotate(n=Count("id")))
    return [(label, counts[value]) for value, label in Registration.Status.choices if counts.get(value)]


@login_required
def plan_cancellation(request, plan_id: int):
    """A plan caught by a cancellation: each candidate's choice, refunds to record, and who goes on."""
    actor = Actor.from_request(request)
    plan, qs = cancellations.plan_choices(actor, plan_id)
    is_admin = plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    if request.method == "POST" and is_admin:
        try:
            refunded_on = datetime.date.fromisoformat(request.POST.get("refunded_on", ""))
        except ValueError:
            refunded_on = None
        choice_id = request.POST.get("choice_id", "")
        choice_id = int(choice_id) if choice_id.isdigit() else 0  # an altered form: no such choice
        perform(
            request,
            lambda: cancellations.refund_record(
                actor=actor,
                choice_id=choice_id,
                amount=request.POST.get("amount", ""),
                refunded_on=refunded_on,
                reference=request.POST.get("reference", ""),
            ),
            _("退费已登记,已通知考生"),
        )
        return redirect("assessments:plan_cancellation", plan_id=plan.id)
    choices = list(qs)
    return render(
        request,
        "assessments/plan_cancellation.html",
        {
            "plan": plan,
            "is_admin": is_admin,
            "choices": choices,
            "summary": cancellations.choices_summary(choices),
            "change": choices[0].change if choices else None,
            "today": timezone.localdate(),
        },
    )


def bulk_template(request):
    data = template_workbook(reg_services.BULK_COLUMNS, "批量报名")
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="registrations-template.xlsx"'
    return response


@login_required
def registration_photo(request, registration_id: int):
    """The photo a candidate registered with, for whoever may read the registration (core/files.py)."""
    reg = reg_services.registration_get(Actor.from_request(request), registration_id)
    if not reg.photo:
        raise NotFound()
    return private_file_response(reg.photo, name=f"registration-{reg.id}", inline=True)
