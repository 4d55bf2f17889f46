"""The bureau makes this month's batch, downloads the bank file, and imports the bank's return file in chromium:
one line paid, one failed. The failed claim is back in the approval queue with the bank's reason; the batch stays
open. Then the province's officer opens the statistics and sees 长春 and 吉林市 side by side.

The bank is the one party not played for real: its return file is written here, as a bank would send it (CSV)."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import Role
from subsidies.models import Claim, PaymentBatch, PaymentLine, SubsidyPolicy
from tests.factories import PASSWORD, BureauFactory, PersonFactory, member, region
from tests.subsidies.conftest import make_certificate

from .conftest import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = datetime.date


def _approved(region_code: str, amount: int, account: str) -> Claim:
    person = PersonFactory()
    cert = make_certificate(person, level="4", issued_on=D(2026, 3, 1), region_code=region_code)
    return Claim.objects.create(
        certificate=cert,
        person=person,
        occupation=cert.occupation,
        level=cert.level,
        region=region(region_code),
        insurance_months_declared=24,
        account_kind="bank_card",
        account_number=account,
        claimed_on=D(2026, 4, 1),
        status=Claim.Status.APPROVED,
        policy=SubsidyPolicy.objects.get(code="cc-2026-demo"),
        amount=Decimal(amount),
        decided_on=D(2026, 5, 1),
    )


def test_bank_return_file_then_the_province_compares_cities(live_server, page, shots, cc_officer, tmp_path):
    call_command("load_subsidy_policies", "--demo", verbosity=0)
    province = member(Role.BUREAU_STAFF, bureau=BureauFactory(name="吉林省人社厅(测试)", region=region("220000")))
    paid = _approved("220102", 1950, "6222020200001234567")
    failed = _approved("220104", 1500, "6222020200007654321")
    _approved("220202", 1500, "6217000000001111222")  # 吉林市: approved, not in 长春's batch
    base = live_server.url
    page.set_default_timeout(60_000)  # a loaded 2-core machine can take longer than 15 s for a first page

    login(page, base, cc_officer.username, PASSWORD)
    page.goto(f"{base}/subsidies/batches/")
    page.click("#create-batch")
    page.wait_for_load_state()
    batch = PaymentBatch.objects.get(region__code="220100")
    assert page.url.endswith(f"/subsidies/batches/{batch.id}/")
    with page.expect_download():
        page.click("#bank-file")

    lines = [
        "申请编号,户名,账号,金额(元),处理结果,银行流水号,失败原因",
        f"{paid.id},{paid.person.name},{paid.account_number},1950.00,成功,CCB20261125000001,",
        f"{failed.id},{failed.person.name},{failed.account_number},1500.00,失败,,账户已冻结",
    ]
    wrong = tmp_path / "return-wrong.csv"
    wrong.write_text("\n".join([*lines[:2], "999999,某人,6222,100,成功,X1,"]), encoding="utf-8-sig")
    page.set_input_files("#bank-return-file", str(wrong))
    page.click("#bank-return-submit")
    page.wait_for_load_state()
    report = page.inner_text("#bank-return-report")
    assert "申请编号999999不在本批次中" in report and "所有行均未登记" in report
    assert set(PaymentLine.objects.values_list("status", flat=True)) == {"pending"}
    shots(page, "bank-return-refused")

    good = tmp_path / "return.csv"
    good.write_text("\n".join(lines), encoding="gb18030")
    page.set_input_files("#bank-return-file", str(good))
    page.click("#bank-return-submit")
    page.wait_for_load_state()
    assert "支付成功 1 笔,支付失败 1 笔" in page.inner_text("#bank-return-report")
    shots(page, "bank-return-imported")
    paid.refresh_from_db()
    failed.refresh_from_db()
    assert paid.status == "paid" and paid.bank_reference == "CCB20261125000001"
    assert failed.status == "approved" and failed.payment_failure_reason == "账户已冻结"
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.CLOSED  # every line settled

    page.goto(f"{base}/subsidies/queue/?status=approved")
    assert page.locator(f"a[href='/subsidies/claims/{failed.id}/']").count() >= 1
    page.goto(f"{base}/subsidies/claims/{failed.id}/")
    assert "账户已冻结" in page.content()
    shots(page, "failed-line-back-in-queue")
    logout(page)

    login(page, base, province.username, PASSWORD)
    page.goto(f"{base}/subsidies/statistics/?year=2026")
    header = page.inner_text("#city-table thead")
    assert "长春市" in header and "吉林市" in header
    assert page.locator("#city-table thead th.city-220100").count() == 1
    assert page.locator("#city-table thead th.city-220200").count() == 1
    shots(page, "province-statistics-two-cities")
