"""Text the platform accepts: no control characters, in any input (forms, query strings, API bodies, spreadsheet cells).

A control character is never part of a name, a reason or an address. Stored, it breaks what reads the text later:
PostgreSQL cannot hold NUL; openpyxl refuses the C0 range when the bureau's data report is written (a 500 for
everyone who exports that region); a terminal or a log viewer runs escape sequences. So text with one is refused
where it comes in, with the field named, and nothing is saved.

Tab, line feed and carriage return are allowed: text areas (reasons, notes, work histories) send CR LF, and a tab
typed or pasted into a field is harmless. Everything else in Unicode's control category (Cc: U+0000–U+001F,
U+007F–U+009F) is refused.
"""

import re
from collections.abc import Iterator

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None


def control_character_paths(data: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Where, in decoded JSON (objects, arrays, strings; keys too), a string holds a control character."""
    if isinstance(data, str):
        if has_control_characters(data):
            yield path
    elif isinstance(data, dict):
        for key, value in data.items():
            if has_control_characters(str(key)):
                yield (*path, str(key))
            yield from control_character_paths(value, (*path, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from control_character_paths(value, (*path, str(i)))
