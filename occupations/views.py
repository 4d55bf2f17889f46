import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.pages import perform

from . import changes
from .catalogue import occupation_problems
from .changes import require_operator
from .models import (
    CatalogueChange,
    ClassificationEdition,
    LicensingOverlap,
    Occupation,
    OccupationCategory,
    Qualification,
    Standard,
)
from .search import initials_of
from .selectors import occupations_listed


def catalogue(request):
    """The public 目录清单: what may be required (准入类), what is only level evaluation, what is cancelled.

    Each entry says where it comes from and whether its category and authority were checked against the 2021
    catalogue text; searching matches the name, an alias or the pinyin initials (特种作业人员 = "tzzyry")."""
    q = request.GET.get("q", "").strip()
    quals = list(Qualification.objects.all())
    if q:
        lowered = q.lower()
        quals = [
            x for x in quals if any(q in term for term in x.search_terms) or initials_of(x.name).startswith(lowered)
        ]
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
        {
            "q": q,
            "access": access,
            "evaluation": evaluation,
            "cancelled": cancelled,
            "today": today,
            "unconfirmed": sum(1 for x in quals if x.unconfirmed),
        },
    )


def occupations(request):
    """The 大典 2022: search by code, name or pinyin initials, or browse 大类 → 中类 → 小类 → 职业 (细类).

    Every occupation can be found; each row says whether a national standard (and its rule data) is in force,
    because only those can be filed, planned and registered for."""
    q = request.GET.get("q", "").strip()[:64]
    standard = request.GET.get("standard", "")
    category = OccupationCategory.objects.filter(code=request.GET.get("in", "").strip(), active=True).first()
    with_standard = {"yes": True, "none": False}.get(standard)
    trail, children, occupations_page = [], [], None
    node = category
    while node is not None:
        trail.insert(0, node)
        node = node.parent
    if q or with_standard is not None or (category and category.kind == OccupationCategory.Kind.MINOR):
        listed = occupations_listed(q=q, category=category.code if category else None, with_standard=with_standard)
        occupations_page = Paginator(listed.prefetch_related("standards"), 30).get_page(request.GET.get("page"))
    else:
        children = list(
            OccupationCategory.objects.filter(parent=category, active=True).order_by("code")
            if category
            else OccupationCategory.objects.filter(parent=None, active=True).order_by("code")
        )
        codes = list(Occupation.objects.filter(active=True).values_list("code", flat=True))
        for child in children:
            child.occupation_count = sum(1 for c in codes if c.startswith(f"{child.code}-"))
    return render(
        request,
        "occupations/occupations.html",
        {
            "q": q,
            "standard": standard,
            "category": category,
            "trail": trail,
            "children": children,
            "page": occupations_page,
            "total": Occupation.objects.filter(active=True).count(),
            "with_standard": Occupation.objects.filter(
                active=True, standards__in=Standard.objects.in_force_on(timezone.localdate())
            )
            .distinct()
            .count(),
        },
    )


def occupation_detail(request, code: str):
    """One occupation: where it sits in the 大典, its edition and source, and whether it can be assessed."""
    occupation = (
        Occupation.objects.select_related("category__parent__parent", "qualification")
        .prefetch_related("licensing_overlaps", "work_types", "earlier_codes")
        .filter(code=code)
        .first()
    )
    if occupation is None:
        raise Http404
    today = timezone.localdate()
    standard = occupation.standard_on(today)
    return render(
        request,
        "occupations/occupation_detail.html",
        {
            "o": occupation,
            "standard": standard,
            "standard_levels": standard.levels.select_related("level") if standard else [],
            "edition": ClassificationEdition.objects.filter(code=occupation.edition).first(),
            "problems": occupation_problems(occupation, today),
            "overlaps": LicensingOverlap.objects.filter(occupation=occupation).select_related("qualification"),
        },
    )


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
