from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from core.errors import PermissionDenied
from core.pages import perform

from . import services
from .models import ReportRecord
from .selectors import overdue, records_for
from .wire import adapter


def _require_reader(actor: Actor) -> None:
    """Organisation admins, bureau staff and the operator have a reporting page; nobody else does."""
    actor.require_authenticated()
    if not (actor.is_operator or actor.bureau_prefixes or actor.organisation_ids("org_admin")):
        raise PermissionDenied(_("仅评价机构管理员和人社部门工作人员可以查看数据上报"))


@login_required
def records(request):
    actor = Actor.from_request(request)
    _require_reader(actor)
    qs = records_for(actor)
    status = request.GET.get("status", "")
    overdue_only = request.GET.get("overdue") == "1"
    shown = qs
    if status in ReportRecord.Status.values:
        shown = shown.filter(status=status)
    if overdue_only:
        shown = overdue(shown)
    counts = {row["status"]: row["n"] for row in qs.order_by().values("status").annotate(n=Count("id"))}
    page = Paginator(shown.order_by("due_on", "-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "national/records.html",
        {
            "page": page,
            "status": status,
            "overdue_only": overdue_only,
            "statuses": [(value, label, counts.get(value, 0)) for value, label in ReportRecord.Status.choices],
            "overdue_count": overdue(qs).count(),
            "configured": adapter() is not None,
            "today": timezone.localdate(),
            "open_statuses": ReportRecord.OPEN,
            "is_bureau": bool(actor.bureau_prefixes) or actor.is_operator,
        },
    )


@login_required
@require_POST
def resend(request, record_id: int):
    actor = Actor.from_request(request)
    perform(request, lambda: services.record_resend(actor=actor, record_id=record_id), _("已更正并重新上报"))
    return redirect("national:records")
