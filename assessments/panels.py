"""Panels (考评组) and supervisors (督导员) for a plan, under 考培分离 and recusal (回避).

One rule engine decides who may judge a plan's candidates and says why not: `assessor_refusals` and
`supervisor_refusals` read a `PlanFacts` (the plan's dates, levels and candidates, and the training records,
declarations and appointments that touch those candidates, loaded once). Pages, the API, the services and the
re-check before scoring all call it, so a decision and its explanation are the same wherever they are shown.

Candidates for recusal are every active registration (submitted, more evidence, approved): a person still
under review may yet sit the assessment. Panel sizes count approved registrations only.
"""

import calendar
import datetime
import math
import random
import secrets
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.conflicts import records_conflicts
from accounts.models import Bureau, Person, Role, User
from accounts.services import person_get_or_create
from accreditation.models import Appointment, TrainingRecord
from accreditation.selectors import acting_appointments
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify
from occupations.models import Level, Region, StandardLevel

from .models import (
    COMPONENT_KINDS,
    PanelMember,
    Plan,
    Registration,
    RelationshipDeclaration,
    Score,
    SupervisionReport,
)
from .plans import plan_get, plans_for
from .policy import policy_for

KIND_LABELS = dict(COMPONENT_KINDS)
SUPERVISOR_ROLES = (Appointment.Role.EXTERNAL_SUPERVISOR, Appointment.Role.INTERNAL_SUPERVISOR)
DECLARING_ROLES = (Appointment.Role.ASSESSOR, *SUPERVISOR_ROLES)
# Panels and supervisors change until scoring is over; after publicity starts they are part of the record.
OPEN_STATUSES = (Plan.Status.DRAFT, Plan.Status.PUBLISHED)
REPORTABLE_STATUSES = (Plan.Status.PUBLISHED, Plan.Status.PUBLICITY, Plan.Status.FINALISED)


class Rule:
    """Stable codes for each rule; clients and tests rely on them."""

    ROLE = "role"
    INACTIVE = "appointment_inactive"
    LAPSED = "appointment_lapsed"
    ORGANISATION = "organisation"
    BUREAU_REGION = "bureau_region"
    OCCUPATION = "occupation_scope"
    LEVEL = "level_scope"
    CANDIDATE = "is_candidate"
    TRAINED = "trained_candidate"
    PROVIDER = "works_for_provider"
    RELATIONSHIP = "declared_relationship"


RULE_LABELS = {
    Rule.ROLE: gettext_lazy("人员角色"),
    Rule.INACTIVE: gettext_lazy("登记状态"),
    Rule.LAPSED: gettext_lazy("资格有效期"),
    Rule.ORGANISATION: gettext_lazy("所属机构"),
    Rule.BUREAU_REGION: gettext_lazy("督导员所属部门辖区"),
    Rule.OCCUPATION: gettext_lazy("职业范围"),
    Rule.LEVEL: gettext_lazy("可考评等级"),
    Rule.CANDIDATE: gettext_lazy("本人为考生"),
    Rule.TRAINED: gettext_lazy("考培分离:培训过考生"),
    Rule.PROVIDER: gettext_lazy("考培分离:任职于考生的培训机构"),
    Rule.RELATIONSHIP: gettext_lazy("回避:申报的利害关系"),
}

CHECKLIST = {
    "scope": gettext_lazy("评价范围(职业、等级在备案范围内)"),
    "separation": gettext_lazy("考培分离"),
    "panels": gettext_lazy("考评组组成与回避"),
    "venue": gettext_lazy("考场与设施"),
    "identity_check": gettext_lazy("考生身份核验"),
    "archives": gettext_lazy("档案资料"),
}
CHECKLIST_VALUES = ("ok", "issue")


@dataclass
class Refusal:
    """Why one person may not judge this plan: the rule, and the record that triggered it."""

    rule_code: str
    rule_label: str
    explanation: str
    record: dict  # {"type": "training_record", "id": 12}

    def as_dict(self) -> dict:
        return asdict(self)


def _refusal(rule: str, explanation: str, record_type: str, record_id: int) -> Refusal:
    return Refusal(rule, str(RULE_LABELS[rule]), explanation, {"type": record_type, "id": record_id})


@dataclass
class Availability:
    appointment: Appointment
    available: bool
    refusals: list[Refusal]
    assigned: bool = False


@dataclass
class ComponentPanel:
    """One component's panel: how many it needs, who is on it, and what is wrong with it."""

    kind: str
    label: str
    required: int
    candidates: int
    odd: bool
    members: list[PanelMember]
    ok: bool
    problems: list[str] = field(default_factory=list)

    @property
    def assigned(self) -> int:
        return len(self.members)


@dataclass
class MemberCheck:
    """A panel member (kind = component) or the supervisor (kind = "supervisor") who now fails a rule."""

    kind: str
    appointment: Appointment
    refusals: list[Refusal]


# --- The facts the rules read --------------------------------------------------------------------------------


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` earlier, clamped to the month's last day (31 May − 3 months = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class PlanFacts:
    plan: Plan
    first_day: datetime.date
    last_day: datetime.date
    top_level: Level | None
    lookback_months: int
    window_start: datetime.date
    candidates: dict[int, str]  # person id → name
    candidate_registrations: dict[int, int]  # person id → a registration id
    trainings: list[TrainingRecord]
    relations: list[RelationshipDeclaration]
    provider_staff: dict[int, list[Appointment]]  # person id → their active appointments at candidates' providers


def facts_for(plan: Plan) -> PlanFacts:
    """Everything the rules need about one plan, in a handful of queries."""
    days = sorted(
        {timezone.localtime(c.starts_at).date() for c in plan.components.all()}
        | {timezone.localtime(c.ends_at).date() for c in plan.components.all()}
    ) or [timezone.localdate()]
    first_day, last_day = days[0], days[-1]
    policy = policy_for(plan.organisation.region.code, first_day)
    window_start = months_before(first_day, policy.training_lookback_months)
    regs = (
        Registration.objects.filter(plan=plan, status__in=Registration.ACTIVE).select_related("person").order_by("id")
    )
    candidates, registrations = {}, {}
    for reg in regs:
        candidates[reg.person_id] = reg.person.name
        registrations.setdefault(reg.person_id, reg.id)
    # A training still running at the assessment counts too: only its end needs to reach into the window.
    trainings = list(
        TrainingRecord.objects.filter(trainee_id__in=candidates, end__gte=window_start, start__lte=last_day)
        .select_related("provider", "trainer", "trainee")
        .order_by("end", "id")
    )
    relations = list(
        RelationshipDeclaration.objects.filter(Q(declarant_id__in=candidates) | Q(other_id__in=candidates))
        .select_related("declarant", "other")
        .order_by("id")
    )
    provider_staff: dict[int, list[Appointment]] = defaultdict(list)
    staff = (
        Appointment.objects.filter(
            organisation_id__in={t.provider_id for t in trainings}, status=Appointment.Status.ACTIVE
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=window_start))
        .select_related("organisation")
        .order_by("id")
    )
    for a in staff:
        provider_staff[a.person_id].append(a)
    return PlanFacts(
        plan=plan,
        first_day=first_day,
        last_day=last_day,
        top_level=max(plan.levels.all(), key=lambda lv: lv.rank, default=None),
        lookback_months=policy.training_lookback_months,
        window_start=window_start,
        candidates=candidates,
        candidate_registrations=registrations,
        trainings=trainings,
        relations=relations,
        provider_staff=dict(provider_staff),
    )


# --- The rules -----------------------------------------------------------------------------------------------


def _validity(facts: PlanFacts, a: Appointment) -> list[Refusal]:
    name = a.person.name
    if a.status != Appointment.Status.ACTIVE:
        return [
            _refusal(
                Rule.INACTIVE,
                _("%(name)s 的登记已注销(登记编号%(id)d)") % {"name": name, "id": a.id},
                "appointment",
                a.id,
            )
        ]
    # Validity is one interval, so covering the first and the last day covers every component.
    if not (a.is_valid_on(facts.first_day) and a.is_valid_on(facts.last_day)):
        return [
            _refusal(
                Rule.LAPSED,
                _("%(name)s 的登记有效期为%(start)s至%(end)s,未覆盖考核日期%(first)s至%(last)s(登记编号%(id)d)")
                % {
                    "name": name,
                    "start": a.valid_from,
                    "end": a.valid_until or _("长期"),
                    "first": facts.first_day,
                    "last": facts.last_day,
                    "id": a.id,
                },
                "appointment",
                a.id,
            )
        ]
    return []


def _wrong_role(a: Appointment, wanted: str) -> Refusal:
    return _refusal(
        Rule.ROLE,
        _("%(name)s 登记的角色为“%(role)s”,不能担任%(wanted)s(登记编号%(id)d)")
        % {"name": a.person.name, "role": a.get_role_display(), "wanted": wanted, "id": a.id},
        "appointment",
        a.id,
    )


def _wrong_organisation(facts: PlanFacts, a: Appointment) -> Refusal:
    where = a.organisation.name if a.organisation_id else (a.bureau.name if a.bureau_id else "—")
    return _refusal(
        Rule.ORGANISATION,
        _("%(name)s 登记在“%(where)s”,不属于本计划的评价机构“%(org)s”(登记编号%(id)d)")
        % {"name": a.person.name, "where": where, "org": facts.plan.organisation.name, "id": a.id},
        "appointment",
        a.id,
    )


def _scopes_for_occupation(facts: PlanFacts, a: Appointment) -> list:
    return [s for s in a.scopes.all() if s.occupation_id == facts.plan.occupation_id]


def _no_occupation(facts: PlanFacts, a: Appointment) -> Refusal:
    return _refusal(
        Rule.OCCUPATION,
        _("%(name)s 的登记职业范围不含“%(occ)s”(登记编号%(id)d)")
        % {"name": a.person.name, "occ": facts.plan.occupation.name, "id": a.id},
        "appointment",
        a.id,
    )


def _separation(facts: PlanFacts, a: Appointment) -> list[Refusal]:
    """考培分离 and declared relationships: the same for assessors and supervisors."""
    person_id, name, out = a.person_id, a.person.name, []
    if person_id in facts.candidates:
        out.append(
            _refusal(
                Rule.CANDIDATE,
                _("%(name)s 本人报名参加本计划的认定(报名编号%(id)d)")
                % {"name": name, "id": facts.candidate_registrations[person_id]},
                "registration",
                facts.candidate_registrations[person_id],
            )
        )
    window = {"months": facts.lookback_months, "since": facts.window_start}
    for t in facts.trainings:
        if t.trainer_id == person_id:
            out.append(
                _refusal(
                    Rule.TRAINED,
                    _(
                        "考培分离:%(name)s 于%(start)s至%(end)s在“%(provider)s”培训过考生%(trainee)s"
                        "(培训记录%(id)d),在%(months)d个月回溯期内(自%(since)s起)"
                    )
                    % {
                        "name": name,
                        "start": t.start,
                        "end": t.end,
                        "provider": t.provider.name,
                        "trainee": t.trainee.name,
                        "id": t.id,
                        **window,
                    },
                    "training_record",
                    t.id,
                )
            )
    for staff in facts.provider_staff.get(person_id, []):
        for t in facts.trainings:
            if t.provider_id == staff.organisation_id:
                out.append(
                    _refusal(
                        Rule.PROVIDER,
                        _(
                            "考培分离:考生%(trainee)s 于%(start)s至%(end)s在“%(provider)s”接受培训(培训记录%(id)d),"
                            "%(name)s 在该机构登记为%(role)s(登记编号%(appt)d)"
                        )
                        % {
                            "trainee": t.trainee.name,
                            "start": t.start,
                            "end": t.end,
                            "provider": t.provider.name,
                            "id": t.id,
                            "name": name,
                            "role": staff.get_role_display(),
                            "appt": staff.id,
                        },
                        "training_record",
                        t.id,
                    )
                )
    for r in facts.relations:
        if r.declarant_id == person_id and r.other_id in facts.candidates:
            other = r.other.name
        elif r.other_id == person_id and r.declarant_id in facts.candidates:
            other = r.declarant.name
        else:
            continue
        out.append(
            _refusal(
                Rule.RELATIONSHIP,
                _("回避:%(declarant)s 申报与%(other)s 存在“%(kind)s”关系,%(other)s 是本计划考生(申报记录%(id)d)")
                % {
                    "declarant": r.declarant.name,
                    "other": other,
                    "kind": r.get_kind_display(),
                    "id": r.id,
                },
                "relationship_declaration",
                r.id,
            )
        )
    return out


def assessor_refusals(facts: PlanFacts, a: Appointment) -> list[Refusal]:
    """Every reason `a` may not sit on a panel of this plan; empty when they may."""
    out = []
    if a.role != Appointment.Role.ASSESSOR:
        out.append(_wrong_role(a, _("考评员")))
    out += _validity(facts, a)
    if a.organisation_id != facts.plan.organisation_id:
        out.append(_wrong_organisation(facts, a))
    scopes = _scopes_for_occupation(facts, a)
    if not scopes:
        out.append(_no_occupation(facts, a))
    elif facts.top_level is not None:
        scope = scopes[0]
        if scope.max_level is None or scope.max_level.rank < facts.top_level.rank:
            out.append(
                _refusal(
                    Rule.LEVEL,
                    _("%(name)s 在“%(occ)s”最高可考评%(max)s,本计划含%(level)s(职业范围记录%(id)d)")
                    % {
                        "name": a.person.name,
                        "occ": facts.plan.occupation.name,
                        "max": scope.max_level.label if scope.max_level else _("(未登记)"),
                        "level": facts.top_level.label,
                        "id": scope.id,
                    },
                    "appointment_scope",
                    scope.id,
                )
            )
    return out + _separation(facts, a)


def supervisor_refusals(facts: PlanFacts, a: Appointment) -> list[Refusal]:
    """Every reason `a` may not supervise this plan; empty when they may."""
    out = []
    region = facts.plan.organisation.region
    if a.role not in SUPERVISOR_ROLES:
        out.append(_wrong_role(a, _("督导员")))
    out += _validity(facts, a)
    if a.role == Appointment.Role.EXTERNAL_SUPERVISOR:
        if a.bureau is None or not a.bureau.region.contains(region):
            out.append(
                _refusal(
                    Rule.BUREAU_REGION,
                    _("%(name)s 由“%(bureau)s”登记,该部门辖区不含机构所在地%(region)s(登记编号%(id)d)")
                    % {
                        "name": a.person.name,
                        "bureau": a.bureau.name if a.bureau else "—",
                        "region": region.full_name,
                        "id": a.id,
                    },
                    "appointment",
                    a.id,
                )
            )
    elif a.organisation_id != facts.plan.organisation_id:
        out.append(_wrong_organisation(facts, a))
    if list(a.scopes.all()) and not _scopes_for_occupation(facts, a):
        out.append(_no_occupation(facts, a))
    return out + _separation(facts, a)


# --- Panel sizes ---------------------------------------------------------------------------------------------


def _required(rule: dict, candidates: int) -> int:
    per = rule.get("per_candidates")
    required = max(int(rule.get("min") or 1), math.ceil(candidates / per) if per else 0)
    if rule.get("odd") and required % 2 == 0:
        required += 1
    return required


def plan_kinds(plan: Plan) -> list[str]:
    """The components this plan holds, in the order they take place."""
    return [c.kind for c in sorted(plan.components.all(), key=lambda c: c.starts_at)]


def panel_requirements(plan: Plan) -> dict[str, tuple[int, int, bool]]:
    """kind → (required, candidates, odd), from the standard's staffing for the plan's levels (the strictest)."""
    standard_levels = list(StandardLevel.objects.filter(standard_id=plan.standard_id, level__in=plan.levels.all()))
    approved = Counter(
        Registration.objects.filter(plan=plan, status=Registration.Status.APPROVED).values_list("level_id", flat=True)
    )
    result = {}
    for kind in plan_kinds(plan):
        with_kind = [sl for sl in standard_levels if any(c.get("kind") == kind for c in sl.components or [])]
        candidates = sum(approved[sl.level_id] for sl in with_kind)
        rules = [(sl.staffing or {}).get(kind) or {} for sl in with_kind] or [{}]
        required = max(_required(rule, candidates) for rule in rules)
        odd = any(rule.get("odd") for rule in rules)
        if odd and required % 2 == 0:
            required += 1
        result[kind] = (required, candidates, odd)
    return result


def _members(plan: Plan) -> list[PanelMember]:
    return list(
        PanelMember.objects.filter(plan=plan)
        .select_related("appointment__person", "appointment__organisation", "appointment__bureau__region")
        .prefetch_related("appointment__scopes__max_level")
        .order_by("assigned_at", "id")
    )


def panel_status(plan: Plan) -> list[ComponentPanel]:
    """Per component: required vs assigned, and every problem (too few, even, a member who now fails a rule)."""
    facts = facts_for(plan)
    by_kind: dict[str, list[PanelMember]] = defaultdict(list)
    for m in _members(plan):
        by_kind[m.kind].append(m)
    panels = []
    for kind, (required, candidates, odd) in panel_requirements(plan).items():
        members, problems = by_kind.get(kind, []), []
        if len(members) < required:
            problems.append(
                _("需至少%(required)d名考评人员(考生%(candidates)d人),已安排%(n)d名")
                % {"required": required, "candidates": candidates, "n": len(members)}
            )
        elif odd and len(members) % 2 == 0:
            problems.append(_("考评人员须为奇数,当前%(n)d名") % {"n": len(members)})
        for m in members:
            problems += [r.explanation for r in assessor_refusals(facts, m.appointment)]
        panels.append(
            ComponentPanel(
                kind=kind,
                label=str(KIND_LABELS[kind]),
                required=required,
                candidates=candidates,
                odd=odd,
                members=members,
                ok=not problems,
                problems=problems,
            )
        )
    return panels


def panel_recheck(plan: Plan) -> list[MemberCheck]:
    """Members, and the supervisor, who fail a rule now (a candidate approved later may have been trained by
    one of them, or a relationship declared since). Empty means the panels may start scoring."""
    facts = facts_for(plan)
    out = []
    for m in _members(plan):
        refusals = assessor_refusals(facts, m.appointment)
        if refusals:
            out.append(MemberCheck(m.kind, m.appointment, refusals))
    if plan.supervisor_id:
        supervisor = _appointments().get(pk=plan.supervisor_id)
        refusals = supervisor_refusals(facts, supervisor)
        if refusals:
            out.append(MemberCheck("supervisor", supervisor, refusals))
    return out


# --- Who could be chosen -------------------------------------------------------------------------------------


def _appointments() -> QuerySet[Appointment]:
    return Appointment.objects.select_related("person", "organisation", "bureau__region").prefetch_related(
        "scopes__occupation", "scopes__max_level"
    )


def _require_kind(plan: Plan, kind: str) -> None:
    if kind not in plan_kinds(plan):
        raise ValidationFailed(
            _("本计划没有“%(kind)s”科目") % {"kind": KIND_LABELS.get(kind, kind)}, details={"field": "kind"}
        )


def panel_candidates(plan: Plan, kind: str) -> list[Availability]:
    """Every assessor of the plan's organisation (active or not): who is available, and why the others are not."""
    _require_kind(plan, kind)
    facts = facts_for(plan)
    on_panel = set(PanelMember.objects.filter(plan=plan, kind=kind).values_list("appointment_id", flat=True))
    out = []
    for a in _appointments().filter(organisation_id=plan.organisation_id, role=Appointment.Role.ASSESSOR):
        refusals = assessor_refusals(facts, a)
        out.append(Availability(a, not refusals, refusals, assigned=a.id in on_panel))
    return sorted(out, key=lambda x: (not x.available, x.assigned, x.appointment.person.name, x.appointment.id))


def _covering_bureau_ids(region: Region) -> list[int]:
    return [b.id for b in Bureau.objects.select_related("region") if b.region.contains(region)]


def _external_supervisors(plan: Plan) -> QuerySet[Appointment]:
    return _appointments().filter(
        role=Appointment.Role.EXTERNAL_SUPERVISOR, bureau_id__in=_covering_bureau_ids(plan.organisation.region)
    )


def supervisor_candidates(plan: Plan) -> list[Availability]:
    """External supervisors of the bureaus covering the organisation's region and the organisation's internal
    supervisors, with why each is or is not eligible."""
    facts = facts_for(plan)
    internal = _appointments().filter(role=Appointment.Role.INTERNAL_SUPERVISOR, organisation_id=plan.organisation_id)
    out = []
    for a in [*_external_supervisors(plan), *internal]:
        refusals = supervisor_refusals(facts, a)
        out.append(Availability(a, not refusals, refusals, assigned=a.id == plan.supervisor_id))
    return sorted(out, key=lambda x: (not x.available, x.appointment.role, x.appointment.person.name))


# --- Permission helpers --------------------------------------------------------------------------------------


def _locked_plan(actor: Actor, plan_id: int) -> Plan:
    """The plan, locked; NotFound for anyone who may not see it."""
    actor.require_authenticated()
    plan_get(actor, plan_id)
    # Only the plan row: the joined rows need no lock, and PostgreSQL refuses FOR UPDATE on outer joins.
    return (
        Plan.objects.select_for_update(of=("self",))
        .select_related("organisation__region", "occupation", "standard")
        .get(pk=plan_id)
    )


def _require_org_admin(actor: Actor, plan: Plan) -> None:
    if plan.organisation_id not in actor.organisation_ids(Role.ORG_ADMIN):
        raise PermissionDenied(_("仅本机构管理员可以安排考评人员"))


def can_assign_supervisor(actor: Actor, plan: Plan) -> bool:
    return actor.is_operator or actor.oversees_region(plan.organisation.region)


def _require_open(plan: Plan) -> None:
    if plan.status not in OPEN_STATUSES:
        raise Conflict(
            _("计划当前状态为“%(s)s”,不能再调整考评组或督导员") % {"s": plan.get_status_display()},
            code="plan_closed",
        )


def _recusal(a: Appointment, refusals: list[Refusal]) -> Conflict:
    return Conflict(
        _("不能安排%(name)s:%(reasons)s")
        % {"name": a.person.name, "reasons": ";".join(r.explanation for r in refusals)},
        code="recusal",
        details={"appointment_id": a.id, "refusals": [r.as_dict() for r in refusals]},
    )


def _where(plan: Plan) -> dict:
    return {"region_code": plan.organisation.region.code, "organisation_id": plan.organisation_id}


# --- Services: panels ----------------------------------------------------------------------------------------


@transaction.atomic
def panel_assign(*, actor: Actor, plan_id: int, kind: str, appointment_id: int) -> PanelMember:
    """Put an assessor of the organisation on a component's panel; refused with every rule that fails."""
    plan = _locked_plan(actor, plan_id)
    _require_org_admin(actor, plan)
    _require_kind(plan, kind)
    _require_open(plan)
    appointment = _appointments().filter(pk=appointment_id, organisation_id=plan.organisation_id).first()
    if appointment is None:
        raise NotFound(_("本机构没有该人员登记"))
    if PanelMember.objects.filter(plan=plan, kind=kind, appointment=appointment).exists():
        raise Conflict(
            _("%(name)s 已在“%(kind)s”考评组中") % {"name": appointment.person.name, "kind": KIND_LABELS[kind]},
            code="already_assigned",
        )
    refusals = assessor_refusals(facts_for(plan), appointment)
    if refusals:
        raise _recusal(appointment, refusals)
    member = PanelMember(plan=plan, kind=kind, appointment=appointment, assigned_by=actor.user)
    member.full_clean()
    member.save()
    audit_record(
        actor=actor,
        action="panel.assign",
        obj=member,
        after={"plan": plan.id, "kind": kind, "appointment": appointment.id, "person": appointment.person_id},
        **_where(plan),
    )
    return member


@transaction.atomic
def panel_remove(*, actor: Actor, plan_id: int, kind: str, appointment_id: int, reason: str) -> None:
    """Take an assessor off a panel, with a reason; refused once they have entered marks."""
    plan = _locked_plan(actor, plan_id)
    _require_org_admin(actor, plan)
    _require_kind(plan, kind)
    _require_open(plan)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写调整理由"), details={"field": "reason"})
    member = PanelMember.objects.filter(plan=plan, kind=kind, appointment_id=appointment_id).first()
    if member is None:
        raise NotFound(_("该人员不在此考评组中"))
    if Score.objects.filter(registration__plan=plan, kind=kind, assessor_id=appointment_id).exists():
        raise Conflict(_("该考评员已录入评分,不能移出考评组"), code="has_scores")
    member_id = member.id
    member.delete()
    audit_record(
        actor=actor,
        action="panel.remove",
        object_type="assessments.panelmember",
        object_id=member_id,
        before={"plan": plan.id, "kind": kind, "appointment": appointment_id},
        reason=reason,
        **_where(plan),
    )


# --- Services: supervisors -----------------------------------------------------------------------------------


def _locked_plan_for_supervision(actor: Actor, plan_id: int) -> Plan:
    plan = _locked_plan(actor, plan_id)
    if not can_assign_supervisor(actor, plan):
        raise PermissionDenied(_("督导员由机构所在地的人社部门指派"))
    _require_open(plan)
    return plan


def _set_supervisor(actor: Actor, plan: Plan, appointment: Appointment, *, method: str, pool: list[int]) -> Plan:
    before = plan.supervisor_id
    plan.supervisor = appointment
    plan.save(update_fields=["supervisor"])
    audit_record(
        actor=actor,
        action="plan.supervisor_assign",
        obj=plan,
        before={"supervisor": before},
        after={"supervisor": appointment.id, "person": appointment.person_id, "method": method, "pool": pool},
        **_where(plan),
    )
    first = plan.components.order_by("starts_at").first()
    notify(
        users=list(User.objects.filter(person_id=appointment.person_id)),
        title=_("督导任务:%(t)s") % {"t": plan.title},
        body=_("您被指派为“%(org)s”%(t)s的督导员,首场考核%(when)s,地点:%(venue)s。")
        % {
            "org": plan.organisation.name,
            "t": plan.title,
            "when": f"{timezone.localtime(first.starts_at):%Y-%m-%d %H:%M}" if first else "—",
            "venue": plan.venue,
        },
        link="/assessments/supervision/",
    )
    return plan


@transaction.atomic
def supervisor_assign(*, actor: Actor, plan_id: int, appointment_id: int) -> Plan:
    """Bureau staff over the organisation's region (or an operator) choose the plan's supervisor."""
    plan = _locked_plan_for_supervision(actor, plan_id)
    appointment = (
        _appointments()
        .filter(pk=appointment_id, role__in=SUPERVISOR_ROLES)
        .filter(Q(role=Appointment.Role.EXTERNAL_SUPERVISOR) | Q(organisation_id=plan.organisation_id))
        .first()
    )
    if appointment is None:
        raise NotFound(_("未找到该督导员"))
    if appointment.id == plan.supervisor_id:
        return plan
    refusals = supervisor_refusals(facts_for(plan), appointment)
    if refusals:
        raise _recusal(appointment, refusals)
    return _set_supervisor(actor, plan, appointment, method="manual", pool=[appointment.id])


@transaction.atomic
def supervisor_assign_random(*, actor: Actor, plan_id: int, seed: int | None = None) -> Plan:
    """Draw the supervisor uniformly among the eligible external supervisors of the bureaus covering the
    organisation's region. `seed` is for tests; otherwise the draw uses the system's secure randomness."""
    plan = _locked_plan_for_supervision(actor, plan_id)
    facts = facts_for(plan)
    eligible, excluded = [], []
    for a in _external_supervisors(plan).order_by("id"):
        refusals = supervisor_refusals(facts, a)
        if refusals:
            excluded.append(
                {"appointment_id": a.id, "person_name": a.person.name, "refusals": [r.as_dict() for r in refusals]}
            )
        else:
            eligible.append(a)
    if not eligible:
        raise Conflict(
            _("没有可抽取的外部督导员(共%(n)d名,均不符合条件)") % {"n": len(excluded)},
            code="no_eligible_supervisor",
            details={"excluded": excluded},
        )
    rng = random.Random(seed) if seed is not None else secrets.SystemRandom()
    chosen = rng.choice(eligible)
    return _set_supervisor(actor, plan, chosen, method="random", pool=[a.id for a in eligible])


# --- Services: declarations and reports ----------------------------------------------------------------------


def relationships_of(person: Person | None) -> QuerySet[RelationshipDeclaration]:
    if person is None:
        return RelationshipDeclaration.objects.none()
    return RelationshipDeclaration.objects.filter(declarant=person).select_related("other").order_by("-created_at")


def _persons_judged_by(person: Person) -> QuerySet[Person]:
    """Candidates of the plans this person sits on a panel of or supervises: the only ones they may name by id."""
    plan_ids = set(PanelMember.objects.filter(appointment__person=person).values_list("plan_id", flat=True))
    plan_ids |= set(Plan.objects.filter(supervisor__person=person).values_list("id", flat=True))
    return Person.objects.filter(
        registrations__plan_id__in=plan_ids, registrations__status__in=Registration.ACTIVE
    ).distinct()


@records_conflicts
@transaction.atomic
def relationship_declare(
    *,
    actor: Actor,
    kind: str,
    note: str = "",
    other_person_id: int | None = None,
    name: str = "",
    id_type: str = "ric",
    id_number: str = "",
) -> RelationshipDeclaration:
    """An assessor or supervisor declares a relationship with a person (named by id among the candidates they
    judge, or by name and ID number); they are then kept off any panel that person is a candidate of."""
    actor.require_authenticated()
    declarant = actor.person
    if declarant is None:
        raise PermissionDenied(_("请使用本人实名账号申报回避关系"))
    appointment = (
        Appointment.objects.filter(person=declarant, role__in=DECLARING_ROLES)
        .select_related("organisation__region", "bureau__region")
        .order_by("status", "-id")  # an active one first
        .first()
    )
    if appointment is None:
        raise PermissionDenied(_("仅登记在册的考评员或督导员可以申报回避关系"))
    if kind not in RelationshipDeclaration.Kind.values:
        raise ValidationFailed(_("请选择关系类型"), details={"field": "kind"})
    if other_person_id is not None:
        other = _persons_judged_by(declarant).filter(pk=other_person_id).first()
        if other is None:
            raise NotFound(_("未找到该考生"))
    elif (id_number or "").strip():
        other = person_get_or_create(actor=actor, name=name, id_type=id_type or "ric", id_number=id_number)
    else:
        raise ValidationFailed(_("请填写对方的姓名与证件号码"), details={"field": "id_number"})
    if other.id == declarant.id:
        raise ValidationFailed(_("不能申报与本人的关系"), details={"field": "id_number"})
    declaration = RelationshipDeclaration(declarant=declarant, other=other, kind=kind, note=(note or "").strip()[:255])
    try:
        with transaction.atomic():
            declaration.save()
    except IntegrityError:
        raise Conflict(_("已申报过与%(name)s的该项关系") % {"name": other.name}, code="duplicate") from None
    where = appointment.organisation or appointment.bureau
    audit_record(
        actor=actor,
        action="relationship.declare",
        obj=declaration,
        after={"declarant": declarant.id, "other": other.id, "kind": kind, "note": declaration.note},
        region_code=where.region.code,
        organisation_id=appointment.organisation_id,
    )
    return declaration


def supervised_plans(actor: Actor) -> QuerySet[Plan]:
    """Plans whose assigned supervisor is this actor's person ("my sessions")."""
    if actor.person is None:
        return Plan.objects.none()
    return (
        Plan.objects.filter(supervisor__in=acting_appointments(actor).values("pk"))
        .select_related("organisation__region", "occupation", "supervisor__person")
        .prefetch_related("components", "levels", "supervision_reports")
        .order_by("-registration_closes", "-id")
    )


def supervised_plan_get(actor: Actor, plan_id: int) -> Plan:
    plan = supervised_plans(actor).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    return plan


def checked_checklist(checklist: dict | None) -> dict[str, str]:
    """Every item answered "ok" or "issue", nothing else; ValidationFailed naming what is wrong."""
    checklist = checklist or {}
    unknown = sorted(set(checklist) - set(CHECKLIST))
    if unknown:
        raise ValidationFailed(
            _("未知的检查项:%(k)s") % {"k": "、".join(unknown)}, details={"field": "checklist", "unknown": unknown}
        )
    missing = [k for k in CHECKLIST if checklist.get(k) not in CHECKLIST_VALUES]
    if missing:
        raise ValidationFailed(
            _("请对每个检查项选择“符合”或“存在问题”:%(k)s") % {"k": "、".join(str(CHECKLIST[k]) for k in missing)},
            details={"field": "checklist", "missing": missing},
        )
    return {k: checklist[k] for k in CHECKLIST}


@transaction.atomic
def supervision_report_submit(*, actor: Actor, plan_id: int, checklist: dict, findings: str) -> SupervisionReport:
    """The plan's assigned supervisor reports: each checklist item ok or issue, and findings for any issue."""
    actor.require_authenticated()
    plan = (
        Plan.objects.select_for_update(of=("self",))
        .select_related("organisation__region", "supervisor__person")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None:
        raise NotFound()
    if plan.supervisor is None or not acting_appointments(actor).filter(pk=plan.supervisor_id).exists():
        if plans_for(actor).filter(pk=plan.id).exists():
            raise PermissionDenied(_("只有本计划指派的督导员可以提交督导报告"))
        raise NotFound()
    if plan.status not in REPORTABLE_STATUSES:
        raise Conflict(_("计划当前状态为“%(s)s”,不能提交督导报告") % {"s": plan.get_status_display()})
    cleaned = checked_checklist(checklist)
    findings = (findings or "").strip()
    issues = [k for k, v in cleaned.items() if v == "issue"]
    if issues and not findings:
        raise ValidationFailed(_("存在问题的检查项须填写发现的问题"), details={"field": "findings", "issues": issues})
    report = SupervisionReport(plan=plan, supervisor=plan.supervisor, checklist=cleaned, findings=findings)
    report.full_clean()
    report.save()
    audit_record(
        actor=actor,
        action="supervision.report",
        obj=report,
        after={"plan": plan.id, "supervisor": plan.supervisor_id, "checklist": cleaned, "findings": findings},
        **_where(plan),
    )
    return report
