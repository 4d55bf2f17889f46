"""Assigning and removing panel members and supervisors, declarations of relationships, and supervision reports.

Every write re-reads the plan under a lock and asks the rules (rules.py) again."""

import random
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.conflicts import records_conflicts
from accounts.models import Role, User
from accounts.services import person_get_or_create
from accreditation.models import Appointment
from accreditation.selectors import acting_appointments
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify

from ..models import (
    PanelMember,
    Plan,
    RelationshipDeclaration,
    Score,
    SupervisionReport,
)
from ..plans import plan_get, plans_for
from .rules import (
    CHECKLIST,
    CHECKLIST_VALUES,
    DECLARING_ROLES,
    KIND_LABELS,
    OPEN_STATUSES,
    REPORTABLE_STATUSES,
    SUPERVISOR_ROLES,
    Refusal,
    active_appointments,
    assessor_refusals,
    facts_for,
    supervisor_refusals,
)
from .selectors import external_supervisors, persons_judged_by, require_kind

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
    require_kind(plan, kind)
    _require_open(plan)
    appointment = active_appointments().filter(pk=appointment_id, organisation_id=plan.organisation_id).first()
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
    require_kind(plan, kind)
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
        active_appointments()
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
    for a in external_supervisors(plan).order_by("id"):
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
        other = persons_judged_by(declarant).filter(pk=other_person_id).first()
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
