"""Rules of accreditation that pages, API and tasks share: what a scope may contain, file checks, 考培分离."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from occupations.catalogue import occupation_problems
from occupations.models import Level, Occupation, Qualification

from .models import Organisation

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Magic numbers, not file names or the browser's claimed type, decide what a file is.
_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


def sniff_content_type(head: bytes) -> str | None:
    for magic, content_type in _SIGNATURES.items():
        if head.startswith(magic):
            return content_type
    return None


def scope_line_problems(
    occupation: Occupation, level_codes: list[str], on: datetime.date, *, organisation_kind: str | None = None
) -> list[str]:
    """Why this occupation × levels may not be filed, checked against the catalogue, the standards and, given an
    organisation kind, which kinds of organisation each level admits (Level.organisation_kinds). Filing always
    passes the kind; a caller checking only the catalogue and standards (a platform-wide scan) may leave it out."""
    problems = []
    if not occupation.active:
        problems.append(_("该职业已停用"))
    problems += occupation_problems(occupation, on)
    standard = occupation.standard_on(on)
    if standard is None:
        problems.append(_("该职业尚无施行中的国家职业技能标准"))
    elif level_codes:
        defined = set(standard.levels.values_list("level__code", flat=True))
        missing = [c for c in level_codes if c not in defined]
        if missing:
            names = "、".join(Level.objects.get(code=c).name for c in missing if Level.objects.filter(code=c).exists())
            problems.append(_("国家职业技能标准未设置等级:%(levels)s") % {"levels": names or "、".join(missing)})
    refused = [
        lv
        for lv in Level.objects.filter(code__in=level_codes)
        if organisation_kind is not None and not lv.allows_organisation_kind(organisation_kind)
    ]
    if refused:
        problems.append(
            _("%(levels)s只能由%(kinds)s备案评价(人社部发〔2022〕14号),本机构不能将其列入备案范围")
            % {"levels": "、".join(lv.label for lv in refused), "kinds": kinds_phrase(refused)}
        )
    if not level_codes:
        problems.append(_("请至少选择一个等级"))
    return problems


def kinds_phrase(levels: list[Level]) -> str:
    labels = dict(Organisation.Kind.choices)
    kinds = sorted(set("".join(lv.organisation_kinds for lv in levels)), reverse=True)
    return "或".join(str(labels.get(k, k)) for k in kinds)


def levels_for_kind(organisation_kind: str) -> list[Level]:
    """The levels a kind of organisation may file, highest first, as the scope form lists them."""
    return [lv for lv in Level.objects.order_by("-rank") if lv.allows_organisation_kind(organisation_kind)]


def licensing_notes(occupation: Occupation, on: datetime.date | None = None) -> list[str]:
    """Not refusals: reminders that parts of the work also need a licence (none for a licence since cancelled)."""
    on = on or timezone.localdate()
    return [
        _("注意:%(note)s(%(qual)s,准入类)") % {"note": ov.note, "qual": ov.qualification.name}
        for ov in occupation.licensingoverlap_set.select_related("qualification")
        if ov.qualification.kind_on(on) == Qualification.Kind.ACCESS and not ov.qualification.is_cancelled_on(on)
    ]
