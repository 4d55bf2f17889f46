"""Reading a level as people write it in spreadsheets: one table of spellings for every import."""

import re
from collections.abc import Iterable

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
