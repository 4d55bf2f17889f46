"""The one masking rule for personal data shown where it must not identify a person in full.

Lives in core so that the shared template filters (core/templatetags/ui.py) and every app use the same rule;
`accounts.identity` re-exports it.
"""


def mask_id_number(value: str) -> str:
    """220102********1234 — the first 6 and last 4 shown, as the national query pages do."""
    if not value:
        return ""
    if len(value) <= 8:
        return value[:2] + "*" * (len(value) - 3) + value[-1:]
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    digits = (value or "").strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "****" + digits[-4:]


def mask_account(value: str) -> str:
    digits = (value or "").replace(" ", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_name(value: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***; used where a public list must not identify a person."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)
