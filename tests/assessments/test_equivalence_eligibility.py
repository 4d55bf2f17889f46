"""Titles and education in eligibility (申报条件): the standard's own routes plus the dated 贯通 rules in force on
the evaluation day, evaluated by the one engine (assessments/eligibility.py via registration.evaluate_eligibility)."""

import datetime

import pytest

from accreditation.models import Organisation
from assessments.registration import evaluate_eligibility
from occupations.equivalence import skill_level_routes
from occupations.models import EquivalenceRule, Level
from tests.factories import PersonFactory

from .conftest import SCOPE, file_organisation, make_plan

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def ai_plan(org, org_admin, cc_officer):
    """A plan under a 2023-template standard (人工智能训练师): titles count as the newer standards allow."""
    file_organisation(
        org, org_admin, cc_officer, scope=[*SCOPE, {"occupation_code": "4-04-05-05", "levels": ["3", "2"]}]
    )
    return make_plan(org, org_admin, occupation="4-04-05-05", levels=("3", "2"), kinds=("theory", "skills", "review"))


@pytest.fixture
def electrician_plan(filed_org: Organisation, org_admin):
    """A plan under a 2018-template standard (电工), whose routes say nothing of titles."""
    return make_plan(filed_org, org_admin, occupation="6-31-01-03", levels=("4", "3"))


def judge(plan, level: str, data: dict, on: datetime.date):
    return evaluate_eligibility(plan, Level.objects.get(code=level), PersonFactory(), data, on=on)


def test_the_newer_standard_admits_a_junior_title_after_one_year(ai_plan):
    data = {"titles": [{"grade": "junior", "obtained_on": "2024-09-01"}]}
    before = judge(ai_plan, "3", data, D(2025, 8, 31))
    assert before.status == "ineligible"
    assert "2025年9月1日满1年" in before.summary()
    after = judge(ai_plan, "3", data, D(2025, 9, 1))
    # Declared titles are checked by the reviewer: the route is met on the candidate's word, pending review.
    assert after.status == "needs_review" and after.met_route.code == "JR_TITLE_W1"


def test_an_intermediate_title_opens_level_2_and_routes_are_never_counted_twice(ai_plan):
    result = judge(ai_plan, "2", {"titles": [{"grade": "intermediate", "obtained_on": "2020-01-01"}]}, D(2026, 1, 5))
    assert result.met_route.code == "MID_TITLE_W1"
    codes = [r.code for r in result.routes]
    assert len(codes) == len(set(codes))


def test_a_technical_school_advanced_class_graduate_may_apply_for_level_3(ai_plan):
    data = {"education": [{"kind": "advanced_class", "in_field": True, "final_year_student": True}]}
    result = judge(ai_plan, "3", data, D(2026, 5, 1))
    assert result.status == "eligible" and result.met_route.code == "ADV_CLASS"


def test_the_older_standard_ignores_titles(electrician_plan):
    result = judge(
        electrician_plan, "3", {"titles": [{"grade": "intermediate", "obtained_on": "2015-01-01"}]}, D(2026, 1, 5)
    )
    assert result.status == "ineligible"
    assert not any(r.code.endswith("TITLE_W1") for r in result.routes)


@pytest.fixture
def jilin_title_rule():
    """A provincial rule letting junior titles count under older standards too, for one year only."""
    return EquivalenceRule.objects.create(
        code="JL_JR_TITLE_L3",
        label="吉林:取得初级职称后满2年,可申报三级/高级工(试行)",
        source="title",
        source_title_grade="junior",
        min_years=2,
        target="skill_level",
        target_level=Level.objects.get(code="3"),
        extra_conditions=[{"type": "work_years", "min": 3}],
        scope="22",
        basis="吉人社规〔2026〕示例",
        effective_from=D(2026, 1, 1),
        effective_to=D(2026, 12, 31),
    )


def test_a_dated_rule_counts_only_while_in_force(electrician_plan, jilin_title_rule):
    data = {"work_years": 3, "titles": [{"grade": "junior", "obtained_on": "2020-05-01"}]}
    assert judge(electrician_plan, "3", data, D(2025, 12, 31)).status == "ineligible"  # not yet in force
    in_force = judge(electrician_plan, "3", data, D(2026, 6, 1))
    assert in_force.status == "needs_review" and in_force.met_route.code == "JL_JR_TITLE_L3"
    assert judge(electrician_plan, "3", data, D(2027, 1, 1)).status == "ineligible"  # superseded: gone again


def test_a_dated_rule_still_checks_its_own_conditions(electrician_plan, jilin_title_rule):
    short = judge(
        electrician_plan,
        "3",
        {"work_years": 2, "titles": [{"grade": "junior", "obtained_on": "2020-05-01"}]},
        D(2026, 6, 1),
    )
    assert short.status == "ineligible"
    route = next(r for r in short.routes if r.code == "JL_JR_TITLE_L3")
    assert route.missing == ["工作年限2年,不足3年(还差1年)"]


def test_a_provincial_rule_does_not_apply_elsewhere(jilin_title_rule):
    assert skill_level_routes(level_code="3", template="2018", on=D(2026, 6, 1), region_code="220102")
    assert not skill_level_routes(level_code="3", template="2018", on=D(2026, 6, 1), region_code="110105")


def test_the_newer_standard_rules_start_with_their_effective_date_and_only_for_their_template():
    codes = lambda **kw: [r["code"] for r in skill_level_routes(level_code="3", region_code="220102", **kw)]  # noqa: E731
    assert codes(template="2023", on=D(2023, 5, 31)) == []
    assert set(codes(template="2023", on=D(2023, 6, 1))) == {"JR_TITLE_W1", "ADV_CLASS"}
    assert codes(template="2018", on=D(2026, 1, 1)) == []
    assert codes(template="2023", on=D(2026, 1, 1), existing_codes=["JR_TITLE_W1"]) == ["ADV_CLASS"]


def test_a_rule_needs_the_fields_its_direction_uses():
    from django.core.exceptions import ValidationError

    rule = EquivalenceRule(
        code="X", label="x", source="title", target="skill_level", basis="b", effective_from=D(2026, 1, 1)
    )
    with pytest.raises(ValidationError) as exc:
        rule.full_clean()
    assert {"source_title_grade", "target_level"} <= set(exc.value.message_dict)
