"""The fund's yearly budget per region (失业保险基金 for skills subsidies): recorded, supplemented, and checked at
every approval under a row lock on the budget, so concurrent approvals can never together spend past it.

Which budget: the most specific region with a budget for the approval's year that contains the claim's region.
What it has used: the amounts of granted claims (approved, in payment, paid) decided that year in its region,
less those of regions inside it that have a budget of their own.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role, User
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.notifications import notify
from occupations.models import Region

from .eligibility import yuan
from .models import BudgetSupplement, Claim, FundBudget

MAX_AMOUNT = Decimal("999999999999.99")


@dataclass
class BudgetUse:
    budget: FundBudget
    total: Decimal
    used: Decimal  # granted: committed (approved, in payment) and paid
    paid: Decimal = Decimal(0)

    @property
    def supplemented(self) -> Decimal:
        return self.total - self.budget.amount

    @property
    def committed(self) -> Decimal:
        """Approved but not yet paid: money the budget owes."""
        return self.used - self.paid

    @property
    def remaining(self) -> Decimal:
        return self.total - self.used

    @property
    def percent(self) -> float:
        return float(self.used / self.total * 100) if self.total else 100.0

    @property
    def warning(self) -> bool:
        return self.percent >= self.budget.warn_percent

    @property
    def text(self) -> str:
        return _("%(r)s %(y)d年%(f)s预算%(t)s元,已使用%(u)s元(%(p).1f%%),剩余%(left)s元") % {
            "r": self.budget.region.name,
            "y": self.budget.year,
            "f": self.budget.fund,
            "t": yuan(self.total),
            "u": yuan(self.used),
            "p": self.percent,
            "left": yuan(self.remaining),
        }

    def as_dict(self) -> dict:
        return {
            "region": self.budget.region.code,
            "year": self.budget.year,
            "total": str(self.total),
            "used": str(self.used),
            "percent": round(self.percent, 1),
            "warn_percent": self.budget.warn_percent,
            "text": self.text,
        }


def budget_for(region: Region, year: int, *, lock: bool = False) -> FundBudget | None:
    """The most specific budget of the year covering the region; locked for update when asked."""
    codes = {region.code[:2] + "0000", region.code[:4] + "00", region.code}
    qs = FundBudget.objects.filter(region__code__in=codes, year=year).select_related("region")
    if lock:
        qs = qs.select_for_update(of=("self",))
    budgets = list(qs)
    return max(budgets, key=lambda b: len(b.region.prefix), default=None)


def budget_use(budget: FundBudget) -> BudgetUse:
    supplements = budget.supplements.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    inner = [
        b.region.prefix
        for b in FundBudget.objects.filter(year=budget.year).select_related("region")
        if b.pk != budget.pk
        and b.region.code.startswith(budget.region.prefix)
        and b.region.prefix != budget.region.prefix
    ]
    granted = Claim.objects.filter(
        Region.within_q("region", [budget.region.prefix]),
        status__in=Claim.GRANTED,
        decided_on__year=budget.year,
    )
    if inner:
        granted = granted.exclude(Region.within_q("region", inner))
    sums = granted.aggregate(used=Sum("amount"), paid=Sum("amount", filter=Q(status=Claim.Status.PAID)))
    return BudgetUse(budget, budget.amount + supplements, sums["used"] or Decimal(0), sums["paid"] or Decimal(0))


def budget_for_region_used(*, region_code: str, year: int) -> Decimal:
    """What granted claims decided in the year inside the region add up to (before any budget is recorded)."""
    region = Region.objects.get(code=region_code)
    granted = Claim.objects.filter(
        Region.within_q("region", [region.prefix]), status__in=Claim.GRANTED, decided_on__year=year
    )
    return granted.aggregate(s=Sum("amount"))["s"] or Decimal(0)


def budget_check_for_approval(claim: Claim, today: datetime.date) -> BudgetUse | None:
    """Called by claim_approve with the person and claim locked: lock the budget, refuse past 100%."""
    budget = budget_for(claim.region, today.year, lock=True)
    if budget is None:
        return None
    use = budget_use(budget)
    amount = claim.amount or Decimal(0)
    if use.used + amount > use.total:
        raise Conflict(
            _("%(t)s;本笔%(a)s元将超出预算,须先登记追加预算") % {"t": use.text, "a": yuan(amount)},
            code="budget_exhausted",
            details={"budget": use.as_dict(), "amount": str(amount)},
        )
    return use


def budget_after_approval(use: BudgetUse, amount: Decimal) -> BudgetUse:
    """The use including the approval just made; the bureau is warned once when it crosses the threshold."""
    after = BudgetUse(use.budget, use.total, use.used + amount, use.paid)
    if after.warning and use.budget.warned_at is None:
        FundBudget.objects.filter(pk=use.budget.pk).update(warned_at=timezone.now())
        _tell_bureau(use.budget, _("补贴资金预算已使用%(p).0f%%") % {"p": after.percent}, after.text)
    return after


def _tell_bureau(budget: FundBudget, title: str, body: str) -> None:
    officers = User.objects.filter(
        Region.within_q("memberships__bureau__region", [budget.region.prefix]), memberships__role=Role.BUREAU_STAFF
    ).distinct()
    notify(users=list(officers), title=title, body=body, link=reverse("subsidies:budget", args=[budget.pk]))


def _amount(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except (ArithmeticError, ValueError):
        raise ValidationFailed(_("金额应为数字"), details={"field": field}) from None
    if amount < 0 or amount > MAX_AMOUNT:
        raise ValidationFailed(_("金额超出范围"), details={"field": field})
    return amount


def _basis(value: str) -> str:
    basis = (value or "").strip()
    if not basis:
        raise ValidationFailed(_("请填写依据(如预算批复文号)"), details={"field": "basis"})
    return basis[:255]


@transaction.atomic
def budget_set(
    *, actor: Actor, year: int, amount, basis: str, region_code: str = "", warn_percent: int = 80
) -> FundBudget:
    """Record (or correct) a region's budget for a year; lowering it below what is used is refused."""
    region = actor.bureau_region(region_code, field="region_code", prompt=_("请选择预算所属地区"))
    if not 2000 <= int(year) <= 2100:
        raise ValidationFailed(_("年度无效"), details={"field": "year"})
    if not 1 <= int(warn_percent) <= 100:
        raise ValidationFailed(_("预警比例应在1—100之间"), details={"field": "warn_percent"})
    amount, basis = _amount(amount, "amount"), _basis(basis)
    budget = FundBudget.objects.select_for_update().filter(region=region, year=year).first()
    before = None
    if budget is None:
        budget = FundBudget(region=region, year=year, created_by=actor.user)
    else:
        before = {"amount": str(budget.amount), "basis": budget.basis, "warn_percent": budget.warn_percent}
        used = budget_use(budget)
        if amount + (used.total - budget.amount) < used.used:
            raise Conflict(_("已使用%(u)s元,预算不能低于已使用金额") % {"u": yuan(used.used)}, code="budget_below_used")
    budget.amount, budget.basis, budget.warn_percent = amount, basis, int(warn_percent)
    budget.full_clean(exclude=["region", "created_by"], validate_unique=False, validate_constraints=False)
    budget.save()
    audit_record(
        actor=actor,
        action="subsidy_budget.set",
        obj=budget,
        before=before,
        after={"year": budget.year, "amount": str(amount), "basis": basis, "warn_percent": budget.warn_percent},
        region_code=region.code,
    )
    return budget


@transaction.atomic
def budget_supplement(*, actor: Actor, budget_id: int, amount, basis: str) -> BudgetSupplement:
    """追加预算: recorded with its basis; approvals stopped at 100% may go on."""
    budget = budgets_visible(actor).select_for_update(of=("self",)).filter(pk=budget_id).first()
    if budget is None:
        raise NotFound()
    amount = _amount(amount, "amount")
    if amount <= 0:
        raise ValidationFailed(_("追加金额应大于0"), details={"field": "amount"})
    supplement = BudgetSupplement.objects.create(
        budget=budget, amount=amount, basis=_basis(basis), recorded_by=actor.user
    )
    use = budget_use(budget)
    if not use.warning:
        FundBudget.objects.filter(pk=budget.pk).update(warned_at=None)
    audit_record(
        actor=actor,
        action="subsidy_budget.supplement",
        obj=budget,
        after={"supplement": str(amount), "basis": supplement.basis, "total": str(use.total)},
        region_code=budget.region.code,
    )
    return supplement


def budgets_visible(actor: Actor) -> QuerySet[FundBudget]:
    """The one permission helper for budgets: bureau staff see their region's and those below it, the operator
    all; anyone else is refused. What it does not return is a 404."""
    actor.require_bureau()
    qs = FundBudget.objects.select_related("region__parent__parent").order_by("region__code")
    return qs if actor.is_operator else qs.filter(Region.within_q("region", actor.bureau_prefixes))


def budget_get(actor: Actor, budget_id: int) -> FundBudget:
    budget = budgets_visible(actor).filter(pk=budget_id).first()
    if budget is None:
        raise NotFound()
    return budget


def budgets_for(actor: Actor, year: int | None = None) -> list[BudgetUse]:
    qs = budgets_visible(actor)
    if year is not None:
        qs = qs.filter(year=year)
    return [budget_use(b) for b in qs]
