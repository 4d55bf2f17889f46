"""Subsidies and the eight-level system: a level a policy sets no amount for is "not covered", said plainly;
the new levels rank correctly in the once-per-level rules; statistics name them as printed."""

import datetime
from decimal import Decimal

import pytest

from accounts.actors import Actor
from occupations.models import Level
from subsidies.eligibility import assess
from subsidies.models import Claim, PolicyAmount, SubsidyPolicy
from subsidies.selectors import claim_statistics
from tests.factories import PersonFactory, region

from .conftest import make_certificate, no_shortage

pytestmark = pytest.mark.django_db
D = datetime.date


def draft(cert, *, claimed_on) -> Claim:
    return Claim(
        certificate=cert,
        person_id=cert.person_id,
        occupation_id=cert.occupation_id,
        level_id=cert.level_id,
        region=region(cert.region_code),
        category="employee",
        insurance_months_declared=24,
        account_kind="bank_card",
        account_number="6222020200001234567",
        claimed_on=claimed_on,
    )


def rule(decision, code):
    return next(r for r in decision.rules if r.code == code)


@pytest.mark.parametrize(("code", "label"), [("XT", "学徒工"), ("TJ", "特级技师"), ("SX", "首席技师")])
def test_a_new_level_without_an_amount_is_not_covered_rather_than_an_error(code, label):
    no_shortage("6-31-01-03", 2025)
    cert = make_certificate(PersonFactory(), level=code, issued_on=D(2025, 3, 10))
    (decision,) = assess([draft(cert, claimed_on=D(2025, 5, 6))], today=D(2025, 5, 6))
    assert not decision.eligible and decision.amount is None
    amount = rule(decision, "amount")
    assert not amount.met and f"未规定{label}的补贴标准" in amount.facts


def test_a_province_that_adds_an_amount_for_special_technicians_pays_it():
    no_shortage("6-31-01-03", 2025)
    policy = SubsidyPolicy.objects.get(code="cc-2025")
    PolicyAmount.objects.create(policy=policy, level_id=_level("TJ"), amount=Decimal(3000))
    cert = make_certificate(PersonFactory(), level="TJ", issued_on=D(2025, 3, 10))
    (decision,) = assess([draft(cert, claimed_on=D(2025, 5, 6))], today=D(2025, 5, 6))
    assert decision.eligible and decision.amount == Decimal(3000)


def test_an_apprentice_certificate_after_a_subsidised_level_five_is_a_lower_level():
    no_shortage("6-31-01-03", 2025)
    person = PersonFactory()
    five = make_certificate(person, level="5", issued_on=D(2025, 1, 10))
    Claim.objects.create(
        certificate=five,
        person=person,
        occupation=five.occupation,
        level=five.level,
        region=region("220102"),
        account_kind="bank_card",
        account_number="6222020200001234567",
        claimed_on=D(2025, 2, 1),
        status=Claim.Status.PAID,
        amount=Decimal(1000),
    )
    apprentice = make_certificate(person, level="XT", issued_on=D(2025, 3, 10))
    (decision,) = assess([draft(apprentice, claimed_on=D(2025, 5, 6))], today=D(2025, 5, 6))
    lower = rule(decision, "no_lower")
    assert not lower.met and "五级/初级工" in lower.facts


def test_statistics_name_a_level_without_a_title_as_printed(cc_officer):
    no_shortage("6-31-01-03", 2025)
    cert = make_certificate(PersonFactory(), level="TJ", issued_on=D(2025, 3, 10))
    Claim.objects.create(
        certificate=cert,
        person=cert.person,
        occupation=cert.occupation,
        level=cert.level,
        region=region("220102"),
        account_kind="bank_card",
        account_number="6222020200001234567",
        claimed_on=D(2025, 5, 6),
        status=Claim.Status.PAID,
        amount=Decimal(3000),
    )
    stats = claim_statistics(Actor.for_user(cc_officer), year=2025)
    assert [b.label for b in stats["by_level"]] == ["特级技师"]


def _level(code: str) -> int:
    return Level.objects.get(code=code).id
