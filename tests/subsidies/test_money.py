"""The money side: the bank's return file reconciled against a batch (paid, failed and unknown lines, xlsx and CSV,
all or nothing), failed lines back in the queue, batches closed only when settled; the fund's yearly budget with
its warning at 80% and its stop at 100% unless a supplement is recorded."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from core.errors import Conflict
from core.models import Notification
from subsidies import budgets, payments, services
from subsidies.models import Claim, FundBudget, PaymentBatch, PaymentLine, SubsidyPolicy
from tests.conftest import client_for
from tests.factories import PersonFactory, region

from .conftest import ACCOUNT, A, make_certificate, xlsx

pytestmark = pytest.mark.django_db
D = datetime.date
HEADER = ["申请编号", "户名", "账号", "金额(元)", "处理结果", "银行流水号", "失败原因"]


def approved_claim(amount: int = 1500, *, status=Claim.Status.APPROVED, account: str = ACCOUNT) -> Claim:
    person = PersonFactory()
    cert = make_certificate(person, level="4", issued_on=D(2026, 3, 1))
    return Claim.objects.create(
        certificate=cert,
        person=person,
        occupation=cert.occupation,
        level=cert.level,
        region=region("220102"),
        insurance_months_declared=24,
        account_kind="bank_card",
        account_number=account,
        claimed_on=D(2026, 4, 1),
        status=status,
        policy=SubsidyPolicy.objects.get(code="cc-2026-demo"),
        amount=Decimal(amount),
        decided_on=D(2026, 5, 1) if status in Claim.GRANTED else None,
        publicity_starts_on=D(2026, 4, 10),
        publicity_ends_on=D(2026, 4, 17),
    )


@pytest.fixture
def batch(cc_officer):
    claims = [approved_claim(1500), approved_claim(1950), approved_claim(2000)]
    made = payments.batch_create(actor=A(cc_officer), month="2026-11", today=D(2026, 11, 20))
    made.claims = claims
    return made


def _row(claim: Claim, result: str, reference: str = "", reason: str = "", amount=None, account=None) -> list:
    amount = claim.amount if amount is None else amount
    return [claim.id, claim.person.name, account or claim.account_number, str(amount), result, reference, reason]


def test_a_return_file_settles_paid_and_failed_lines_and_leaves_the_rest_pending(cc_officer, batch):
    paid, failed, missing = batch.claims
    report = payments.bank_return_import(
        actor=A(cc_officer),
        batch_id=batch.id,
        upload=xlsx([HEADER, _row(paid, "成功", "CCB001"), _row(failed, "失败", reason="账户已销户")]),
        today=D(2026, 11, 25),
    )
    assert report.ok, report.errors
    assert (report.paid, report.failed, report.pending, report.closed) == (1, 1, 1, False)
    paid.refresh_from_db()
    failed.refresh_from_db()
    assert paid.status == Claim.Status.PAID and paid.bank_reference == "CCB001" and paid.paid_on == D(2026, 11, 25)
    # The failed line is back in the queue, with the bank's reason, for next month's batch.
    assert failed.status == Claim.Status.APPROVED and failed.payment_failure_reason == "账户已销户"
    assert PaymentLine.objects.get(claim=failed).failure_reason == "账户已销户"
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.OPEN
    assert failed.decisions.filter(step="payment_failed", reason="账户已销户").exists()
    # The rest comes in a second file; the lines already settled say the same and are left as they are.
    again = payments.bank_return_import(
        actor=A(cc_officer),
        batch_id=batch.id,
        upload=xlsx([HEADER, _row(paid, "成功", "CCB001"), _row(missing, "成功", "CCB003")]),
    )
    assert again.ok and (again.paid, again.unchanged, again.pending, again.closed) == (1, 1, 0, True)
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.CLOSED


def test_an_unknown_line_or_a_mismatch_is_named_and_nothing_is_settled(cc_officer, batch):
    paid, failed, other = batch.claims
    stranger = approved_claim(1000)
    report = payments.bank_return_import(
        actor=A(cc_officer),
        batch_id=batch.id,
        upload=xlsx(
            [
                HEADER,
                _row(paid, "成功", "CCB001"),
                _row(stranger, "成功", "CCB009"),
                _row(failed, "成功", "CCB002", amount="1900"),
                _row(other, "失败"),
                _row(paid, "成功", "CCB001"),
                [other.id, "", "6222000000000000", "2000", "成功", "X", ""],
            ]
        ),
    )
    assert not report.ok and report.created == 0
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "申请编号"),
        (4, "金额(元)"),
        (5, "失败原因"),
        (6, "申请编号"),
        (7, "账号"),
    ]
    assert f"申请编号{stranger.id}不在本批次中" in report.errors[0].reason
    assert "与第2行是同一笔支付" in report.errors[3].reason
    assert set(PaymentLine.objects.values_list("status", flat=True)) == {PaymentLine.Status.PENDING}
    assert set(Claim.objects.filter(pk__in=[c.id for c in batch.claims]).values_list("status", flat=True)) == {
        Claim.Status.IN_PAYMENT
    }


def test_a_result_contradicting_a_settled_line_or_a_reused_reference_is_refused(cc_officer, batch):
    first, second, _third = batch.claims
    payments.payment_mark_paid(actor=A(cc_officer), batch_id=batch.id, claim_id=first.id, bank_reference="CCB001")
    report = payments.bank_return_import(
        actor=A(cc_officer),
        batch_id=batch.id,
        upload=xlsx([HEADER, _row(first, "失败", reason="户名不符"), _row(second, "成功", "CCB001")]),
    )
    assert [(e.row, e.column) for e in report.errors] == [(2, "处理结果"), (3, "银行流水号")]
    assert PaymentLine.objects.get(claim=second).status == PaymentLine.Status.PENDING


def test_the_bank_may_send_csv_in_gbk(cc_officer, batch):
    paid, failed, third = batch.claims
    text = "\n".join(
        ",".join(str(v) for v in row)
        for row in [
            HEADER,
            _row(paid, "成功", "ICBC1"),
            _row(failed, "退回", reason="账号不存在"),
            _row(third, "成功", "ICBC3"),
        ]
    )
    upload = SimpleUploadedFile("return.csv", text.encode("gb18030"), content_type="text/csv")
    report = payments.bank_return_import(actor=A(cc_officer), batch_id=batch.id, upload=upload)
    assert report.ok and (report.paid, report.failed, report.closed) == (2, 1, True)


def test_another_regions_officer_cannot_import_into_the_batch(batch, jlc_officer):
    from core.errors import NotFound

    with pytest.raises(NotFound):
        payments.bank_return_import(
            actor=A(jlc_officer),
            batch_id=batch.id,
            upload=xlsx([HEADER, _row(batch.claims[0], "成功", "X1")]),
        )


def test_the_return_file_page_shows_row_errors_then_settles(cc_officer, batch):
    c = client_for(cc_officer)
    paid, failed, _third = batch.claims
    bad = xlsx([HEADER, _row(paid, "成功")])
    r = c.post(f"/subsidies/batches/{batch.id}/bank-return/", {"file": bad})
    assert r.status_code == 422 and "须有银行流水号" in r.content.decode()
    good = xlsx([HEADER, _row(paid, "成功", "B1"), _row(failed, "失败", reason="账户冻结")])
    r = c.post(f"/subsidies/batches/{batch.id}/bank-return/", {"file": good})
    html = r.content.decode()
    assert r.status_code == 200 and "支付成功 1 笔,支付失败 1 笔" in html and "仍待回单 1 笔" in html
    queue = c.get("/subsidies/queue/?status=approved").content.decode()
    assert f"#{failed.id}" in queue or f"/subsidies/claims/{failed.id}/" in queue


# --- The fund's budget --------------------------------------------------------------------------------------


def _in_publicity(amount: int) -> Claim:
    claim = approved_claim(amount, status=Claim.Status.PUBLICITY)
    claim.insurance_months_declared = 36
    claim.save()
    return claim


def test_approvals_show_the_budget_warn_at_eighty_and_stop_at_a_hundred(cc_officer, cc_officer2):
    budget = budgets.budget_set(
        actor=A(cc_officer), year=2026, amount="5000", basis="长人社财〔2026〕1号(示例)", region_code="220100"
    )
    first, second, third = _in_publicity(1950), _in_publicity(1950), _in_publicity(1950)
    today = D(2026, 5, 10)
    services.claim_approve(actor=A(cc_officer), claim_id=first.id, today=today)
    assert "已使用1,950元(39.0%)" in first.decisions.last().reason
    assert not Notification.objects.filter(title__contains="预算已使用").exists()
    services.claim_approve(actor=A(cc_officer), claim_id=second.id, today=today)  # 3,900 of 5,000: 78%
    assert not Notification.objects.filter(title__contains="预算已使用").exists()
    with pytest.raises(Conflict) as refused:
        services.claim_approve(actor=A(cc_officer), claim_id=third.id, today=today)
    assert refused.value.code == "budget_exhausted" and "须先登记追加预算" in refused.value.message
    third.refresh_from_db()
    assert third.status == Claim.Status.PUBLICITY
    budgets.budget_supplement(actor=A(cc_officer2), budget_id=budget.id, amount="1000", basis="追加批复(示例)")
    services.claim_approve(actor=A(cc_officer), claim_id=third.id, today=today)  # 5,850 of 6,000: 97.5%
    warned = Notification.objects.filter(user=cc_officer2, title__contains="预算已使用")
    assert warned.count() == 1 and "剩余150元" in warned.get().body
    assert budgets.budget_use(budget).used == Decimal(5850)


def test_exactly_the_budget_may_be_spent(cc_officer):
    budgets.budget_set(actor=A(cc_officer), year=2026, amount="3900", basis="示例", region_code="220100")
    a, b = _in_publicity(1950), _in_publicity(1950)
    services.claim_approve(actor=A(cc_officer), claim_id=a.id, today=D(2026, 5, 10))
    services.claim_approve(actor=A(cc_officer), claim_id=b.id, today=D(2026, 5, 10))
    assert Claim.objects.filter(status=Claim.Status.APPROVED).count() == 2


def test_a_city_budget_counts_only_its_city_and_the_province_the_rest(cc_officer, province_officer):
    province = province_officer
    city = budgets.budget_set(actor=A(cc_officer), year=2026, amount="2000", basis="示例", region_code="220100")
    whole = budgets.budget_set(actor=A(province), year=2026, amount="100000", basis="示例", region_code="220000")
    claim = _in_publicity(1950)
    services.claim_approve(actor=A(cc_officer), claim_id=claim.id, today=D(2026, 5, 10))
    assert budgets.budget_use(city).used == Decimal(1950) and budgets.budget_use(whole).used == 0
    with pytest.raises(Conflict):
        budgets.budget_set(actor=A(cc_officer), year=2026, amount="1000", basis="示例", region_code="220100")
    assert FundBudget.objects.get(pk=city.pk).amount == Decimal(2000)


def test_budgets_are_scoped_to_the_officers_region(cc_officer, jlc_officer):
    from core.errors import NotFound

    budget = budgets.budget_set(actor=A(cc_officer), year=2026, amount="2000", basis="示例", region_code="220100")
    with pytest.raises(NotFound):
        budgets.budget_supplement(actor=A(jlc_officer), budget_id=budget.id, amount="10", basis="x")
    with pytest.raises(NotFound):
        budgets.budget_set(actor=A(jlc_officer), year=2026, amount="1", basis="x", region_code="220100")
    assert [u.budget.id for u in budgets.budgets_for(A(jlc_officer))] == []
    assert [u.budget.id for u in budgets.budgets_for(Actor.for_user(cc_officer))] == [budget.id]
