"""A member of the public reports a certificate from its verification page (on a phone, without an account);
an officer investigates and revokes it; the verification page then shows it revoked, the exposure list shows
what was found and done, and the reporter's tracking code shows the answer."""

import re

import pytest

from accounts.actors import Actor
from assessments.models import Plan
from certificates import issuance
from certificates.models import Certificate
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.certificates.conftest import finalise
from tests.factories import PASSWORD
from tests.oversight.conftest import answer

from .conftest import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def certificate(org, org_admin, cc_officer, settings, live_server, tmp_path_factory):
    settings.SITE_URL = live_server.url
    settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    make_candidates(plan, org_admin, "4", 1)
    finalise(Plan.objects.get(pk=plan.id))
    batch = issuance.issue_batch_start(actor=Actor.for_user(org_admin), plan_id=plan.id)
    issuance.issue_batch_run(batch.id)
    return Certificate.objects.get()


def test_report_investigate_revoke_and_expose(live_server, page, phone, shots, certificate, cc_officer):
    base = live_server.url
    # 1. On a phone, the public opens the certificate's verification page and follows "举报".
    phone.goto(f"{base}/v/{certificate.token}")
    assert phone.get_attribute("#status", "data-status") == "valid"
    report_link = phone.locator(f"a[href*='/oversight/report/?certificate={certificate.number}']")
    assert report_link.count() == 1, "templates/certificates/verify.html needs the 举报 link to /oversight/report/"
    report_link.click()
    phone.wait_for_url(re.compile(r"/oversight/report/\?certificate="))
    assert phone.input_value("#certificate_number") == certificate.number
    phone.check("input[name=kind][value=guazheng]")
    phone.fill("textarea[name=description]", "持证人一直在外省打工,证书却被本地一家建筑公司用于资质申报。")
    phone.fill("#challenge_answer", answer(phone.inner_text("#challenge-question")))
    shots(phone, "report-form-phone")
    phone.click("#submit-report")
    phone.wait_for_url(f"{base}/oversight/report/done/")
    code = phone.inner_text("#tracking-code")
    number = phone.inner_text("#case-number")
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    shots(phone, "tracking-code-phone")

    # 2. The 长春 officer takes the case, investigates and revokes the certificate, and publishes the outcome.
    login(page, base, cc_officer.username, PASSWORD)
    page.goto(f"{base}/oversight/complaints/")
    page.click(f"text={number}")
    assert certificate.number in page.inner_text("main")
    page.click("#accept")
    page.fill("#note-text", "核对社保参保记录:持证人2025年起在外省参保,与使用单位无劳动关系。")
    page.click("#add-note")
    page.select_option("#sanction-kind", "certificate_revoked")
    page.fill("#sanction-reason", "证书出借挂靠,经查属实")
    page.click("#apply-sanction")
    assert "处理措施已执行" in page.inner_text(".messages")
    page.select_option("#close-outcome", "substantiated")
    page.fill("#close-finding", "持证人未在使用单位工作,证书被出借用于企业资质申报。")
    page.fill("#close-measures", "撤销该证书,责令使用单位改正。")
    page.fill("#close-reply", "经查属实,证书已撤销。感谢您的监督。")
    page.check("#close-publish")
    page.click("#close-case")
    assert page.get_attribute("#complaint-status", "data-status") == "closed"
    shots(page, "case-closed")

    # 3. The public sees the certificate revoked, the outcome on the exposure list, and the answer by code.
    phone.goto(f"{base}/v/{certificate.token}")
    assert phone.get_attribute("#status", "data-status") == "revoked"
    assert number in phone.inner_text("#status")
    shots(phone, "verify-revoked-phone")
    phone.goto(f"{base}/oversight/exposures/")
    phone.click("#exposures a")
    assert "撤销该证书" in phone.inner_text("#exposure-measures")
    assert certificate.holder_name not in phone.content() and certificate.id_number not in phone.content()
    shots(phone, "exposure-phone")
    phone.goto(f"{base}/oversight/track/")
    phone.fill("#tracking-input", code.lower())
    phone.click("#track-submit")
    assert phone.get_attribute("#case-status", "data-status") == "closed"
    assert "证书已撤销" in phone.inner_text("#case-reply")
    shots(phone, "tracking-closed-phone")
