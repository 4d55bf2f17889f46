"""The daily deadline check: cases not answered in time and rectifications not done in time, notified once."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from core.notifications import notify

from .models import Complaint, Rectification
from .reports import officers_for


def overdue_notify(*, today: datetime.date | None = None) -> dict:
    """Tell the officer handling each overdue case, and the organisation and inspector of each overdue
    rectification. Each item is notified once, on the first run after its deadline passes."""
    today = today or timezone.localdate()
    cases = rectifications = 0
    for complaint_id in (
        Complaint.objects.overdue(today).filter(overdue_notified_on__isnull=True).values_list("id", flat=True)
    ):
        with transaction.atomic():
            c = Complaint.objects.select_for_update(of=("self",)).select_related("region").get(pk=complaint_id)
            if c.overdue_notified_on is not None or not c.is_open:
                continue
            users = [c.assigned_to] if c.assigned_to_id else officers_for(c)
            notify(
                users=users,
                title=_("举报案件已超过答复期限:%(n)s") % {"n": c.number},
                body=_("答复期限为%(due)s,请尽快办理。") % {"due": c.due_on},
                link=f"/oversight/complaints/{c.id}/",
            )
            c.overdue_notified_on = today
            c.save(update_fields=["overdue_notified_on"])
            cases += 1
    for rect_id in (
        Rectification.objects.overdue(today).filter(overdue_notified_on__isnull=True).values_list("id", flat=True)
    ):
        with transaction.atomic():
            r = (
                Rectification.objects.select_for_update(of=("self",))
                .select_related("inspection__organisation", "inspection__lead")
                .get(pk=rect_id)
            )
            if r.overdue_notified_on is not None or r.status != Rectification.Status.OPEN:
                continue
            org = r.inspection.organisation
            admins = [m.user for m in org.members.filter(role=Role.ORG_ADMIN).select_related("user")]
            notify(
                users=[*admins, r.inspection.lead],
                title=_("整改已逾期(%(n)s)") % {"n": r.inspection.number},
                body=_("%(org)s 的整改事项应于%(due)s前完成,至今未报送整改材料。") % {"org": org.name, "due": r.due_on},
                link=f"/oversight/inspections/{r.inspection_id}/",
            )
            r.overdue_notified_on = today
            r.save(update_fields=["overdue_notified_on"])
            rectifications += 1
    return {"complaints": cases, "rectifications": rectifications}
