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

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role
from accreditation.models import Appointment
from accreditation.selectors import acting_appointments, appointed_without_role
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.spreadsheets import Column, ImportReport, RowError, export_workbook, read_rows
from occupations.levels import level_spellings
from occupations.models import StandardLevel

from .employment.services import employment_require_for_approval
from .examday.selectors import present_ids
from .integrity.rules import split_by_exceptions
from .integrity.services import active_exceptions, integrity_require, plan_findings
from .models import COMPONENT_KINDS, ComponentResult, PanelMember, Plan, Registration, Score, ScoreCorrection
from .plans import plans_for

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


def _level_rules_for(registration: Registration) -> LevelRules:
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


def _passed(status: str, score: Decimal | None, spec: ComponentSpec) -> bool:
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


def _mark(status: str, value: Decimal | None) -> str:
    return str(value) if status == SCORED else status


def _check_kind(kind: str) -> None:
    if kind not in KIND_LABELS:
        raise NotFound(_("没有这个考核科目"))


# --- Who may act ---------------------------------------------------------------------------------------------


def _plans(lock: bool) -> QuerySet[Plan]:
    qs = Plan.objects.select_related("organisation__region", "occupation", "standard")
    return qs.select_for_update(of=("self",)) if lock else qs


def _visible(actor: Actor, plan: Plan) -> bool:
    return plans_for(actor).filter(pk=plan.pk).exists()


def _require_admin(actor: Actor, plan: Plan) -> None:
    """Organisation admins act; anyone else who can see the plan gets 403, everyone else 404."""
    actor.require_authenticated()
    if plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN):
        return
    if _visible(actor, plan):
        raise PermissionDenied(_("仅本机构管理员可执行此操作"))
    raise NotFound()


def admin_plan(actor: Actor, plan_id: int, *, lock: bool = True) -> Plan:
    plan = _plans(lock).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    _require_admin(actor, plan)
    return plan


def can_see_full_results(actor: Actor, plan: Plan) -> bool:
    """The organisation's admins, bureau staff over its region and operators see names and ID numbers."""
    return (
        actor.is_operator
        or plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
        or actor.oversees_region(plan.organisation.region)
    )


def results_plan(actor: Actor, plan_id: int) -> Plan:
    """The plan, for someone allowed to see its full results (403 for other members, 404 for other tenants)."""
    actor.require_authenticated()
    plan = plans_for(actor).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    if not can_see_full_results(actor, plan):
        raise PermissionDenied(_("仅机构管理员和人社部门可查看完整成绩"))
    return plan


def _assessor_seat(actor: Actor, plan_id: int, kind: str, *, lock: bool) -> tuple[Plan, Appointment]:
    """The plan and the actor's appointment on its panel for `kind`: 403 for members who are not on that panel,
    404 for everyone who cannot see the plan at all."""
    actor.require_authenticated()
    _check_kind(kind)
    plan = _plans(lock).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    person = actor.person
    seats = PanelMember.objects.none()
    if person is not None:
        seats = PanelMember.objects.filter(
            plan=plan,
            appointment__in=acting_appointments(actor).values("pk"),
            appointment__status=Appointment.Status.ACTIVE,
        ).select_related("appointment__person")
    seat = next((m for m in seats if m.kind == kind), None)
    if seat is not None:
        return plan, seat.appointment
    appointed_here = (
        person is not None
        and PanelMember.objects.filter(plan=plan, kind=kind, appointment__person=person).exists()
        and appointed_without_role(actor)
    )
    if seats or appointed_here or _visible(actor, plan):
        if person is None and actor.user is not None:
            actor.require_person()  # an assessor's login not bound by proof scores nothing: say how to bind
        if appointed_here:
            raise PermissionDenied(
                _("您已被登记为考评员,但尚未接受机构发出的角色邀请;接受邀请后方可评分"), code="invitation_required"
            )
        raise PermissionDenied(_("您不是该计划“%(k)s”考评组成员,不能录入成绩") % {"k": KIND_LABELS[kind]})
    raise NotFound()


def _require_scoring_open(plan: Plan, kind: str | None = None) -> None:
    if plan.status != Plan.Status.PUBLISHED:
        raise Conflict(
            _("计划当前状态为“%(s)s”,不能评分或锁定成绩") % {"s": plan.get_status_display()}, code="scoring_closed"
        )
    if kind is None:
        return
    component = plan.components.filter(kind=kind).first()
    if component is None:
        raise Conflict(_("该计划未安排“%(k)s”") % {"k": KIND_LABELS[kind]})
    if component.starts_at > timezone.now():
        raise Conflict(
            _("“%(k)s”于%(t)s开始,开始后方可录入成绩")
            % {"k": KIND_LABELS[kind], "t": f"{timezone.localtime(component.starts_at):%Y-%m-%d %H:%M}"},
            code="not_started",
        )


def plan_audit(actor: Actor, plan: Plan, action: str, obj=None, **kwargs) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj if obj is not None else plan,
        region_code=plan.organisation.region.code,
        organisation_id=plan.organisation_id,
        **kwargs,
    )


# --- Who is scored -------------------------------------------------------------------------------------------


def candidates_for(plan: Plan, kind: str, rules: dict[int, LevelRules] | None = None) -> QuerySet[Registration]:
    """Approved registrations whose level needs `kind`, less those carrying a passed `kind` from a re-sit."""
    rules = level_rules(plan) if rules is None else rules
    level_ids = [level_id for level_id, r in rules.items() if r.spec(kind) is not None]
    carried = ComponentResult.objects.filter(kind=kind, status=CARRIED).values("registration_id")
    return (
        plan.registrations.filter(status=Registration.Status.APPROVED, level_id__in=level_ids)
        .exclude(id__in=carried)
        .select_related("person", "level")
        .order_by("level__rank", "id")
    )


def _locked_ids(plan: Plan, kind: str) -> set[int]:
    return set(
        ComponentResult.objects.filter(registration__plan=plan, kind=kind, locked_at__isnull=False)
        .exclude(status=CARRIED)
        .values_list("registration_id", flat=True)
    )


def _sheet_submitted(plan: Plan, kind: str, appointment: Appointment) -> datetime.datetime | None:
    return Score.objects.filter(
        registration__plan=plan, kind=kind, assessor=appointment, submitted_at__isnull=False
    ).aggregate(at=Max("submitted_at"))["at"]


def _require_not_submitted(plan: Plan, kind: str, appointment: Appointment) -> None:
    at = _sheet_submitted(plan, kind, appointment)
    if at is not None:
        raise Conflict(
            _("您已于%(t)s提交“%(k)s”评分,提交后不能修改;如有错误,请联系机构管理员在锁定后申请更正")
            % {"t": f"{timezone.localtime(at):%Y-%m-%d %H:%M}", "k": KIND_LABELS[kind]},
            code="already_submitted",
        )


# --- Entering and submitting marks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    registration_id: int
    status: str
    value: Decimal | None


def _clean_entry(
    raw: dict, candidates: dict[int, Registration], locked: set[int], seen: set[int], present: set[int]
) -> _Entry:
    try:
        registration_id = int(raw.get("registration_id"))
    except (TypeError, ValueError):
        raise ValidationFailed(_("缺少考生编号"), details={"field": "registration_id"}) from None
    if registration_id not in candidates:
        raise ValidationFailed(_("该考生不在本科目考生名单中"), details={"field": "registration_id"})
    if registration_id in locked:
        raise ValidationFailed(_("该考生本科目成绩已锁定,如需修改请申请更正"), details={"field": "registration_id"})
    if registration_id in seen:
        raise ValidationFailed(_("同一考生重复录入"), details={"field": "registration_id"})
    seen.add(registration_id)
    status = raw.get("status") or SCORED
    if status not in MARK_STATUSES:
        raise ValidationFailed(_("状态只能是已评分、缺考或违纪"), details={"field": "status"})
    if status != ABSENT and registration_id not in present:
        # Only a candidate checked in at the session (ID document checked) is scored; absent needs no check-in.
        raise ValidationFailed(
            _("%(n)s未在本科目考场签到,不能评分(未到场请记为缺考)") % {"n": candidates[registration_id].person.name},
            details={"field": "registration_id", "rule": "checked_in"},
        )
    if status != SCORED:
        if raw.get("value") not in (None, ""):
            raise ValidationFailed(_("缺考或违纪的考生不能同时填写分数"), details={"field": "value"})
        return _Entry(registration_id, status, None)
    return _Entry(registration_id, SCORED, parse_score(raw.get("value")))


def _clean_entries(
    entries: list[dict], candidates: dict[int, Registration], locked: set[int], present: set[int]
) -> tuple[list[_Entry], list[dict]]:
    clean, errors, seen = [], [], set()
    for index, raw in enumerate(entries):
        try:
            clean.append(_clean_entry(raw if isinstance(raw, dict) else {}, candidates, locked, seen, present))
        except ValidationFailed as exc:
            errors.append(
                {
                    "index": index,
                    "registration_id": raw.get("registration_id") if isinstance(raw, dict) else None,
                    "field": exc.details.get("field", ""),
                    "reason": exc.message,
                }
            )
    return clean, errors


def _save_entries(
    actor: Actor, plan: Plan, kind: str, appointment: Appointment, entries: list[_Entry], action: str
) -> list[Score]:
    # The assessor's whole sheet: at most one row per candidate, and no IN list of thousands of ids.
    existing = {
        s.registration_id: s for s in Score.objects.filter(registration__plan=plan, kind=kind, assessor=appointment)
    }
    now = timezone.now()
    created, updated, saved = [], [], []
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for e in entries:
        score = existing.get(e.registration_id)
        if score is None:
            score = Score(
                registration_id=e.registration_id,
                kind=kind,
                assessor=appointment,
                status=e.status,
                value=e.value,
                entered_by=actor.user,
                entered_at=now,
            )
            created.append(score)
            after[str(e.registration_id)] = _mark(e.status, e.value)
        elif (score.status, score.value) != (e.status, e.value):
            before[str(e.registration_id)] = _mark(score.status, score.value)
            score.status, score.value, score.entered_by, score.entered_at = e.status, e.value, actor.user, now
            updated.append(score)
            after[str(e.registration_id)] = _mark(e.status, e.value)
        saved.append(score)
    Score.objects.bulk_create(created, batch_size=1000)
    Score.objects.bulk_update(updated, ["status", "value", "entered_by", "entered_at"], batch_size=1000)
    if after:
        plan_audit(
            actor,
            plan,
            action,
            before={"kind": kind, "assessor": appointment.id, "marks": before},
            after={"kind": kind, "assessor": appointment.id, "marks": after},
        )
    return saved


@transaction.atomic
def score_enter(*, actor: Actor, plan_id: int, kind: str, entries: list[dict]) -> list[Score]:
    """Save (or change) the assessor's own marks: each entry {registration_id, value} or {registration_id,
    status: "absent"|"void"}. All entries are saved or, if any is wrong, none (details list each problem)."""
    plan, appointment = _assessor_seat(actor, plan_id, kind, lock=True)
    _require_scoring_open(plan, kind)
    _require_not_submitted(plan, kind, appointment)
    integrity_require(plan, step="score.enter", kinds=[kind])
    candidates = {r.id: r for r in candidates_for(plan, kind)}
    clean, errors = _clean_entries(entries, candidates, _locked_ids(plan, kind), present_ids(plan, kind))
    if errors:
        message = errors[0]["reason"] if len(errors) == 1 else _("%(n)d条成绩有误,均未保存") % {"n": len(errors)}
        raise ValidationFailed(message, details={"errors": errors})
    if not clean:
        raise ValidationFailed(_("没有要保存的成绩"))
    return _save_entries(actor, plan, kind, appointment, clean, "score.enter")


@transaction.atomic
def score_submit(*, actor: Actor, plan_id: int, kind: str) -> int:
    """The assessor submits their sheet for the component; their marks are then locked. Returns marks submitted."""
    plan, appointment = _assessor_seat(actor, plan_id, kind, lock=True)
    _require_scoring_open(plan, kind)
    _require_not_submitted(plan, kind, appointment)
    integrity_require(plan, step="score.submit", kinds=[kind])
    mine = Score.objects.filter(registration__plan=plan, kind=kind, assessor=appointment)
    marked = set(mine.values_list("registration_id", flat=True))
    if not marked:
        raise ValidationFailed(_("尚未录入任何成绩,不能提交"))
    if kind not in SHARED_MARKING:
        locked = _locked_ids(plan, kind)
        missing = [r for r in candidates_for(plan, kind) if r.id not in marked and r.id not in locked]
        if missing:
            raise ValidationFailed(
                _("尚有%(n)d名考生未评分(%(names)s),请全部评分后再提交")
                % {"n": len(missing), "names": "、".join(r.person.name for r in missing[:5])},
                details={"missing": [r.id for r in missing]},
            )
    now = timezone.now()
    count = mine.update(submitted_at=now)
    plan_audit(actor, plan, "score.submit", after={"kind": kind, "assessor": appointment.id, "marks": count})
    return count


# --- Locking a component -------------------------------------------------------------------------------------


@dataclass
class LockState:
    """Where a component stands: who is to be locked, the panel's marks, and why it cannot be locked yet."""

    kind: str
    candidates: list[Registration]
    panel: list[PanelMember]
    marks: dict[int, list[Score]]
    locked: int
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return bool(self.candidates) and not self.problems


def lock_state(plan: Plan, kind: str, rules: dict[int, LevelRules] | None = None) -> LockState:
    locked = _locked_ids(plan, kind)
    candidates = [r for r in candidates_for(plan, kind, rules) if r.id not in locked]
    panel = list(PanelMember.objects.filter(plan=plan, kind=kind).select_related("appointment__person"))
    names = {m.appointment_id: m.appointment.person.name for m in panel}
    wanted = {r.id for r in candidates}
    marks: dict[int, list[Score]] = defaultdict(list)
    unsubmitted: set[int] = set()
    # Marks from people no longer on the panel (replaced, recused) do not count.
    for s in Score.objects.filter(registration__plan=plan, kind=kind, assessor_id__in=list(names)):
        if s.registration_id in wanted:
            marks[s.registration_id].append(s)
            if s.submitted_at is None:
                unsubmitted.add(s.assessor_id)
    state = LockState(kind, candidates, panel, marks, len(locked))
    if not candidates:
        return state
    if not panel:
        state.problems.append(_("尚未组建考评组"))
        return state
    if unsubmitted:
        state.problems.append(
            _("以下考评员尚未提交评分:%(n)s") % {"n": "、".join(sorted(names[a] for a in unsubmitted))}
        )
    if kind in SHARED_MARKING:
        unscored = [r for r in candidates if not marks.get(r.id)]
        if unscored:
            state.problems.append(
                _("%(n)d名考生尚无评分(%(names)s)")
                % {"n": len(unscored), "names": "、".join(r.person.name for r in unscored[:5])}
            )
    else:
        pairs = {(s.assessor_id, rid) for rid, ss in marks.items() for s in ss}
        for m in panel:
            missing = sum(1 for r in candidates if (m.appointment_id, r.id) not in pairs)
            if missing and m.appointment_id not in unsubmitted:
                state.problems.append(
                    _("%(name)s尚有%(n)d名考生未评分") % {"name": names[m.appointment_id], "n": missing}
                )
    return state


@transaction.atomic
def component_lock(*, actor: Actor, plan_id: int, kind: str) -> list[ComponentResult]:
    """The organisation admin locks a component: every candidate's marks are combined into a ComponentResult."""
    _check_kind(kind)
    plan = admin_plan(actor, plan_id)
    _require_scoring_open(plan)
    rules = level_rules(plan)
    state = lock_state(plan, kind, rules)
    if not state.candidates:
        raise Conflict(_("“%(k)s”没有待锁定的成绩") % {"k": KIND_LABELS[kind]}, code="nothing_to_lock")
    integrity_require(plan, step="component.lock", kinds=[kind])
    if state.problems:
        raise Conflict(
            _("“%(k)s”还不能锁定:%(p)s") % {"k": KIND_LABELS[kind], "p": ";".join(state.problems)},
            code="scores_incomplete",
            details={"problems": state.problems},
        )
    now = timezone.now()
    results = []
    for reg in state.candidates:
        level = rules[reg.level_id]
        combined = combine_marks([(s.status, s.value) for s in state.marks[reg.id]], level.combination)
        results.append(
            ComponentResult(
                registration=reg,
                kind=kind,
                status=combined.status,
                score=combined.score,
                passed=_passed(combined.status, combined.score, level.spec(kind)),
                rule=combined.rule,
                note=combined.note[:255],
                locked_at=now,
            )
        )
    ComponentResult.objects.bulk_create(results, batch_size=1000)
    counts = {
        "passed": sum(r.passed for r in results),
        "failed": sum(1 for r in results if r.status == SCORED and not r.passed),
        "absent": sum(1 for r in results if r.status == ABSENT),
        "void": sum(1 for r in results if r.status == VOID),
    }
    plan_audit(
        actor,
        plan,
        "component.lock",
        after={
            "kind": kind,
            **counts,
            "results": {str(r.registration_id): _mark(r.status, r.score) for r in results},
        },
    )
    return results


# --- Corrections after locking --------------------------------------------------------------------------------


def _result_for_admin(actor: Actor, result_id: int, *, lock: bool) -> ComponentResult:
    qs = ComponentResult.objects.select_related(
        "registration__plan__organisation__region", "registration__plan__standard", "registration__level"
    )
    if lock:
        qs = qs.select_for_update(of=("self",))
    result = qs.filter(pk=result_id).first()
    if result is None:
        raise NotFound()
    _require_admin(actor, result.registration.plan)
    return result


def _require_signed_in_person(actor: Actor) -> None:
    if actor.user is None:
        raise PermissionDenied(_("成绩更正须由机构管理员本人登录办理(接口令牌不能办理)"))


def _require_correctable(plan: Plan) -> None:
    if plan.status not in (Plan.Status.PUBLISHED, Plan.Status.PUBLICITY):
        raise Conflict(_("计划已办结,成绩不能再更正"), code="finalised")


@transaction.atomic
def correction_request(
    *,
    actor: Actor,
    result_id: int,
    reason: str,
    new_score=None,
    new_status: str | None = None,
) -> ScoreCorrection:
    """Ask for a locked result to be changed; another admin decides. The reason is required."""
    result = _result_for_admin(actor, result_id, lock=True)
    _require_signed_in_person(actor)
    plan = result.registration.plan
    _require_correctable(plan)
    if result.locked_at is None or result.status == CARRIED:
        raise Conflict(_("该成绩不是本计划锁定的成绩,不能更正"))
    integrity_require(plan, step="correction.request", kinds=[result.kind])
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写更正理由"), details={"field": "reason"})
    status = (new_status or SCORED).strip()
    if status not in MARK_STATUSES:
        raise ValidationFailed(_("状态只能是已评分、缺考或违纪"), details={"field": "new_status"})
    if status == SCORED:
        score = parse_score(new_score)
    elif new_score not in (None, ""):
        raise ValidationFailed(_("缺考或违纪不能同时填写分数"), details={"field": "new_score"})
    else:
        score = None
    if (status, score) == (result.status, result.score):
        raise ValidationFailed(_("更正后的成绩与原成绩相同"), details={"field": "new_score"})
    if result.corrections.filter(status=ScoreCorrection.Status.PENDING).exists():
        raise Conflict(_("该成绩已有待复核的更正申请"), code="correction_pending")
    correction = ScoreCorrection(
        result=result,
        old_status=result.status,
        old_score=result.score,
        new_status=status,
        new_score=score,
        reason=reason,
        requested_by=actor.user,
    )
    correction.full_clean()
    correction.save()
    plan_audit(
        actor,
        plan,
        "score_correction.request",
        obj=correction,
        before={"result": result.id, "status": result.status, "score": result.score},
        after={"result": result.id, "status": status, "score": score},
        reason=reason,
    )
    return correction


@transaction.atomic
def correction_decide(*, actor: Actor, correction_id: int, approve: bool) -> ScoreCorrection:
    """A second admin approves (the result changes, pass recomputed) or rejects. Nobody decides their own request."""
    correction = ScoreCorrection.objects.select_for_update(of=("self",)).filter(pk=correction_id).first()
    if correction is None:
        raise NotFound()
    result = _result_for_admin(actor, correction.result_id, lock=True)
    _require_signed_in_person(actor)
    plan = result.registration.plan
    if correction.status != ScoreCorrection.Status.PENDING:
        raise Conflict(_("该更正申请已处理"), code="already_decided")
    if correction.requested_by_id == actor.user.id:
        raise PermissionDenied(_("不能复核本人提出的更正申请,须由另一名管理员复核"))
    _require_correctable(plan)
    if approve:
        integrity_require(plan, step="correction.decide", kinds=[result.kind])
    before = {"result": result.id, "status": result.status, "score": result.score, "passed": result.passed}
    if approve:
        if (result.status, result.score) != (correction.old_status, correction.old_score):
            raise Conflict(_("申请后该成绩已发生变化,请重新申请更正"), code="result_changed")
        spec = _level_rules_for(result.registration).spec(result.kind)
        result.status, result.score = correction.new_status, correction.new_score
        result.passed = _passed(result.status, result.score, spec)
        result.rule = f"corrected #{correction.id}"
        result.note = (_("经复核更正:%(r)s") % {"r": correction.reason})[:255]
        result.save(update_fields=["status", "score", "passed", "rule", "note"])
    correction.status = ScoreCorrection.Status.APPROVED if approve else ScoreCorrection.Status.REJECTED
    correction.decided_by, correction.decided_at = actor.user, timezone.now()
    correction.save(update_fields=["status", "decided_by", "decided_at"])
    plan_audit(
        actor,
        plan,
        "score_correction.approve" if approve else "score_correction.reject",
        obj=correction,
        before=before,
        after={"result": result.id, "status": result.status, "score": result.score, "passed": result.passed},
        reason=correction.reason,
    )
    return correction


# --- Score sheets (xlsx) -------------------------------------------------------------------------------------

SCORE_COLUMNS = [
    Column("id_number", "证件号码", example="220102199501012238"),
    Column("name", "姓名", required=False, example="张伟"),
    Column("level", "申报等级", example="四级/中级工"),
    Column("score", "成绩", example="85.5"),
]
NON_SCORE_WORDS = {"缺考": ABSENT, "作弊": VOID, "违纪": VOID}
_WORD_FOR = {ABSENT: "缺考", VOID: "作弊"}
_COLUMN_OF = {"value": "成绩", "status": "成绩", "registration_id": "证件号码"}


def _level_lookup(plan: Plan) -> dict[str, int]:
    return {spelling: lv.id for spelling, lv in level_spellings(plan.levels.all()).items()}


def score_sheet_workbook(*, actor: Actor, plan_id: int, kind: str) -> bytes:
    """The assessor's own sheet as xlsx: the candidates, filled with the marks saved so far."""
    plan, appointment = _assessor_seat(actor, plan_id, kind, lock=False)
    mine = {
        s.registration_id: s for s in Score.objects.filter(registration__plan=plan, kind=kind, assessor=appointment)
    }
    rows = []
    for reg in candidates_for(plan, kind):
        s = mine.get(reg.id)
        value = "" if s is None else (s.value if s.status == SCORED else _WORD_FOR[s.status])
        rows.append([reg.person.id_number, reg.person.name, reg.level.label, value])
    return export_workbook([c.header for c in SCORE_COLUMNS], rows, KIND_LABELS[kind])


def scores_import(*, actor: Actor, plan_id: int, kind: str, upload) -> ImportReport:
    """The assessor's marks from a spreadsheet (证件号码, 申报等级, 成绩 as a number or 缺考/作弊), through the same
    rules as score_enter. All rows are saved or, if any row is wrong, none; every bad row is reported."""
    _assessor_seat(actor, plan_id, kind, lock=False)  # refuse outsiders before reading their file
    rows = read_rows(upload, SCORE_COLUMNS)
    if not rows:
        raise ValidationFailed(_("表格中没有成绩行"))
    report = ImportReport(total=len(rows))
    with transaction.atomic():
        plan, appointment = _assessor_seat(actor, plan_id, kind, lock=True)
        _require_scoring_open(plan, kind)
        _require_not_submitted(plan, kind, appointment)
        integrity_require(plan, step="score.import", kinds=[kind])
        candidates = {r.id: r for r in candidates_for(plan, kind)}
        by_key = {(r.person.id_number.upper(), r.level_id): r for r in candidates.values()}
        levels = _level_lookup(plan)
        locked, seen, clean, present = _locked_ids(plan, kind), set(), [], present_ids(plan, kind)
        for number, record in rows:
            try:
                clean.append(_import_row(record, candidates, by_key, levels, locked, seen, present))
            except ValidationFailed as exc:
                column = exc.details.get("column") or _COLUMN_OF.get(exc.details.get("field", ""), "")
                report.errors.append(RowError(number, exc.message, column))
        if report.errors:
            return report
        _save_entries(actor, plan, kind, appointment, clean, "score.import")
        report.created = len(clean)
    return report


def _import_row(
    record: dict,
    candidates: dict[int, Registration],
    by_key: dict[tuple[str, int], Registration],
    levels: dict[str, int],
    locked: set[int],
    seen: set[int],
    present: set[int],
) -> _Entry:
    raw_id = record.get("id_number")
    id_number = str(int(raw_id) if isinstance(raw_id, float) and raw_id.is_integer() else raw_id or "").strip().upper()
    if not id_number:
        raise ValidationFailed(_("证件号码为空"), details={"column": "证件号码"})
    level_id = levels.get(str(record.get("level") or "").strip())
    if level_id is None:
        raise ValidationFailed(
            _("申报等级“%(v)s”不是本计划的等级") % {"v": record.get("level") or ""}, details={"column": "申报等级"}
        )
    reg = by_key.get((id_number, level_id))
    if reg is None:
        raise ValidationFailed(_("该证件号码与申报等级不在本科目考生名单中"), details={"column": "证件号码"})
    name = str(record.get("name") or "").strip()
    if name and name != reg.person.name:
        raise ValidationFailed(_("姓名“%(n)s”与证件号码不符") % {"n": name}, details={"column": "姓名"})
    raw = record.get("score")
    word = NON_SCORE_WORDS.get(str(raw).strip()) if isinstance(raw, str) else None
    entry = {"registration_id": reg.id, "status": word} if word else {"registration_id": reg.id, "value": raw}
    return _clean_entry(entry, candidates, locked, seen, present)


# --- Re-sits (补考) --------------------------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later; the month's last day when it has no such day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _first_attempt(reg: Registration) -> Registration:
    """Re-sits of re-sits count from the first sitting's finalisation, so the window cannot be stretched."""
    seen = {reg.id}
    while reg.resit_of_id is not None and reg.resit_of_id not in seen:
        reg = Registration.objects.select_related("plan").get(pk=reg.resit_of_id)
        seen.add(reg.id)
    return reg


@dataclass
class ResitBasis:
    """What a re-sit of `original` rests on: the components to take again, those carried, and the last day."""

    original: Registration
    rules: LevelRules
    results: dict[str, ComponentResult]
    failed: list[ComponentSpec]
    deadline: datetime.date


def resit_basis(actor: Actor, registration_id: int) -> ResitBasis:
    """The failed registration a re-sit would follow, for its candidate or its organisation's admin (404 for anyone
    else); Conflict when there is nothing to re-sit (not finalised, passed, void)."""
    actor.require_authenticated()
    original = (
        Registration.objects.select_related("plan__organisation__region", "plan__standard", "level", "person")
        .filter(pk=registration_id)
        .first()
    )
    if original is None:
        raise NotFound()
    is_admin = original.plan.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    if not is_admin and (actor.person is None or actor.person.id != original.person_id):
        raise NotFound()
    if original.finalised_at is None:
        raise Conflict(_("原认定尚未办结,不能办理补考"), code="not_finalised")
    if original.outcome == Registration.Outcome.PASSED:
        raise Conflict(_("原认定结果为合格,无需补考"), code="nothing_failed")
    results = {r.kind: r for r in original.results.all()}
    if any(r.status == VOID for r in results.values()):
        raise Conflict(_("原认定成绩因违纪作废,不能办理补考"), code="void")
    rules = _level_rules_for(original)
    failed = [c for c in rules.components if not (results.get(c.kind) and results[c.kind].passed)]
    if not failed:
        raise Conflict(_("原认定没有不合格的科目,不能办理补考"), code="nothing_failed")
    first = _first_attempt(original)
    finalised = first.plan.finalised_at or first.finalised_at or original.finalised_at
    deadline = add_months(timezone.localtime(finalised).date(), rules.resit_window_months)
    return ResitBasis(original, rules, results, failed, deadline)


def resit_plan_problem(basis: ResitBasis, plan: Plan, today: datetime.date) -> Conflict | None:
    """Why `plan` cannot take the re-sit (the refusal to raise), or None when it can."""
    original = basis.original
    if plan.organisation_id != original.plan.organisation_id:
        return NotFound(_("补考须在原认定机构的计划中办理"))
    if plan.id == original.plan_id:
        return Conflict(_("不能在原计划中补考"))
    if plan.status != Plan.Status.PUBLISHED or not plan.registration_opens <= today <= plan.registration_closes:
        return Conflict(_("该计划当前不在报名时间内"), code="registration_closed")
    if plan.occupation_id != original.plan.occupation_id or not plan.levels.filter(pk=original.level_id).exists():
        return Conflict(_("补考须为同一职业、同一等级"), code="different_assessment")
    if plan.standard_id != original.plan.standard_id:
        return Conflict(_("该计划依据的国家职业技能标准与原认定不同,不能按单科补考办理"), code="different_standard")
    starts = plan.components.order_by("starts_at").values_list("starts_at", flat=True).first()
    exam_day = timezone.localtime(starts).date() if starts else plan.registration_closes
    if exam_day > basis.deadline or today > basis.deadline:
        return Conflict(
            _("补考期限为原认定办结后%(m)d个月(至%(d)s),该计划考核日期%(e)s已超出")
            % {"m": basis.rules.resit_window_months, "d": basis.deadline, "e": exam_day},
            code="resit_window_passed",
        )
    active = plan.registrations.filter(status__in=Registration.ACTIVE)
    if active.filter(person_id=original.person_id, level_id=original.level_id).exists():
        return Conflict(_("已报名该计划的同一等级,不能重复报名"), code="duplicate_registration")
    if Registration.objects.filter(resit_of=original, status__in=Registration.ACTIVE).exists():
        return Conflict(_("已在其他计划办理补考"), code="duplicate_resit")
    if active.count() >= plan.capacity:
        return Conflict(_("报名人数已满"), code="plan_full")
    return None


@transaction.atomic
def resit_register(
    *, actor: Actor, registration_id: int, plan_id: int, today: datetime.date | None = None
) -> Registration:
    """Register a failed candidate for a re-sit in another plan of the same organisation, occupation, standard
    and level, within the standard's window after the first sitting was finalised. Components passed before are
    carried (status "carried"), so only the failed or missed ones are taken again."""
    today = today or timezone.localdate()
    basis = resit_basis(actor, registration_id)
    original, rules, results, failed, deadline = (
        basis.original,
        basis.rules,
        basis.results,
        basis.failed,
        basis.deadline,
    )
    plan = _plans(lock=True).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(_("补考须在原认定机构的计划中办理"))
    problem = resit_plan_problem(basis, plan, today)
    if problem is not None:
        raise problem

    now = timezone.now()
    reg = Registration(
        plan=plan,
        person=original.person,
        level=original.level,
        status=Registration.Status.APPROVED,
        source=original.source,
        registered_by=actor.user,
        employer_name=original.employer_name,
        phone=original.phone,
        work_years=original.work_years,
        work_history=original.work_history,
        apprenticeship_completed=original.apprenticeship_completed,
        education=original.education,
        prior_certificates=original.prior_certificates,
        titles=original.titles,
        credentials=original.credentials,
        pledge_accepted_at=now,
        eligibility=original.eligibility,
        eligibility_status=original.eligibility_status,
        review_reason=_("补考:沿用报名#%(id)d的资格审核结果") % {"id": original.id},
        reviewed_by=actor.user,
        reviewed_at=now,
        resit_of=original,
    )
    reg.full_clean()
    reg.save()
    employment_require_for_approval(reg)
    integrity_require(plan, step="registration.approve", candidate_person_id=original.person_id)
    carried = [
        ComponentResult(
            registration=reg,
            kind=c.kind,
            status=CARRIED,
            score=results[c.kind].score,
            passed=True,
            rule=f"carried from #{original.id}",
            locked_at=now,
            note=(_("沿用《%(p)s》合格成绩") % {"p": original.plan.title})[:255],
        )
        for c in rules.components
        if c not in failed
    ]
    ComponentResult.objects.bulk_create(carried)
    plan_audit(
        actor,
        plan,
        "registration.resit",
        obj=reg,
        after={
            "resit_of": original.id,
            "person": original.person_id,
            "level": original.level.code,
            "retake": [c.kind for c in failed],
            "carried": {r.kind: str(r.score) for r in carried},
            "deadline": deadline,
        },
    )
    return reg


# --- Outcomes ------------------------------------------------------------------------------------------------


def outcome_of(registration: Registration, *, components: tuple[ComponentSpec, ...] | None = None) -> tuple[str, str]:
    """(outcome, explanation). Passed only if every required component passed (a carried pass counts); void if
    any component is void; absent if absent from any; pending while a component has no result; else failed.

    Pass `components` (and prefetch `results`) when deciding many registrations at once."""
    if components is None:
        components = _level_rules_for(registration).components
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


# --- Reads for pages and the API -----------------------------------------------------------------------------


@dataclass
class AssessorPlan:
    plan: Plan
    kinds: list[dict]


def assessor_plans(actor: Actor) -> list[AssessorPlan]:
    """Plans where the actor sits on a panel, with each component and whether their sheet is submitted."""
    person = actor.person
    if person is None:
        return []
    members = (
        PanelMember.objects.filter(
            appointment__in=acting_appointments(actor).values("pk"), appointment__status=Appointment.Status.ACTIVE
        )
        .exclude(plan__status__in=[Plan.Status.DRAFT, Plan.Status.CANCELLED])
        .select_related("plan__organisation", "plan__occupation")
        .order_by("-plan__registration_closes", "plan_id", "kind")
    )
    submitted = set(
        Score.objects.filter(assessor__person=person, submitted_at__isnull=False)
        .values_list("registration__plan_id", "kind")
        .distinct()
    )
    plans: dict[int, AssessorPlan] = {}
    for m in members:
        entry = plans.setdefault(m.plan_id, AssessorPlan(m.plan, []))
        entry.kinds.append(
            {"kind": m.kind, "label": KIND_LABELS[m.kind], "submitted": (m.plan_id, m.kind) in submitted}
        )
    return list(plans.values())


@dataclass
class SheetRow:
    registration: Registration
    score: Score | None
    locked: bool
    present: bool = True


@dataclass
class ScoreSheet:
    plan: Plan
    kind: str
    label: str
    appointment: Appointment
    rows: list[SheetRow]
    submitted_at: datetime.datetime | None
    problem: str

    @property
    def editable(self) -> bool:
        return not self.problem


def score_sheet(*, actor: Actor, plan_id: int, kind: str) -> ScoreSheet:
    plan, appointment = _assessor_seat(actor, plan_id, kind, lock=False)
    submitted_at = _sheet_submitted(plan, kind, appointment)
    problem = ""
    try:
        _require_scoring_open(plan, kind)
        _require_not_submitted(plan, kind, appointment)
        integrity_require(plan, step="score.enter", kinds=[kind])
    except Conflict as exc:
        problem = exc.message
    mine = {
        s.registration_id: s for s in Score.objects.filter(registration__plan=plan, kind=kind, assessor=appointment)
    }
    locked, present = _locked_ids(plan, kind), present_ids(plan, kind)
    rows = [SheetRow(r, mine.get(r.id), r.id in locked, r.id in present) for r in candidates_for(plan, kind)]
    return ScoreSheet(plan, kind, KIND_LABELS[kind], appointment, rows, submitted_at, problem)


@dataclass
class ComponentOverview:
    kind: str
    label: str
    candidates: int
    locked: int
    panel: list[dict]
    problems: list[str]
    ready: bool


def scoring_overview(*, actor: Actor, plan_id: int) -> tuple[Plan, list[ComponentOverview], QuerySet]:
    """For the organisation: each component's panel and submissions, whether it can be locked, and the
    corrections waiting for a decision."""
    plan = results_plan(actor, plan_id)
    rules = level_rules(plan)
    kinds = [k for k, _label in COMPONENT_KINDS if plan.components.filter(kind=k).exists()]
    per_assessor = {
        (row["kind"], row["assessor_id"]): row
        for row in Score.objects.filter(registration__plan=plan)
        .values("kind", "assessor_id")
        .annotate(n=Count("id"), pending=Count("id", filter=Q(submitted_at__isnull=True)), at=Max("submitted_at"))
    }
    overview = []
    exceptions = active_exceptions(plan)
    for kind in kinds:
        state = lock_state(plan, kind, rules)
        panel = []
        for m in state.panel:
            row = per_assessor.get((kind, m.appointment_id), {})
            panel.append(
                {
                    "name": m.appointment.person.name,
                    "entered": row.get("n", 0),
                    "submitted": bool(row) and not row.get("pending"),
                    "submitted_at": row.get("at") if row and not row.get("pending") else None,
                }
            )
        problems = list(state.problems)
        if state.candidates:
            open_findings, _excepted = split_by_exceptions(plan_findings(plan, [kind]), exceptions)
            problems += [f.sentence() for f in open_findings]
        overview.append(
            ComponentOverview(
                kind,
                KIND_LABELS[kind],
                len(state.candidates) + state.locked,
                state.locked,
                panel,
                problems,
                bool(state.candidates) and not problems,
            )
        )
    corrections = (
        ScoreCorrection.objects.filter(result__registration__plan=plan, status=ScoreCorrection.Status.PENDING)
        .select_related("result__registration__person", "requested_by")
        .order_by("requested_at")
    )
    return plan, overview, corrections


def plan_results(plan: Plan) -> QuerySet[Registration]:
    """Every approved registration of the plan with its results and each assessor's marks (two extra queries)."""
    return (
        plan.registrations.filter(status=Registration.Status.APPROVED)
        .select_related("person", "level")
        .prefetch_related("results", "scores__assessor__person")
        .order_by("level__rank", "id")
    )
