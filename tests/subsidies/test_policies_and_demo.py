"""The seed policies load idempotently; the demo makes claims in every state, once."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts import demo as accounts_demo
from accreditation import demo as accreditation_demo
from core.audit import audit_verify
from subsidies import demo
from subsidies.models import Claim, Objection, PaymentLine, PolicyAmount, ShortageOccupation, SubsidyPolicy
from subsidies.policies import policies_load
from subsidies.selectors import with_overdue

pytestmark = pytest.mark.django_db


@pytest.mark.no_demo_policies
def test_the_seed_policies_are_there_once():
    assert set(SubsidyPolicy.objects.values_list("code", flat=True)) == {
        "jl-2024",
        "jl-2025",
        "cc-2024",
        "cc-2025",
        "xm-2024",
        "bj-2024",
    }
    assert not policies_load()
    assert ShortageOccupation.objects.filter(region__code="220100", year=2025, occupation__name="电工").exists()


def test_operators_edits_are_kept_unless_updating(capsys):
    xiamen5 = PolicyAmount.objects.filter(policy__code="xm-2024", level__code="5")
    xiamen5.update(amount=Decimal(800))
    call_command("load_subsidy_policies")
    assert xiamen5.get().amount == Decimal(800) and "无需变更" in capsys.readouterr().out
    call_command("load_subsidy_policies", "--update")
    assert xiamen5.get().amount == Decimal(700) and "PolicyAmount.updated: 1" in capsys.readouterr().out


def test_the_demo_makes_claims_in_every_state_once():
    ctx = accounts_demo.DemoContext()
    accounts_demo.seed(ctx)
    accreditation_demo.seed(ctx)
    demo.seed(ctx)
    statuses = set(Claim.objects.values_list("status", flat=True))
    assert statuses >= {"submitted", "reviewed", "publicity", "approved", "rejected", "paid"}
    assert PaymentLine.objects.filter(status="paid").exists() and Objection.objects.filter(status="open").exists()
    zhang = Claim.objects.get(person=ctx.people["worker"])
    assert zhang.status == "submitted" and with_overdue(Claim.objects.filter(pk=zhang.pk)).get().overdue
    assert Claim.objects.get(status="rejected").decision_reason.startswith("社保记录显示")
    count = Claim.objects.count()
    again = accounts_demo.DemoContext()
    accounts_demo.seed(again)
    accreditation_demo.seed(again)
    demo.seed(again)
    assert Claim.objects.count() == count
    assert audit_verify().ok
