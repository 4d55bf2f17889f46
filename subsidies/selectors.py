"""Reads, scoped. `claims_for(actor)` is the one permission helper for claims: what it does not return is a 404."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role
from core.errors import NotFound, PermissionDenied
from occupations.models import Level, Region

from .models import (
    Claim,
    DeclaredCertificate,
    InsuranceRecord,
    Objection,
    PaymentBatch,
    SubsidyPolicy,
    TrainingSubsidyRecord,
)

CLAIM_RELATED = ("certificate", "person", "occupation", "level", "region", "policy__region", "filed_by_organisation")


def claims_for(actor: Actor) -> QuerySet[Claim]:
    """Claimants see their own; employers the claims they filed; bureau staff the claims of their region."""
    qs = Claim.objects.select_related(*CLAIM_RELATED)
    if actor.is_operator:
        return qs
    q = Region.within_q("region", actor.bureau_prefixes)
    q |= Q(filed_by_organisation_id__in=actor.organisation_ids(Role.ORG_ADMIN))
    if actor.person is not None:
        q |= Q(person=actor.person)
    return qs.filter(q)


def claim_get(actor: Actor, claim_id: int) -> Claim:
    claim = claims_for(actor).filter(pk=claim_id).first()
    if claim is None:
        raise NotFound()
    return claim


def is_bureau_for(actor: Actor, claim: Claim) -> bool:
    return actor.is_operator or actor.oversees_region(claim.region)


def _overdue_q(today: datetime.date) -> Q:
    late_objection = Objection.objects.filter(claim=OuterRef("pk"), status=Objection.Status.OPEN, due_on__lt=today)
    return Q(status__in=Claim.AWAITING_OFFICER, due_on__lt=today) | Q(Exists(late_objection))


def with_overdue(qs: QuerySet[Claim], today: datetime.date | None = None) -> QuerySet[Claim]:
    """Annotate `overdue`: an officer's step past its working-day deadline, or an objection left unanswered."""
    today = today or timezone.localdate()
    open_objections = Objection.objects.filter(claim=OuterRef("pk"), status=Objection.Status.OPEN)
    return qs.annotate(
        overdue=ExpressionWrapper(_overdue_q(today), output_field=BooleanField()),
        has_open_objection=Exists(open_objections),
    )


def review_queue(actor: Actor, *, status: str = "", overdue_only: bool = False, today=None) -> QuerySet[Claim]:
    """Claims of the officer's region waiting for the bureau, oldest deadline first; overdue ones flagged."""
    actor.require_bureau()
    today = today or timezone.localdate()
    qs = claims_for(actor)
    if not actor.is_operator:
        qs = qs.filter(Region.within_q("region", actor.bureau_prefixes))
    qs = qs.filter(status=status) if status else qs.filter(status__in=[*Claim.IN_REVIEW, Claim.Status.APPROVED])
    qs = with_overdue(qs, today)
    if overdue_only:
        qs = qs.filter(overdue=True)
    return qs.order_by("-overdue", F("due_on").asc(nulls_last=True), "id")


def publicity_list(*, region_code: str = "", today: datetime.date | None = None) -> QuerySet[Claim]:
    """Claims in publicity now: shown to the public with the name and ID number masked."""
    today = today or timezone.localdate()
    qs = Claim.objects.filter(
        status=Claim.Status.PUBLICITY, publicity_starts_on__lte=today, publicity_ends_on__gte=today
    ).select_related("occupation", "level", "region", "person")
    if region_code:
        qs = qs.filter(Region.inside_q("region", region_code))
    return qs.order_by("region__code", "publicity_ends_on", "id")


def policies_in_force(on: datetime.date | None = None) -> QuerySet[SubsidyPolicy]:
    on = on or timezone.localdate()
    return (
        SubsidyPolicy.objects.filter(effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .select_related("region")
        .prefetch_related("amounts__level")
        .order_by("region__code")
    )


@dataclass
class Lapse:
    """A region whose own policy ends soon (or has ended) with no version of its own for the following period."""

    region_code: str
    region_name: str
    policy: SubsidyPolicy
    ends_on: datetime.date
    days_left: int
    fallback: SubsidyPolicy | None

    @property
    def message(self) -> str:
        values = {
            "r": self.region_name,
            "n": self.policy.name,
            "e": self.ends_on,
            "d": self.days_left,
            "s": self.ends_on + datetime.timedelta(days=1),
        }
        if self.days_left >= 0:
            text = _("%(r)s:《%(n)s》将于%(e)s到期(还有%(d)d天),%(s)s起本地区尚无政策") % values
        else:
            text = _("%(r)s:《%(n)s》已于%(e)s到期,本地区目前没有自己的政策") % values
        if self.fallback is not None:
            text += _(",届时适用《%(f)s》") % {"f": self.fallback.name}
        else:
            text += _(",届时的申请将被拒绝")
        return text


def policy_lapses(actor: Actor, *, today: datetime.date | None = None) -> list[Lapse]:
    """What the operator and the officers overseeing a region see from `lapse_warning_days` before its policy ends:
    that the region has no version of its own for the following period (and what, if anything, covers it)."""
    if actor.is_operator:
        return lapses_within(None, today=today)
    if not actor.bureau_prefixes:
        return []
    return lapses_within(actor.bureau_prefixes, today=today)


def lapses_within(prefixes: list[str] | None, *, today: datetime.date | None = None) -> list[Lapse]:
    """The lapses of every region inside the prefixes (None: everywhere)."""
    from .eligibility import PolicyBook

    today = today or timezone.localdate()
    book = PolicyBook.load()
    by_region: dict[int, list[SubsidyPolicy]] = {}
    for policy in book.policies:
        if prefixes is None or any(policy.region.code.startswith(p) for p in prefixes):
            by_region.setdefault(policy.region_id, []).append(policy)
    lapses = []
    for versions in by_region.values():
        started = [p for p in versions if p.effective_from <= today]
        if not started:
            continue
        latest = max(started, key=lambda p: p.effective_from)
        if latest.effective_to is None:
            continue
        next_day = latest.effective_to + datetime.timedelta(days=1)
        if any(p.in_force_on(next_day) for p in versions):
            continue
        days_left = (latest.effective_to - today).days
        if days_left > latest.lapse_warning_days:
            continue
        fallback = book.in_force(latest.region.code, max(next_day, today))
        region = latest.region
        lapses.append(Lapse(region.code, region.full_name, latest, latest.effective_to, days_left, fallback))
    return sorted(lapses, key=lambda lapse: (lapse.ends_on, lapse.region_code))


def batches_for(actor: Actor) -> QuerySet[PaymentBatch]:
    actor.require_bureau()
    qs = PaymentBatch.objects.select_related("region", "created_by").annotate(
        line_count=Count("lines"), total=Sum("lines__amount")
    )
    if actor.is_operator:
        return qs
    return qs.filter(Region.within_q("region", actor.bureau_prefixes))


def batch_get(actor: Actor, batch_id: int) -> PaymentBatch:
    batch = batches_for(actor).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    return batch


def insurance_records_for(actor: Actor) -> QuerySet[InsuranceRecord]:
    actor.require_bureau()
    qs = InsuranceRecord.objects.select_related("person", "region")
    return qs if actor.is_operator else qs.filter(Region.within_q("region", actor.bureau_prefixes))


def training_subsidies_for(actor: Actor) -> QuerySet[TrainingSubsidyRecord]:
    actor.require_bureau()
    qs = TrainingSubsidyRecord.objects.select_related("person", "occupation", "level", "region")
    return qs if actor.is_operator else qs.filter(Region.within_q("region", actor.bureau_prefixes))


def declared_for(actor: Actor) -> QuerySet[DeclaredCertificate]:
    """The one permission helper for certificates declared outside the platform: a person sees their own, bureau
    staff those declared to their region (and below), the operator all. What it does not return is a 404."""
    qs = DeclaredCertificate.objects.select_related("person", "occupation", "level", "region__parent__parent")
    if actor.is_operator:
        return qs
    q = Region.within_q("region", actor.bureau_prefixes)
    if actor.person is not None:
        q |= Q(person=actor.person)
    return qs.filter(q)


def declared_get(actor: Actor, declared_id: int) -> DeclaredCertificate:
    declared = declared_for(actor).filter(pk=declared_id).first()
    if declared is None:
        raise NotFound()
    return declared


def declared_queue(actor: Actor, *, status: str = "", search: str = "") -> QuerySet[DeclaredCertificate]:
    """Declarations of the officer's region: the pending ones first, each group oldest first; `search` matches the name, the ID number or the certificate number."""
    actor.require_bureau()
    qs = declared_for(actor)
    if not actor.is_operator:
        qs = qs.filter(Region.within_q("region", actor.bureau_prefixes))
    if status:
        qs = qs.filter(status=status)
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(person__name__icontains=search)
            | Q(person__id_number__iexact=search.upper())
            | Q(number__icontains=search.upper().replace(" ", ""))
        )
    pending_first = ExpressionWrapper(Q(status=DeclaredCertificate.Status.PENDING), output_field=BooleanField())
    return qs.annotate(is_pending=pending_first).order_by("-is_pending", "created_at", "id")


# --- Statistics -------------------------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    count: int
    amount: Decimal
    share: float  # 0–100, the bar's length relative to the largest amount (or count when no amounts)


def _bars(rows: list[tuple[str, int, Decimal | None]]) -> list[Bar]:
    amounts = [a or Decimal(0) for _l, _c, a in rows]
    counts = [c for _l, c, _a in rows]
    top_amount, top_count = max(amounts, default=Decimal(0)), max(counts, default=0)
    bars = []
    for (label, count, _a), amount in zip(rows, amounts, strict=True):
        # Bars measure money; a year with approvals but no amounts yet falls back to counts.
        share = float(amount / top_amount * 100) if top_amount else (count / top_count * 100 if top_count else 0.0)
        bars.append(Bar(label, count, amount, round(share, 1)))
    return bars


def claim_statistics(actor: Actor, *, year: int | None = None) -> dict:
    """Claims, approvals and amounts in the officer's region: by status, level, occupation and month."""
    actor.require_bureau()
    year = year or timezone.localdate().year
    claims = claims_for(actor)
    if not actor.is_operator:
        claims = claims.filter(Region.within_q("region", actor.bureau_prefixes))
    claims = claims.filter(claimed_on__year=year)
    granted = claims.filter(status__in=Claim.GRANTED)
    status_labels = dict(Claim.Status.choices)
    by_status = {row["status"]: row["n"] for row in claims.order_by().values("status").annotate(n=Count("id"))}
    totals = granted.aggregate(n=Count("id"), amount=Sum("amount"))
    paid = claims.filter(status=Claim.Status.PAID).aggregate(n=Count("id"), amount=Sum("amount"))
    by_level = [
        (Level(name=r["level__name"], title=r["level__title"]).label, r["n"], r["amount"])
        for r in granted.order_by("-level__rank")
        .values("level__rank", "level__name", "level__title")
        .annotate(n=Count("id"), amount=Sum("amount"))
    ]
    by_occupation = [
        (r["occupation__name"], r["n"], r["amount"])
        for r in granted.values("occupation__code", "occupation__name")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by("-amount", "occupation__code")[:15]
    ]
    claimed = {
        (r["y"], r["m"]): r["n"]
        for r in claims.order_by()
        .annotate(y=ExtractYear("claimed_on"), m=ExtractMonth("claimed_on"))
        .values("y", "m")
        .annotate(n=Count("id"))
    }
    approved = {
        (r["y"], r["m"]): (r["n"], r["amount"])
        for r in granted.exclude(decided_on=None)
        .order_by()
        .annotate(y=ExtractYear("decided_on"), m=ExtractMonth("decided_on"))
        .values("y", "m")
        .annotate(n=Count("id"), amount=Sum("amount"))
    }
    months = []
    for m in range(1, 13):
        n, amount = approved.get((year, m), (0, Decimal(0)))
        months.append((_("%(m)d月") % {"m": m}, claimed.get((year, m), 0), n, amount or Decimal(0)))
    return {
        "year": year,
        "total": sum(by_status.values()),
        "by_status": [(status_labels[s], by_status.get(s, 0)) for s in Claim.Status.values],
        "approved": totals["n"] or 0,
        "approved_amount": totals["amount"] or Decimal(0),
        "paid": paid["n"] or 0,
        "paid_amount": paid["amount"] or Decimal(0),
        "by_level": _bars(by_level),
        "by_occupation": _bars(by_occupation),
        "by_month": [
            {"label": label, "claimed": c, "approved": n, "amount": a, "bar": bar}
            for (label, c, n, a), bar in zip(months, _bars([(lb, n, a) for lb, _c, n, a in months]), strict=True)
        ],
    }


def require_bureau_for(actor: Actor, claim: Claim) -> None:
    """Officers of the claim's region act on it; anyone else who can see it gets 403 (others never see it)."""
    if not is_bureau_for(actor, claim):
        raise PermissionDenied(_("只有受理地区的人社部门可以办理"))
    if actor.person is not None and actor.person.id == claim.person_id and not actor.is_operator:
        raise PermissionDenied(_("不得办理本人的补贴申请"))


def catalogue_change_impact(*, occupations, impact, **_kwargs) -> None:
    """occupations.signals.catalogue_change_impact: claims of the affected occupations still in review."""
    claims = (
        Claim.objects.filter(occupation__in=occupations, status__in=Claim.IN_REVIEW)
        .select_related("person", "region", "level")
        .order_by("id")
    )
    impact.claims = [
        {
            "id": c.id,
            "name": c.person.name,
            "level": c.level.label,
            "region": c.region.full_name,
            "status": c.get_status_display(),
        }
        for c in claims
    ]
