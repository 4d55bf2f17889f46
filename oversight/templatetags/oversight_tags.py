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
    """An entry's before/after as (field, before, after) rows, values shortened for a table cell."""
    before, after = entry.before or {}, entry.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [("", _short(before) if before else "", _short(after) if after else "")]
    rows = []
    for k in dict.fromkeys([*before, *after]):
        label, old = field_words(entry.object_type, k, before.get(k, ""))
        _label, new = field_words(entry.object_type, k, after.get(k, ""))
        rows.append((label, _short(old) if k in before else "", _short(new) if k in after else ""))
    return rows
