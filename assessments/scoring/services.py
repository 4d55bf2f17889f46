"""Entering and submitting marks, locking a component, and corrections after locking (rules in rules.py)."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accreditation.models import Appointment
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from ..examday.selectors import present_ids
from ..integrity.services import integrity_require
from ..models import ComponentResult, PanelMember, Plan, Registration, Score, ScoreCorrection
from .access import admin_plan, assessor_seat, plan_audit, require_admin, require_scoring_open
from .rules import (
    ABSENT,
    CARRIED,
    KIND_LABELS,
    MARK_STATUSES,
    SCORED,
    SHARED_MARKING,
    VOID,
    LevelRules,
    check_kind,
    combine_marks,
    component_passed,
    level_rules,
    level_rules_for,
    mark_text,
    parse_score,
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


def locked_ids(plan: Plan, kind: str) -> set[int]:
    return set(
        ComponentResult.objects.filter(registration__plan=plan, kind=kind, locked_at__isnull=False)
        .exclude(status=CARRIED)
        .values_list("registration_id", flat=True)
    )


def sheet_submitted(plan: Plan, kind: str, appointment: Appointment) -> datetime.datetime | None:
    return Score.objects.filter(
        registration__plan=plan, kind=kind, assessor=appointment, submitted_at__isnull=False
    ).aggregate(at=Max("submitted_at"))["at"]


def require_not_submitted(plan: Plan, kind: str, appointment: Appointment) -> None:
    at = sheet_submitted(plan, kind, appointment)
    if at is not None:
        raise Conflict(
            _("您已于%(t)s提交“%(k)s”评分,提交后不能修改;如有错误,请联系机构管理员在锁定后申请更正")
            % {"t": f"{timezone.localtime(at):%Y-%m-%d %H:%M}", "k": KIND_LABELS[kind]},
            code="already_submitted",
        )


# --- Entering and submitting marks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkEntry:
    registration_id: int
    status: str
    value: Decimal | None


def clean_entry(
    raw: dict, candidates: dict[int, Registration], locked: set[int], seen: set[int], present: set[int]
) -> MarkEntry:
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
        return MarkEntry(registration_id, status, None)
    return MarkEntry(registration_id, SCORED, parse_score(raw.get("value")))


def _clean_entries(
    entries: list[dict], candidates: dict[int, Registration], locked: set[int], present: set[int]
) -> tuple[list[MarkEntry], list[dict]]:
    clean, errors, seen = [], [], set()
    for index, raw in enumerate(entries):
        try:
            clean.append(clean_entry(raw if isinstance(raw, dict) else {}, candidates, locked, seen, present))
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


def save_entries(
    actor: Actor, plan: Plan, kind: str, appointment: Appointment, entries: list[MarkEntry], action: str
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
            after[str(e.registration_id)] = mark_text(e.status, e.value)
        elif (score.status, score.value) != (e.status, e.value):
            before[str(e.registration_id)] = mark_text(score.status, score.value)
            score.status, score.value, score.entered_by, score.entered_at = e.status, e.value, actor.user, now
            updated.append(score)
            after[str(e.registration_id)] = mark_text(e.status, e.value)
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
    plan, appointment = assessor_seat(actor, plan_id, kind, lock=True)
    require_scoring_open(plan, kind)
    require_not_submitted(plan, kind, appointment)
    integrity_require(plan, step="score.enter", kinds=[kind])
    candidates = {r.id: r for r in candidates_for(plan, kind)}
    clean, errors = _clean_entries(entries, candidates, locked_ids(plan, kind), present_ids(plan, kind))
    if errors:
        message = errors[0]["reason"] if len(errors) == 1 else _("%(n)d条成绩有误,均未保存") % {"n": len(errors)}
        raise ValidationFailed(message, details={"errors": errors})
    if not clean:
        raise ValidationFailed(_("没有要保存的成绩"))
    return save_entries(actor, plan, kind, appointment, clean, "score.enter")


@transaction.atomic
def score_submit(*, actor: Actor, plan_id: int, kind: str) -> int:
    """The assessor submits their sheet for the component; their marks are then locked. Returns marks submitted."""
    plan, appointment = assessor_seat(actor, plan_id, kind, lock=True)
    require_scoring_open(plan, kind)
    require_not_submitted(plan, kind, appointment)
    integrity_require(plan, step="score.submit", kinds=[kind])
    mine = Score.objects.filter(registration__plan=plan, kind=kind, assessor=appointment)
    marked = set(mine.values_list("registration_id", flat=True))
    if not marked:
        raise ValidationFailed(_("尚未录入任何成绩,不能提交"))
    if kind not in SHARED_MARKING:
        locked = locked_ids(plan, kind)
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
    locked = locked_ids(plan, kind)
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
    check_kind(kind)
    plan = admin_plan(actor, plan_id)
    require_scoring_open(plan)
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
                passed=component_passed(combined.status, combined.score, level.spec(kind)),
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
            "results": {str(r.registration_id): mark_text(r.status, r.score) for r in results},
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
    require_admin(actor, result.registration.plan)
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
        spec = level_rules_for(result.registration).spec(result.kind)
        result.status, result.score = correction.new_status, correction.new_score
        result.passed = component_passed(result.status, result.score, spec)
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
