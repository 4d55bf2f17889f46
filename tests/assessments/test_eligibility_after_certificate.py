"""Eligibility on the right day, by the right measure (issue 14, item 7).

"取得X级证书后,累计从事本职业或相关职业工作满N年" counts the N years after that certificate: each such route of
both templates, one day before and on the anniversary. Eligibility is judged on the plan's exam date, and says so."""

import datetime
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.actors import Actor
from accounts.services import person_get_or_create
from assessments.eligibility import (
    Education,
    Evidence,
    HeldCertificate,
    Status,
    Title,
    add_months,
    evaluate,
    gap_text,
)
from assessments.registration import _create_registration, registration_review
from occupations.models import StandardLevel
from tests.factories import make_ric

from .conftest import make_plan

DATA = Path(__file__).resolve().parents[2] / "occupations" / "data"
TEMPLATES = json.loads((DATA / "eligibility_templates.json").read_text(encoding="utf-8"))["templates"]
LEVELS = json.loads((DATA / "levels.json").read_text(encoding="utf-8"))["levels"]
LEVEL_RANK = {lv["code"]: lv["rank"] for lv in LEVELS}
ELECTRICIAN = "6-31-01-03"
ON = datetime.date(2026, 5, 1)

# Every route worded "取得X证书后 … 满N年" (certificates and, in the 2023 template, titles).
AFTER = re.compile(r"取得(.+?)(证书|职称)后[^;]*?满(\d+)年")
AFTER_ROUTES = [
    pytest.param(template, level, route, id=f"{template}-{level}-{route['code']}")
    for template, levels in TEMPLATES.items()
    for level, routes in levels.items()
    for route in routes
    if AFTER.search(route["label"])
]


def judge(routes, evidence, on=ON):
    return evaluate(routes, evidence, on=on, occupation_code=ELECTRICIAN, level_rank=LEVEL_RANK)


def meeting(route: dict, issued: datetime.date) -> Evidence:
    """Everything the route asks, with each certificate and title dated `issued`, and years enough to work."""
    evidence = Evidence(birth_date=datetime.date(1980, 1, 1), work_years=30.0)
    for cond in route["all"]:
        if cond["type"] == "certificate":
            cert = HeldCertificate(
                occupation_code=ELECTRICIAN, level_code=cond["level"], issued_on=issued, verified=True
            )
            evidence = replace(evidence, certificates=[*evidence.certificates, cert])
        elif cond["type"] == "title":
            evidence = replace(evidence, titles=[Title(grade=cond["grade"], obtained_on=issued, verified=True)])
        elif cond["type"] == "education":
            school = Education(kind=cond["kinds"][-1], in_field=True, graduated_on=datetime.date(2010, 7, 1))
            evidence = replace(evidence, education=[school])
    return evidence


def test_the_after_routes_are_the_ones_the_issue_names():
    codes = {p.values[2]["code"] for p in AFTER_ROUTES}
    assert {"L5W4", "L4W5", "COLLEGE_L4W2", "L3W4", "L2W4", "L5W3", "L4W4", "L3W5", "L2W5", "JR_TITLE_W5"} <= codes


@pytest.mark.parametrize(("template", "level", "route"), AFTER_ROUTES)
def test_the_years_run_from_the_certificate(template, level, route):
    """Work years declared in full, but the certificate one month short of N years: not yet; on the day: yes."""
    match = AFTER.search(route["label"])
    years = int(match.group(3))
    kind = "title" if match.group(2) == "职称" else "certificate"
    dated = [c for c in route["all"] if c["type"] == kind]
    assert dated and all(c.get("min_years_since") for c in dated), route["code"]

    on_the_day = add_months(ON, -12 * years)
    one_month_short = add_months(on_the_day, 1)
    # Other dated conditions (JR_TITLE_W5's 1 year after 三级) are met in both cases.
    assert judge([route], meeting(route, on_the_day)).status == Status.ELIGIBLE
    short = judge([route], meeting(route, one_month_short))
    if kind == "title":
        evidence = meeting(route, on_the_day)
        evidence = replace(evidence, titles=[replace(evidence.titles[0], obtained_on=one_month_short)])
        short = judge([route], evidence)
    assert short.status == Status.INELIGIBLE
    assert any("还差1个月" in text for text in short.routes[0].missing), short.routes[0].missing


def test_the_issues_case_four_years_eleven_months_is_not_five_years():
    l4w5 = next(r for r in TEMPLATES["2018"]["3"] if r["code"] == "L4W5")
    cert = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="4", issued_on=datetime.date(2021, 6, 1), verified=True
    )
    result = judge([l4w5], Evidence(work_years=12, certificates=[cert]), on=datetime.date(2026, 5, 1))
    assert result.status == Status.INELIGIBLE
    assert result.routes[0].missing == [
        "持有本职业四级证书(2021年6月1日发证,平台核验),发证不满5年(2026年6月1日满5年,还差1个月)"
    ]
    assert judge([l4w5], Evidence(work_years=12, certificates=[cert]), on=datetime.date(2026, 6, 1)).eligible


def test_what_is_missing_is_said_in_months_and_days():
    assert gap_text(datetime.date(2026, 5, 1), datetime.date(2026, 6, 1)) == "还差1个月"
    assert gap_text(datetime.date(2026, 5, 20), datetime.date(2026, 6, 1)) == "还差12天"
    assert gap_text(datetime.date(2025, 3, 1), datetime.date(2026, 6, 3)) == "还差1年3个月2天"
    assert gap_text(datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)) == "还差1个月"


def test_the_database_routes_carry_the_rule_too(db):
    """Reference data as loaded (or migrated) says the same as the file."""
    route = next(
        r
        for sl in StandardLevel.objects.filter(standard__template="2018", level__code="3")
        for r in sl.eligibility
        if r["code"] == "L4W5"
    )
    assert {"type": "certificate", "level": "4", "min_years_since": 5} in route["all"]


@pytest.mark.django_db
def test_a_candidate_who_registers_early_qualifies_by_the_exam_date(filed_org, org_admin):
    """Registered today, a month before the 四级 certificate is five years old; the exam is after that day."""
    plan = make_plan(filed_org, org_admin, levels=("3",))
    exam_day = timezone.localtime(plan.components.order_by("starts_at").first().starts_at).date()
    issued = add_months(exam_day, -60)  # five years to the exam day
    assert add_months(issued, 60) > timezone.localdate()  # not yet five years today
    actor = Actor.for_user(org_admin)
    person = person_get_or_create(
        actor=actor, name="早报名", id_type="ric", id_number=make_ric(birth=datetime.date(1988, 3, 3), seq=321)
    )
    evidence = {
        "work_years": 12,
        "prior_certificates": [{"occupation_code": ELECTRICIAN, "level": "4", "issued_on": issued.isoformat()}],
    }
    reg = _create_registration(actor, plan, plan.levels.get(code="3"), person, evidence, source="bulk")
    assert reg.eligibility["evaluated_on"] == exam_day.isoformat()
    assert reg.eligibility["evaluated_on_basis"] == "考核日期"
    assert f"按考核日期{exam_day.year}年{exam_day.month}月{exam_day.day}日计算" in reg.eligibility["summary"]
    assert reg.eligibility_status in ("eligible", "needs_review")
    assert reg.eligibility["met_route"] == "L4W5"

    # Rescheduled to a day before the anniversary: approval judges again and refuses.
    first = plan.components.order_by("starts_at").first()
    shift = datetime.timedelta(days=(first.starts_at.date() - add_months(issued, 60)).days + 2)
    plan.components.update(starts_at=first.starts_at - shift, ends_at=first.ends_at - shift)
    from core.errors import Conflict

    with pytest.raises(Conflict) as exc:
        registration_review(actor=actor, registration_id=reg.id, decision="approve")
    assert exc.value.code == "ineligible"
