"""A worker claims the subsidy their certificate earns → an officer reviews → a second officer reviews →
publicity → approval → the monthly batch is paid → the worker sees it paid. Only the calendar is moved
(the publicity period ends)."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role, User
from assessments.models import Plan
from certificates import issuance
from certificates.models import Certificate
from subsidies.models import Claim
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.certificates.conftest import finalise
from tests.factories import PASSWORD, member

from .conftest import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def holder(org, org_admin, cc_officer, settings, tmp_path_factory):
    settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
    call_command("load_subsidy_policies", verbosity=0)
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    finalise(Plan.objects.get(pk=plan.id))
    batch = issuance.issue_batch_start(actor=Actor.for_user(org_admin), plan_id=plan.id)
    issuance.issue_batch_run(batch.id)
    worker = User.objects.create_user("claimant", password=PASSWORD, person=reg.person)
    return worker, Certificate.objects.get(person=reg.person)


def test_claim_review_second_review_pay(live_server, page, shots, holder, cc_officer, changchun_bureau):
    worker, cert = holder
    second = member(Role.BUREAU_STAFF, bureau=changchun_bureau)
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())

    login(page, base, worker.username, PASSWORD)
    page.goto(f"{base}/subsidies/certificates/{cert.id}/claim/")
    page.fill("input[name=insurance_months]", "36")
    page.fill("input[name=account_number]", "6222021001234567890")
    page.fill("input[name=bank_name]", "中国工商银行长春分行")
    shots(page, "claim")
    page.click("#submit-claim")
    page.wait_for_selector("#claim-status")
    assert "6222021001234567890" not in page.content()  # the account is masked once entered
    claim = Claim.objects.get()
    shots(page, "submitted")
    logout(page)

    login(page, base, cc_officer.username, PASSWORD)
    page.goto(f"{base}/subsidies/claims/{claim.id}/")
    page.click("#review")
    page.wait_for_load_state()
    logout(page)

    login(page, base, second.username, PASSWORD)
    page.goto(f"{base}/subsidies/claims/{claim.id}/")
    page.click("#second-review")
    page.wait_for_load_state()
    claim.refresh_from_db()
    assert claim.status == "publicity"
    Claim.objects.filter(pk=claim.id).update(publicity_ends_on=timezone.localdate() - datetime.timedelta(days=1))
    page.goto(f"{base}/subsidies/claims/{claim.id}/")
    page.click("#approve")
    page.wait_for_load_state()
    claim.refresh_from_db()
    assert claim.status == "approved", page.content()
    page.goto(f"{base}/subsidies/batches/")
    page.click("#create-batch")
    page.wait_for_load_state()
    page.fill("input[name=bank_reference]", "ICBC20261130001")
    page.click("button:has-text('已支付')")
    page.wait_for_load_state()
    shots(page, "paid-batch")
    logout(page)

    login(page, base, worker.username, PASSWORD)
    page.goto(f"{base}/subsidies/claims/{claim.id}/")
    assert page.inner_text("#claim-status") == Claim.Status("paid").label
    shots(page, "worker-sees-paid")
