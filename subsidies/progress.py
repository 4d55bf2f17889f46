"""Where a claim stands, as the claimant reads it: 提交 → 核定 → 复核 → 公示 → 审批 → 支付, each step reached
with its date, the current one marked, and a claim that ended early (不予补贴, 撤回) stopped at the step it
reached. Dates come from the claim's own record (the fields each service sets) and its decision history."""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from occupations.workdays import WorkCalendar

from .models import Claim, ClaimDecision

STEPS = (
    ("submit", _lazy("提交")),
    ("review", _lazy("核定")),
    ("second_review", _lazy("复核")),
    ("publicity", _lazy("公示")),
    ("approve", _lazy("审批")),
    ("pay", _lazy("支付")),
)


@dataclass(frozen=True)
class Step:
    code: str
    label: str
    state: str  # done | current | todo | stopped
    on: datetime.date | None = None
    until: datetime.date | None = None
    note: str = ""


def _date(value) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date()
    return value


def claim_steps(claim: Claim, decisions: list[ClaimDecision]) -> list[Step]:
    approved = [d for d in decisions if d.step == ClaimDecision.Step.APPROVE]
    paid = [d for d in decisions if d.step == ClaimDecision.Step.PAID]
    # A 核定 that refused the claim stamps reviewed_at too; only a passing one is a step reached.
    review_passed = any(d.step == ClaimDecision.Step.REVIEW and d.outcome == "pass" for d in decisions)
    reached = {
        "submit": claim.claimed_on,
        "review": _date(claim.reviewed_at) if review_passed else None,
        "second_review": _date(claim.second_reviewed_at),
        "publicity": claim.publicity_starts_on,
        "approve": _date(approved[-1].at) if approved else None,
        "pay": claim.paid_on or (_date(paid[-1].at) if paid else None),
    }
    # The step each status waits on; a closed claim stops at the first step it did not reach.
    waiting = {
        Claim.Status.SUBMITTED: "review",
        Claim.Status.REVIEWED: "second_review",
        Claim.Status.PUBLICITY: "publicity",
        Claim.Status.APPROVED: "pay",
        Claim.Status.IN_PAYMENT: "pay",
    }.get(claim.status)
    codes = [code for code, _label in STEPS]
    if waiting is not None:
        at = codes.index(waiting)
    elif claim.status == Claim.Status.PAID:
        at = len(codes)
    else:  # rejected or withdrawn: stopped at the first step it did not reach
        at = next((i for i, code in enumerate(codes) if reached[code] is None), len(codes) - 1)
    steps = []
    for i, (code, label) in enumerate(STEPS):
        until = claim.publicity_ends_on if code == "publicity" else None
        if i < at:
            steps.append(Step(code, str(label), "done", on=reached[code], until=until))
        elif i > at:
            steps.append(Step(code, str(label), "todo"))
        elif waiting is not None:
            steps.append(Step(code, str(label), "current", on=reached[code], until=until))
        else:
            steps.append(Step(code, str(label), "stopped", on=claim.decided_on, note=claim.get_status_display()))
    return steps


@dataclass(frozen=True)
class Deadline:
    due_on: datetime.date
    overdue_days: int  # working days past the deadline; 0 when not late
    days_left: int  # working days left; 0 when late


def deadline(claim: Claim, today: datetime.date, calendar: WorkCalendar | None = None) -> Deadline | None:
    """The officer's deadline for the claim's current step (核定 or 复核), counted in working days either way; none
    while the claim is in publicity (the tracker shows its end) or waits on nobody at the bureau."""
    if claim.due_on is None or claim.status not in Claim.AWAITING_OFFICER:
        return None
    between = (calendar or WorkCalendar()).working_days_between(today, claim.due_on)
    return Deadline(claim.due_on, overdue_days=max(-between, 0), days_left=max(between, 0))
