"""Exam evidence pages: a session's evidence (add, list, download through a checked view, never from the media
folder) and the bureau's list of sessions lacking evidence."""

import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from core.errors import PlatformError
from core.files import private_file_response
from core.pages import perform

from ..examday.selectors import KIND_LABELS, checkin_session
from . import selectors, services
from .models import SessionEvidence


@login_required
def session_evidence(request, plan_id: int, kind: str):
    actor = Actor.from_request(request)
    plan, component = selectors.evidence_session(actor, plan_id, kind)
    try:
        checkin_session(actor, plan_id, kind)
        can_add = True
    except PlatformError:  # the bureau reads; only those who run the session add
        can_add = False
    items = list(component.evidence.select_related("added_by"))
    present = {e.kind for e in items}
    return render(
        request,
        "assessments/evidence/session.html",
        {
            "plan": plan,
            "component": component,
            "label": KIND_LABELS[kind],
            "items": items,
            "kinds": SessionEvidence.Kind.choices,
            "can_add": can_add,
            "missing": [dict(SessionEvidence.Kind.choices)[k] for k in selectors.session_missing(component, present)],
            "checkins": component.checkins.select_related("registration__person").order_by("recorded_at"),
        },
    )


@login_required
@require_POST
def evidence_add(request, plan_id: int, kind: str):
    actor = Actor.from_request(request)
    perform(
        request,
        lambda: services.evidence_add(
            actor=actor,
            plan_id=plan_id,
            kind=kind,
            evidence_kind=request.POST.get("evidence_kind", ""),
            title=request.POST.get("title", ""),
            upload=request.FILES.get("file"),
            video_location=request.POST.get("video_location", ""),
            video_sha256=request.POST.get("video_sha256", ""),
        ),
        _("已保存考务资料"),
    )
    return redirect("assessments:evidence", plan_id, kind)


@login_required
def evidence_download(request, evidence_id: int):
    evidence = services.evidence_open(actor=Actor.from_request(request), evidence_id=evidence_id)
    return private_file_response(
        evidence.file, name=f"evidence-{evidence.id}", content_type=evidence.content_type, inline=False
    )


@login_required
def evidence_missing(request):
    actor = Actor.from_request(request)
    actor.require_bureau()
    today = timezone.localdate()
    prefixes = [""] if actor.is_operator else actor.bureau_prefixes
    found = selectors.missing_evidence(prefixes, since=today - datetime.timedelta(days=365), today=today)
    return render(request, "assessments/evidence/missing.html", {"found": found})
