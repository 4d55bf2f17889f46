"""Reading the 贯通 rules (EquivalenceRule): which are in force on a day, and the eligibility routes they add.

Only selection lives here; the eligibility engine (assessments/eligibility.py) evaluates the routes, and the
worker's career page (certificates/careers.py) applies the skill-level → title rules to certificates.
"""

import datetime
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from .models import EquivalenceRule


def rules_in_force(*, target: str, on: datetime.date, region_code: str = "") -> list[EquivalenceRule]:
    """Rules for `target` in force on `on` and applying in the region (national ones apply everywhere)."""
    qs: QuerySet[EquivalenceRule] = (
        EquivalenceRule.objects.filter(target=target, effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .select_related("source_level", "target_level")
    )
    return [r for r in qs if r.applies_in(region_code)]


def route_for(rule: EquivalenceRule) -> dict:
    """The eligibility route (assessments/eligibility.py DSL) a title or education rule stands for."""
    years = float(rule.min_years)
    if rule.source == EquivalenceRule.Source.TITLE:
        first = {"type": "title", "grade": rule.source_title_grade}
        if years > 0:
            first["min_years_since"] = years
    elif rule.source == EquivalenceRule.Source.EDUCATION:
        first = {"type": "education", "kinds": list(rule.source_education_kinds), "in_field": True}
        first["final_year_ok"] = True
    else:
        raise ValueError(f"rule {rule.code} does not lead to a skill level")
    return {
        "code": rule.code,
        "label": rule.label,
        "basis": rule.basis,
        "all": [first, *list(rule.extra_conditions or [])],
    }


def skill_level_routes(
    *, level_code: str, template: str, on: datetime.date, region_code: str, existing_codes: Iterable[str] = ()
) -> list[dict]:
    """Routes the rules in force add to a standard level's own; a route the standard already has is not doubled."""
    taken = set(existing_codes)
    routes = []
    for rule in rules_in_force(target=EquivalenceRule.Target.SKILL_LEVEL, on=on, region_code=region_code):
        if rule.target_level is None or rule.target_level.code != str(level_code) or rule.code in taken:
            continue
        if rule.standard_templates and template not in rule.standard_templates:
            continue
        taken.add(rule.code)
        routes.append(route_for(rule))
    return routes
