"""What waits for a bureau's decision on results and employment: the result reviews submitted to it and the
registrations an employer sent for its employment review. Shown on the bureau's home, overdue first, and sent to
its officers each morning (assessments.tasks.bureau_waiting_notify_task).

Deadlines are data: a result review's `due_on` (ResultReviewPolicy.working_days, fixed on submission) and, for an
employment review, AssessmentPolicy.employment_review_working_days counted from the day after the registration."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Bureau, Membership, Role
from core.notifications import notify
from occupations.models import Region
from occupations.workdays import add_working_days

from ..models import Registration
from ..policy import policy_for
from .models import ResultReview


@dataclass
class Waiting:
    kind: str  # "results" | "employment"
    label: str
    organisation: str
    since: datetime.date
    due_on: datetime.date
    link: str
    today: datetime.date

    @property
    def overdue(self) -> bool:
        return self.due_on < self.today

    @property
    def kind_label(self) -> str:
        return _("成绩审核") if self.kind == "results" else _("本单位职工核验")


def _region_q(path: str, prefixes: list[str] | None) -> Q:
    return Q() if prefixes is None else Region.within_q(path, prefixes)


def waiting_in(prefixes: list[str] | None, today: datetime.date | None = None) -> list[Waiting]:
    """Everything waiting in the regions under `prefixes` (None: everywhere), overdue first, then by deadline."""
    today = today or timezone.localdate()
    items = []
    reviews = (
        ResultReview.objects.filter(status=ResultReview.Status.PENDING)
        .filter(_region_q("plan__organisation__region", prefixes))
        .select_related("plan__organisation")
    )
    for r in reviews:
        items.append(
            Waiting(
                kind="results",
                label=r.plan.title,
                organisation=r.plan.organisation.name,
                since=timezone.localtime(r.submitted_at).date(),
                due_on=r.due_on,
                link=f"/assessments/plans/{r.plan_id}/result-review/",
                today=today,
            )
        )
    regs = (
        Registration.objects.filter(employment_status="review", status__in=Registration.ACTIVE)
        .filter(_region_q("plan__organisation__region", prefixes))
        .select_related("plan__organisation__region", "person")
    )
    for reg in regs:
        since = timezone.localtime(reg.created_at).date()
        days = policy_for(reg.plan.organisation.region.code, since).employment_review_working_days
        items.append(
            Waiting(
                kind="employment",
                label=f"{reg.person.name} · {reg.plan.title}",
                organisation=reg.plan.organisation.name,
                since=since,
                due_on=add_working_days(since, days).date,
                link=f"/assessments/registrations/{reg.id}/",
                today=today,
            )
        )
    return sorted(items, key=lambda w: (not w.overdue, w.due_on, w.since, w.label))


def bureau_waiting(actor: Actor, today: datetime.date | None = None) -> list[Waiting]:
    """What waits for this actor's bureaus (everything for the operator; nothing for anyone else)."""
    if actor.is_operator:
        return waiting_in(None, today)
    if not actor.bureau_prefixes:
        return []
    return waiting_in(actor.bureau_prefixes, today)


def counts(items: list[Waiting]) -> dict[str, dict[str, int]]:
    out = {k: {"total": 0, "overdue": 0} for k in ("results", "employment")}
    for w in items:
        out[w.kind]["total"] += 1
        out[w.kind]["overdue"] += int(w.overdue)
    return out


def bureau_waiting_notify(today: datetime.date | None = None) -> dict:
    """Each bureau's officers get one notification a day listing what waits in its region, overdue first. Returns
    {bureau id: items} for those notified."""
    today = today or timezone.localdate()
    sent = {}
    for bureau in Bureau.objects.select_related("region"):
        items = waiting_in([bureau.region.prefix], today)
        if not items:
            continue
        officers = [
            m.user for m in Membership.objects.filter(bureau=bureau, role=Role.BUREAU_STAFF).select_related("user")
        ]
        if not officers:
            continue
        c = counts(items)
        lines = [
            f"{'【逾期】' if w.overdue else ''}{w.kind_label}:{w.organisation} · {w.label}"
            f"({_('期限')}{w.due_on:%Y-%m-%d})"
            for w in items[:20]
        ]
        notify(
            users=officers,
            title=_("待人社部门审核:成绩%(r)d项(逾期%(ro)d),本单位职工核验%(e)d项(逾期%(eo)d)")
            % {
                "r": c["results"]["total"],
                "ro": c["results"]["overdue"],
                "e": c["employment"]["total"],
                "eo": c["employment"]["overdue"],
            },
            body="\n".join(lines),
            link="/",
        )
        sent[bureau.id] = len(items)
    return sent
