"""The rules of reporting, held as data: deadlines (DeadlineRule, seeded from data/deadlines.json) and which
certificate levels the national number rule defines (NATIONAL_REPORT_LEVEL_DIGITS)."""

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from occupations.workdays import WorkCalendar

from .models import DeadlineRule

DATA = Path(__file__).resolve().parent / "data" / "deadlines.json"


@dataclass(frozen=True)
class Due:
    on: datetime.date
    provisional: bool
    explanation: str


def deadline_rules_load(*, update: bool = False) -> int:
    """Add the rules of data/deadlines.json that are missing (all of them again with update=True). Idempotent."""
    rules = json.loads(DATA.read_text(encoding="utf-8"))["rules"]
    added = 0
    with transaction.atomic():
        for row in rules:
            key = {k: row[k] for k in ("kind", "region_prefix", "organisation_kind", "effective_from")}
            values = {"working_days": row["working_days"], "basis": row["basis"], "effective_until": None}
            if update:
                DeadlineRule.objects.update_or_create(**key, defaults=values)
            else:
                _rule, created = DeadlineRule.objects.get_or_create(**key, defaults=values)
                added += created
    return added


def _rule_for(kind: str, region_code: str, organisation_kind: str, day: datetime.date) -> DeadlineRule | None:
    if not DeadlineRule.objects.exists():
        deadline_rules_load()  # a fresh or flushed database: the shipped rules, never no rule at all
    candidates = [
        r
        for r in DeadlineRule.objects.filter(kind=kind, effective_from__lte=day)
        if (r.effective_until is None or r.effective_until >= day)
        and region_code.startswith(r.region_prefix)
        and r.organisation_kind in ("", organisation_kind)
    ]
    # The most specific rule wins: the longest region prefix, then one for this kind of organisation.
    candidates.sort(key=lambda r: (len(r.region_prefix), bool(r.organisation_kind), r.effective_from), reverse=True)
    return candidates[0] if candidates else None


def due_date(
    *, kind: str, region_code: str, organisation_kind: str, start: datetime.date, calendar: WorkCalendar | None = None
) -> Due:
    """The day a record must have reached the national database: N working days after `start` (not counted)."""
    rule = _rule_for(kind, region_code, organisation_kind, start)
    if rule is None:
        return Due(start, False, _("没有适用的上报时限规则,按当日计"))
    deadline = (calendar or WorkCalendar()).add_working_days(start, rule.working_days)
    explanation = _("%(start)s起%(n)d个工作日内(起算当日不计入;%(basis)s;%(cal)s)") % {
        "start": start.isoformat(),
        "n": rule.working_days,
        "basis": rule.basis,
        "cal": deadline.explanation,
    }
    return Due(deadline.date, deadline.provisional, explanation[:255])


def reportable_level(number_digit: str) -> bool:
    """The national number rule (人社鉴发〔2019〕2号) defines level digits 1–5 only; 学徒工, 特级技师 and 首席技师 have
    no national digit yet, so their records are held back (visibly) until a province or the ministry says how."""
    return number_digit in settings.NATIONAL_REPORT_LEVEL_DIGITS


def held_reason(level_label: str, number_digit: str) -> str:
    return _(
        "“%(level)s”在国家证书编码规则中没有等级代码(本平台等级位为%(digit)s),国家数据库暂不接收;"
        "记录已保留,待上级部门明确报送方式后自动上报"
    ) % {"level": level_label, "digit": number_digit}
