"""Every eligibility rule alone and in combination, amounts per region and level, and policy versions over time.

All through `subsidies.eligibility.assess`, the one function the pages, the API, the bulk claim and the
benchmark call."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.dates import add_months
from occupations.models import Level, Occupation
from subsidies.eligibility import assess
from subsidies.models import Claim, InsuranceRecord, PolicyAmount, SubsidyPolicy, TrainingSubsidyRecord
from tests.factories import PersonFactory, region

from .conftest import make_certificate, no_shortage, shortage

pytestmark = pytest.mark.django_db
D = datetime.date


def draft(cert, *, claimed_on, region_code=None, category="employee", months=24) -> Claim:
    return Claim(
        certificate=cert,
        person_id=cert.person_id,
        occupation_id=cert.occupation_id,
        level_id=cert.level_id,
        region=region(region_code or cert.region_code),
        category=category,
        insurance_months_declared=months,
        account_kind="bank_card",
        account_number="6222020200001234567",
        claimed_on=claimed_on,
    )


def decide(cert, **kw):
    return assess([draft(cert, **kw)], today=kw["claimed_on"])[0]


def rule(decision, code):
    return next(r for r in decision.rules if r.code == code)


def failed(decision) -> set[str]:
    return {r.code for r in decision.failures}


def past_claim(cert, status, claimed_on, *, shortage=False) -> Claim:
    """A claim already decided, as the facts later claims are judged against."""
    return Claim.objects.create(
        certificate=cert,
        person=cert.person,
        occupation=cert.occupation,
        level=cert.level,
        region=region(cert.region_code),
        account_kind="bank_card",
        account_number="6222020200001234567",
        claimed_on=claimed_on,
        status=status,
        is_shortage=shortage,
        amount=Decimal(1000),
    )


@pytest.fixture
def person():
    return PersonFactory()


# --- Amounts: region, level, shortage uplift, ceiling -----------------------------------------------------


def test_changchun_raises_a_shortage_occupation_by_thirty_percent(person):
    shortage("6-31-01-03", 2025)
    cert = make_certificate(person, level="4", issued_on=D(2025, 3, 10))
    d = decide(cert, claimed_on=D(2025, 5, 6))
    assert d.eligible and d.shortage
    assert d.policy.code == "cc-2025"
    assert d.amount == Decimal(1950)
    assert d.calculation.base == Decimal(1500) and d.calculation.uplift_percent == 30
    assert "30%" in d.calculation.text and "1,950" in d.calculation.text


def test_an_occupation_off_the_list_gets_the_base(person):
    no_shortage("6-31-01-03", 2025)
    cert = make_certificate(person, level="3", issued_on=D(2025, 3, 10))
    d = decide(cert, claimed_on=D(2025, 5, 6))
    assert d.eligible and not d.shortage and d.amount == Decimal(2000)


def test_the_shortage_list_of_the_year_of_issue_counts(person):
    """人工智能训练师 joined 长春's list in 2026: a 2025 certificate claimed in 2026 gets no uplift."""
    cert = make_certificate(person, occupation="4-04-05-05", level="4", issued_on=D(2025, 12, 1))
    assert decide(cert, claimed_on=D(2026, 1, 20)).amount == Decimal(1500)
    later = make_certificate(PersonFactory(), occupation="4-04-05-05", level="4", issued_on=D(2026, 2, 2))
    assert decide(later, claimed_on=D(2026, 3, 2)).amount == Decimal(1950)


def test_jilin_city_falls_back_to_the_province_policy_without_uplift(person):
    shortage("6-31-01-03", 2025, "220000")
    cert = make_certificate(person, level="4", issued_on=D(2025, 3, 10), region_code="220202")
    d = decide(cert, claimed_on=D(2025, 5, 6))
    assert d.policy.code == "jl-2025" and d.shortage
    assert d.amount == Decimal(1500) and "不上浮" in d.calculation.text


@pytest.mark.parametrize(("level", "amount"), [("5", 700), ("4", 1000), ("3", 1500), ("2", 2000), ("1", 3000)])
def test_xiamen_pays_its_own_scale(person, level, amount):
    cert = make_certificate(person, level=level, issued_on=D(2025, 4, 1), region_code="350203")
    d = decide(cert, claimed_on=D(2025, 6, 1))
    assert d.policy.code == "xm-2024" and d.amount == Decimal(amount)


@pytest.mark.parametrize(("level", "amount"), [("2", 2500), ("1", 3000), ("3", 2000)])
def test_beijing_pays_technicians_more(person, level, amount):
    cert = make_certificate(person, level=level, issued_on=D(2025, 4, 1), region_code="110105")
    assert decide(cert, claimed_on=D(2025, 6, 1)).amount == Decimal(amount)


def test_a_level_the_policy_does_not_fund_is_refused_with_the_reason(person):
    cert = make_certificate(person, occupation="4-03-02-01", level="2", issued_on=D(2025, 4, 1))
    d = decide(cert, claimed_on=D(2025, 6, 1))
    assert failed(d) == {"amount"}
    assert "未规定二级/技师的补贴标准" in rule(d, "amount").facts
    assert d.amount is None


def test_a_region_without_a_policy_is_refused(person):
    cert = make_certificate(person, issued_on=D(2025, 4, 1), region_code="350100")
    d = decide(cert, claimed_on=D(2025, 6, 1))
    assert not d.eligible and "policy" in failed(d)
    assert "没有施行中的技能提升补贴政策" in rule(d, "policy").facts


def test_the_ceiling_caps_the_uplifted_amount(person):
    SubsidyPolicy.objects.filter(code="cc-2025").update(amount_ceiling=Decimal(2400))
    shortage("6-31-01-03", 2025)
    cert = make_certificate(person, level="3", issued_on=D(2025, 3, 10))
    d = decide(cert, claimed_on=D(2025, 5, 6))
    assert d.calculation.uncapped == Decimal(2600) and d.amount == Decimal(2400)
    assert "上限2,400元" in d.calculation.text


# --- Policy versions over time ----------------------------------------------------------------------------


def test_a_2024_claim_uses_the_2024_version(person):
    cert = make_certificate(person, issued_on=D(2024, 3, 1))
    d = decide(cert, claimed_on=D(2024, 6, 3))
    assert d.policy.code == "cc-2024" and d.basis_date == D(2024, 6, 3)
    assert "按申请日期" in rule(d, "policy").facts


def test_a_certificate_from_2024_claimed_in_2025_keeps_the_old_version(person):
    """cc-2025 says certificates issued before it started follow cc-2024: the version is chosen by issue date."""
    cert = make_certificate(person, issued_on=D(2024, 11, 20))
    d = decide(cert, claimed_on=D(2025, 2, 10))
    assert d.policy.code == "cc-2024" and d.basis_date == D(2024, 11, 20)
    assert "按发证日期2024-11-20确定版本" in rule(d, "policy").facts
    assert d.as_dict()["policy"]["code"] == "cc-2024"


def test_a_new_version_applies_from_its_first_day(person):
    new = SubsidyPolicy.objects.create(
        code="cc-2026-07",
        name="长春市技能提升补贴(2026年7月版)",
        region=region("220100"),
        effective_from=D(2026, 7, 1),
        version_basis="claimed_on",
        excluded_groups=["student", "public_institution"],
    )
    PolicyAmount.objects.create(policy=new, level=Level.objects.get(code="4"), amount=Decimal(1800))
    no_shortage("6-31-01-03", 2026)
    cert = make_certificate(person, issued_on=D(2026, 5, 4))
    assert decide(cert, claimed_on=D(2026, 6, 30)).policy.code == "cc-2026-demo"
    d = decide(cert, claimed_on=D(2026, 7, 1))
    assert d.policy.code == "cc-2026-07" and d.amount == Decimal(1800)


@pytest.mark.no_demo_policies
def test_the_most_specific_region_wins_only_while_it_is_in_force(person):
    SubsidyPolicy.objects.filter(code="jl-2025").update(effective_to=None)
    cert = make_certificate(person, level="4", issued_on=D(2026, 1, 5))
    assert decide(cert, claimed_on=D(2026, 2, 2)).policy.code == "jl-2025"


# --- Each rule alone --------------------------------------------------------------------------------------


def test_the_claim_window_is_twelve_months_to_the_day(person):
    cert = make_certificate(person, issued_on=D(2025, 1, 31))
    assert decide(cert, claimed_on=D(2026, 1, 31)).eligible
    late = decide(cert, claimed_on=D(2026, 2, 2))
    assert failed(late) == {"claim_window"} and "截至2026-01-31" in rule(late, "claim_window").facts
    early = decide(cert, claimed_on=D(2025, 1, 30))
    assert "claim_window" in failed(early)


def test_months_are_counted_to_the_end_of_a_short_month():
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert add_months(D(2025, 8, 31), 6) == D(2026, 2, 28)
    assert add_months(D(2025, 11, 15), 3) == D(2026, 2, 15)


@pytest.mark.parametrize(("category", "ok"), [("student", False), ("public_institution", False), ("flexible", True)])
def test_excluded_groups(person, category, ok):
    cert = make_certificate(person, issued_on=D(2025, 3, 1))
    d = decide(cert, claimed_on=D(2025, 4, 1), category=category)
    assert d.eligible is ok
    if not ok:
        assert failed(d) == {"group"} and "不在补贴范围内" in rule(d, "group").facts


def test_declared_months_meet_the_rule_but_are_marked_unverified(person):
    cert = make_certificate(person, issued_on=D(2025, 3, 1))
    d = decide(cert, claimed_on=D(2025, 4, 1), months=12)
    assert d.eligible and rule(d, "insurance").verified is False and d.unverified
    short = decide(cert, claimed_on=D(2025, 4, 1), months=11)
    assert failed(short) == {"insurance"} and "不足12个月" in rule(short, "insurance").facts
    none = decide(cert, claimed_on=D(2025, 4, 1), months=None)
    assert failed(none) == {"insurance"}


def test_the_agencys_record_wins_over_the_declaration(person):
    cert = make_certificate(person, issued_on=D(2025, 3, 1))
    InsuranceRecord.objects.create(
        person=person, months=8, as_of=D(2025, 3, 31), region=region("220100"), source="社保"
    )
    d = decide(cert, claimed_on=D(2025, 4, 10), months=36)
    assert failed(d) == {"insurance"}
    assert "截至2025-03-31累计缴纳失业保险8个月,不足12个月" in rule(d, "insurance").facts
    InsuranceRecord.objects.create(
        person=person, months=13, as_of=D(2025, 4, 30), region=region("220100"), source="社保"
    )
    assert not decide(cert, claimed_on=D(2025, 4, 10)).eligible  # the record as of the claim date, not a later one
    d = decide(cert, claimed_on=D(2025, 5, 6))
    assert d.eligible and rule(d, "insurance").verified


def test_people_receiving_unemployment_benefit_qualify(person):
    cert = make_certificate(person, issued_on=D(2025, 3, 1))
    d = decide(cert, claimed_on=D(2025, 4, 1), category="unemployed", months=None)
    assert d.eligible and not rule(d, "insurance").verified
    InsuranceRecord.objects.create(
        person=person,
        months=3,
        as_of=D(2025, 3, 31),
        receives_unemployment_benefit=True,
        region=region("220100"),
        source="x",
    )
    d = decide(cert, claimed_on=D(2025, 4, 1), months=None)
    assert d.eligible and rule(d, "insurance").verified and "领取失业保险金" in rule(d, "insurance").facts
    SubsidyPolicy.objects.filter(code="cc-2025").update(accepts_unemployment_benefit=False)
    assert failed(decide(cert, claimed_on=D(2025, 4, 1), months=None)) == {"insurance"}


def test_each_occupation_and_level_once(person):
    first = make_certificate(person, issued_on=D(2025, 2, 1))
    again = make_certificate(person, issued_on=D(2025, 3, 1))  # e.g. a second evaluation of the same level
    previous = past_claim(first, Claim.Status.PAID, D(2025, 2, 10))
    d = decide(again, claimed_on=D(2025, 4, 1))
    assert failed(d) == {"once"} and f"#{previous.id}(已支付)" in rule(d, "once").facts
    Claim.objects.filter(pk=previous.id).update(status=Claim.Status.REJECTED)
    assert decide(again, claimed_on=D(2025, 4, 1)).eligible


def test_a_pending_claim_for_the_same_certificate_blocks_a_second(person):
    cert = make_certificate(person, issued_on=D(2025, 2, 1))
    past_claim(cert, Claim.Status.SUBMITTED, D(2025, 2, 10))
    assert failed(decide(cert, claimed_on=D(2025, 4, 1))) == {"once"}


def test_no_lower_level_after_a_higher_one(person):
    higher = make_certificate(person, level="3", issued_on=D(2025, 2, 1))
    lower = make_certificate(person, level="4", issued_on=D(2025, 3, 1))
    past_claim(higher, Claim.Status.APPROVED, D(2025, 2, 10))
    d = decide(lower, claimed_on=D(2025, 4, 1))
    assert failed(d) == {"no_lower"} and "三级/高级工" in rule(d, "no_lower").facts
    other = make_certificate(person, occupation="6-18-02-04", level="5", issued_on=D(2025, 3, 1))
    assert decide(other, claimed_on=D(2025, 4, 1)).eligible


def test_a_higher_level_after_a_lower_one_is_fine(person):
    lower = make_certificate(person, level="4", issued_on=D(2024, 5, 1))
    past_claim(lower, Claim.Status.PAID, D(2024, 6, 1))
    higher = make_certificate(person, level="3", issued_on=D(2025, 3, 1))
    assert decide(higher, claimed_on=D(2025, 4, 1)).eligible


def _certs(person, year, n, occupations=("6-18-02-04", "4-03-02-07", "4-10-01-06", "4-03-02-02")):
    return [make_certificate(person, occupation=o, level="5", issued_on=D(year, 1, 10)) for o in occupations[:n]]


def test_three_claims_a_year_in_2024(person):
    for cert in _certs(person, 2024, 3):
        past_claim(cert, Claim.Status.PAID, D(2024, 3, 1))
    fourth = make_certificate(person, occupation="4-03-02-02", level="5", issued_on=D(2024, 2, 1))
    d = decide(fourth, claimed_on=D(2024, 4, 1))
    assert failed(d) == {"yearly_cap"} and "2024年已享受3次(上限:每人每年3次)" in rule(d, "yearly_cap").facts
    assert decide(fourth, claimed_on=D(2025, 1, 20)).eligible  # a new year; 2024 rules via issue date


def test_pending_claims_do_not_use_up_the_cap_but_are_shown(person):
    for cert in _certs(person, 2024, 3):
        past_claim(cert, Claim.Status.PUBLICITY, D(2024, 3, 1))
    fourth = make_certificate(person, occupation="4-03-02-02", level="5", issued_on=D(2024, 2, 1))
    d = decide(fourth, claimed_on=D(2024, 4, 1))
    assert d.eligible and "另有3笔申请在办" in rule(d, "yearly_cap").facts


def test_2025_allows_one_claim_plus_two_for_shortage_occupations(person):
    for code in ("6-18-02-04", "4-12-01-01", "4-10-01-05"):
        shortage(code, 2025)
    no_shortage("4-03-02-07", 2025)
    no_shortage("4-10-01-06", 2025)
    ordinary = make_certificate(person, occupation="4-03-02-07", level="5", issued_on=D(2025, 2, 1))
    past_claim(ordinary, Claim.Status.APPROVED, D(2025, 3, 1), shortage=False)
    second_ordinary = make_certificate(person, occupation="4-10-01-06", level="5", issued_on=D(2025, 2, 1))
    d = decide(second_ordinary, claimed_on=D(2025, 4, 1))
    assert failed(d) == {"yearly_cap"} and "非急需紧缺职业本年度已达1次" in rule(d, "yearly_cap").facts
    welder = make_certificate(person, occupation="6-18-02-04", level="5", issued_on=D(2025, 2, 1))
    assert decide(welder, claimed_on=D(2025, 4, 1)).eligible
    past_claim(welder, Claim.Status.PAID, D(2025, 4, 1), shortage=True)
    mechanic = make_certificate(person, occupation="4-12-01-01", level="5", issued_on=D(2025, 2, 1))
    assert decide(mechanic, claimed_on=D(2025, 5, 1)).eligible
    past_claim(mechanic, Claim.Status.PAID, D(2025, 5, 1), shortage=True)
    carer = make_certificate(person, occupation="4-10-01-05", level="5", issued_on=D(2025, 2, 1))
    d = decide(carer, claimed_on=D(2025, 6, 1))
    assert failed(d) == {"yearly_cap"} and "急需紧缺职业可再享受2次" in rule(d, "yearly_cap").facts


def test_three_shortage_claims_fit_in_2025(person):
    codes = ("6-18-02-04", "4-12-01-01", "4-10-01-05")
    for code in codes:
        shortage(code, 2025)
    certs = [make_certificate(person, occupation=c, level="5", issued_on=D(2025, 2, 1)) for c in codes]
    for cert in certs[:2]:
        past_claim(cert, Claim.Status.PAID, D(2025, 3, 1), shortage=True)
    assert decide(certs[2], claimed_on=D(2025, 4, 1)).eligible


def test_no_training_subsidy_for_the_same_skill(person):
    cert = make_certificate(person, level="4", issued_on=D(2025, 3, 1))
    electrician = Occupation.objects.get(code="6-31-01-03")
    record = TrainingSubsidyRecord.objects.create(
        person=person,
        occupation=electrician,
        level=Level.objects.get(code="5"),
        granted_on=D(2024, 9, 1),
        region=region("220100"),
        source="x",
    )
    assert decide(cert, claimed_on=D(2025, 4, 1)).eligible  # another level's training
    record.level = None
    record.save()
    d = decide(cert, claimed_on=D(2025, 4, 1))
    assert failed(d) == {"training_subsidy"} and "2024-09-01" in rule(d, "training_subsidy").facts
    SubsidyPolicy.objects.filter(code="cc-2025").update(excludes_training_subsidy=False)
    assert decide(cert, claimed_on=D(2025, 4, 1)).eligible


@pytest.mark.parametrize("status", ["revoked", "suspended", "superseded"])
def test_only_a_valid_certificate_earns_a_subsidy(person, status):
    cert = make_certificate(person, issued_on=D(2025, 3, 1), status=status)
    d = decide(cert, claimed_on=D(2025, 4, 1))
    assert failed(d) == {"certificate"}


def test_the_certificate_must_be_the_claimants(person):
    cert = make_certificate(person, issued_on=D(2025, 3, 1))
    claim = draft(cert, claimed_on=D(2025, 4, 1))
    claim.person_id = PersonFactory().id
    assert {r.code for r in assess([claim], today=D(2025, 4, 1))[0].failures} == {"certificate"}


# --- In combination -------------------------------------------------------------------------------------------


def test_every_failure_is_listed_with_its_facts(person):
    cert = make_certificate(person, issued_on=D(2024, 1, 2), status="suspended")
    TrainingSubsidyRecord.objects.create(
        person=person, occupation=cert.occupation, granted_on=D(2023, 12, 1), region=region("220100"), source="x"
    )
    d = decide(cert, claimed_on=D(2025, 3, 3), category="student", months=6)
    assert failed(d) == {"certificate", "claim_window", "group", "insurance", "training_subsidy"}
    assert d.amount is None and not d.eligible
    for label in ("证书有效", "申领期限", "人员类别", "参保条件", "不与职业培训补贴重复享受"):
        assert label in d.summary
    stored = d.as_dict()
    assert [r["code"] for r in stored["rules"]][:3] == ["policy", "certificate", "claim_window"]
    assert stored["eligible"] is False and stored["policy"]["code"] == "cc-2024"


def test_many_claims_cost_the_same_few_queries(person):
    certs = [make_certificate(PersonFactory(), issued_on=D(2025, 3, 1)) for _ in range(30)]
    claims = [draft(c, claimed_on=D(2025, 4, 1)) for c in certs]
    with CaptureQueriesContext(connection) as few:
        assess(claims[:3], today=D(2025, 4, 1))
    with CaptureQueriesContext(connection) as many:
        decisions = assess(claims, today=D(2025, 4, 1))
    assert len(many) == len(few) <= 13
    assert all(d.eligible for d in decisions)
