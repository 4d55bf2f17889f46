"""An organisation applies, the bureau approves, the organisation appears in the public directory."""

import pytest

from accounts.models import Role
from tests.factories import PASSWORD, BureauFactory, make_uscc, member, region

from .conftest import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_apply_approve_and_publish(live_server, page, shots, tmp_path):
    base = live_server.url
    officer = member(Role.BUREAU_STAFF, bureau=BureauFactory(name="长春市人社局", region=region("220100")))

    # The organisation signs up and applies.
    page.goto(f"{base}/accreditation/register/")
    page.fill("input[name=username]", "chunhua_admin")
    page.fill("input[name=password1]", "Chun-hua-2026!")
    page.fill("input[name=password2]", "Chun-hua-2026!")
    page.fill("input[name=name]", "长春春华职业技能评价中心")
    page.select_option("select[name=kind]", "S")
    page.fill("input[name=credit_code]", make_uscc(4242))
    page.select_option("select[name=region_code]", "220104")
    page.fill("input[name=contact_name]", "林春华")
    page.fill("input[name=contact_phone]", "13943100000")
    shots(page, "register")
    page.click("button.primary")
    page.wait_for_url("**/accreditation/organisations/*/")
    page.click("text=申请备案")
    page.check("input[value='6-31-01-03:5']")
    page.check("input[value='6-31-01-03:4']")
    page.check("input[value='4-03-02-07:5']")
    assert page.locator("tr.disabled", has_text="消防设施操作员").count() == 1  # 准入类 cannot be chosen
    shots(page, "scope")
    page.click("button.primary")
    page.wait_for_url("**/accreditation/filings/*/")
    form = tmp_path / "申请表.pdf"
    form.write_bytes(b"%PDF-1.4\n% application form\n")
    page.fill("input[name=title]", "评价机构备案申请表")
    page.set_input_files("input[name=file]", str(form))
    page.click("button:has-text('上传')")
    shots(page, "uploaded")
    page.wait_for_selector("li:has-text('评价机构备案申请表')")
    page.click("#submit-filing")
    assert page.inner_text("#filing-status") == "已提交"
    shots(page, "submitted")
    logout(page)

    # The bureau reviews and approves.
    login(page, base, officer.username, PASSWORD)
    page.click("text=备案审核")
    page.click("text=长春春华职业技能评价中心")
    page.click("#start-review")
    assert page.inner_text("#filing-status") == "审核中"
    page.click("#approve")
    assert page.inner_text("#filing-status") == "已备案"
    prefix = page.inner_text("#number-prefix")
    assert prefix.startswith("S000022") and len(prefix) == 13
    shots(page, "approved")
    logout(page)

    # Anyone finds it in the directory.
    page.goto(f"{base}/directory/?occupation=6-31-01-03")
    row = page.locator("#directory tr", has_text="长春春华职业技能评价中心")
    assert "已备案" in row.inner_text()
    assert "电工" in row.inner_text()
    shots(page, "directory")
