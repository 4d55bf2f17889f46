"""Statistics a province asks for: claims and money by city side by side, by level and occupation, the share of
shortage occupations, time from claim to payment (median and 90th percentile, calendar days), against each city's
budget. Read-only, scoped like every subsidy read (an officer sees the cities of their region)."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.spreadsheets import export_workbook
from occupations.models import Level, Region

from .budgets import budget_for, budget_use
from .eligibility import yuan
from .models import Claim
from .selectors import claims_for


def percentile(values: list[int], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default): the median is percentile(v, 50)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class CityRow:
    code: str
    name: str
    claims: int = 0
    granted: int = 0
    granted_amount: Decimal = Decimal(0)
    paid: int = 0
    paid_amount: Decimal = Decimal(0)
    shortage_granted: int = 0
    shortage_amount: Decimal = Decimal(0)
    days: list[int] = field(default_factory=list)
    budget_total: Decimal | None = None
    budget_used: Decimal | None = None

    @property
    def shortage_share(self) -> float | None:
        return float(self.shortage_amount / self.granted_amount * 100) if self.granted_amount else None

    @property
    def median_days(self) -> float | None:
        return percentile(self.days, 50)

    @property
    def p90_days(self) -> float | None:
        return percentile(self.days, 90)

    @property
    def budget_percent(self) -> float | None:
        if self.budget_total is None or not self.budget_total:
            return None
        return float((self.budget_used or 0) / self.budget_total * 100)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "claims": self.claims,
            "granted": self.granted,
            "granted_amount": str(self.granted_amount),
            "paid": self.paid,
            "paid_amount": str(self.paid_amount),
            "shortage_share": _round(self.shortage_share),
            "median_days": _round(self.median_days),
            "p90_days": _round(self.p90_days),
            "budget_total": str(self.budget_total) if self.budget_total is not None else None,
            "budget_used": str(self.budget_used) if self.budget_used is not None else None,
            "budget_percent": _round(self.budget_percent),
        }


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _city_code(code: str) -> str:
    return code[:4] + "00"


def city_statistics(actor: Actor, *, year: int | None = None) -> dict:
    """Cities side by side (the officer's region's cities), with a total column."""
    actor.require_bureau()
    year = year or timezone.localdate().year
    claims = claims_for(actor).filter(claimed_on__year=year)
    if not actor.is_operator:
        claims = claims.filter(Region.within_q("region", actor.bureau_prefixes))
    rows: dict[str, CityRow] = {}
    names = {r.code: r.name for r in Region.objects.filter(code__endswith="00")}
    total = CityRow("", _("合计"))

    def row(code: str) -> CityRow:
        city = _city_code(code)
        if city not in rows:
            rows[city] = CityRow(city, names.get(city, city))
        return rows[city]

    granted_q = Q(status__in=Claim.GRANTED)
    for r in (
        claims.order_by()
        .values("region__code", "is_shortage")
        .annotate(
            n=Count("id"),
            g=Count("id", filter=granted_q),
            ga=Sum("amount", filter=granted_q),
            p=Count("id", filter=Q(status=Claim.Status.PAID)),
            pa=Sum("amount", filter=Q(status=Claim.Status.PAID)),
        )
    ):
        for target in (row(r["region__code"]), total):
            target.claims += r["n"]
            target.granted += r["g"]
            target.granted_amount += r["ga"] or 0
            target.paid += r["p"]
            target.paid_amount += r["pa"] or 0
            if r["is_shortage"]:
                target.shortage_granted += r["g"]
                target.shortage_amount += r["ga"] or 0
    for code, claimed_on, paid_on in claims.filter(status=Claim.Status.PAID, paid_on__isnull=False).values_list(
        "region__code", "claimed_on", "paid_on"
    ):
        days = (paid_on - claimed_on).days
        row(code).days.append(days)
        total.days.append(days)
    regions = {r.code: r for r in Region.objects.filter(code__in=list(rows))}
    for code, city in rows.items():
        budget = budget_for(regions[code], year) if code in regions else None
        if budget is not None and budget.region.code == code:
            use = budget_use(budget)
            city.budget_total, city.budget_used = use.total, use.used
    cities = sorted(rows.values(), key=lambda c: c.code)
    levels = {lv.id: lv for lv in Level.objects.all()}
    by_level: dict[int, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    for r in (
        claims.filter(granted_q).order_by().values("region__code", "level_id").annotate(n=Count("id"), a=Sum("amount"))
    ):
        city = _city_code(r["region__code"])
        n, a = by_level[r["level_id"]].get(city, (0, Decimal(0)))
        by_level[r["level_id"]][city] = (n + r["n"], a + (r["a"] or 0))
    by_occupation: dict[str, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    shortage_occupations: set[str] = set()
    for r in (
        claims.filter(granted_q)
        .order_by()
        .values("region__code", "occupation__name", "is_shortage")
        .annotate(n=Count("id"), a=Sum("amount"))
    ):
        city = _city_code(r["region__code"])
        n, a = by_occupation[r["occupation__name"]].get(city, (0, Decimal(0)))
        by_occupation[r["occupation__name"]][city] = (n + r["n"], a + (r["a"] or 0))
        if r["is_shortage"]:
            shortage_occupations.add(r["occupation__name"])

    def cells(values: dict[str, tuple[int, Decimal]]) -> dict:
        n = sum(v[0] for v in values.values())
        a = sum((v[1] for v in values.values()), Decimal(0))
        return {"cities": [values.get(c.code, (0, Decimal(0))) for c in cities], "total": (n, a)}

    occupation_rows = sorted(by_occupation.items(), key=lambda kv: -sum(v[1] for v in kv[1].values()))[:20]
    return {
        "year": year,
        "cities": cities,
        "total": total,
        "by_level": [
            {"label": levels[level_id].label, **cells(values)}
            for level_id, values in sorted(by_level.items(), key=lambda kv: -levels[kv[0]].rank)
        ],
        "by_occupation": [
            {"label": name, "shortage": name in shortage_occupations, **cells(values)}
            for name, values in occupation_rows
        ],
    }


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def city_statistics_workbook(actor: Actor, *, year: int | None = None) -> bytes:
    """The side-by-side table as a spreadsheet (formulas neutralised by core's export)."""
    stats = city_statistics(actor, year=year)
    cities = stats["cities"]
    columns = [*cities, stats["total"]]
    headers = [_("指标"), *[c.name for c in cities], _("合计")]
    rows: list[list] = [
        [_("申请数"), *[c.claims for c in columns]],
        [_("核准数"), *[c.granted for c in columns]],
        [_("核准金额(元)"), *[float(c.granted_amount) for c in columns]],
        [_("已支付数"), *[c.paid for c in columns]],
        [_("已支付金额(元)"), *[float(c.paid_amount) for c in columns]],
        [_("急需紧缺职业金额占比(%)"), *[_num(c.shortage_share) for c in columns]],
        [_("申请至支付天数中位数"), *[_num(c.median_days) for c in columns]],
        [_("申请至支付天数第90百分位"), *[_num(c.p90_days) for c in columns]],
        [_("年度预算(元)"), *[yuan(c.budget_total) for c in cities], "—"],
        [_("预算使用率(%)"), *[_num(c.budget_percent) for c in cities], "—"],
    ]
    for section, key in ((_("等级"), "by_level"), (_("职业"), "by_occupation")):
        for entry in stats[key]:
            label = f"{section}:{entry['label']}"
            rows.append([label + _("(人次)"), *[n for n, _a in entry["cities"]], entry["total"][0]])
            rows.append([label + _("(金额)"), *[float(a) for _n, a in entry["cities"]], float(entry["total"][1])])
    return export_workbook(headers, rows, _("补贴统计%(y)d") % {"y": stats["year"]})
