"""The eight-level system in the browser: an employer's admin files 特级技师 on the scope form (a social
organisation's form does not offer it), and a 特级技师 certificate scanned on a phone verifies as 特级技师."""

import pytest

from accounts.actors import Actor
from accounts.models import Role
from accreditation.models import Filing
from assessments.models import Plan
from assessments.registration import registration_review
from certificates import issuance
from certificates.models import Certificate
from tests.assessments.conftest import file_organisation, make_plan
from tests.certificates.conftest import finalise
from tests.certificates.test_eight_levels import EIGHT_LEVEL_SCOPE, _candidates
from tests.certificates.test_eight_levels import staff_insured as staff_insured  # the employer's staff are insured
from tests.factories import PASSWORD, OrganisationFactory, member, region

from .conftest import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_employer_files_special_technician_and_its_certificate_verifies_on_a_phone(
    live_server, page, phone, shots, org, org_admin, cc_officer, settings, tmp_path_factory
):
    settings.SITE_URL = live_server.url
    settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
    employer = OrganisationFactory(name="长春客车厂", kind="Y", region=region("220104"))
    admin = member(Role.ORG_ADMIN, organisation=employer)

    # The employer's scope form offers 特级技师 for 电工; ticking it saves a draft filing that lists it.
    login(page, live_server.url, admin.username, PASSWORD)
    page.goto(f"{live_server.url}/accreditation/organisations/{employer.id}/filings/new/")
    page.check('input[value="6-31-01-03:5"]')
    page.check('input[value="6-31-01-03:TJ"]')
    shots(page, "employer-scope-form")
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/accreditation/filings/*/")
    assert "特级技师" in page.inner_text("main")
    shots(page, "employer-draft")
    filing = Filing.objects.get(organisation=employer)
    assert sorted(lv.code for lv in filing.scope_lines.get().levels.all()) == ["5", "TJ"]

    # A social organisation's form has no such box.
    logout(page)
    login(page, live_server.url, org_admin.username, PASSWORD)
    page.goto(f"{live_server.url}/accreditation/organisations/{org.id}/filings/new/")
    assert page.locator('input[value="6-31-01-03:5"]').count() == 1
    assert page.locator('input[value$=":TJ"]').count() == 0
    shots(page, "social-organisation-scope-form")

    # An employer already filed for the eight levels issues 特级技师 certificates; the QR target says so.
    filed = OrganisationFactory(name="一汽解放长春工厂", kind="Y", region=region("220104"))
    filed.admin = member(Role.ORG_ADMIN, organisation=filed)
    file_organisation(filed, filed.admin, cc_officer, scope=EIGHT_LEVEL_SCOPE)
    plan = make_plan(filed, filed.admin, levels=("TJ",), kinds=("skills", "review"))
    (reg,) = _candidates(plan, filed, "TJ", 1)
    registration_review(actor=Actor.for_user(filed.admin), registration_id=reg.id, decision="approve")
    finalise(Plan.objects.get(pk=plan.id))
    batch = issuance.issue_batch_start(actor=Actor.for_user(filed.admin), plan_id=plan.id)
    issuance.issue_batch_run(batch.id)
    cert = Certificate.objects.get(registration=reg)
    assert cert.number[15] == "7"

    phone.goto(issuance.verify_url(cert))
    body = phone.inner_text("main")
    assert "证书有效" in body and "特级技师" in body and cert.number in body
    shots(phone, "phone-verify-special-technician")
