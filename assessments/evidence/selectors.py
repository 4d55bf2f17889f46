"""Reads for exam evidence: the policy in force, who may read or add a session's evidence, what is missing."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.errors import NotFound, PermissionDenied
from occupations.models import Region

from ..examday.models import CheckIn
from ..examday.selectors import KIND_LABELS, checkin_session
from ..models import Plan, PlanComponent, SupervisionReport
from ..plans import plans_for
from .models import EvidenceRetentionPolicy, SessionEvidence

DEFAULT_REQUIRED = ("room_photo", "report", "attendance")


def retention_policy(region_code: str, on: datetime.date) -> EvidenceRetentionPolicy | None:
    prefixes = ["", *(region_code[:n] for n in range(1, len(region_code) + 1))]
    return (
        EvidenceRetentionPolicy.objects.filter(region_prefix__in=prefixes, effective_from__lte=on)
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gte=on))
        .annotate(specificity=Length("region_prefix"))
        .order_by("-specificity", "-effective_from")
        .first()
    )


def evidence_session(actor: Actor, plan_id: int, kind: str) -> tuple[Plan, PlanComponent]:
    """For reading: those who run the session (organisation admin, supervisor, panel assessors) and the bureau over
    the organisation (and operators); 403 for others who can see the plan, 404 for the rest."""
    try:
        return checkin_session(actor, plan_id, kind)
    except PermissionDenied:
        plan = plans_for(actor).filter(pk=plan_id).first()
        if plan is None:
            raise NotFound() from None
        if not (actor.is_operator or actor.oversees_region(plan.organisation.region)):
            raise
        component = plan.components.filter(kind=kind).first()
        if component is None:
            raise NotFound() from None
        return plan, component


def evidence_get(actor: Actor, evidence_id: int) -> SessionEvidence:
    evidence = SessionEvidence.objects.select_related("component__plan").filter(pk=evidence_id).first()
    if evidence is None:
        raise NotFound()
    evidence_session(actor, evidence.component.plan_id, evidence.component.kind)
    return evidence


@dataclass
class MissingEvidence:
    component: PlanComponent
    missing: list[str]

    @property
    def labels(self) -> list[str]:
        names = dict(SessionEvidence.Kind.choices)
        return [str(names.get(k, k)) for k in self.missing]


def session_missing(component: PlanComponent, kinds_present: set[str], *, required=None) -> list[str]:
    """The required kinds of evidence the session lacks. A supervisor's report filed on the platform counts as the
    report, and check-in records as the attendance."""
    if required is None:
        day = timezone.localtime(component.starts_at).date()
        policy = retention_policy(component.plan.organisation.region.code, day)
        required = policy.required_kinds if policy is not None and policy.required_kinds else DEFAULT_REQUIRED
    missing = []
    for kind in required:
        if kind in kinds_present:
            continue
        if kind == "report" and SupervisionReport.objects.filter(plan_id=component.plan_id).exists():
            continue
        if kind == "attendance" and CheckIn.objects.filter(component=component).exists():
            continue
        missing.append(kind)
    return missing


def missing_evidence(prefixes: list[str], *, since: datetime.date, today: datetime.date) -> list[MissingEvidence]:
    """Sessions held in the region (ended between `since` and today) that lack required evidence: a finding."""
    q = Region.within_q("plan__organisation__region", prefixes) if prefixes else Q()
    now = timezone.now()
    components = (
        PlanComponent.objects.filter(q, ends_at__lte=now, starts_at__date__gte=since)
        .exclude(plan__status__in=[Plan.Status.DRAFT, Plan.Status.CANCELLED])
        .select_related("plan__organisation__region")
        .order_by("starts_at")
    )
    present: dict[int, set[str]] = {}
    for component_id, kind in SessionEvidence.objects.filter(component__in=components).values_list(
        "component_id", "kind"
    ):
        present.setdefault(component_id, set()).add(kind)
    found = []
    for c in components:
        missing = session_missing(c, present.get(c.id, set()))
        if missing:
            found.append(MissingEvidence(c, missing))
    return found


def component_label(component: PlanComponent) -> str:
    return _("%(p)s · %(k)s") % {"p": component.plan.title, "k": KIND_LABELS[component.kind]}
