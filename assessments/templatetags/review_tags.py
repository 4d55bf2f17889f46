"""The bureau's to-do block for result and employment reviews (assessments/review/waiting.py), as one tag that a
home page includes: `{% load review_tags %}{% bureau_waiting %}`."""

from django import template

from accounts.actors import Actor

from ..review.waiting import bureau_waiting, counts

register = template.Library()


@register.inclusion_tag("assessments/review/_waiting.html", takes_context=True)
def bureau_waiting_block(context, limit: int = 10):
    actor = Actor.from_request(context["request"])
    items = bureau_waiting(actor)
    return {"items": items[:limit], "more": max(0, len(items) - limit), "counts": counts(items)}
