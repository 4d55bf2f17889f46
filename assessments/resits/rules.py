"""Who may re-sit (补考) a failed component, in which plan, and the window the standard allows."""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role
from core.dates import add_months
from core.errors import Conflict, NotFound

from ..models import ComponentResult, Plan, Registration
from ..scoring.rules import VOID, ComponentSpec, LevelRules, level_rules_for

# --- Re-sits (补考) --------------------------------------------------------------------------------------------


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
    rules = level_rules_for(original)
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
