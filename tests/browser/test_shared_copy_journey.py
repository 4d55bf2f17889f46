"""A holder makes a 加注件 for an employer's hiring check, downloads it, and the employer scans its QR on a phone:
the purpose and validity are shown; after the holder withdraws it, the same scan says so."""

import subprocess

import pytest
import zxingcpp
from PIL import Image

from accounts.actors import Actor
from assessments.models import Plan
from certificates import issuance
from certificates.models import Certificate
from certificates.sharing.models import SharedCopy
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.certificates.conftest import finalise
from tests.factories import bound_user

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PURPOSE = "用于长春一汽富维公司入职审核"


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


def test_holder_shares_a_copy_and_the_employer_scans_it(live_server, page, phone, shots, holder, tmp_path):
    user, cert = holder
    login(page, live_server.url, user.username, "holder-pass-2026")
    page.goto(f"{live_server.url}/certificates/mine/")
    page.click("text=加注件")
    page.fill("input[name=purpose]", PURPOSE)
    page.click("#copy-form button")
    page.wait_for_selector(f"text={PURPOSE}")
    shots(page, "copies")
    copy = SharedCopy.objects.get(certificate=cert)

    with page.expect_download() as info:
        page.click("text=下载加注件(PDF)")
    pdf = tmp_path / "copy.pdf"
    info.value.save_as(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "page")], check=True)
    codes = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    assert len(codes) == 1
    url = codes[0].text
    assert url == f"{live_server.url}/s/{copy.token}"

    phone.goto(url)
    assert phone.inner_text("#copy-status") == "valid"
    assert PURPOSE in phone.inner_text("#copy-purpose")
    assert copy.valid_until.isoformat() in phone.inner_text("#copy-validity")
    assert cert.id_number not in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(phone, "employer-scan")

    page.once("dialog", lambda d: d.accept())
    page.click(f"#copy-{copy.id} button")
    page.wait_for_selector("text=已撤回")
    phone.reload()
    assert phone.inner_text("#copy-status") == "withdrawn"
    shots(phone, "employer-scan-withdrawn")
