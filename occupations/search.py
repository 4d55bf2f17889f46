"""Finding an occupation or a region by what a person types: a code, part of a name, or pinyin initials.

One query per search, ranked so that the row someone most likely means comes first: an exact code, then codes
starting with what was typed, exact names, names starting with it, initials (电工 = "dg", 长春市 = "ccs"), and
names merely containing it. Used by the reference API (the autocomplete), the catalogue, the directory and the
forms, so every place finds the same rows in the same order.
"""

import re
from functools import lru_cache

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Length
from pypinyin import Style, lazy_pinyin

_INITIALS = re.compile(r"^[a-z]{1,20}$")
_CODE = re.compile(r"^[0-9][0-9-]*$")


@lru_cache(maxsize=8192)
def initials_of(name: str) -> str:
    """Lower-case pinyin initials of a Chinese name (长春市 → ccs); letters and digits in it are kept.

    Remembered: the test suite reloads the reference data after every transactional test, ~5,000 names each time."""
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
    return "".join(ch for ch in "".join(letters).lower() if ch.isalnum())[:64]


def _search(qs: QuerySet, text: str, *, code_field: str = "code") -> QuerySet:
    text = (text or "").strip()
    if not text:
        return qs
    lowered = text.lower()
    rank = []
    match = Q(name__icontains=text)
    if _CODE.match(text):
        match |= Q(**{f"{code_field}__startswith": text})
        rank += [When(**{code_field: text}, then=Value(0)), When(**{f"{code_field}__startswith": text}, then=Value(1))]
    rank += [When(name=text, then=Value(2)), When(name__startswith=text, then=Value(3))]
    if _INITIALS.match(lowered):
        match |= Q(initials__startswith=lowered)
        rank += [When(initials=lowered, then=Value(4)), When(initials__startswith=lowered, then=Value(5))]
    ordering = Case(*rank, default=Value(6), output_field=IntegerField())
    return (
        qs.filter(match)
        .annotate(match_rank=ordering, name_length=Length("name"))
        .order_by("match_rank", "name_length", code_field)
    )


def occupations_matching(qs: QuerySet, text: str) -> QuerySet:
    """Occupations (细类) whose code, name or pinyin initials match `text`, best first."""
    return _search(qs, text)


def regions_matching(qs: QuerySet, text: str) -> QuerySet:
    """Regions whose code, name or pinyin initials match `text`, best first."""
    return _search(qs, text)


def occupation_code_for(text: str) -> str:
    """What a filter typed without the picker means: the code itself, or the best match's code ("" if none)."""
    from .models import Occupation

    text = (text or "").strip()
    if not text or Occupation.objects.filter(code=text).exists():
        return text
    best = occupations_matching(Occupation.objects.filter(active=True), text).values_list("code", flat=True).first()
    return best or ""


def region_code_for(text: str) -> str:
    """The region code a filter means: the code itself, or the best match's code ("" if none)."""
    from .models import Region

    text = (text or "").strip()
    if not text or Region.objects.filter(code=text).exists():
        return text
    best = regions_matching(Region.objects.filter(active=True), text).values_list("code", flat=True).first()
    return best or ""
