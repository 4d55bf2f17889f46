"""Eligibility (申报条件): the one place that decides whether a candidate may apply for a level, and why.

A standard level carries its rules as data (StandardLevel.eligibility): a list of routes, any one of which
suffices, each a list of conditions that must all hold:

    [{"code": "L5W4", "label": "取得五级证书后,累计从事本职业或相关职业工作满4年",
      "all": [{"type": "certificate", "level": "5"}, {"type": "work_years", "min": 4}]}, ...]

Condition types (the DSL used by occupations/data/eligibility_templates.json):

    work_years        {min}                               declared years in this or a related occupation
    certificate       {level, min_years_since?}           skill-level certificate of this or a related
                                                          occupation at `level` or higher
    certificate_kind  {kind, min_years_since?}            another credential, e.g. preparatory_technician
    apprenticeship    {}                                  a completed apprenticeship
    education         {kinds, in_field, final_year_ok}    a diploma of one of `kinds`; final-year students
                                                          count when final_year_ok
    age               {min}                               age in whole years (周岁) on the evaluation date
    title             {grade, min_years_since?}           professional title (职称); higher grades count

Certificates, credentials and titles carry a `verified` flag: True when the platform checked them itself,
False when the candidate only declared them with a scan that a reviewer must check. A route met only thanks
to unverified facts makes the candidate "needs_review" rather than "eligible", so nobody is admitted on an
unchecked claim and nobody is turned away because the platform could not check a genuine one. Declared work
years, education, apprenticeship and birth date are taken as declared (the applicant signs for them).

"N years since" is counted by anniversaries: a certificate issued on 2021-06-01 is 4 years old on 2025-06-01.
A date with no counterpart in the target month (29 February) falls on the month's last day (民法典第二百零二条).
A route worded "取得X证书后,累计从事本职业或相关职业工作满N年" counts the years after that certificate, so its
certificate condition carries `min_years_since: N` besides the work-years condition; what is missing is said in
months and days ("还差1个月"), never in fractions of a year. The caller passes the day to judge on (the plan's exam
date) and `on_label` names it, so the explanation says which day was used.

This module is pure Python on purpose: the registration service, the API, the page and the import task all
call `evaluate()` with plain data, and the result is stored on the registration via `as_dict()`.
"""

import datetime
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.dates import add_months

logger = logging.getLogger(__name__)

# Professional title grades (职称), lowest first. 副高级 is the "senior" of the standards' wording.
TITLE_GRADES: dict[str, tuple[int, str]] = {
    "junior": (1, "初级职称"),
    "intermediate": (2, "中级职称"),
    "senior": (3, "副高级职称"),
    "full_senior": (4, "正高级职称"),
}

EDUCATION_KINDS: dict[str, str] = {
    "technical_school": "技工学校",
    "secondary_vocational": "中等职业学校",
    "higher_vocational": "高等职业学校",
    "advanced_technical": "高级技工学校",
    "technician_college": "技师学院",
    "college": "大学专科",
    "bachelor": "大学本科",
    "master": "硕士研究生",
    "doctor": "博士研究生",
    "advanced_class": "技工院校高级工班",
}

CREDENTIAL_KINDS: dict[str, str] = {
    "preparatory_technician": "预备技师证书",
}

# Used only when the caller passes no level_names; Level.name in the database is the real source.
DEFAULT_LEVEL_NAMES: dict[str, str] = {"5": "五级", "4": "四级", "3": "三级", "2": "二级", "1": "一级"}


class Status(StrEnum):
    ELIGIBLE = "eligible"
    NEEDS_REVIEW = "needs_review"
    INELIGIBLE = "ineligible"


# --- evidence ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Education:
    kind: str
    in_field: bool
    graduated_on: datetime.date | None = None
    final_year_student: bool = False


@dataclass(frozen=True, kw_only=True)
class HeldCertificate:
    occupation_code: str
    level_code: str
    issued_on: datetime.date
    verified: bool


@dataclass(frozen=True, kw_only=True)
class HeldCredential:
    kind: str
    obtained_on: datetime.date
    verified: bool


@dataclass(frozen=True, kw_only=True)
class Title:
    grade: str
    obtained_on: datetime.date
    verified: bool


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """What is known about the candidate. `work_years` counts this occupation and related ones, as declared."""

    birth_date: datetime.date | None = None
    work_years: float = 0.0
    apprenticeship_completed: bool = False
    education: list[Education] = field(default_factory=list)
    certificates: list[HeldCertificate] = field(default_factory=list)
    certificate_kinds: list[HeldCredential] = field(default_factory=list)
    titles: list[Title] = field(default_factory=list)


# --- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionResult:
    """`met`: satisfied by verified facts. `needs_review`: satisfied only if unverified evidence is accepted."""

    condition: dict
    met: bool
    needs_review: bool
    explanation: str

    @property
    def type(self) -> str:
        return str(self.condition.get("type", ""))

    def as_dict(self) -> dict:
        return {
            "type": self.type,
            "condition": self.condition,
            "met": self.met,
            "needs_review": self.needs_review,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class RouteResult:
    code: str
    label: str
    met: bool
    needs_review: bool
    conditions: list[ConditionResult]

    @property
    def missing(self) -> list[str]:
        """Explanations of the conditions that fail even if every declared fact is accepted."""
        return [c.explanation for c in self.conditions if not c.met and not c.needs_review]

    @property
    def to_review(self) -> list[str]:
        """Explanations of the conditions that hold only on unverified evidence."""
        return [c.explanation for c in self.conditions if c.needs_review]

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "met": self.met,
            "needs_review": self.needs_review,
            "conditions": [c.as_dict() for c in self.conditions],
        }


@dataclass(frozen=True)
class EligibilityResult:
    status: Status
    met_route: RouteResult | None
    routes: list[RouteResult]
    on: datetime.date
    occupation_code: str
    related_codes: tuple[str, ...] = ()
    on_label: str = ""  # which day `on` is, e.g. "考核日期": the explanation says what it was judged on

    @property
    def eligible(self) -> bool:
        return self.status == Status.ELIGIBLE

    def summary(self) -> str:
        """One sentence for the candidate, the reviewer and the registration record, ending with the day it was
        judged on."""
        if not self.on_label:
            return self._verdict()
        return f"{self._verdict()}(按{self.on_label}{fmt_date(self.on)}计算)"

    def _verdict(self) -> str:
        if self.status == Status.ELIGIBLE and self.met_route is not None:
            return f"符合申报条件:{self.met_route.label}"
        if self.status == Status.NEEDS_REVIEW and self.met_route is not None:
            pending = ";".join(self.met_route.to_review)
            return f"待审核:申报材料经审核属实即符合申报条件:{self.met_route.label}(须审核:{pending})"
        if not self.routes:
            return "不符合任何申报路径:该等级未配置申报条件"
        parts = [f"{r.label}——{','.join(r.missing)}" for r in self.routes]
        return "不符合任何申报路径:" + ";".join(parts)

    def as_dict(self) -> dict:
        return {
            "status": str(self.status),
            "met_route": self.met_route.code if self.met_route is not None else None,
            "summary": self.summary(),
            "evaluated_on": self.on.isoformat(),
            "evaluated_on_basis": self.on_label,
            "occupation_code": self.occupation_code,
            "related_codes": list(self.related_codes),
            "routes": [r.as_dict() for r in self.routes],
        }


# --- dates ------------------------------------------------------------------------------------------------


def fmt_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _fmt_num(value: float) -> str:
    return f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")


def years_after(day: datetime.date, years: float) -> datetime.date:
    """The date on which `years` (possibly fractional, counted in whole months) have passed since `day`."""
    return add_months(day, round(float(years) * 12))


def months_and_days(start: datetime.date, end: datetime.date) -> tuple[int, int]:
    """Whole months from `start` to `end` (counted like `add_months`), and the days left over."""
    months = (end.year - start.year) * 12 + end.month - start.month
    while months > 0 and add_months(start, months) > end:
        months -= 1
    return max(months, 0), (end - add_months(start, max(months, 0))).days


def gap_text(on: datetime.date, due: datetime.date) -> str:
    """What is still missing from `on` to `due`, in months and days as a person counts them: "还差1个月"."""
    months, days = months_and_days(on, due)
    years, months = divmod(months, 12)
    parts = [f"{years}年"] if years else []
    if months:
        parts.append(f"{months}个月")
    if days or not parts:
        parts.append(f"{days}天")
    return "还差" + "".join(parts)


def _months_text(months: int) -> str:
    years, rest = divmod(months, 12)
    return (f"{years}年" if years else "") + (f"{rest}个月" if rest or not years else "")


def age_on(birth_date: datetime.date, on: datetime.date) -> int:
    """Age in whole years (周岁); the birthday itself counts."""
    age = on.year - birth_date.year
    return age if years_after(birth_date, age) <= on else age - 1


# --- evaluation -------------------------------------------------------------------------------------------


class _ConfigError(Exception):
    """A condition whose parameters are missing or wrong: the route fails and the operator is told."""


@dataclass(frozen=True)
class _Context:
    evidence: Evidence
    on: datetime.date
    occupation_code: str
    related_codes: frozenset[str]
    level_rank: Mapping[str, int]
    level_names: Mapping[str, str]

    def level_name(self, code: str) -> str:
        return self.level_names.get(code) or DEFAULT_LEVEL_NAMES.get(code) or f"等级{code}"

    def occupation_phrase(self, code: str) -> str:
        return "本职业" if code == self.occupation_code else f"相关职业({code})"

    @property
    def scope_phrase(self) -> str:
        return "本职业或相关职业" if self.related_codes else "本职业"


def _provenance(day: datetime.date, verb: str, verified: bool) -> str:
    return f"({fmt_date(day)}{verb},{'平台核验' if verified else '申报人自报,待审核'})"


def _min_years(condition: dict) -> float | None:
    value = condition.get("min_years_since")
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError) as exc:
        raise _ConfigError("min_years_since") from exc
    return value if value > 0 else None


def _required_number(condition: dict, key: str) -> float:
    try:
        return float(condition[key])
    except (KeyError, TypeError, ValueError) as exc:
        raise _ConfigError(key) from exc


def _holding(
    items: Sequence[Any],
    *,
    on: datetime.date,
    dated: Callable[[Any], datetime.date],
    min_years: float | None,
) -> tuple[Any | None, Any | None, Any | None]:
    """Split qualifying holdings into (verified and old enough, unverified and old enough, too recent).

    `items` arrive already filtered to the kind/level asked for and sorted by preference; anything dated after
    the evaluation date did not exist yet and is ignored.
    """
    verified_ok = unverified_ok = too_recent = None
    for item in items:
        if dated(item) > on:
            continue
        old_enough = min_years is None or years_after(dated(item), min_years) <= on
        if not old_enough:
            if too_recent is None or dated(item) < dated(too_recent):
                too_recent = item
        elif item.verified and verified_ok is None:
            verified_ok = item
        elif not item.verified and unverified_ok is None:
            unverified_ok = item
    return verified_ok, unverified_ok, too_recent


def _work_years(cond: dict, ctx: _Context) -> tuple[bool, bool, str]:
    required = _required_number(cond, "min")
    have = round(float(ctx.evidence.work_years), 2)  # as displayed, so the sentence never says "还差0年"
    if have >= required:
        return True, False, f"工作年限{_fmt_num(have)}年,已满{_fmt_num(required)}年"
    # Declared years have one decimal; what is missing is said in whole months, rounded up (0.1年 → 2个月).
    gap_months = math.ceil(round((required - have) * 12, 6))
    return (
        False,
        False,
        f"工作年限{_fmt_num(have)}年,不足{_fmt_num(required)}年(还差{_months_text(gap_months)})",
    )


def _certificate(cond: dict, ctx: _Context) -> tuple[bool, bool, str]:
    if "level" not in cond:
        raise _ConfigError("level")
    level = str(cond["level"])
    if level not in ctx.level_rank:
        raise _ConfigError(f"level={level}")
    required_rank = ctx.level_rank[level]
    min_years = _min_years(cond)
    own_or_related = {ctx.occupation_code} | ctx.related_codes
    held = [
        c
        for c in ctx.evidence.certificates
        if c.occupation_code in own_or_related and str(c.level_code) in ctx.level_rank and c.issued_on <= ctx.on
    ]
    qualifying = sorted(
        (c for c in held if ctx.level_rank[str(c.level_code)] >= required_rank),
        key=lambda c: (c.occupation_code != ctx.occupation_code, -ctx.level_rank[str(c.level_code)], c.issued_on),
    )
    verified_ok, unverified_ok, too_recent = _holding(
        qualifying, on=ctx.on, dated=lambda c: c.issued_on, min_years=min_years
    )

    def described(c: HeldCertificate) -> str:
        return (
            f"持有{ctx.occupation_phrase(c.occupation_code)}{ctx.level_name(str(c.level_code))}证书"
            f"{_provenance(c.issued_on, '发证', c.verified)}"
        )

    age_note = f",发证已满{_fmt_num(min_years)}年" if min_years else ""
    if verified_ok is not None:
        return True, False, described(verified_ok) + age_note
    if unverified_ok is not None:
        return False, True, described(unverified_ok) + age_note
    if too_recent is not None:
        due = years_after(too_recent.issued_on, min_years or 0)
        return (
            False,
            False,
            f"{described(too_recent)},发证不满{_fmt_num(min_years or 0)}年"
            f"({fmt_date(due)}满{_fmt_num(min_years or 0)}年,{gap_text(ctx.on, due)})",
        )
    text = f"未持有{ctx.scope_phrase}{ctx.level_name(level)}及以上证书"
    if held:
        best = max(held, key=lambda c: ctx.level_rank[str(c.level_code)])
        text += f"(现持有{ctx.occupation_phrase(best.occupation_code)}{ctx.level_name(str(best.level_code))}证书)"
    return False, False, text


def _certificate_kind(cond: dict, ctx: _Context) -> tuple[bool, bool, str]:
    if "kind" not in cond:
        raise _ConfigError("kind")
    kind = str(cond["kind"])
    name = CREDENTIAL_KINDS.get(kind, kind)
    min_years = _min_years(cond)
    matching = sorted((c for c in ctx.evidence.certificate_kinds if c.kind == kind), key=lambda c: c.obtained_on)
    verified_ok, unverified_ok, too_recent = _holding(
        matching, on=ctx.on, dated=lambda c: c.obtained_on, min_years=min_years
    )
    age_note = f",已满{_fmt_num(min_years)}年" if min_years else ""
    if verified_ok is not None:
        return True, False, f"持有{name}{_provenance(verified_ok.obtained_on, '取得', True)}{age_note}"
    if unverified_ok is not None:
        return False, True, f"持有{name}{_provenance(unverified_ok.obtained_on, '取得', False)}{age_note}"
    if too_recent is not None:
        due = years_after(too_recent.obtained_on, min_years or 0)
        return (
            False,
            False,
            f"取得{name}不满{_fmt_num(min_years or 0)}年"
            f"({fmt_date(too_recent.obtained_on)}取得,{fmt_date(due)}满{_fmt_num(min_years or 0)}年,"
            f"{gap_text(ctx.on, due)})",
        )
    return False, False, f"未持有{name}"


def _apprenticeship(cond: dict, ctx: _Context) -> tuple[bool, bool, str]:
    if ctx.evidence.apprenticeship_completed:
        return True, False, f"{ctx.scope_phrase}学徒期满"
    return False, False, f"未完成{ctx.scope_phrase}学徒期"


def _join_or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else "、".join(names[:-1]) + "或" + names[-1]


def _education(cond: dict, ctx: _Context) -> tuple[bool, bool, str]:
    kinds = cond.get("kinds")
    if not isinstance(kinds, list) or not kinds:
        raise _ConfigError("kinds")
    in_field = bool(cond.get("in_field", False))
    final_year_ok = bool(cond.get("final_year_ok", False))
    field_phrase = "本专业" if in_field else ""
    same_kind = [e for e in ctx.evidence.education if e.kind in kinds]
    fitting = [e for e in same_kind if e.in_field or not in_field]

    for e in fitting:
        if e.graduated_on is not None and e.graduated_on <= ctx.on:
            return True, False, f"{field_phrase}{EDUCATION_KINDS.get(e.kind, e.kind)}毕业({fmt_date(e.graduated_on)})"
    for e in fitting:
        if e.final_year_student and final_year_ok:
            return True, False, f"{field_phrase}{EDUCATION_KINDS.get(e.kind, e.kind)}在读应届毕业生"

    for e in fitting:
        if e.final_year_student:
            return False, False, f"{EDUCATION_KINDS.get(e.kind, e.kind)}在读应届毕业生,本路径须已取得毕业证书"
    if fitting:
        return False, False, f"{EDUCATION_KINDS.get(fitting[0].kind, fitting[0].kind)}尚未毕业"
    if same_kind:
        return False, False, f"持有{EDUCATION_KINDS.get(same_kind[0].kind, same_kind[0].kind)}学历,但非本专业"
    wanted = _join_or([EDUCATION_KINDS.get(k, k) for k in kinds])
    return False, False, f"无{field_phrase}{wanted}毕业证书{'(含在读应届毕业生)' if final_year_ok else ''}"


def _age(cond: dict, ctx: _Context) -> tuple[bool, bool, str]:
    required = int(_required_number(cond, "min"))
    birth = ctx.evidence.birth_date
    if birth is None:
        return False, False, "未提供出生日期,无法核对年龄"
    age = age_on(birth, ctx.on)
    if age >= required:
        return True, False, f"年满{required}周岁(现年{age}岁)"
    due = years_after(birth, required)
    return False, False, f"未满{required}周岁(现年{age}岁,{fmt_date(due)}年满{required}周岁,{gap_text(ctx.on, due)})"


def _title(cond: dict, ctx: _Context) -> tuple[bool, bool, str]:
    grade = str(cond.get("grade", ""))
    if grade not in TITLE_GRADES:
        raise _ConfigError(f"grade={grade}")
    required_rank, required_name = TITLE_GRADES[grade]
    min_years = _min_years(cond)
    held = [t for t in ctx.evidence.titles if t.grade in TITLE_GRADES and t.obtained_on <= ctx.on]
    qualifying = sorted(
        (t for t in held if TITLE_GRADES[t.grade][0] >= required_rank),
        key=lambda t: (-TITLE_GRADES[t.grade][0], t.obtained_on),
    )
    verified_ok, unverified_ok, too_recent = _holding(
        qualifying, on=ctx.on, dated=lambda t: t.obtained_on, min_years=min_years
    )
    age_note = f",已满{_fmt_num(min_years)}年" if min_years else ""
    for item, met in ((verified_ok, True), (unverified_ok, False)):
        if item is not None:
            name = TITLE_GRADES[item.grade][1]
            return met, not met, f"取得{name}{_provenance(item.obtained_on, '取得', item.verified)}{age_note}"
    if too_recent is not None:
        name = TITLE_GRADES[too_recent.grade][1]
        due = years_after(too_recent.obtained_on, min_years or 0)
        return (
            False,
            False,
            f"取得{name}不满{_fmt_num(min_years or 0)}年"
            f"({fmt_date(too_recent.obtained_on)}取得,{fmt_date(due)}满{_fmt_num(min_years or 0)}年,"
            f"{gap_text(ctx.on, due)})",
        )
    text = f"未取得{required_name.removesuffix('职称')}及以上职称"
    if held:
        best = max(held, key=lambda t: TITLE_GRADES[t.grade][0])
        text += f"(现有{TITLE_GRADES[best.grade][1]})"
    return False, False, text


CONDITION_TYPES: dict[str, Callable[[dict, _Context], tuple[bool, bool, str]]] = {
    "work_years": _work_years,
    "certificate": _certificate,
    "certificate_kind": _certificate_kind,
    "apprenticeship": _apprenticeship,
    "education": _education,
    "age": _age,
    "title": _title,
}


def _evaluate_condition(condition: Any, ctx: _Context, route_code: str) -> ConditionResult:
    if not isinstance(condition, dict):
        logger.warning("eligibility route %s: condition is not an object: %r", route_code, condition)
        return ConditionResult({"type": ""}, False, False, f"条件配置有误:{condition!r}")
    kind = str(condition.get("type", ""))
    check = CONDITION_TYPES.get(kind)
    if check is None:
        logger.warning("eligibility route %s: unknown condition type %r", route_code, kind)
        return ConditionResult(dict(condition), False, False, f"未知条件类型:{kind}")
    try:
        met, needs_review, explanation = check(condition, ctx)
    except _ConfigError as exc:
        logger.warning("eligibility route %s: condition %r has a bad parameter %s", route_code, condition, exc)
        return ConditionResult(dict(condition), False, False, f"条件配置有误:{kind}的参数{exc}缺失或无效")
    return ConditionResult(dict(condition), met, needs_review, explanation)


def _evaluate_route(route: Any, ctx: _Context) -> RouteResult:
    if not isinstance(route, dict):
        logger.warning("eligibility route is not an object: %r", route)
        return RouteResult("", "", False, False, [ConditionResult({"type": ""}, False, False, "申报路径配置有误")])
    code, label = str(route.get("code", "")), str(route.get("label", ""))
    conditions = route.get("all")
    if not isinstance(conditions, list) or not conditions:
        # An empty route would admit everyone; treat it as the configuration error it is.
        logger.warning("eligibility route %s has no conditions", code)
        return RouteResult(
            code, label, False, False, [ConditionResult({"type": ""}, False, False, "路径未配置任何条件")]
        )
    results = [_evaluate_condition(c, ctx, code) for c in conditions]
    met = all(r.met for r in results)
    needs_review = not met and all(r.met or r.needs_review for r in results)
    return RouteResult(code, label, met, needs_review, results)


def evaluate(
    routes: Sequence[dict],
    evidence: Evidence,
    *,
    on: datetime.date,
    occupation_code: str,
    related_codes: Sequence[str] = (),
    level_rank: Mapping[str, int],
    level_names: Mapping[str, str] | None = None,
    on_label: str = "",
) -> EligibilityResult:
    """Evaluate every route of one standard level against the candidate's evidence on date `on`.

    `level_rank` maps level codes to their order (higher is a higher level), as Level.rank does, so that
    new levels added as data compare correctly; `level_names` ({code: "四级"}) only affects explanations.
    """
    ctx = _Context(
        evidence=evidence,
        on=on,
        occupation_code=occupation_code,
        related_codes=frozenset(related_codes) - {occupation_code},
        level_rank={str(k): v for k, v in level_rank.items()},
        level_names={str(k): v for k, v in (level_names or {}).items()},
    )
    results = [_evaluate_route(r, ctx) for r in routes]
    met = next((r for r in results if r.met), None)
    review = next((r for r in results if r.needs_review), None)
    if met is not None:
        status, chosen = Status.ELIGIBLE, met
    elif review is not None:
        status, chosen = Status.NEEDS_REVIEW, review
    else:
        status, chosen = Status.INELIGIBLE, None
    return EligibilityResult(
        status, chosen, results, on, occupation_code, tuple(sorted(ctx.related_codes)), on_label=on_label
    )
