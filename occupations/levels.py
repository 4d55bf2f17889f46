"""Reading a level as people write it: one table of spellings for every import, and the certificate number
format of each level (Level.number_format) for writing and reading numbers."""

import re
import string
from collections.abc import Iterable

from django.utils.translation import gettext as _

from .models import Level


def level_spellings(levels: Iterable[Level] | None = None) -> dict[str, Level]:
    """Every spelling of each level, old and new: 3, 三级, 高级工, 高级, 三级/高级工, 三级(高级工), 国家职业资格三级."""
    table: dict[str, Level] = {}
    for lv in Level.objects.all() if levels is None else levels:
        spellings = [lv.code, lv.name, lv.label, f"国家职业资格{lv.name}"]
        if lv.title:
            spellings += [lv.title, f"{lv.name}/{lv.title}", f"{lv.name}({lv.title})"]
            if lv.title.endswith("工") and len(lv.title) > 2:
                spellings.append(lv.title[:-1])  # 高级工 → 高级, as 职业资格证书 printed it
        for spelling in spellings:
            table.setdefault(spelling, lv)
    return table


def level_from_text(value: object, table: dict[str, Level]) -> Level | None:
    """The level a cell names, tolerating full-width brackets and spaces (国家职业资格三级（高级）); None if none."""
    text = str(value if value is not None else "").strip()
    text = text.replace("\uff08", "(").replace("\uff09", ")").replace("\u3000", "").replace(" ", "")
    candidates = [text, text.removeprefix("国家职业资格")]
    inner = re.fullmatch(r"(.+?)\((.+)\)", candidates[-1])
    if inner:
        candidates += [inner.group(1), inner.group(2)]
    return next((table[c] for c in candidates if c in table), None)


# --- Certificate numbers: each level's format is data (Level.number_format) --------------------------------

_FIELD_PATTERNS = {"prefix": r"[YS]\d{12}", "year": r"\d{2}"}
_REQUIRED_FIELDS = ("prefix", "year", "digit", "serial")
_SERIAL_SPEC = re.compile(r"0([1-9])d")  # zero-padded, fixed width: "6d" would pad with spaces
_FIXED_WIDTH = 13 + 2 + 1  # prefix, year, digit
MAX_NUMBER_LENGTH = 32  # what signing.token_sign accepts (capital letters and digits, 8–32)


def _parts(template: str) -> list[tuple[str, str | None, str]]:
    return [(text, name, spec or "") for text, name, spec, _conv in string.Formatter().parse(template)]


def number_format_problems(template: str) -> list[str]:
    """Why a number format cannot be used; empty when it can. Every field is needed: without the year or the
    level digit two numbers could coincide, without the prefix two organisations' numbers could."""
    try:
        parts = _parts(template or "")
    except ValueError:
        return [_("证书编号格式的花括号不成对")]
    names = [name for _text, name, _spec in parts if name is not None]
    problems = []
    unknown = sorted(set(names) - set(_REQUIRED_FIELDS))
    if unknown:
        problems.append(_("证书编号格式含未知字段:%(f)s") % {"f": "、".join(unknown)})
    missing = [f for f in _REQUIRED_FIELDS if f not in names]
    if missing:
        problems.append(_("证书编号格式缺少字段:%(f)s") % {"f": "、".join(missing)})
    if any(names.count(f) > 1 for f in _REQUIRED_FIELDS):
        problems.append(_("证书编号格式中每个字段只能出现一次"))
    for _text, name, spec in parts:
        if name == "serial" and not _SERIAL_SPEC.fullmatch(spec):
            problems.append(_("序号应写成{serial:06d}这样的定长数字"))
        elif name in ("prefix", "year", "digit") and spec:
            problems.append(_("字段%(f)s不能带格式说明") % {"f": name})
    literal = "".join(text for text, _name, _spec in parts)
    if literal and not re.fullmatch(r"[A-Z0-9]+", literal):
        problems.append(_("证书编号格式中的固定字符只能是大写字母或数字"))
    widths = [int(m.group(1)) for _t, name, spec in parts if name == "serial" and (m := _SERIAL_SPEC.fullmatch(spec))]
    if widths and _FIXED_WIDTH + widths[0] + len(literal) > MAX_NUMBER_LENGTH:
        problems.append(_("证书编号不能超过%(n)d位") % {"n": MAX_NUMBER_LENGTH})
    return problems


def serial_width(level: Level) -> int:
    spec = next(spec for _text, name, spec in _parts(level.number_format) if name == "serial")
    return int(_SERIAL_SPEC.fullmatch(spec).group(1))


def number_format(level: Level, *, prefix: str, year: str, serial: int) -> str:
    """The certificate number for this level, written as its format says."""
    return level.number_format.format(prefix=prefix, year=year, digit=level.number_digit, serial=serial)


def number_pattern(level: Level) -> re.Pattern[str]:
    """A regex matching exactly the numbers this level's format writes, with named groups for each field."""
    out = []
    for text, name, spec in _parts(level.number_format):
        out.append(re.escape(text))
        if name == "serial":
            out.append(rf"(?P<serial>\d{{{int(_SERIAL_SPEC.fullmatch(spec).group(1))}}})")
        elif name == "digit":
            out.append(f"(?P<digit>{re.escape(level.number_digit)})")
        elif name is not None:
            out.append(f"(?P<{name}>{_FIELD_PATTERNS[name]})")
    return re.compile("".join(out))


def level_for_number(number: str, levels: Iterable[Level] | None = None) -> Level | None:
    """The level a platform-format certificate number encodes; None for numbers in no level's format (older
    职业资格 numbers imported from elsewhere, typing mistakes)."""
    number = (number or "").strip().upper()
    for lv in Level.objects.all() if levels is None else levels:
        if number_pattern(lv).fullmatch(number):
            return lv
    return None
