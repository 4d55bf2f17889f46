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
