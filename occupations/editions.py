"""Which 2022 occupation a code of some 大典 edition means.

A certificate, filing or standard records the edition of its code. A code of the current edition is the occupation
itself; a code of an earlier edition means the 2022 occupation that `OccupationCodeMapping` (data) links it to, or
nothing when no link is known — shown as unmapped, never guessed from a similar name.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from core.errors import ValidationFailed

from .models import ClassificationEdition, Occupation, OccupationCodeMapping

_EDITION = re.compile(r"^(\d{4})(年版?)?$")


@dataclass(frozen=True)
class ReadCode:
    code: str
    edition: str
    occupation: Occupation | None
    mapping: OccupationCodeMapping | None = None

    @property
    def is_current(self) -> bool:
        return self.edition == ClassificationEdition.current_code()


def edition_from_text(text: str) -> str:
    """'2015', '2015年版' → '2015'; empty → the current edition. Refuses an edition the platform does not know."""
    text = (text or "").strip()
    if not text:
        return ClassificationEdition.current_code()
    m = _EDITION.match(text)
    known = list(ClassificationEdition.objects.values_list("code", flat=True))
    if not m or m.group(1) not in known:
        raise ValidationFailed(
            _("大典版本应为%(known)s之一(如 2015 或 2015年版)") % {"known": "、".join(sorted(known, reverse=True))},
            details={"field": "occupation_edition"},
        )
    return m.group(1)


def occupation_for_code(code: str, edition: str) -> ReadCode:
    """The 2022 occupation `code` of `edition` means. A current-edition code that does not exist is an error; an
    earlier edition's code without a known mapping reads as no occupation."""
    if edition == ClassificationEdition.current_code():
        occupation = Occupation.objects.filter(code=code).first()
        if occupation is None:
            raise ValidationFailed(
                _("职业编码%(c)s不在%(e)s年版职业分类大典中;若为旧版大典的编码,请填写大典版本")
                % {"c": code, "e": edition},
                details={"field": "occupation_code"},
            )
        return ReadCode(code, edition, occupation)
    mapping = OccupationCodeMapping.objects.select_related("occupation").filter(edition=edition, old_code=code).first()
    return ReadCode(code, edition, mapping.occupation if mapping else None, mapping)
