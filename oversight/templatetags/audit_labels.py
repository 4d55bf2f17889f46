from django import template

from core.audit_words import action_words

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    """The audit action as a person reads it (core.audit_words, the one vocabulary)."""
    return action_words(action)
