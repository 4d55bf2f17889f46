"""Dashboards for bureau staff, scoped to their jurisdiction (or one region inside it), with charts the platform
draws itself as inline SVG (no JavaScript, no CDN) and each panel exportable to xlsx.

Subsidy spend comes from the subsidies app when its Claim model and table exist; until then the panel says the
data is not available rather than failing.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accreditation.models import Filing, Organisation
from assessments.evidence.selectors import missing_evidence
from assessments.models import Registration, ResultReview
from certificates.models import Certificate, VerificationLog
from certificates.national.models import ReportRecord
from certificates.national.selectors import overdue
from core.audit import audit_record
from core.dates import add_months
from core.errors import NotFound, ValidationFailed
from core.spreadsheets import export_workbook
from occupations.models import Region

from . import aggregates
from .models import Complaint, DailyCount, GuazhengFlag, Inspection, Rectification

MAX_MONTHS = 36


@dataclass
class Panel:
    key: str
    title: str
    headers: list[str]
    rows: list[list]
    chart: SafeString | None = None
    note: str = ""
    available: bool = True


@dataclass
class Dashboard:
    region: Region | None
    scope_label: str
    since: datetime.date
    until: datetime.date
    panels: dict[str, Panel] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)


# --- Scope ------------------------------------------------------------------------------------------------------


def _scope(actor: Actor, region_code: str) -> tuple[list[str], Region | None, str]:
    actor.require_bureau()
    if region_code:
        region = Region.objects.filter(code=region_code.strip()).first()
        # Outside the jurisdiction is a 404, exactly like a region that does not exist.
        if region is None or not (actor.is_operator or actor.oversees_region(region)):
            raise NotFound(_("不在本部门辖区内的地区"))
        return [region.prefix], region, region.full_name
    if actor.is_operator:
        return [""], None, _("全部地区")
    return actor.bureau_prefixes, None, "、".join(b.region.full_name for b in actor.bureaus())


def _code_q(field_name: str, prefixes: list[str]) -> Q:
    q = Q(pk__in=[])
    for p in prefixes:
        q |= Q(**{f"{field_name}__startswith": p})
    return q


def _months(since: datetime.date, until: datetime.date) -> list[datetime.date]:
    out, day = [], since.replace(day=1)
    while day <= until:
        out.append(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return out


def _month_key(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


# --- Charts -----------------------------------------------------------------------------------------------------


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, Decimal):
        return f"{value:,.0f}"
    return str(value)


def column_chart(points: list[tuple[str, float]], *, title: str, unit: str = "", height: int = 220) -> SafeString:
    """Vertical bars, one per point (months): an inline SVG that scales to its container."""
    n = max(len(points), 1)
    bar_w, gap, left, bottom, top = 36, 12, 8, 36, 22
    width = left * 2 + n * (bar_w + gap)
    peak = max((float(v) for _, v in points), default=0) or 1
    plot_h = height - bottom - top
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" stroke="#cbd2d9"/>',
    ]
    for i, (label, value) in enumerate(points):
        h = round(plot_h * float(value) / peak)
        x = left + i * (bar_w + gap) + gap / 2
        y = top + plot_h - h
        parts.append(
            f'<rect x="{x}" y="{y}" width="{bar_w}" height="{h}" rx="3" class="bar">'
            f"<title>{escape(label)}:{escape(_fmt(value))}{escape(unit)}</title></rect>"
        )
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{y - 4}" text-anchor="middle" font-size="11">{escape(_fmt(value))}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{height - bottom + 16}" text-anchor="middle" font-size="10" '
            f'fill="#616e7c">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text node above is escaped


def stacked_column_chart(
    labels: list[str], series: list[tuple[str, str, list[int]]], *, title: str, height: int = 240
) -> SafeString:
    """One column per month, stacked by series (name, CSS class, values), with a legend: what a title promising
    "按结果" shows. Each series keeps its colour's meaning (valid green, revoked/forged red, the rest amber/grey)."""
    n = max(len(labels), 1)
    bar_w, gap, left, bottom, top, legend_h = 36, 12, 8, 36, 22, 22
    width = max(left * 2 + n * (bar_w + gap), 420)
    totals = [sum(values[i] for _name, _css, values in series) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    plot_h = height - bottom - top - legend_h
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
    ]
    x_legend = left
    for name, css, _values in series:
        parts.append(
            f'<rect x="{x_legend}" y="4" width="12" height="12" rx="2" class="bar {css}"/>'
            f'<text x="{x_legend + 16}" y="14" font-size="11">{escape(name)}</text>'
        )
        x_legend += 16 + 12 * len(name) + 14
    base = top + legend_h + plot_h
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="#cbd2d9"/>')
    for i, label in enumerate(labels):
        x = left + i * (bar_w + gap) + gap / 2
        y = base
        for name, css, values in series:
            value = values[i]
            if not value:
                continue
            h = max(round(plot_h * value / peak), 1)
            y -= h
            parts.append(
                f'<rect x="{x}" y="{y}" width="{bar_w}" height="{h}" class="bar {css}">'
                f"<title>{escape(label)} {escape(name)}:{value}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{y - 4}" text-anchor="middle" font-size="11">{totals[i]}</text>'
            f'<text x="{x + bar_w / 2}" y="{height - bottom + 16}" text-anchor="middle" font-size="10" '
            f'fill="#616e7c">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text node above is escaped


def bar_chart(
    points: list[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    max_value: float | None = None,
    classes: list[str] | None = None,
) -> SafeString:
    """Horizontal bars with their labels (categories with long names: statuses, occupations). `classes` gives each
    bar a meaning by colour (site.css: `warn` for what is overdue, `danger`, `ok`); plain bars are neutral."""
    row_h, label_w, bar_max, pad = 26, 190, 300, 8
    height = pad * 2 + max(len(points), 1) * row_h
    width = label_w + bar_max + 90
    peak = max_value or max((float(v) for _, v in points), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(points):
        y = pad + i * row_h
        w = round(bar_max * float(value) / peak)
        css = f"bar {classes[i]}" if classes and classes[i] else "bar"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="12">{escape(label[:18])}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" rx="3" '
            f'class="{css}"><title>{escape(label)}:{escape(_fmt(value))}{escape(unit)}</title></rect>'
            f'<text x="{label_w + w + 6}" y="{y + 17}" font-size="12">{escape(_fmt(value))}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text node above is escaped


# --- Panels -----------------------------------------------------------------------------------------------------


def _organisations_panel(prefixes: list[str]) -> Panel:
    latest = Filing.objects.filter(organisation=OuterRef("pk")).order_by("-created_at", "-id").values("status")[:1]
    statuses = (
        Organisation.objects.filter(_code_q("region__code", prefixes))
        .annotate(latest_status=Subquery(latest))
        .values("latest_status")
        .annotate(n=Count("id"))
    )
    labels = dict(Filing.Status.choices)
    counts = {row["latest_status"] or "": row["n"] for row in statuses}
    rows = [[str(labels[s]), counts[s]] for s in Filing.Status.values if counts.get(s)]
    if counts.get(""):
        rows.append([_("未申请备案"), counts[""]])
    return Panel(
        key="organisations",
        title=_("评价机构(按最新备案状态)"),
        headers=[_("备案状态"), _("机构数")],
        rows=rows,
        chart=bar_chart([(r[0], r[1]) for r in rows], title=_("评价机构按备案状态")) if rows else None,
    )


def _assessments_panel(prefixes: list[str], since: datetime.date, until: datetime.date) -> Panel:
    finished = Registration.objects.filter(
        _code_q("plan__organisation__region__code", prefixes),
        finalised_at__date__gte=since,
        finalised_at__date__lte=until,
    ).exclude(outcome="")
    grouped = (
        finished.values("plan__occupation__code", "plan__occupation__name", "level__name", "level__rank")
        .annotate(
            total=Count("id"),
            passed=Count("id", filter=Q(outcome=Registration.Outcome.PASSED)),
            failed=Count("id", filter=Q(outcome=Registration.Outcome.FAILED)),
            absent=Count("id", filter=Q(outcome=Registration.Outcome.ABSENT)),
        )
        .order_by("plan__occupation__code", "-level__rank")
    )
    rows, by_occupation = [], {}
    for g in grouped:
        sat = g["passed"] + g["failed"]
        rate = round(100 * g["passed"] / sat, 1) if sat else None
        rows.append(
            [
                g["plan__occupation__code"],
                g["plan__occupation__name"],
                g["level__name"],
                g["total"],
                g["passed"],
                g["failed"],
                g["absent"],
                rate if rate is not None else "—",
            ]
        )
        occ = by_occupation.setdefault(g["plan__occupation__name"], [0, 0])
        occ[0] += g["passed"]
        occ[1] += sat
    points = [(name, round(100 * p / s, 1)) for name, (p, s) in by_occupation.items() if s]
    return Panel(
        key="assessments",
        title=_("认定人数与合格率(按职业、等级)"),
        headers=[
            _("职业编码"),
            _("职业"),
            _("等级"),
            _("办结人数"),
            _("合格"),
            _("不合格"),
            _("缺考"),
            _("合格率(%)"),
        ],
        rows=rows,
        chart=bar_chart(points, title=_("各职业合格率"), unit="%", max_value=100) if points else None,
        note=_("合格率 = 合格 ÷(合格 + 不合格),缺考不计入。"),
    )


def _split(since: datetime.date, until: datetime.date) -> tuple[tuple | None, tuple | None]:
    """With pre-aggregated counts (oversight/aggregates.py): the complete days read from DailyCount, and the days
    from today on counted live; else everything live."""
    if not aggregates.enabled():
        return None, (since, until)
    today = timezone.localdate()
    stored = (since, min(until, today - datetime.timedelta(days=1))) if since < today else None
    live = (max(since, today), until) if until >= today else None
    return stored, live


CITY_PREFIX = Region.PREFIX_LENGTH[Region.Kind.CITY]  # 2201 for 长春市 and its districts and counties


def _tally(kind: str, prefixes: list[str], since, until, *, by: str, keyed: bool = False) -> dict:
    """Certificates issued (DailyCount.Kind.CERTIFICATES) or verifications made (VERIFICATIONS) in the scope from
    `since` to `until`, grouped `by` "month" (the month's first day) or "city" (its code prefix), and by result
    when `keyed` ({(group, result): n}; else {group: n}). Complete days come from DailyCount when pre-aggregated
    (one row per day and region, however many certificates), the rest is counted in the tables."""
    counts: dict = {}

    def add(rows, date_field: str, key_field: str | None, total) -> None:
        group = TruncMonth(date_field) if by == "month" else Substr("region_code", 1, CITY_PREFIX)
        fields = ["g", key_field] if keyed and key_field else ["g"]
        for r in rows.annotate(g=group).values(*fields).annotate(n=total).order_by():
            g = _month_key(r["g"]) if by == "month" else r["g"]
            at = (g, r[key_field]) if keyed and key_field else g
            counts[at] = counts.get(at, 0) + r["n"]

    stored, live = _split(since, until)
    if stored:
        rows = DailyCount.objects.filter(_code_q("region_code", prefixes), kind=kind, day__range=stored)
        add(rows, "day", "key", Sum("n"))
    if live and kind == DailyCount.Kind.CERTIFICATES:
        add(
            Certificate.objects.filter(_code_q("region_code", prefixes), issued_on__range=live),
            "issued_on",
            None,
            Count("id"),
        )
    elif live:
        start = timezone.make_aware(datetime.datetime.combine(live[0], datetime.time.min))
        end = timezone.make_aware(datetime.datetime.combine(live[1], datetime.time.max))
        rows = VerificationLog.objects.filter(_code_q("region_code", prefixes), at__gte=start, at__lte=end)
        add(rows, "at", "result", Count("id"))
    return counts


def _certificates_panel(prefixes: list[str], months: list[datetime.date], since, until) -> Panel:
    counts = _tally(DailyCount.Kind.CERTIFICATES, prefixes, since, until, by="month")
    rows = [[f"{m:%Y-%m}", counts.get(m, 0)] for m in months]
    return Panel(
        key="certificates",
        title=_("证书发放(按月)"),
        headers=[_("月份"), _("发证数")],
        rows=rows,
        chart=column_chart([(r[0][2:], r[1]) for r in rows], title=_("每月发证数")),
    )


VERIFICATION_RESULTS = ("valid", "revoked", "suspended", "expired", "superseded", "forged", "unknown")
# The colour of each result in the chart: green is good, red is a certificate not to be trusted, amber needs a look.
VERIFICATION_CLASSES = {
    "valid": "ok",
    "revoked": "danger",
    "suspended": "warn",
    "expired": "warn",
    "superseded": "muted",
    "forged": "danger-dark",
    "unknown": "muted-dark",
}


def _verifications_panel(prefixes: list[str], months: list[datetime.date], since, until) -> Panel:
    table: dict[datetime.date, dict[str, int]] = {}
    for (month, result), n in _tally(
        DailyCount.Kind.VERIFICATIONS, prefixes, since, until, by="month", keyed=True
    ).items():
        table.setdefault(month, {})[result] = n
    rows = []
    for m in months:
        counts = table.get(m, {})
        rows.append([f"{m:%Y-%m}", *[counts.get(k, 0) for k in VERIFICATION_RESULTS], sum(counts.values())])
    labels = {
        "valid": _("有效"),
        "revoked": _("已撤销"),
        "suspended": _("已暂停"),
        "expired": _("已过期"),
        "superseded": _("已换发"),
        "forged": _("疑似伪造"),
        "unknown": _("未找到"),
    }
    return Panel(
        key="verifications",
        title=_("证书核验(按月、按结果)"),
        headers=[_("月份"), *[labels[k] for k in VERIFICATION_RESULTS], _("合计")],
        rows=rows,
        chart=stacked_column_chart(
            [r[0][2:] for r in rows],
            [
                (str(labels[k]), VERIFICATION_CLASSES[k], [r[1 + j] for r in rows])
                for j, k in enumerate(VERIFICATION_RESULTS)
                if any(r[1 + j] for r in rows)
            ],
            title=_("每月核验次数(按结果)"),
        ),
        note=_("按证书发证地统计;疑似伪造的核验无法确定证书,不计入地区。"),
    )


def _claim_model() -> type | None:
    """subsidies.Claim, if that app has it with the fields used here and its table exists; None otherwise."""
    if not apps.is_installed("subsidies"):
        return None
    try:
        model = apps.get_model("subsidies", "Claim")
    except LookupError:
        return None
    try:
        for name in ("region", "status", "amount", "paid_on"):
            model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if model._meta.db_table not in connection.introspection.table_names():
        return None
    return model


def _subsidies_panel(prefixes: list[str], months: list[datetime.date], since, until) -> Panel:
    claim = _claim_model()
    headers = [_("月份"), _("支付笔数"), _("支付金额(元)")]
    if claim is None:
        return Panel(
            key="subsidies",
            title=_("补贴支出(按月)"),
            headers=headers,
            rows=[],
            note=_("补贴数据暂不可用。"),
            available=False,
        )
    paid = (
        claim.objects.filter(_code_q("region__code", prefixes), status="paid", paid_on__gte=since, paid_on__lte=until)
        .annotate(month=TruncMonth("paid_on"))
        .values("month")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    table = {_month_key(r["month"]): (r["n"], r["total"] or Decimal(0)) for r in paid}
    rows = [[f"{m:%Y-%m}", *table.get(m, (0, Decimal(0)))] for m in months]
    return Panel(
        key="subsidies",
        title=_("补贴支出(按月)"),
        headers=headers,
        rows=rows,
        chart=column_chart([(r[0][2:], r[2]) for r in rows], title=_("每月补贴支付金额"), unit=_("元")),
    )


def _oversight_panel(prefixes: list[str], today: datetime.date) -> tuple[Panel, dict[str, int]]:
    complaints = Complaint.objects.filter(_code_q("region__code", prefixes))
    rects = Rectification.objects.filter(_code_q("inspection__organisation__region__code", prefixes))
    flags = GuazhengFlag.objects.filter(
        _code_q("employer__region__code", prefixes) | _code_q("other_employer__region__code", prefixes)
    )
    inspections = Inspection.objects.filter(_code_q("organisation__region__code", prefixes))
    figures = {
        "complaints_open": complaints.filter(status__in=Complaint.OPEN).count(),
        "complaints_overdue": complaints.overdue(today).count(),
        "flags_open": flags.filter(status=GuazhengFlag.Status.OPEN).count(),
        "inspections_open": inspections.exclude(status=Inspection.Status.CLOSED).count(),
        "rectifications_open": rects.exclude(status=Rectification.Status.VERIFIED).count(),
        "rectifications_overdue": rects.overdue(today).count(),
        "evidence_missing": len(missing_evidence(prefixes, since=today - datetime.timedelta(days=365), today=today)),
        "result_reviews_overdue": ResultReview.objects.filter(
            _code_q("plan__organisation__region__code", prefixes),
            status=ResultReview.Status.PENDING,
            due_on__lt=today,
        ).count(),
    }
    labels = {
        "complaints_open": _("未办结举报"),
        "complaints_overdue": _("超期未答复举报"),
        "flags_open": _("待核查挂证疑点"),
        "inspections_open": _("未结案督查"),
        "rectifications_open": _("未验收整改事项"),
        "rectifications_overdue": _("逾期未整改事项"),
        "evidence_missing": _("考务资料缺失的考场(近12个月)"),
        "result_reviews_overdue": _("超期未审核的认定成绩"),
    }
    rows = [[str(labels[k]), v] for k, v in figures.items()]
    by_kind = complaints.filter(status__in=Complaint.OPEN).values("kind").annotate(n=Count("id")).order_by("kind")
    kind_labels = dict(Complaint.Kind.choices)
    rows += [[_("未办结举报 · %(k)s") % {"k": kind_labels.get(r["kind"], r["kind"])}, r["n"]] for r in by_kind]
    return (
        Panel(
            key="oversight",
            title=_("举报、督查与整改"),
            headers=[_("事项"), _("数量")],
            rows=rows,
            chart=bar_chart(
                [(r[0], r[1]) for r in rows[: len(figures)]],
                title=_("待办与逾期事项"),
                classes=["warn" if "overdue" in key else "" for key in figures],
            ),
        ),
        figures,
    )


def _reporting_figures(prefixes: list[str], today: datetime.date) -> dict[str, int]:
    """数据上报 in the jurisdiction: records past their statutory deadline and records the national database
    rejected (certificates/national/)."""
    records = ReportRecord.objects.filter(_code_q("region_code", prefixes))
    return {
        "reporting_overdue": overdue(records, today).count(),
        "reporting_rejected": records.filter(status=ReportRecord.Status.REJECTED).count(),
    }


PANELS = ("oversight", "organisations", "assessments", "certificates", "verifications", "subsidies")
PROVINCE_PANELS = ("cities",)  # only on a province's board


def dashboard_for(
    *, actor: Actor, region_code: str = "", months: int = 12, today: datetime.date | None = None
) -> Dashboard:
    """Every panel for the actor's jurisdiction (or `region_code` inside it), over the last `months` months."""
    prefixes, region, label = _scope(actor, region_code)
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationFailed(_("统计月数应为1至%(n)d") % {"n": MAX_MONTHS}, details={"field": "months"})
    today = today or timezone.localdate()
    first, last = full_months(today, months)
    month_list = _months(first, last)
    board = Dashboard(region=region, scope_label=label, since=first, until=last)
    panel, board.figures = _oversight_panel(prefixes, today)
    board.figures.update(_reporting_figures(prefixes, today))
    board.panels = {
        "oversight": panel,
        "organisations": _organisations_panel(prefixes),
        "assessments": _assessments_panel(prefixes, first, last),
        "certificates": _certificates_panel(prefixes, month_list, first, last),
        "verifications": _verifications_panel(prefixes, month_list, first, last),
        "subsidies": _subsidies_panel(prefixes, month_list, first, last),
    }
    province = _province_in_scope(actor, region, prefixes)
    if province is not None:
        board.panels["cities"] = _cities_panel(province, first, last, today)
    return board


def full_months(today: datetime.date, months: int) -> tuple[datetime.date, datetime.date]:
    """The last `months` whole calendar months before the current one: on 2026-12-07, 近12个月 is 2025-12-01 to
    2026-11-30 (a month still running would be compared with whole ones)."""
    last = today.replace(day=1) - datetime.timedelta(days=1)
    return add_months(last.replace(day=1), -(months - 1)), last


def _province_in_scope(actor: Actor, region: Region | None, prefixes: list[str]) -> Region | None:
    """The province whose cities the board compares: the region chosen, or the officer's own provincial bureau."""
    if region is not None:
        return region if region.kind == Region.Kind.PROVINCE else None
    provinces = [b.region for b in actor.bureaus() if b.region.kind == Region.Kind.PROVINCE]
    return provinces[0] if len(provinces) == 1 else None


def _cities_panel(province: Region, since: datetime.date, until: datetime.date, today: datetime.date) -> Panel:
    """A province's cities side by side over the same window: cases, certificates, verifications, pass rates and
    subsidy payments, so an officer of the province sees where to look."""
    cities = list(Region.objects.filter(parent=province, kind=Region.Kind.CITY, active=True).order_by("code"))
    scope = [province.prefix]
    certificates = _tally(DailyCount.Kind.CERTIFICATES, scope, since, until, by="city")
    verifications = _tally(DailyCount.Kind.VERIFICATIONS, scope, since, until, by="city")
    complaints = Complaint.objects.filter(_code_q("region__code", scope))
    open_cases = _by_city(complaints.open(), "region__code", n=Count("id"))
    overdue_cases = _by_city(complaints.overdue(today), "region__code", n=Count("id"))
    finished = Registration.objects.filter(
        _code_q("plan__organisation__region__code", scope), finalised_at__date__gte=since, finalised_at__date__lte=until
    )
    outcomes = _by_city(
        finished,
        "plan__organisation__region__code",
        passed=Count("id", filter=Q(outcome=Registration.Outcome.PASSED)),
        failed=Count("id", filter=Q(outcome=Registration.Outcome.FAILED)),
    )
    claim = _claim_model()
    paid = (
        _by_city(
            claim.objects.filter(_code_q("region__code", scope), status="paid", paid_on__gte=since, paid_on__lte=until),
            "region__code",
            total=Sum("amount"),
        )
        if claim is not None
        else {}
    )
    rows = []
    for city in cities:
        c = city.prefix
        passed, failed = outcomes.get(c, {}).get("passed", 0), outcomes.get(c, {}).get("failed", 0)
        sat = passed + failed
        rows.append(
            [
                city.name,
                open_cases.get(c, {}).get("n", 0),
                overdue_cases.get(c, {}).get("n", 0),
                certificates.get(c, 0),
                verifications.get(c, 0),
                round(100 * passed / sat, 1) if sat else "—",
                paid.get(c, {}).get("total") or Decimal(0),
            ]
        )
    return Panel(
        key="cities",
        title=_("各市对比"),
        headers=[
            _("地市"),
            _("未办结举报"),
            _("超期举报"),
            _("发证数"),
            _("核验次数"),
            _("合格率(%)"),
            _("补贴支付(元)"),
        ],
        rows=rows,
        chart=bar_chart([(r[0], r[3]) for r in rows], title=_("各市发证数")) if rows else None,
        note=_("超期举报:办理期限已过仍未办结的举报。统计期间与看板相同,举报为当前数。"),
    )


def _by_city(rows, code_field: str, **figures) -> dict[str, dict]:
    """`figures` (aggregates) of `rows` per city, by the city's code prefix: one grouped query for all cities."""
    grouped = rows.annotate(city=Substr(code_field, 1, CITY_PREFIX)).values("city").annotate(**figures).order_by()
    return {r.pop("city"): r for r in grouped}


def _cell(value: object) -> object:
    """Decimals as numbers; formula-like text is neutralised by export_workbook, as in every export."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def panel_export(*, actor: Actor, panel: str, region_code: str = "", months: int = 12) -> tuple[bytes, str]:
    """One panel as an xlsx workbook (and a file name); the export is audited."""
    if panel not in (*PANELS, *PROVINCE_PANELS):
        raise NotFound()
    board = dashboard_for(actor=actor, region_code=region_code, months=months)
    p = board.panels.get(panel)
    if p is None:
        raise NotFound()
    data = export_workbook([str(h) for h in p.headers], ([_cell(v) for v in row] for row in p.rows), p.title)
    audit_record(
        actor=actor,
        action="dashboard.export",
        object_type="oversight.dashboard",
        object_id=panel,
        after={"panel": panel, "region": region_code, "months": months, "rows": len(p.rows)},
        region_code=board.region.code if board.region else "",
    )
    name = f"{panel}-{board.region.code if board.region else 'all'}-{board.since:%Y%m}-{board.until:%Y%m}.xlsx"
    return data, name
