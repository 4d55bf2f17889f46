"""Pages: the bureau records or withdraws an exception from the plan page. The findings are shown on the plan's
management page (templates/assessments/integrity/section.html); every decision is made in `services`."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from core.errors import NotFound
from core.pages import perform

from ..models import IntegrityException
from ..plans import plan_get
from . import services


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_POST
def exception_grant(request, plan_id: int):
    actor = Actor.from_request(request)
    plan_get(actor, plan_id)  # another tenant's plan is a 404, not a message
    post = request.POST
    perform(
        request,
        lambda: services.exception_grant(
            actor=actor,
            plan_id=plan_id,
            rule_code=post.get("rule_code", ""),
            kind=post.get("kind", ""),
            appointment_id=_int_or_none(post.get("appointment_id")),
            record_type=post.get("record_type", ""),
            record_id=_int_or_none(post.get("record_id")),
            reason=post.get("reason", ""),
        ),
        _("已核准例外,并通知评价机构"),
    )
    return redirect("assessments:manage_plan", plan_id=plan_id)


@login_required
@require_POST
def exception_revoke(request, exception_id: int):
    actor = Actor.from_request(request)
    exception = IntegrityException.objects.filter(pk=exception_id).first()
    if exception is None:
        raise NotFound()
    plan_get(actor, exception.plan_id)
    perform(
        request,
        lambda: services.exception_revoke(
            actor=actor, exception_id=exception_id, reason=request.POST.get("reason", "")
        ),
        _("例外已撤销"),
    )
    return redirect("assessments:manage_plan", plan_id=exception.plan_id)
