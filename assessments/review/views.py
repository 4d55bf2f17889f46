"""Pages of the bureau's review of results: the plan's review (the organisation submits, the bureau decides) and the
bureau's queue with each deadline."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.models import Role
from core.pages import perform

from . import selectors, services
from .models import ResultReview


@login_required
def plan_review(request, plan_id: int):
    actor = Actor.from_request(request)
    plan, policy, reviews = selectors.plan_review_state(actor, plan_id)
    if request.method == "POST":
        perform(
            request,
            lambda: services.review_submit(actor=actor, plan_id=plan_id, note=request.POST.get("note", "")),
            _("已报送人社部门审核"),
        )
        return redirect("assessments:result_review", plan_id)
    return render(
        request,
        "assessments/review/plan.html",
        {
            "plan": plan,
            "policy": policy,
            "reviews": reviews,
            "blocker": selectors.issuance_blocker(plan),
            "is_admin": plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN),
            "is_bureau": actor.oversees_region(plan.organisation.region),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def review_decide(request, review_id: int):
    actor = Actor.from_request(request)
    approve = request.POST.get("decision") == "approve"
    review = perform(
        request,
        lambda: services.review_decide(
            actor=actor, review_id=review_id, approve=approve, reason=request.POST.get("reason", "")
        ),
        _("已审核通过") if approve else _("已退回"),
    )
    if review is not None:
        return redirect("assessments:result_review", review.plan_id)
    found = ResultReview.objects.filter(pk=review_id).values_list("plan_id", flat=True).first()
    return redirect("assessments:result_review", found) if found else redirect("assessments:result_reviews")


@login_required
def review_queue(request):
    actor = Actor.from_request(request)
    actor.require_bureau()
    reviews = selectors.reviews_for(actor)
    return render(
        request,
        "assessments/review/queue.html",
        {
            "pending": reviews.filter(status=ResultReview.Status.PENDING).order_by("due_on"),
            "decided": reviews.exclude(status=ResultReview.Status.PENDING)[:50],
            "today": timezone.localdate(),
        },
    )
