import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.pages import perform

from . import changes
from .changes import require_operator
from .models import CatalogueChange, Occupation, Qualification


def catalogue(request):
    """The public 目录清单: what may be required (准入类), what is only level evaluation, what is cancelled."""
    q = request.GET.get("q", "").strip()
    quals = Qualification.objects.all()
    if q:
        quals = quals.filter(name__icontains=q)
    # As in force today: a cancellation or a move to level evaluation recorded for a later day is shown as
    # announced, under the heading that still applies until then.
    today = timezone.localdate()
    access, evaluation, cancelled = [], [], []
    for x in quals:
        if x.is_cancelled_on(today):
            cancelled.append(x)
        elif x.kind_on(today) == Qualification.Kind.ACCESS:
            access.append(x)
        else:
            evaluation.append(x)
    return render(
        request,
        "occupations/catalogue.html",
        {"q": q, "access": access, "evaluation": evaluation, "cancelled": cancelled, "today": today},
    )


def occupations(request):
    q = request.GET.get("q", "").strip()
    qs = (
        Occupation.objects.filter(active=True)
        .select_related("qualification")
        .prefetch_related("standards", "licensing_overlaps")
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q))
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "occupations/occupations.html", {"q": q, "page": page})


# --- Catalogue changes (platform operator) ------------------------------------------------------------------


def _operator(request) -> Actor:
    actor = Actor.from_request(request)
    require_operator(actor)
    return actor


@login_required
def changes_page(request):
    """The operator's list of catalogue changes and the form to record one (a draft, previewed before confirming)."""
    actor = _operator(request)
    if request.method == "POST":
        try:
            effective_on = datetime.date.fromisoformat(request.POST.get("effective_on", ""))
        except ValueError:
            effective_on = None
        change = perform(
            request,
            lambda: changes.change_create(
                actor=actor,
                qualification_id=int(request.POST.get("qualification_id") or 0),
                kind=request.POST.get("kind", ""),
                effective_on=effective_on,
                basis=request.POST.get("basis", ""),
                reason=request.POST.get("reason", ""),
            ),
            _("已录入,请核对影响范围后确认"),
        )
        if change is not None:
            return redirect("occupations:change", change_id=change.id)
    return render(
        request,
        "occupations/changes.html",
        {
            "changes": changes.changes_for(actor)[:100],
            "qualifications": Qualification.objects.order_by("status", "kind", "name"),
            "kinds": CatalogueChange.Kind.choices,
            "post": request.POST,
        },
    )


@login_required
def change_page(request, change_id: int):
    """One change: its impact (lists of what it touches) and, while a draft, confirm or discard."""
    actor = Actor.from_request(request)
    change = changes.change_get(actor, change_id)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "confirm":
            perform(
                request,
                lambda: changes.change_confirm(actor=actor, change_id=change.id),
                _("变更已确认,自生效日起施行,已通知相关机构、考生和补贴申请人"),
            )
        elif action == "discard":
            perform(
                request,
                lambda: changes.change_discard(actor=actor, change_id=change.id, reason=request.POST.get("reason", "")),
                _("已放弃该变更"),
            )
        return redirect("occupations:change", change_id=change.id)
    impact = changes.change_impact(change.qualification, change.kind, change.effective_on)
    return render(request, "occupations/change_detail.html", {"change": change, "impact": impact})
