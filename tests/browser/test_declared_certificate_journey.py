"""A worker declares, in chromium, a certificate earned in another province: first with the form half filled (every
missing field is named beside it), then complete. 长春's officer finds it in the review queue, checks it and
records the conclusion; the worker sees it verified."""

import pytest

from subsidies.models import DeclaredCertificate
from tests.factories import PASSWORD, bound_user
from tests.subsidies.conftest import valid_person

from .conftest import login, logout
from .steps import pick_region

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_worker_declares_a_certificate_and_the_officer_verifies_it(live_server, page, shots, cc_officer):
    worker = bound_user("declarant", password=PASSWORD, person=valid_person(name="李娜"))
    base = live_server.url
    page.set_default_timeout(60_000)  # a loaded 2-core machine can take longer than 15 s for a first page

    login(page, base, worker.username, PASSWORD)
    page.goto(f"{base}/subsidies/declared/")
    assert "尚未申报平台外的证书" in page.inner_text("#declarations")
    page.fill("#declare-form input[name=number]", "GD2020123456")
    page.click("#declare-submit")
    page.wait_for_load_state()
    errors = page.inner_text("#form-error")
    assert "请选择职业" in errors and "请选择证书等级" in errors and "请填写发证日期" in errors
    assert page.locator("#level_code-error").is_visible() and page.locator("#region_code-error").is_visible()
    assert page.locator("#declare-form input[name=number]").input_value() == "GD2020123456"  # kept
    shots(page, "declaration-errors")
    assert not DeclaredCertificate.objects.exists()

    box = page.locator("div.picker-field:has(input[type=hidden][name=occupation_code]) input[role=combobox]")
    box.fill("dg")
    option = page.locator("li[role=option]", has_text="电工").first
    option.wait_for()
    option.click()
    page.select_option("#declare-form select[name=level_code]", "3")
    page.fill("#declare-form input[name=issued_on]", "2020-06-01")
    page.fill("#declare-form input[name=issuer]", "广东省职业技能鉴定指导中心")
    pick_region(page, "region_code", ["220000", "220100", "220102"])
    page.click("#declare-submit")
    page.wait_for_url(f"{base}/subsidies/declared/")
    declared = DeclaredCertificate.objects.get()
    assert declared.status == "pending" and declared.occupation.code == "6-31-01-03" and declared.level.code == "3"
    row = page.inner_text(f"tr[data-declared='{declared.id}']")
    assert "GD2020123456" in row and "待核实" in row
    shots(page, "declaration-pending")
    logout(page)

    login(page, base, cc_officer.username, PASSWORD)
    page.goto(f"{base}/subsidies/declared/review/")
    page.fill("input[name=q]", "李娜")
    page.click("form[role=search] button")
    page.wait_for_load_state()
    page.click(f"tr[data-declared='{declared.id}'] a")
    page.wait_for_url(f"{base}/subsidies/declared/{declared.id}/")
    assert worker.person.id_number in page.content()  # the officer checks the full ID number
    page.click("#decide-submit")  # no conclusion chosen yet
    page.wait_for_load_state()
    assert page.locator("#decision-error").is_visible()
    page.check("#decide-form input[value=verified]")
    page.fill("#decide-form textarea[name=verification]", "全国联网查询,姓名、证件号码与证书信息一致")
    shots(page, "officer-decides")
    page.click("#decide-submit")
    page.wait_for_url(f"{base}/subsidies/declared/review/")
    declared.refresh_from_db()
    assert declared.status == "verified" and declared.verified_by == cc_officer
    logout(page)

    login(page, base, worker.username, PASSWORD)
    page.goto(f"{base}/subsidies/declared/")
    row = page.inner_text(f"tr[data-declared='{declared.id}']")
    assert "已核实" in row and "全国联网查询" in row
    assert page.locator(f"tr[data-declared='{declared.id}'] button").count() == 0  # no withdrawal once decided
    shots(page, "declaration-verified")
