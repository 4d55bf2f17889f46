from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from .models import Occupation, Qualification


def catalogue(request):
    """The public 目录清单: what may be required (准入类), what is only level evaluation, what is cancelled."""
    q = request.GET.get("q", "").strip()
    quals = Qualification.objects.all()
    if q:
        quals = quals.filter(name__icontains=q)
    return render(
        request,
        "occupations/catalogue.html",
        {
            "q": q,
            "access": quals.filter(kind=Qualification.Kind.ACCESS, status=Qualification.Status.LISTED),
            "evaluation": quals.filter(kind=Qualification.Kind.EVALUATION, status=Qualification.Status.LISTED),
            "cancelled": quals.filter(status=Qualification.Status.CANCELLED),
        },
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
