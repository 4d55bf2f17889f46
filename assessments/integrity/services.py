"""The integrity check every step asks, and the bureau's exceptions to it.

`plan_findings` gathers the plan's facts once (`assessments.panels.facts_for`) and runs the rules of
`assessments.panels` (separation, qualification) and `.rules` (staffing) over every panel member, the supervisor
and every panel. `integrity_require` is called by each step that depends on those rules holding — approving a
candidate, entering, importing and submitting marks, locking a component, asking for and deciding a correction,
opening publicity and finalising — and raises `RuleViolation` naming each rule and record that blocks it, unless a
bureau recorded an exception for exactly that finding.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.selectors import organisation_admins
from accreditation.models import Appointment
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from core.notifications import notify
from occupations.models import StandardLevel

from ..models import COMPONENT_KINDS, IntegrityException, PanelMember, Plan, Registration
from ..panels.rules import assessor_refusals, facts_for, supervisor_refusals
from ..plans import plan_get
from . import rules as r

KIND_LABELS = {k: str(label) for k, label in COMPONENT_KINDS}
SUPERVISOR_LABEL = gettext_lazy("督导员")

STEP_LABELS = {
    "registration.approve": gettext_lazy("审核通过该考生"),
    "score.enter": gettext_lazy("录入成绩"),
    "score.import": gettext_lazy("导入成绩"),
    "score.submit": gettext_lazy("提交评分"),
    "component.lock": gettext_lazy("锁定成绩"),
    "correction.request": gettext_lazy("申请更正成绩"),
    "correction.decide": gettext_lazy("复核成绩更正"),
    "publication.open": gettext_lazy("公示成绩"),
    "plan.finalise": gettext_lazy("办结计划"),
}
# Plans whose findings may still be excepted: once finalised, the record stands as it was.
EXCEPTABLE = (Plan.Status.DRAFT, Plan.Status.PUBLISHED, Plan.Status.PUBLICITY)


def _kinds(plan: Plan) -> list[str]:
    return [c.kind for c in sorted(plan.components.all(), key=lambda c: c.starts_at)]


def _staffing(plan: Plan, kinds: list[str], members: dict[str, list]) -> dict[str, r.Staffing]:
    standard_levels = list(StandardLevel.objects.filter(standard_id=plan.standard_id, level__in=plan.levels.all()))
    approved = Counter(
        Registration.objects.filter(plan=plan, status=Registration.Status.APPROVED).values_list("level_id", flat=True)
    )
    out = {}
    for kind in kinds:
        with_kind = [sl for sl in standard_levels if any(c.get("kind") == kind for c in sl.components or [])]
        candidates = sum(approved[sl.level_id] for sl in with_kind)
        rules = [(sl.staffing or {}).get(kind) or {} for sl in with_kind]
        out[kind] = r.staffing_from_rules(rules, candidates, len(members.get(kind, [])))
    return out


def _appointments() -> QuerySet[Appointment]:
    return Appointment.objects.select_related("person", "organisation", "bureau__region").prefetch_related(
        "scopes__occupation", "scopes__max_level"
    )


def plan_findings(plan: Plan, kinds: list[str] | None = None, *, supervisor: bool = True) -> list[r.Finding]:
    """Every rule that does not hold now for the panels of `kinds` (all the plan's components by default) and,
    unless `supervisor` is False, for the supervisor."""
    plan_kinds = _kinds(plan)
    kinds = [k for k in (kinds if kinds is not None else plan_kinds) if k in plan_kinds]
    facts = facts_for(plan)
    concerned: dict[tuple[str, int], tuple[int, ...]] = {}
    for t in facts.trainings:
        concerned[("training_record", t.id)] = (t.trainee_id,)
    for rel in facts.relations:
        concerned[("relationship_declaration", rel.id)] = tuple(
            p for p in (rel.declarant_id, rel.other_id) if p in facts.candidates
        )
    for person_id, reg_id in facts.candidate_registrations.items():
        concerned[("registration", reg_id)] = (person_id,)

    by_kind: dict[str, list[PanelMember]] = defaultdict(list)
    appointments = {a.id: a for a in _appointments().filter(panels__plan=plan).distinct()}
    for m in PanelMember.objects.filter(plan=plan, kind__in=kinds).order_by("assigned_at", "id"):
        by_kind[m.kind].append(m)
    findings: list[r.Finding] = []
    for kind in kinds:
        label = KIND_LABELS.get(kind, kind)
        for m in by_kind.get(kind, []):
            a = appointments[m.appointment_id]
            findings += r.member_findings(kind, label, a.id, a.person.name, assessor_refusals(facts, a), concerned)
    for kind, staffing in _staffing(plan, kinds, by_kind).items():
        findings += r.staffing_findings(kind, KIND_LABELS.get(kind, kind), plan.id, staffing)
    if supervisor and plan.supervisor_id:
        a = _appointments().get(pk=plan.supervisor_id)
        findings += r.member_findings(
            r.SUPERVISOR, str(SUPERVISOR_LABEL), a.id, a.person.name, supervisor_refusals(facts, a), concerned
        )
    return findings


def active_exceptions(plan: Plan) -> dict[tuple, IntegrityException]:
    return {e.key: e for e in IntegrityException.objects.filter(plan=plan, revoked_at__isnull=True)}


@dataclass
class IntegrityReport:
    plan: Plan
    open: list[r.Finding]
    excepted: list[tuple[r.Finding, IntegrityException]]
    exceptions: list[IntegrityException]

    @property
    def ok(self) -> bool:
        return not self.open


def plan_integrity(plan: Plan) -> IntegrityReport:
    """What the plan page and the API show: open findings, excepted ones with their exception, and every
    exception recorded (revoked ones too)."""
    open_, excepted = r.split_by_exceptions(plan_findings(plan), active_exceptions(plan))
    exceptions = list(
        IntegrityException.objects.filter(plan=plan).select_related("granted_by", "revoked_by", "appointment__person")
    )
    return IntegrityReport(plan, open_, excepted, exceptions)


def integrity_require(
    plan: Plan, *, step: str, kinds: list[str] | None = None, candidate_person_id: int | None = None
) -> None:
    """Refuse `step` while any rule it depends on does not hold (and no bureau exception covers it).

    `kinds` limits the check to those components' panels (plus the supervisor); `candidate_person_id` limits it to
    the separation findings about one candidate (approving them must not put a panel in breach)."""
    findings = plan_findings(plan, kinds)
    if candidate_person_id is not None:
        findings = [f for f in findings if f.family == "separation" and candidate_person_id in f.candidate_ids]
    open_, _excepted = r.split_by_exceptions(findings, active_exceptions(plan))
    if open_:
        raise RuleViolation(
            r.refusal_message(str(STEP_LABELS.get(step, step)), open_),
            details={"step": step, "plan_id": plan.id, "findings": [f.as_dict() for f in open_]},
        )


# --- Exceptions ----------------------------------------------------------------------------------------------


def can_except(actor: Actor, plan: Plan) -> bool:
    """Bureau staff over the organisation's region (or an operator) record exceptions; never the organisation."""
    return actor.is_operator or actor.oversees_region(plan.organisation.region)


def _plan_for_bureau(actor: Actor, plan_id: int) -> Plan:
    actor.require_authenticated()
    plan_get(actor, plan_id)  # another region's plan is a 404
    plan = (
        Plan.objects.select_for_update(of=("self",))
        .select_related("organisation__region", "occupation", "standard")
        .get(pk=plan_id)
    )
    if not can_except(actor, plan):
        raise PermissionDenied(_("例外情形由机构所在地的人社部门核准"))
    if plan.status not in EXCEPTABLE:
        raise Conflict(_("计划当前状态为“%(s)s”,不能再核准例外") % {"s": plan.get_status_display()}, code="plan_closed")
    return plan


def _where(plan: Plan) -> dict:
    return {"region_code": plan.organisation.region.code, "organisation_id": plan.organisation_id}


@transaction.atomic
def exception_grant(
    *,
    actor: Actor,
    plan_id: int,
    rule_code: str,
    kind: str,
    reason: str,
    appointment_id: int | None = None,
    record_type: str = "",
    record_id: int | None = None,
) -> IntegrityException:
    """Bureau staff except one current finding of the plan, with a reason; audited, the organisation is told."""
    plan = _plan_for_bureau(actor, plan_id)
    if actor.user is None:
        raise PermissionDenied(_("例外核准须由人社部门工作人员本人登录办理"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写例外理由"), details={"field": "reason"})
    key = (rule_code, kind or "", appointment_id, record_type or "", record_id)
    finding = next((f for f in plan_findings(plan) if f.key == key), None)
    if finding is None:
        raise NotFound(_("该计划当前没有这一项问题,无需核准例外"))
    if key in active_exceptions(plan):
        raise Conflict(_("该问题已核准例外"), code="already_excepted")
    exception = IntegrityException(
        plan=plan,
        rule_code=rule_code,
        kind=kind or "",
        appointment_id=appointment_id,
        record_type=record_type or "",
        record_id=record_id,
        finding=finding.explanation,
        reason=reason,
        granted_by=actor.user,
    )
    exception.full_clean()
    exception.save()
    audit_record(
        actor=actor,
        action="integrity.exception_grant",
        obj=exception,
        after={"plan": plan.id, **finding.as_dict()},
        reason=reason,
        **_where(plan),
    )
    notify(
        users=organisation_admins(plan.organisation_id),
        title=_("人社部门核准例外:%(t)s") % {"t": plan.title},
        body=_("%(f)s。核准理由:%(r)s") % {"f": finding.sentence(), "r": reason},
        link=f"/assessments/manage/{plan.id}/",
    )
    return exception


@transaction.atomic
def exception_revoke(*, actor: Actor, exception_id: int, reason: str) -> IntegrityException:
    """Withdraw an exception: the rule holds again from the next step on."""
    exception = IntegrityException.objects.filter(pk=exception_id).first()
    if exception is None:
        raise NotFound()
    plan = _plan_for_bureau(actor, exception.plan_id)
    exception = IntegrityException.objects.select_for_update().get(pk=exception_id)
    if exception.revoked_at is not None:
        raise Conflict(_("该例外已撤销"), code="already_revoked")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写撤销理由"), details={"field": "reason"})
    exception.revoked_at, exception.revoked_by, exception.revoke_reason = timezone.now(), actor.user, reason
    exception.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit_record(
        actor=actor,
        action="integrity.exception_revoke",
        obj=exception,
        before={"revoked": False},
        after={"revoked": True, "rule_code": exception.rule_code, "kind": exception.kind},
        reason=reason,
        **_where(plan),
    )
    return exception
