"""A worker's career paths (贯通): what their certificates let them apply for, from when, on what basis.

Every valid certificate counts, issued here or imported from the historical records (改革前职业资格证书
included). A rule for a skill level also serves higher levels (a 技师 has passed 高级工). A certificate makes
its holder eligible on its issue date plus the rule's years, but never before the rule took effect; a rule that
ended before that date gives nothing, and its successor (if any) gives its own answer.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Person
from assessments.eligibility import fmt_date, years_after
from core.errors import PermissionDenied
from occupations.models import EquivalenceRule

from .models import Certificate


@dataclass(frozen=True)
class Pathway:
    target: str
    rule_code: str
    rule_label: str
    basis: str
    eligible_from: datetime.date
    eligible_now: bool
    certificate_number: str
    certificate_label: str
    certificate_issued_on: datetime.date
    certificate_imported: bool
    rule_effective_from: datetime.date
    rule_effective_to: datetime.date | None

    @property
    def explanation(self) -> str:
        start = fmt_date(self.eligible_from)
        when = f"自{start}起可申报" if self.eligible_now else f"{start}起可申报"
        return f"凭{self.certificate_label}证书({fmt_date(self.certificate_issued_on)}发证),{when}{self.target}"

    def as_dict(self) -> dict:
        return {
            "target": self.target,
            "rule_code": self.rule_code,
            "rule_label": self.rule_label,
            "basis": self.basis,
            "eligible_from": self.eligible_from,
            "eligible_now": self.eligible_now,
            "explanation": self.explanation,
            "certificate_number": self.certificate_number,
            "certificate_label": self.certificate_label,
            "certificate_issued_on": self.certificate_issued_on,
            "certificate_imported": self.certificate_imported,
            "rule_effective_from": self.rule_effective_from,
            "rule_effective_to": self.rule_effective_to,
        }


def eligible_from(rule: EquivalenceRule, issued_on: datetime.date) -> datetime.date | None:
    """The first day the certificate satisfies the rule while the rule is in force; None if it never does."""
    start = max(years_after(issued_on, float(rule.min_years)), rule.effective_from)
    if rule.effective_to is not None and start > rule.effective_to:
        return None
    return start


def pathways_for(person: Person, *, today: datetime.date | None = None) -> list[Pathway]:
    """For each title the person's certificates lead to, the earliest date and the rule and certificate behind it."""
    today = today or timezone.localdate()
    certs = list(Certificate.objects.filter(person=person, status=Certificate.Status.VALID).select_related("level"))
    rules = list(
        EquivalenceRule.objects.filter(target=EquivalenceRule.Target.TITLE, source=EquivalenceRule.Source.SKILL_LEVEL)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=min((c.issued_on for c in certs), default=today)))
        .select_related("source_level")
    )
    best: dict[str, Pathway] = {}
    for cert in certs:
        for rule in rules:
            if rule.source_level is None or cert.level.rank < rule.source_level.rank:
                continue
            if not rule.applies_in(cert.region_code):
                continue
            start = eligible_from(rule, cert.issued_on)
            if start is None:
                continue
            current = best.get(rule.target_title)
            if current is not None and current.eligible_from <= start:
                continue
            best[rule.target_title] = Pathway(
                target=rule.target_title,
                rule_code=rule.code,
                rule_label=rule.label,
                basis=rule.basis,
                eligible_from=start,
                eligible_now=start <= today,
                certificate_number=cert.number,
                certificate_label=f"{cert.occupation_name}{cert.level.label}",
                certificate_issued_on=cert.issued_on,
                certificate_imported=cert.imported,
                rule_effective_from=rule.effective_from,
                rule_effective_to=rule.effective_to,
            )
    return sorted(best.values(), key=lambda p: (p.eligible_from, p.target))


def my_pathways(actor: Actor, *, today: datetime.date | None = None) -> list[Pathway]:
    """The signed-in worker's own paths; someone with no identity on record has none to show."""
    actor.require_authenticated()
    if actor.person is None:
        raise PermissionDenied(_("请先完成实名信息,再查看职业发展路径"))
    return pathways_for(actor.person, today=today)
