import json

from django import template

from core.audit_words import action_words, field_words

register = template.Library()


@register.filter
def oversight_action(action: str) -> str:
    """Any audit action as a person reads it (core.audit_words, the one vocabulary)."""
    return action_words(action)


@register.simple_tag(takes_context=True)
def page_query(context) -> str:
    """The current query string without `page`, for pagers that keep the filters."""
    request = context.get("request")
    if request is None:
        return ""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _short(value, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter
def audit_changes(entry) -> list[tuple[str, str, str]]:
    """An entry's before/after as (field, before, after) rows in words, values shortened for a table cell; what has
    no words (nested records, technical keys) is left to `audit_raw`."""
    before, after = entry.before or {}, entry.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    rows = []
    for k in dict.fromkeys([*before, *after]):
        old = field_words(entry.object_type, k, before[k]) if k in before else None
        new = field_words(entry.object_type, k, after[k]) if k in after else None
        if (k in before and old is None) or (k in after and new is None):
            continue
        label = (old or new)[0]
        rows.append((label, _short(old[1]) if old else "", _short(new[1]) if new else ""))
    return rows


@register.filter
def audit_raw(entry) -> str:
    """The entry's recorded before and after exactly as stored, for an auditor who needs the technical record."""
    if entry.before is None and entry.after is None:
        return ""
    return json.dumps({"before": entry.before, "after": entry.after}, ensure_ascii=False, indent=1)
