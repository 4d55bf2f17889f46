"""Catalogue changes (目录清单调整): recorded by the operator, previewed for what they touch, then confirmed.

A change cancels a qualification, moves it out of the catalogue, or turns a 准入类 qualification into level
evaluation, from an effective date that may lie in the future. Before confirming, the operator sees every
filed scope, open plan, registered candidate and pending subsidy claim it touches. Confirming writes the
qualification's dated fields (read by occupations.catalogue from that day on), asks every candidate of a plan
it catches to choose between continuing and a refund, and tells organisations, candidates and claimants.
"""

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.selectors import organisation_admins
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify

from .models import CatalogueChange, Occupation, Qualification
from .signals import catalogue_change_confirmed, catalogue_change_impact

CHANGE_FIELDS = ["kind", "status", "effective_on", "basis", "reason"]


def require_operator(actor: Actor) -> None:
    actor.require_authenticated()
    if not actor.is_operator:
        raise PermissionDenied(_("仅平台运维人员可以调整职业资格目录清单"))


def changes_for(actor: Actor) -> QuerySet[CatalogueChange]:
    require_operator(actor)
    return CatalogueChange.objects.select_related("qualification", "created_by", "confirmed_by")


def change_get(actor: Actor, change_id: int) -> CatalogueChange:
    """Anyone but the operator is told the change does not exist, as for another tenant's object."""
    actor.require_authenticated()
    if not actor.is_operator:
        raise NotFound()
    change = changes_for(actor).filter(pk=change_id).first()
    if change is None:
        raise NotFound()
    return change


# --- Impact -----------------------------------------------------------------------------------------------


@dataclass
class Impact:
    """What a change touches, as lists a page shows and counts the API and the audit entry keep."""

    occupations: list[dict] = field(default_factory=list)
    scope_lines: list[dict] = field(default_factory=list)
    plans: list[dict] = field(default_factory=list)
    candidates: list[dict] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)
    organisation_ids: set[int] = field(default_factory=set)

    @property
    def counts(self) -> dict:
        return {
            "occupations": len(self.occupations),
            "scope_lines": len(self.scope_lines),
            "organisations": len(self.organisation_ids),
            "plans": len(self.plans),
            "caught_plans": sum(1 for p in self.plans if p["caught"]),
            "candidates": len(self.candidates),
            "pending_claims": len(self.claims),
        }

    def as_dict(self) -> dict:
        return {
            "counts": self.counts,
            "occupations": self.occupations,
            "scope_lines": self.scope_lines,
            "plans": self.plans,
            "candidates": self.candidates,
            "claims": self.claims,
        }


def affected_occupations(qualification: Qualification) -> QuerySet[Occupation]:
    return Occupation.objects.filter(qualification=qualification).order_by("code")


def change_impact(qualification: Qualification, kind: str, effective_on: datetime.date) -> Impact:
    """Everything the change would touch: each app above adds its own part (occupations.signals)."""
    impact = Impact()
    occupations = list(affected_occupations(qualification))
    impact.occupations = [{"code": o.code, "name": o.name} for o in occupations]
    catalogue_change_impact.send(
        sender=CatalogueChange,
        qualification=qualification,
        occupations=occupations,
        kind=kind,
        ending=kind in CatalogueChange.ENDING,
        effective_on=effective_on,
        impact=impact,
    )
    return impact


# --- Writes -----------------------------------------------------------------------------------------------


def _state(change: CatalogueChange) -> dict:
    return {**{f: getattr(change, f) for f in CHANGE_FIELDS}, "qualification": change.qualification.name}


@transaction.atomic
def change_create(
    *,
    actor: Actor,
    qualification_id: int,
    kind: str,
    effective_on: datetime.date | None,
    basis: str,
    reason: str = "",
) -> CatalogueChange:
    """A draft change: nothing takes effect until it is confirmed after its impact was shown."""
    require_operator(actor)
    qual = Qualification.objects.select_for_update().filter(pk=qualification_id).first()
    if qual is None:
        raise ValidationFailed(_("目录条目不存在"), details={"field": "qualification_id"})
    if kind not in CatalogueChange.Kind.values:
        raise ValidationFailed(_("请选择变更类型"), details={"field": "kind"})
    basis = (basis or "").strip()
    if not basis:
        raise ValidationFailed(_("请填写文件依据(如:国发〔2017〕68号)"), details={"field": "basis"})
    if len(basis) > 255:
        raise ValidationFailed(_("文件依据不超过255字"), details={"field": "basis"})
    if effective_on is None:
        raise ValidationFailed(_("请填写生效日期"), details={"field": "effective_on"})
    if effective_on < qual.effective_from:
        raise ValidationFailed(
            _("生效日期不能早于该条目列入目录的日期(%(d)s)") % {"d": qual.effective_from},
            details={"field": "effective_on"},
        )
    if kind in CatalogueChange.ENDING and qual.status in Qualification.OUT:
        raise Conflict(_("“%(n)s”已经是%(s)s状态") % {"n": qual.name, "s": qual.get_status_display()})
    if kind == CatalogueChange.Kind.TO_EVALUATION and (
        qual.kind != Qualification.Kind.ACCESS or qual.status != Qualification.Status.LISTED
    ):
        raise Conflict(_("只有目录内的准入类职业资格可以调整为水平评价类"))
    if qual.changes.filter(status=CatalogueChange.Status.DRAFT).exists():
        raise Conflict(_("该条目已有待确认的变更,请先确认或放弃"), code="draft_exists")
    change = CatalogueChange(
        qualification=qual,
        kind=kind,
        effective_on=effective_on,
        basis=basis,
        reason=(reason or "").strip(),
        created_by=actor.user,
    )
    change.full_clean()
    change.save()
    audit_record(actor=actor, action="catalogue_change.create", obj=change, after=_state(change))
    return change


def _change_for_update(actor: Actor, change_id: int) -> CatalogueChange:
    require_operator(actor)
    change = CatalogueChange.objects.select_for_update().select_related("qualification").filter(pk=change_id).first()
    if change is None:
        raise NotFound()
    if change.status != CatalogueChange.Status.DRAFT:
        raise Conflict(_("该变更当前状态为“%(s)s”") % {"s": change.get_status_display()})
    return change


def _apply_to_qualification(change: CatalogueChange) -> dict:
    qual = Qualification.objects.select_for_update().get(pk=change.qualification_id)
    fields = ["status", "kind", "cancelled_on", "cancellation_basis", "evaluation_from"]
    before = {f: getattr(qual, f) for f in fields}
    if change.kind == CatalogueChange.Kind.TO_EVALUATION:
        qual.kind, qual.evaluation_from = Qualification.Kind.EVALUATION, change.effective_on
    else:
        qual.status = Qualification.Status.CANCELLED if change.kind == "cancel" else Qualification.Status.REMOVED
        qual.cancelled_on, qual.cancellation_basis = change.effective_on, change.basis
    qual.full_clean()
    qual.save(update_fields=fields)
    change.qualification = qual
    return before


def _title(change: CatalogueChange) -> str:
    qual, when = change.qualification, change.effective_on.isoformat()
    return _("“%(n)s”自%(d)s起%(k)s(%(b)s)") % {
        "n": qual.name,
        "d": when,
        "k": change.get_kind_display(),
        "b": change.basis,
    }


def _notify_organisations(change: CatalogueChange, impact: Impact, what: str) -> None:
    if change.ends_recognition:
        org_body = _(
            "此后不得再以该事项新增备案范围或认定计划;已公告计划的考生可选择继续参加认定或退费,请在计划页面查看考生选择并办理。"
        )
    else:
        org_body = _("自生效日起按水平评价类管理,可按国家职业技能标准申请备案并开展认定。")
    for org_id in sorted(impact.organisation_ids):
        notify(users=organisation_admins(org_id), title=what, body=org_body, link="/assessments/manage/")


@transaction.atomic
def change_confirm(*, actor: Actor, change_id: int) -> CatalogueChange:
    """Take the change into force from its date; the apps above act on it (candidates of caught plans choose,
    claimants and holders are told, verification answers are refreshed); organisations are told here."""
    change = _change_for_update(actor, change_id)
    impact = change_impact(change.qualification, change.kind, change.effective_on)
    qual_before = _apply_to_qualification(change)
    change.status = CatalogueChange.Status.CONFIRMED
    change.confirmed_by, change.confirmed_at = actor.user, timezone.now()
    change.impact = impact.counts
    change.save(update_fields=["status", "confirmed_by", "confirmed_at", "impact"])
    what = _title(change)
    counts: dict = {}
    for _receiver, response in catalogue_change_confirmed.send(
        sender=CatalogueChange, change=change, impact=impact, title=what
    ):
        counts.update(response or {})
    audit_record(
        actor=actor,
        action="catalogue_change.confirm",
        obj=change,
        before={"qualification": qual_before},
        after={**_state(change), "impact": impact.counts, "choices_opened": counts.get("choices_opened", 0)},
    )
    _notify_organisations(change, impact, what)
    return change


@transaction.atomic
def change_discard(*, actor: Actor, change_id: int, reason: str = "") -> CatalogueChange:
    change = _change_for_update(actor, change_id)
    before = _state(change)
    change.status = CatalogueChange.Status.DISCARDED
    change.save(update_fields=["status"])
    audit_record(
        actor=actor, action="catalogue_change.discard", obj=change, before=before, after=_state(change), reason=reason
    )
    return change
