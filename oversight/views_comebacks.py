"""Bureau pages for the check against disguised comebacks of cancelled qualifications (notice section 一)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from core.errors import NotFound
from core.pages import perform

from . import comebacks, reports
from .models import ComebackFinding


@login_required
def comebacks_page(request):
    actor = Actor.from_request(request)
    actor.require_bureau()
    status = request.GET.get("status", ComebackFinding.Status.OPEN)
    qs = comebacks.findings_for(actor)
    if status != "all":
        qs = qs.filter(status=status)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    rows = [(f, comebacks.finding_link(f)) for f in page]
    return render(
        request,
        "oversight/comebacks.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": ComebackFinding.Status.choices,
            "cancelled": comebacks.cancelled_qualifications(timezone.localdate()),
        },
    )


@login_required
@require_POST
def comebacks_scan(request):
    actor = Actor.from_request(request)
    result = perform(request, lambda: comebacks.comeback_scan(actor=actor))
    if result is not None:
        messages.success(
            request,
            _("排查完成:已取消事项%(q)d项,新发现%(r)d条疑点,%(x)d条疑点不再成立")
            % {"q": result.qualifications, "r": result.raised + result.reopened, "x": result.cleared},
        )
    return redirect("oversight:comebacks")


@login_required
@require_POST
def comeback_action(request, finding_id: int):
    actor = Actor.from_request(request)
    action = request.POST.get("action")
    if action == "investigate":
        complaint = perform(
            request, lambda: comebacks.finding_investigate(actor=actor, finding_id=finding_id), _("已立案调查")
        )
        if complaint is not None:
            return redirect("oversight:complaint", complaint_id=complaint.id)
    elif action == "link":

        def link():
            number = (request.POST.get("number") or "").strip().upper()
            case = reports.complaints_for(actor).filter(number=number).first() if number else None
            if case is None:
                raise NotFound(_("未找到该案件编号(仅限本辖区案件)"))
            return comebacks.finding_link_case(actor=actor, finding_id=finding_id, complaint_id=case.id)

        perform(request, link, _("已并入案件"))
    elif action == "dismiss":
        perform(
            request,
            lambda: comebacks.finding_dismiss(
                actor=actor, finding_id=finding_id, reason=request.POST.get("reason", "")
            ),
            _("已排除该疑点"),
        )
    return redirect("oversight:comebacks")
