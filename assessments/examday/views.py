"""Exam-day pages: the organisation's tickets, the candidate's ticket (page and PDF), and the check-in page the
supervisor or assessor opens on a phone at the door. Rules are in services.py; views parse, call and respond."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from core.errors import PlatformError
from core.pages import perform

from ..scoring.access import admin_plan
from . import selectors, services
from .pdf import qr_data_uri, render_ticket


@login_required
def tickets_manage(request, plan_id: int):
    """The organisation's tickets for a plan, the button that issues them, and the check-in page of each session."""
    actor = Actor.from_request(request)
    plan = admin_plan(actor, plan_id, lock=False)
    if request.method == "POST":
        issued = perform(request, lambda: services.tickets_issue(actor=actor, plan_id=plan_id))
        if issued:
            messages.success(request, _("已发放%(n)d张准考证") % {"n": len(issued)})
        return redirect("assessments:tickets", plan_id)
    tickets = selectors.tickets_of(plan).order_by("seat")
    waiting = plan.registrations.filter(status="approved", ticket__isnull=True).count()
    return render(
        request,
        "assessments/examday/tickets.html",
        {"plan": plan, "tickets": tickets, "waiting": waiting, "components": plan.components.all()},
    )


@login_required
def ticket_page(request, registration_id: int):
    """The candidate's admission ticket on screen: the QR code is shown at the door."""
    ticket = services.ticket_for(Actor.from_request(request), registration_id)
    view = selectors.ticket_view(ticket)
    return render(
        request,
        "assessments/examday/ticket.html",
        {"t": view, "ticket": ticket, "qr": qr_data_uri(view.token), "registration": ticket.registration},
    )


@login_required
def ticket_pdf(request, registration_id: int):
    ticket = services.ticket_for(Actor.from_request(request), registration_id)
    response = HttpResponse(render_ticket(selectors.ticket_view(ticket)), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="ticket-{ticket.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def checkin_mine(request):
    """The sessions whose check-in the signed-in supervisor or assessor runs."""
    return render(
        request,
        "assessments/examday/checkin_mine.html",
        {"sessions": selectors.sessions_for(Actor.from_request(request))},
    )


def _roster_context(plan, component) -> dict:
    rows = selectors.session_roster(plan, component)
    present = sum(1 for r in rows if r.checkin and r.checkin.status == "present")
    absent = sum(1 for r in rows if r.checkin and r.checkin.status == "absent")
    return {"rows": rows, "present": present, "absent": absent, "waiting": len(rows) - present - absent}


@login_required
def checkin_page(request, plan_id: int, kind: str):
    """Scan (camera) or type a ticket, compare the ID document with the photo, check in; or mark absent."""
    actor = Actor.from_request(request)
    plan, component = selectors.checkin_session(actor, plan_id, kind)
    here = reverse("assessments:checkin", args=[plan_id, kind])
    context = {"plan": plan, "component": component, "label": selectors.KIND_LABELS[kind]}
    if request.method == "POST":
        action = request.POST.get("action", "lookup")
        code = request.POST.get("code", "").strip()
        if action == "lookup":
            try:
                ticket = services.checkin_lookup(actor=actor, plan_id=plan_id, kind=kind, code=code)
            except PlatformError as exc:
                messages.error(request, exc.message)
                return render(
                    request,
                    "assessments/examday/checkin.html",
                    context | _roster_context(plan, component) | {"code": code},
                    status=422,
                )
            existing = ticket.registration.checkins.filter(component=component).first()
            return render(
                request,
                "assessments/examday/checkin.html",
                context | _roster_context(plan, component) | {"found": ticket, "code": code, "existing": existing},
            )
        status = "present" if action == "present" else "absent"
        registration_id = request.POST.get("registration_id") or None
        checkin = perform(
            request,
            lambda: services.checkin_record(
                actor=actor,
                plan_id=plan_id,
                kind=kind,
                status=status,
                code=code,
                registration_id=int(registration_id) if registration_id and registration_id.isdigit() else None,
                id_checked=request.POST.get("id_checked") == "on",
                note=request.POST.get("note", ""),
            ),
        )
        if checkin is not None:
            name = checkin.registration.person.name
            messages.success(request, _("%(n)s:%(s)s") % {"n": name, "s": checkin.get_status_display()})
            if status == "present" and request.POST.get("binding_code") == "on":
                # Shown once on this page, never put in the session's messages.
                code = perform(request, lambda: services.checkin_binding_code(actor=actor, checkin=checkin))
                if code:
                    return render(
                        request,
                        "assessments/examday/checkin.html",
                        context | _roster_context(plan, component) | {"binding_code": code, "bound_for": checkin},
                    )
        return redirect(here)
    return render(request, "assessments/examday/checkin.html", context | _roster_context(plan, component))


@login_required
@require_POST
def ticket_reissue(request, plan_id: int, registration_id: int):
    """A lost ticket: issue it again with a new QR code (the old one no longer checks in)."""
    actor = Actor.from_request(request)
    perform(
        request,
        lambda: services.tickets_issue(actor=actor, plan_id=plan_id, registration_ids=[registration_id]),
        _("已重新发放准考证,旧二维码作废"),
    )
    return redirect("assessments:tickets", plan_id)
