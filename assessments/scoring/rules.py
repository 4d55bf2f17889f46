"""Scoring (评分), locking a component's results, corrections, bulk score sheets and re-sits (补考).

The rules, each computed in one place and used by pages, the API and imports alike:

- Who scores: an assessor on the plan's panel for that component (PanelMember → Appointment → Person), for the
  approved registrations whose level needs the component under the plan's standard. Components a re-sit
  candidate carries over from an earlier plan are not scored again.
- An assessor's marks stay editable until they submit their sheet; after that the sheet is closed.
- 理论知识考试 papers may be split between markers, so each candidate needs one submitted mark; 操作技能考核 and
  综合评审 are judged by the whole panel, so every panel member must have submitted a mark for every candidate.
- Combining marks (`combine_marks`): **void** (违纪/作弊) as soon as ANY assessor marked it, because one
  assessor witnessing cheating is enough; **absent** (缺考) when a strict majority of the assessors marked it
  (a minority "absent" is treated as a slip and the other marks are used); otherwise the numeric marks are
  combined by StandardLevel.score_combination — "mean", or "trimmed_mean" which drops one highest and one
  lowest mark when there are at least three — and rounded half-up to one decimal.
- A component passes at its pass_mark from the standard (60 when the standard gives none).
- Changes after locking go through ScoreCorrection: one organisation admin asks, with a reason; another approves.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, ValidationFailed
from occupations.models import StandardLevel

from ..models import COMPONENT_KINDS, ComponentResult, Plan, Registration

KIND_LABELS: dict[str, str] = {k: str(label) for k, label in COMPONENT_KINDS}
ONE_DECIMAL = Decimal("0.1")
DEFAULT_PASS_MARK = Decimal("60")
SCORED = ComponentResult.Status.SCORED
ABSENT = ComponentResult.Status.ABSENT
VOID = ComponentResult.Status.VOID
CARRIED = ComponentResult.Status.CARRIED
MARK_STATUSES = (SCORED, ABSENT, VOID)

# Components whose papers may be divided between markers: one submitted mark per candidate is enough.
SHARED_MARKING = frozenset({"theory"})


# --- The standard's rules for each level -------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentSpec:
    kind: str
    name: str
    pass_mark: Decimal


@dataclass(frozen=True)
class LevelRules:
    components: tuple[ComponentSpec, ...]
    combination: str
    resit_window_months: int

    def spec(self, kind: str) -> ComponentSpec | None:
        return next((c for c in self.components if c.kind == kind), None)


def _specs(components: list[dict]) -> tuple[ComponentSpec, ...]:
    return tuple(
        ComponentSpec(
            kind=c["kind"],
            name=c.get("name") or KIND_LABELS.get(c["kind"], c["kind"]),
            pass_mark=Decimal(str(c["pass_mark"])) if c.get("pass_mark") is not None else DEFAULT_PASS_MARK,
        )
        for c in components
    )


def _rules(sl: StandardLevel) -> LevelRules:
    return LevelRules(_specs(sl.components), sl.score_combination, sl.resit_window_months)


def level_rules(plan: Plan) -> dict[int, LevelRules]:
    """What the plan's standard requires of each level, keyed by level id (one query)."""
    return {sl.level_id: _rules(sl) for sl in StandardLevel.objects.filter(standard_id=plan.standard_id)}


def level_rules_for(registration: Registration) -> LevelRules:
    sl = StandardLevel.objects.filter(standard_id=registration.plan.standard_id, level_id=registration.level_id).first()
    if sl is None:
        raise Conflict(_("该计划所依据的标准未规定此等级的考核科目"))
    return _rules(sl)


# --- Combining marks ---------------------------------------------------------------------------------------


def combine(values: list[Decimal], method: str) -> tuple[Decimal, str]:
    """The combined score, rounded half-up to one decimal, and the rule used ("mean of 3", "trimmed mean of 5")."""
    if not values:
        raise ValueError("no marks to combine")
    ordered = sorted(values)
    if method == "trimmed_mean" and len(ordered) >= 3:
        used, rule = ordered[1:-1], f"trimmed mean of {len(ordered)}"
    else:
        used, rule = ordered, f"mean of {len(ordered)}"
    mean = sum(used, Decimal(0)) / Decimal(len(used))
    return mean.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP), rule


@dataclass(frozen=True)
class Combined:
    status: str
    score: Decimal | None
    rule: str
    note: str = ""


def combine_marks(marks: list[tuple[str, Decimal | None]], method: str) -> Combined:
    """One candidate's marks from every assessor → the component result (see the module docstring)."""
    n = len(marks)
    if n == 0:
        raise ValueError("no marks to combine")
    void = sum(1 for status, _v in marks if status == VOID)
    if void:
        return Combined(
            VOID,
            None,
            f"void by {void} of {n}",
            _("%(v)d名考评员(共%(n)d名)认定违纪,成绩无效") % {"v": void, "n": n},
        )
    absent = sum(1 for status, _v in marks if status == ABSENT)
    if absent * 2 > n:
        return Combined(
            ABSENT, None, f"absent by {absent} of {n}", _("%(a)d名考评员(共%(n)d名)记为缺考") % {"a": absent, "n": n}
        )
    score, rule = combine([v for status, v in marks if status == SCORED and v is not None], method)
    note = ""
    if absent:
        note = _("%(a)d名考评员记为缺考,未过半数,按其余分数计算") % {"a": absent}
    return Combined(SCORED, score, rule, note)


def rule_label(rule: str) -> str:
    """The stored rule text, as a person reads it."""
    words = rule.split()
    if rule.startswith("trimmed mean of "):
        return _("%(n)s名考评员评分去掉最高最低后平均") % {"n": words[-1]}
    if rule.startswith("mean of "):
        return _("%(n)s名考评员评分算术平均") % {"n": words[-1]}
    if rule.startswith("void by "):
        return _("违纪作废")
    if rule.startswith("absent by "):
        return _("缺考")
    if rule.startswith("carried"):
        return _("沿用前次合格成绩")
    if rule.startswith("corrected"):
        return _("经复核更正")
    return rule


def component_passed(status: str, score: Decimal | None, spec: ComponentSpec) -> bool:
    return status in (SCORED, CARRIED) and score is not None and score >= spec.pass_mark


# --- Reading scores and score values ------------------------------------------------------------------------


def parse_score(value) -> Decimal:
    """A mark typed by a person or read from a sheet: 0–100, at most one decimal."""
    if isinstance(value, bool) or value is None or str(value).strip() == "":
        raise ValidationFailed(_("请填写成绩"), details={"field": "value"})
    text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(_("成绩“%(v)s”不是数字") % {"v": text}, details={"field": "value"}) from None
    if not number.is_finite() or number < 0 or number > 100:
        raise ValidationFailed(_("成绩应在0到100之间"), details={"field": "value"})
    if number != number.quantize(ONE_DECIMAL):
        raise ValidationFailed(_("成绩最多保留一位小数"), details={"field": "value"})
    return number.quantize(ONE_DECIMAL)


def mark_text(status: str, value: Decimal | None) -> str:
    return str(value) if status == SCORED else status


def check_kind(kind: str) -> None:
    if kind not in KIND_LABELS:
        raise NotFound(_("没有这个考核科目"))


# --- Outcomes ------------------------------------------------------------------------------------------------


def outcome_of(registration: Registration, *, components: tuple[ComponentSpec, ...] | None = None) -> tuple[str, str]:
    """(outcome, explanation). Passed only if every required component passed (a carried pass counts); void if
    any component is void; absent if absent from any; pending while a component has no result; else failed.

    Pass `components` (and prefetch `results`) when deciding many registrations at once."""
    if components is None:
        components = level_rules_for(registration).components
    results = {r.kind: r for r in registration.results.all()}
    parts, statuses = [], []
    for spec in components:
        r = results.get(spec.kind)
        if r is None:
            parts.append(_("%(k)s:未出成绩") % {"k": spec.name})
            statuses.append("missing")
        elif r.status in (ABSENT, VOID):
            parts.append(f"{spec.name}:{r.get_status_display()}")
            statuses.append(r.status)
        else:
            verdict = _("合格") if r.passed else _("不合格,合格线%(m)s") % {"m": spec.pass_mark}
            carried = _(",前次保留") if r.status == CARRIED else ""
            parts.append(f"{spec.name}:{r.score}({verdict}{carried})")
            statuses.append("passed" if r.passed else "failed")
    detail = ";".join(parts)
    if VOID in statuses:
        return Registration.Outcome.VOID, _("违纪,成绩无效。%(d)s") % {"d": detail}
    if ABSENT in statuses:
        return Registration.Outcome.ABSENT, _("有科目缺考。%(d)s") % {"d": detail}
    if "missing" in statuses:
        return Registration.Outcome.PENDING, _("尚有科目未出成绩。%(d)s") % {"d": detail}
    if all(s == "passed" for s in statuses) and statuses:
        return Registration.Outcome.PASSED, _("各科目均合格。%(d)s") % {"d": detail}
    return Registration.Outcome.FAILED, _("有科目不合格。%(d)s") % {"d": detail}
