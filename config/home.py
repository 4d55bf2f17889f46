"""The signed-in home page as to-do lists: for each role, what waits, how many, by when, overdue first.

Each role has a list of providers; a provider takes the actor and today and returns to-do items built from the
apps' own scoping selectors (so a count never includes another region's or organisation's work). A new kind of
work joins a role's list by adding one provider to TODO_PROVIDERS.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Min
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.conflicts import conflicts_for
from accounts.models import IdentityConflict, Role
from accreditation.selectors import review_queue as filing_queue
from assessments.models import Plan, Registration
from assessments.panels.selectors import supervised_plans
from assessments.plans import plans_for
from assessments.scoring.selectors import assessor_plans
from oversight.inspections import rectifications_for
from oversight.models import Complaint, Rectification
from oversight.reports import complaints_for
from subsidies.models import Claim, DeclaredCertificate
from subsidies.selectors import claims_for, declared_queue
from subsidies.selectors import review_queue as claim_queue


@dataclass
class Todo:
    """One line of a to-do list: "待审核的补贴申请 12 · 超期 3 · 最近期限 2026-12-09"."""

    key: str
    label: str
    count: int
    url: str
    overdue: int = 0
    next_due: datetime.date | None = None
    latest: datetime.datetime | None = None  # when the newest item came in

    @property
    def sort_key(self):
        # Overdue first, then what is waiting at all, the nearest deadline first, then the newest arrivals.
        latest = self.latest.timestamp() if self.latest else 0
        return (-self.overdue, self.count == 0, self.next_due or datetime.date.max, -latest)


Provider = Callable[[Actor, datetime.date], list[Todo]]


def _bureau_filings(actor: Actor, today: datetime.date) -> list[Todo]:
    qs = filing_queue(actor)
    latest = qs.order_by("-submitted_at").values_list("submitted_at", flat=True).first()
    return [Todo("filings", _("待审核的备案申请"), qs.count(), reverse("accreditation:queue"), latest=latest)]


def _bureau_claims(actor: Actor, today: datetime.date) -> list[Todo]:
    qs = claim_queue(actor, today=today).filter(status__in=Claim.AWAITING_OFFICER)
    facts = qs.aggregate(next_due=Min("due_on"))
    return [
        Todo(
            "claims",
            _("待核定、复核的补贴申请"),
            qs.count(),
            reverse("subsidies:queue"),
            overdue=qs.filter(overdue=True).count(),
            next_due=facts["next_due"],
        )
    ]


def _bureau_declared(actor: Actor, today: datetime.date) -> list[Todo]:
    qs = declared_queue(actor, status=DeclaredCertificate.Status.PENDING)
    latest = qs.order_by("-created_at").values_list("created_at", flat=True).first()
    return [Todo("declared", _("待核实的平台外证书"), qs.count(), reverse("subsidies:declared_review"), latest=latest)]


def _bureau_complaints(actor: Actor, today: datetime.date) -> list[Todo]:
    qs = complaints_for(actor).filter(status__in=Complaint.OPEN)
    return [
        Todo(
            "complaints",
            _("办理中的举报案件"),
            qs.count(),
            reverse("oversight:complaints"),
            overdue=qs.filter(due_on__lt=today).count(),
            next_due=qs.filter(due_on__gte=today).aggregate(d=Min("due_on"))["d"],
        )
    ]


def _bureau_rectifications(actor: Actor, today: datetime.date) -> list[Todo]:
    qs = rectifications_for(actor).filter(status=Rectification.Status.SUBMITTED)
    return [Todo("rectifications", _("待验收的整改"), qs.count(), reverse("oversight:inspections"))]


def _bureau_conflicts(actor: Actor, today: datetime.date) -> list[Todo]:
    qs = conflicts_for(actor).filter(status=IdentityConflict.Status.OPEN)
    return [Todo("conflicts", _("待核查的身份信息冲突"), qs.count(), reverse("accounts:conflicts"))]


def _org_registrations(actor: Actor, today: datetime.date) -> list[Todo]:
    org_ids = actor.organisation_ids(Role.ORG_ADMIN)
    qs = Registration.objects.filter(
        plan__organisation_id__in=org_ids,
        status=Registration.Status.SUBMITTED,
        plan__status=Plan.Status.PUBLISHED,
    )
    facts = qs.aggregate(next_due=Min("plan__registration_closes"))
    overdue = qs.filter(plan__registration_closes__lt=today).count()
    latest = qs.order_by("-created_at").values_list("created_at", flat=True).first()
    return [
        Todo(
            "registrations",
            _("待审核的报名"),
            qs.count(),
            reverse("assessments:manage"),
            overdue=overdue,
            next_due=facts["next_due"] if facts["next_due"] and facts["next_due"] >= today else None,
            latest=latest,
        )
    ]


def _org_drafts(actor: Actor, today: datetime.date) -> list[Todo]:
    org_ids = actor.organisation_ids(Role.ORG_ADMIN)
    qs = plans_for(actor).filter(organisation_id__in=org_ids, status=Plan.Status.DRAFT)
    return [Todo("draft_plans", _("未发布的认定计划"), qs.count(), reverse("assessments:manage"))]


def _org_rectifications(actor: Actor, today: datetime.date) -> list[Todo]:
    org_ids = actor.organisation_ids(Role.ORG_ADMIN)
    qs = Rectification.objects.filter(inspection__organisation_id__in=org_ids, status=Rectification.Status.OPEN)
    return [
        Todo(
            "org_rectifications",
            _("限期整改"),
            qs.count(),
            reverse("oversight:inspections"),
            overdue=qs.filter(due_on__lt=today).count(),
            next_due=qs.filter(due_on__gte=today).aggregate(d=Min("due_on"))["d"],
        )
    ]


def _assessor_sheets(actor: Actor, today: datetime.date) -> list[Todo]:
    open_sheets = sum(1 for p in assessor_plans(actor) for k in p.kinds if not k["submitted"])
    return [Todo("score_sheets", _("未提交的评分表"), open_sheets, reverse("assessments:score_mine"))]


def _supervisor_reports(actor: Actor, today: datetime.date) -> list[Todo]:
    plans = supervised_plans(actor).exclude(status__in=[Plan.Status.DRAFT, Plan.Status.CANCELLED])
    waiting = [p for p in plans if not p.supervision_reports.all()]
    return [Todo("supervision", _("待提交的督导报告"), len(waiting), reverse("assessments:supervision_mine"))]


def _worker_registrations(actor: Actor, today: datetime.date) -> list[Todo]:
    if actor.person is None:
        return []
    qs = Registration.objects.filter(person=actor.person, status=Registration.Status.MORE_EVIDENCE)
    return [Todo("more_evidence", _("需补充材料的报名"), qs.count(), reverse("assessments:my_registrations"))]


def _worker_claims(actor: Actor, today: datetime.date) -> list[Todo]:
    if actor.person is None:
        return []
    qs = claims_for(actor).filter(person=actor.person, status__in=[*Claim.IN_REVIEW, Claim.Status.APPROVED])
    return [Todo("my_claims", _("办理中的补贴申请"), qs.count(), reverse("subsidies:mine"))]


TODO_PROVIDERS: dict[str, list[Provider]] = {
    Role.BUREAU_STAFF: [
        _bureau_claims,
        _bureau_complaints,
        _bureau_filings,
        _bureau_rectifications,
        _bureau_conflicts,
        _bureau_declared,
    ],
    Role.ORG_ADMIN: [_org_registrations, _org_rectifications, _org_drafts],
    Role.ASSESSOR: [_assessor_sheets],
    Role.SUPERVISOR: [_supervisor_reports],
    Role.WORKER: [_worker_registrations, _worker_claims],
}


def todos_for(actor: Actor, role: str, today: datetime.date | None = None) -> list[Todo]:
    """A role's to-do list, overdue first, then by nearest deadline and newest arrival."""
    today = today or timezone.localdate()
    items = [item for provider in TODO_PROVIDERS.get(role, []) for item in provider(actor, today)]
    return sorted(items, key=lambda t: t.sort_key)
