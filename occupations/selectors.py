"""Reads of the reference data shared by the pages and the API."""

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from .models import Occupation, Standard
from .search import occupations_matching


def occupations_listed(
    *, q: str = "", category: str | None = None, with_standard: bool | None = None, include_inactive: bool = False
) -> QuerySet[Occupation]:
    """The occupations a list or the autocomplete shows, best match first when searching, each with
    `has_standard`: whether a national standard (and so its rule data) is in force today."""
    in_force = Standard.objects.in_force_on(timezone.localdate()).filter(occupation=OuterRef("pk"))
    qs = (
        Occupation.objects.select_related("qualification", "category")
        .prefetch_related("licensing_overlaps")
        .annotate(has_standard=Exists(in_force))
    )
    if not include_inactive:
        qs = qs.filter(active=True)
    if category:
        qs = qs.filter(code__startswith=f"{category}-")
    if with_standard is not None:
        qs = qs.filter(has_standard=with_standard)
    return occupations_matching(qs, q) if q else qs.order_by("code")
