"""Pages: an employer's admin uploads an employment document from the plan page; bureau staff decide on a candidate
sent for review from the registration page. Every decision is made in `services`."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from core.pages import perform, safe_next

from ..registration import registration_get
from . import services


@login_required
@require_POST
def proof_add(request, organisation_id: int):
    actor = Actor.from_request(request)
    post = request.POST
    perform(
        request,
        lambda: services.employment_proof_add(
            actor=actor,
            organisation_id=organisation_id,
            name=post.get("name", ""),
            id_type=post.get("id_type", "ric"),
            id_number=post.get("id_number", ""),
            kind=post.get("kind", ""),
            upload=request.FILES.get("file"),
            valid_from=post.get("valid_from", ""),
            valid_until=post.get("valid_until", "") or None,
        ),
        _("证明材料已上传"),
    )
    return redirect(safe_next(request, "/assessments/manage/"))


@login_required
@require_POST
def employment_review(request, registration_id: int):
    actor = Actor.from_request(request)
    reg = registration_get(actor, registration_id)  # another region's registration is a 404
    perform(
        request,
        lambda: services.employment_review(
            actor=actor,
            registration_id=reg.id,
            accept=request.POST.get("decision") == "accept",
            reason=request.POST.get("reason", ""),
        ),
        _("审核意见已保存"),
    )
    return redirect("assessments:registration", registration_id=reg.id)
