"""A worker claims the subsidy their certificate earns → an officer reviews → a second officer reviews →
publicity → approval → the monthly batch is paid → the worker sees it paid. Only the calendar is moved
(the publicity period ends)."""

import pytest
from django.core.management import call_command

from accounts.actors import Actor
from accounts.models import Role
from assessments.models import Plan
from certificates import issuance
from certificates.models import Certificate
from subsidies.models import Claim
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.certificates.conftest import finalise
from tests.factories import PASSWORD, bound_user, member

from . import steps
from .conftest import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def holder(org, org_admin, cc_officer, settings, tmp_path_factory):
    settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
    call_command("load_subsidy_policies", "--demo", verbosity=0)
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    finalise(Plan.objects.get(pk=plan.id))
    batch = issuance.issue_batch_start(actor=Actor.for_user(org_admin), plan_id=plan.id)
    issuance.issue_batch_run(batch.id)
    worker = bound_user("claimant", password=PASSWORD, person=reg.person)
    return worker, Certificate.objects.get(person=reg.person)


def test_claim_review_second_review_pay(live_server, page, shots, holder, cc_officer, changchun_bureau):
    worker, cert = holder
    second = member(Role.BUREAU_STAFF, bureau=changchun_bureau)
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())

    login(page, base, worker.username, PASSWORD)
    claim = steps.claim_submit(page, base, shots, certificate_id=cert.id)
    logout(page)

    steps.claim_review(page, base, claim_id=claim.id, officer=cc_officer.username, password=PASSWORD, button="#review")
    logout(page)

    steps.claim_review(
        page, base, claim_id=claim.id, officer=second.username, password=PASSWORD, button="#second-review"
    )
    claim.refresh_from_db()
    assert claim.status == "publicity"
    steps.claim_publicity_ends(claim.id)
    steps.claim_approve_and_pay(page, base, shots, claim_id=claim.id, bank_reference="ICBC20261130001")
    logout(page)

    login(page, base, worker.username, PASSWORD)
    page.goto(f"{base}/subsidies/claims/{claim.id}/")
    assert page.inner_text("#claim-status") == Claim.Status("paid").label
    shots(page, "worker-sees-paid")


def test_the_claim_form_opens_the_page_on_a_phone(live_server, phone, shots, holder):
    """At 390×844 the worker sees the form in the first screen, with nothing marked 不符合 before anything is
    typed; the rules are folded below it and open on a tap; the page never scrolls sideways."""
    worker, cert = holder
    base = live_server.url
    login(phone, base, worker.username, PASSWORD)
    phone.goto(f"{base}/subsidies/certificates/{cert.id}/claim/")
    shots(phone, "claim-phone")
    height = phone.viewport_size["height"]
    form = phone.locator("#claim-form").bounding_box()
    first_field = phone.locator("#claim-form input[name=insurance_months]").bounding_box()
    assert form["y"] < height / 2 and first_field["y"] + first_field["height"] <= height
    assert phone.evaluate("document.documentElement.scrollWidth") <= phone.viewport_size["width"]
    assert phone.locator("#verdict").inner_text().startswith("待填写")
    assert "不符合" not in phone.locator("#check").inner_text()
    rules = phone.locator("#rules-all .rule-list")
    assert not rules.is_visible()
    phone.click("#rules-all summary")
    assert rules.is_visible()

    phone.fill("input[name=insurance_months]", "36")
    phone.click("button[name=preview]")
    phone.wait_for_selector("#verdict")
    assert phone.locator("#verdict").inner_text().startswith("符合补贴条件")
    assert phone.url.endswith("#check") and phone.locator("#check").bounding_box()["y"] < height
