"""Panels (考评组) and supervisors (督导员) for a plan, under 考培分离 and recusal (回避).

One rule engine decides who may judge a plan's candidates and says why not: `assessor_refusals` and
`supervisor_refusals` read a `PlanFacts` (the plan's dates, levels and candidates, and the training records,
declarations and appointments that touch those candidates, loaded once). Pages, the API, the services and the
re-check before scoring all call it, so a decision and its explanation are the same wherever they are shown.

Candidates for recusal are every active registration (submitted, more evidence, approved): a person still
under review may yet sit the assessment. Panel sizes count approved registrations only.
"""

import datetime
import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accreditation.models import Appointment, TrainingRecord
from core.dates import months_before
from occupations.models import Level, StandardLevel

from ..models import (
    COMPONENT_KINDS,
    PanelMember,
    Plan,
    Registration,
    RelationshipDeclaration,
)
from ..policy import policy_for

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
    member_problems: list[str] = field(default_factory=list)  # members who now fail a rule (part of `problems`)

    @property
    def assigned(self) -> int:
        return len(self.members)

    @property
    def waiting_for_candidates(self) -> bool:
        """No approved candidate yet: the size the panel will need is not known, so a shortfall is no warning yet."""
        return self.candidates == 0


@dataclass
class MemberCheck:
    """A panel member (kind = component) or the supervisor (kind = "supervisor") who now fails a rule."""

    kind: str
    appointment: Appointment
    refusals: list[Refusal]


# --- The facts the rules read --------------------------------------------------------------------------------


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
        member_problems = [r.explanation for m in members for r in assessor_refusals(facts, m.appointment)]
        problems += member_problems
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
                member_problems=member_problems,
            )
        )
    return panels


def active_appointments() -> QuerySet[Appointment]:
    return Appointment.objects.select_related("person", "organisation", "bureau__region").prefetch_related(
        "scopes__occupation", "scopes__max_level"
    )


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
        supervisor = active_appointments().get(pk=plan.supervisor_id)
        refusals = supervisor_refusals(facts, supervisor)
        if refusals:
            out.append(MemberCheck("supervisor", supervisor, refusals))
    return out
