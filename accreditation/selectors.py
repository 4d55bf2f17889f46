"""Reads, scoped. `organisations_for(actor)` is the one permission helper for organisations."""

import datetime
from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role
from core.errors import NotFound
from occupations.catalogue import occupation_problems
from occupations.models import Level, Occupation, Region

from .models import Appointment, Filing, Organisation, ScopeLine, TrainingRecord
from .rules import kinds_phrase


def organisations_for(actor: Actor) -> QuerySet[Organisation]:
    """Organisations this actor may see: operators all, bureau staff their region, members their own."""
    qs = Organisation.objects.select_related("region")
    if actor.is_operator:
        return qs
    q = Region.within_q("region", actor.bureau_prefixes) | Q(pk__in=actor.organisation_ids())
    return qs.filter(q)


def organisation_get(actor: Actor, pk: int) -> Organisation:
    """The organisation, or NotFound when it does not exist or lies outside the actor's scope."""
    org = organisations_for(actor).filter(pk=pk).first()
    if org is None:
        raise NotFound()
    return org


def filings_for(actor: Actor) -> QuerySet[Filing]:
    """Filings visible to the actor: their organisation's, or those of organisations in their region."""
    return Filing.objects.filter(organisation__in=organisations_for(actor)).select_related("organisation__region")


def filing_get(actor: Actor, pk: int) -> Filing:
    filing = filings_for(actor).filter(pk=pk).first()
    if filing is None:
        raise NotFound()
    return filing


def review_queue(actor: Actor) -> QuerySet[Filing]:
    """Applications waiting for this bureau officer's region."""
    actor.require_bureau()
    qs = Filing.objects.filter(status__in=[Filing.Status.SUBMITTED, Filing.Status.UNDER_REVIEW])
    if not actor.is_operator:
        qs = qs.filter(Region.within_q("organisation__region", actor.bureau_prefixes))
    return qs.select_related("organisation__region").order_by("submitted_at")


def filing_in_force(organisation: Organisation, on: datetime.date | None = None) -> Filing | None:
    """The approved (or suspended) filing covering `on`, if any."""
    on = on or timezone.localdate()
    return (
        organisation.filings.filter(status__in=Filing.IN_FORCE, valid_from__lte=on, valid_until__gte=on)
        .prefetch_related("scope_lines__levels", "scope_lines__occupation")
        .first()
    )


@dataclass
class ScopeDecision:
    allowed: bool
    reason: str
    filing: Filing | None = None


def scope_allows(
    organisation: Organisation, occupation: Occupation, level: Level, on: datetime.date, *, caught: bool = False
) -> ScopeDecision:
    """May this organisation assess this occupation and level on this date? With the reason when not.

    `caught`: the plan was announced before its qualification was cancelled, so it may still be completed for
    the candidates who chose to continue (notice section 四); the catalogue does not stop it, the filing does.
    """
    problems = [] if caught else occupation_problems(occupation, on)
    if problems:
        return ScopeDecision(False, problems[0])
    filing = filing_in_force(organisation, on)
    if filing is None:
        return ScopeDecision(False, _("机构在%(on)s没有有效的备案") % {"on": on})
    if filing.status == Filing.Status.SUSPENDED:
        return ScopeDecision(False, _("机构备案已暂停:%(r)s") % {"r": filing.status_reason}, filing)
    if not level.allows_organisation_kind(organisation.kind):
        return ScopeDecision(
            False,
            _("%(level)s只能由%(kinds)s评价(人社部发〔2022〕14号)")
            % {"level": level.label, "kinds": kinds_phrase([level])},
            filing,
        )
    for line in filing.scope_lines.all():
        if line.occupation_id == occupation.id:
            if any(lv.id == level.id for lv in line.levels.all()):
                return ScopeDecision(True, "", filing)
            return ScopeDecision(
                False, _("备案范围内“%(occ)s”不含%(level)s") % {"occ": occupation.name, "level": level.label}, filing
            )
    return ScopeDecision(False, _("“%(occ)s”不在机构备案范围内") % {"occ": occupation.name}, filing)


def directory(q: str = "", occupation_code: str = "", region_code: str = "") -> QuerySet[Organisation]:
    """The public directory: organisations with a filing that was ever approved, newest filing's status shown."""
    public = Filing.objects.filter(organisation=OuterRef("pk"), status__in=Filing.PUBLIC).order_by("-valid_from", "-id")
    qs = (
        Organisation.objects.filter(filings__status__in=Filing.PUBLIC)
        .annotate(public_filing_id=Subquery(public.values("id")[:1]))
        .select_related("region")
        .distinct()
        .order_by("region__code", "name")
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(number_prefix__icontains=q) | Q(credit_code=q.upper()))
    if occupation_code:
        qs = qs.filter(
            filings__status__in=Filing.IN_FORCE,
            filings__scope_lines__occupation__code=occupation_code,
        )
    if region_code:
        qs = qs.filter(Region.inside_q("region", region_code))
    return qs


def appointments_for(actor: Actor) -> QuerySet[Appointment]:
    """Organisation staff see their organisation's people; bureau staff their region's and their supervisors."""
    qs = Appointment.objects.select_related("person", "organisation", "bureau").prefetch_related(
        "scopes__occupation", "scopes__max_level"
    )
    if actor.is_operator:
        return qs
    q = Q(organisation_id__in=actor.organisation_ids(Role.ORG_ADMIN))
    q |= Region.within_q("organisation__region", actor.bureau_prefixes)
    q |= Q(bureau__in=actor.bureaus())
    return qs.filter(q)


def training_records_for(actor: Actor) -> QuerySet[TrainingRecord]:
    qs = TrainingRecord.objects.select_related("provider", "trainer", "trainee", "occupation")
    if actor.is_operator:
        return qs
    q = Q(provider_id__in=actor.organisation_ids(Role.ORG_ADMIN, Role.TRAINER))
    q |= Region.within_q("provider__region", actor.bureau_prefixes)
    return qs.filter(q)


def catalogue_change_impact(*, occupations, impact, **_kwargs) -> None:
    """occupations.signals.catalogue_change_impact: filed and pending scope lines of the affected occupations."""
    lines = (
        ScopeLine.objects.filter(occupation__in=occupations, filing__status__in=[*Filing.IN_FORCE, *Filing.OPEN])
        .select_related("filing__organisation__region", "occupation")
        .prefetch_related("levels")
        .order_by("filing__organisation__name")
    )
    for line in lines:
        org = line.filing.organisation
        impact.organisation_ids.add(org.id)
        impact.scope_lines.append(
            {
                "id": line.id,
                "filing_id": line.filing_id,
                "filing_status": line.filing.get_status_display(),
                "organisation_id": org.id,
                "organisation": org.name,
                "region": org.region.full_name,
                "occupation": line.occupation.name,
                "levels": [lv.name for lv in line.sorted_levels],
            }
        )


def organisation_appointed(organisation_id: int, person_id: int) -> bool:
    """Whether the organisation has registered this person as its assessor, supervisor or trainer (any status: the
    organisation checked their papers when it did)."""
    return Appointment.objects.filter(organisation_id=organisation_id, person_id=person_id).exists()


_INVITABLE = {
    "assessor": [Appointment.Role.ASSESSOR],
    "trainer": [Appointment.Role.TRAINER],
    "supervisor": [Appointment.Role.INTERNAL_SUPERVISOR, Appointment.Role.EXTERNAL_SUPERVISOR],
}


def appointed_to(organisation_id: int | None, bureau_id: int | None, person_id: int, role: str) -> bool:
    """Whether an active appointment of this organisation (or bureau) stands behind inviting the person to `role`."""
    return Appointment.objects.filter(
        organisation_id=organisation_id,
        bureau_id=bureau_id,
        person_id=person_id,
        role__in=_INVITABLE.get(role, []),
        status=Appointment.Status.ACTIVE,
    ).exists()


# The account role an appointment is exercised under; it comes only from an accepted invitation (accounts.invitations).
LOGIN_ROLE = {
    Appointment.Role.ASSESSOR: Role.ASSESSOR,
    Appointment.Role.TRAINER: Role.TRAINER,
    Appointment.Role.INTERNAL_SUPERVISOR: Role.SUPERVISOR,
    Appointment.Role.EXTERNAL_SUPERVISOR: Role.SUPERVISOR,
}


def acting_appointments(actor: Actor) -> QuerySet[Appointment]:
    """The appointments this account may act under: its person's (bound by proof), each only where the account
    holds the matching role at that organisation or bureau — a role granted by accepting an invitation. Registering
    someone's appointment is a record about them; it lets no account score, supervise or check in until the
    person's own account has accepted the invitation."""
    person = actor.person
    if person is None or actor.user is None:
        return Appointment.objects.none()
    q = Q(pk__in=[])
    for appointment_role, login_role in LOGIN_ROLE.items():
        org_ids = {m.organisation_id for m in actor.memberships if m.role == login_role and m.organisation_id}
        bureau_ids = {m.bureau_id for m in actor.memberships if m.role == login_role and m.bureau_id}
        if org_ids:
            q |= Q(role=appointment_role, organisation_id__in=org_ids)
        if bureau_ids:
            q |= Q(role=appointment_role, bureau_id__in=bureau_ids)
    return Appointment.objects.filter(q, person=person)


def appointed_without_role(actor: Actor) -> bool:
    """Whether the account's person holds an active appointment it has not accepted the invitation for (pages say
    "accept the invitation first" instead of "you are not on this panel")."""
    person = actor.person
    if person is None:
        return False
    active = Appointment.objects.filter(person=person, status=Appointment.Status.ACTIVE)
    return active.exclude(pk__in=acting_appointments(actor).values("pk")).exists()
