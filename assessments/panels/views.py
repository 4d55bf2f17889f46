"""Pages for panels and supervision: the organisation forms its panels, the bureau assigns a supervisor, the
supervisor sees their sessions and reports. Every decision is made in assessments/panels/rules.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.identity import ID_TYPES
from accounts.models import Role
from core.errors import PermissionDenied
from core.pages import perform

from ..models import RelationshipDeclaration
from ..plans import plan_get
from . import rules, selectors, services


@login_required
def panel_page(request, plan_id: int):
    """The organisation's panel page: per component, required vs assigned, members, and who can be added."""
    actor = Actor.from_request(request)
    plan = plan_get(actor, plan_id)
    components = [
        {"panel": panel, "availability": selectors.panel_candidates(plan, panel.kind)}
        for panel in rules.panel_status(plan)
    ]
    return render(
        request,
        "assessments/panels/panel.html",
        {
            "plan": plan,
            "components": components,
            "supervisor": plan.supervisor,
            "is_admin": plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN),
            "can_assign_supervisor": services.can_assign_supervisor(actor, plan),
            "is_open": plan.status in rules.OPEN_STATUSES,
        },
    )


@login_required
@require_POST
def panel_assign(request, plan_id: int, kind: str):
    """Assign every ticked assessor (one form of checkboxes), then back to the same component on the page."""
    actor = Actor.from_request(request)
    plan_get(actor, plan_id)  # another tenant's plan is a 404, not a message
    ids = []
    for value in request.POST.getlist("appointment_id"):
        try:
            ids.append(int(value))
        except ValueError:
            continue
    if not ids:
        messages.error(request, _("请勾选要安排的考评员"))
    assigned = []
    for appointment_id in dict.fromkeys(ids):
        # Each assignment is its own transaction and is checked on its own: one refused person (with the rule
        # and the record) does not undo the others.
        member = perform(
            request,
            lambda appointment_id=appointment_id: services.panel_assign(
                actor=actor, plan_id=plan_id, kind=kind, appointment_id=appointment_id
            ),
        )
        if member is not None:
            assigned.append(member.appointment.person.name)
    if assigned:
        messages.success(request, _("已安排到考评组:%(names)s") % {"names": "、".join(assigned)})
    return redirect(reverse("assessments:panel_page", args=[plan_id]) + f"#panel-{kind}")


@login_required
@require_POST
def panel_remove(request, plan_id: int, kind: str, appointment_id: int):
    actor = Actor.from_request(request)
    plan_get(actor, plan_id)
    perform(
        request,
        lambda: services.panel_remove(
            actor=actor,
            plan_id=plan_id,
            kind=kind,
            appointment_id=appointment_id,
            reason=request.POST.get("reason", ""),
        ),
        _("已移出考评组"),
    )
    return redirect(reverse("assessments:panel_page", args=[plan_id]) + f"#panel-{kind}")


@login_required
def supervision_assign(request, plan_id: int):
    """The bureau's page: pick an eligible supervisor, or draw one at random (随机抽取)."""
    actor = Actor.from_request(request)
    plan = plan_get(actor, plan_id)
    if not services.can_assign_supervisor(actor, plan):
        raise PermissionDenied(_("督导员由机构所在地的人社部门指派"))
    if request.method == "POST":
        if request.POST.get("action") == "random":
            done = perform(
                request,
                lambda: services.supervisor_assign_random(actor=actor, plan_id=plan.id),
                _("已随机抽取督导员"),
            )
        else:
            try:
                appointment_id = int(request.POST.get("appointment_id", ""))
            except ValueError:
                appointment_id = 0
            done = perform(
                request,
                lambda: services.supervisor_assign(actor=actor, plan_id=plan.id, appointment_id=appointment_id),
                _("已指派督导员"),
            )
        if done is not None:
            return redirect("assessments:supervision_assign", plan_id=plan.id)
    plan.refresh_from_db()
    return render(
        request,
        "assessments/panels/supervisor.html",
        {
            "plan": plan,
            "supervisor": plan.supervisor,
            "candidates": selectors.supervisor_candidates(plan),
            "is_open": plan.status in rules.OPEN_STATUSES,
        },
    )


@login_required
def supervision_mine(request):
    """The supervisor's sessions: plans they are assigned to, and whether they have reported."""
    actor = Actor.from_request(request)
    return render(
        request,
        "assessments/panels/my_sessions.html",
        {"plans": selectors.supervised_plans(actor), "has_person": actor.person is not None},
    )


@login_required
def supervision_report(request, plan_id: int):
    actor = Actor.from_request(request)
    plan = selectors.supervised_plan_get(actor, plan_id)
    answers = {k: request.POST.get(k, "") for k in rules.CHECKLIST} if request.method == "POST" else {}
    findings = request.POST.get("findings", "") if request.method == "POST" else ""
    if request.method == "POST":
        report = perform(
            request,
            lambda: services.supervision_report_submit(
                actor=actor, plan_id=plan.id, checklist=answers, findings=findings
            ),
            _("督导报告已提交"),
        )
        if report is not None:
            return redirect("assessments:supervision_mine")
    return render(
        request,
        "assessments/panels/report.html",
        {
            "plan": plan,
            "items": [(k, label, answers.get(k, "")) for k, label in rules.CHECKLIST.items()],
            "findings": findings,
            "reports": [
                {
                    "report": r,
                    "answers": [(rules.CHECKLIST[k], v) for k, v in r.checklist.items() if k in rules.CHECKLIST],
                }
                for r in plan.supervision_reports.order_by("-submitted_at")
            ],
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
def supervision_relationships(request):
    """Assessors and supervisors declare relationships (近亲属, 师生, 师徒, 同事…) that require recusal."""
    actor = Actor.from_request(request)
    data = {k: request.POST.get(k, "") for k in ("name", "id_type", "id_number", "kind", "note")}
    if request.method == "POST":
        declared = perform(
            request,
            lambda: services.relationship_declare(
                actor=actor,
                kind=data["kind"],
                note=data["note"],
                name=data["name"],
                id_type=data["id_type"] or "ric",
                id_number=data["id_number"],
            ),
            _("回避关系已申报"),
        )
        if declared is not None:
            return redirect("assessments:supervision_relationships")
    return render(
        request,
        "assessments/panels/relationships.html",
        {
            "declarations": selectors.relationships_of(actor.person),
            "kinds": RelationshipDeclaration.Kind.choices,
            "id_types": ID_TYPES,
            "data": data,
            "has_person": actor.person is not None,
        },
        status=422 if request.method == "POST" else 200,
    )
