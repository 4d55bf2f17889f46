"""A worker opens their certificate, downloads the PDF; the QR on it opens the verification page: valid, and
revoked after revocation. Also on a phone-sized screen."""

import subprocess

import pytest
import zxingcpp
from PIL import Image

from accounts.actors import Actor
from assessments.models import Plan
from certificates import issuance, services
from certificates.models import Certificate
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.certificates.conftest import finalise
from tests.factories import bound_user

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def holder(org, org_admin, cc_officer, settings, live_server, tmp_path_factory):
    settings.SITE_URL = live_server.url
    settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    finalise(Plan.objects.get(pk=plan.id))
    batch = issuance.issue_batch_start(actor=Actor.for_user(org_admin), plan_id=plan.id)
    issuance.issue_batch_run(batch.id)
    user = bound_user("holder", password="holder-pass-2026", person=reg.person)
    return user, Certificate.objects.get(person=reg.person)


def _qr_from_pdf(pdf_path, tmp_path) -> str:
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf_path), str(tmp_path / "page")], check=True)
    codes = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    assert len(codes) == 1
    return codes[0].text


def test_download_scan_verify_then_revoked(live_server, page, phone, shots, holder, org_admin, tmp_path):
    user, cert = holder
    login(page, live_server.url, user.username, "holder-pass-2026")
    page.goto(f"{live_server.url}/certificates/mine/")
    shots(page, "mine")
    page.click(f"text={cert.number}")
    with page.expect_download() as info:
        page.click("#download-pdf")
    pdf_path = tmp_path / "certificate.pdf"
    info.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    url = _qr_from_pdf(pdf_path, tmp_path)
    assert url == f"{live_server.url}/v/{cert.token}"

    phone.goto(url)
    assert phone.get_attribute("#status", "data-status") == "valid"
    assert phone.inner_text("#holder") == cert.holder_name
    assert cert.id_number not in phone.content()
    shots(phone, "verify-valid-phone")

    services.certificate_revoke(actor=Actor.for_user(org_admin), certificate_id=cert.id, reason="违规取得")
    phone.reload()
    assert phone.get_attribute("#status", "data-status") == "revoked"
    assert "违规取得" in phone.inner_text("#status")
    shots(phone, "verify-revoked-phone")
