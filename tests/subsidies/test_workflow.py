"""The claim's way through the bureau: 核定 → 复核 by another officer → 公示 in working days → approval → monthly
payment, with objections, rejections, failed payments, deadlines across public holidays and region scoping."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Role
from core.audit import audit_verify
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry, Notification
from occupations.workdays import add_working_days
from subsidies import payments, services
from subsidies.models import Claim, ClaimDecision, InsuranceRecord, Objection, PaymentBatch, PaymentLine
from subsidies.selectors import claim_get, claims_for, review_queue
from subsidies.tasks import claims_remind_overdue_task
from tests.factories import PersonFactory, member, region

from .conftest import ACCOUNT, A, make_certificate, shortage, submit, worker_user

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def autumn(worker):
    """A 长春 electrician (level 4, issued 2025-06-02) who claims on Friday 26 September 2025, before 国庆."""
    cert = make_certificate(worker.person, issued_on=D(2025, 6, 2))
    shortage("6-31-01-03", 2025)
    return submit(worker, cert, today=D(2025, 9, 26))


def _to_publicity(claim, first, second, day=D(2025, 9, 29)):
    services.claim_review(actor=A(first), claim_id=claim.id, decision="pass", today=day)
    return services.claim_second_review(actor=A(second), claim_id=claim.id, decision="pass", today=day)


# --- Claiming from a real certificate --------------------------------------------------------------------


def test_a_holder_claims_from_a_real_issued_certificate(holder):
    cert = holder.cert
    shortage("6-31-01-03", timezone.localdate().year)
    claim = submit(holder, cert)
    claim.refresh_from_db()
    assert claim.status == "submitted" and claim.person_id == cert.person_id
    assert (claim.occupation_id, claim.level_id, claim.region.code) == (cert.occupation_id, cert.level_id, "220102")
    assert claim.amount == Decimal(1950) and claim.is_shortage
    assert claim.policy.code == "cc-2026-demo" and claim.assessment["eligible"] is True
    assert claim.account_number == ACCOUNT and claim.masked_account == "*" * 15 + "4567"
    assert claim.due_on == add_working_days(timezone.localdate(), 5).date
    decision = ClaimDecision.objects.get(claim=claim)
    assert decision.step == "submit" and decision.policy.code == "cc-2026-demo" and decision.assessment["rules"]
    entry = AuditEntry.objects.get(action="subsidy_claim.submit")
    assert entry.region_code == "220102" and entry.after["account"].endswith("4567")
    assert ACCOUNT not in str(entry.after)
    assert audit_verify().ok


def test_an_ineligible_claim_is_refused_with_the_explanation(holder):
    with pytest.raises(Conflict) as exc:
        submit(holder, holder.cert, category="student")
    assert exc.value.code == "not_eligible" and "全日制在校学生不在补贴范围内" in exc.value.message
    rules = {r["code"]: r["met"] for r in exc.value.details["assessment"]["rules"]}
    assert rules["group"] is False and rules["certificate"] is True
    assert not Claim.objects.exists()


def test_a_second_claim_for_the_same_certificate_is_refused(holder):
    submit(holder, holder.cert)
    with pytest.raises(Conflict, match="同一职业同一等级"):
        submit(holder, holder.cert)
    assert Claim.objects.count() == 1


def test_the_database_refuses_a_second_live_claim_even_without_the_checks(holder):
    claim = submit(holder, holder.cert)
    twin = Claim.objects.get(pk=claim.pk)
    twin.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_nobody_claims_someone_elses_certificate(holder, issued, cc_officer):
    other = issued[1]
    with pytest.raises(NotFound):
        submit(holder, other)
    with pytest.raises(PermissionDenied):
        submit(cc_officer, other)


@pytest.mark.parametrize(("account", "message"), [("1234", "12—30位数字"), ("6222 0202 0000 1234 567x", "12—30位数字")])
def test_the_account_is_checked(holder, account, message):
    with pytest.raises(ValidationFailed, match=message):
        submit(holder, holder.cert, account=account)


def test_the_insured_region_may_be_another_city_of_the_province(worker, jlc_officer, cc_officer):
    cert = make_certificate(worker.person, issued_on=D(2025, 6, 2))
    claim = submit(worker, cert, today=D(2025, 7, 1), region_code="220202")
    assert claim.region.code == "220202" and claim.policy.code == "jl-2025"
    assert claim_get(A(jlc_officer), claim.id) == claim
    with pytest.raises(NotFound):
        claim_get(A(cc_officer), claim.id)
    with pytest.raises(ValidationFailed, match="同一省份"):
        submit(worker, make_certificate(worker.person, level="3", issued_on=D(2025, 6, 2)), region_code="350200")


# --- Review, second review, publicity, approval ----------------------------------------------------------


def test_the_whole_way_across_national_day_2025(autumn, worker, cc_officer, cc_officer2):
    claim = autumn
    # Five working days from Friday 26 September: 28 Sep (调休 Sunday), 29, 30, then 9 and 10 October.
    assert claim.due_on == D(2025, 10, 10) and not claim.due_provisional
    claim = services.claim_review(actor=A(cc_officer), claim_id=claim.id, decision="pass", today=D(2025, 9, 28))
    assert claim.status == "reviewed" and claim.reviewed_by == cc_officer
    assert claim.due_on == D(2025, 10, 11)  # 29, 30 Sep, 9, 10, 11 Oct (a 调休 Saturday)
    claim = services.claim_second_review(
        actor=A(cc_officer2), claim_id=claim.id, decision="pass", reason="复核无误", today=D(2025, 9, 29)
    )
    assert claim.status == "publicity"
    assert (claim.publicity_starts_on, claim.publicity_ends_on) == (D(2025, 9, 29), D(2025, 10, 13))
    with pytest.raises(Conflict, match="公示期至2025-10-13"):
        services.claim_approve(actor=A(cc_officer), claim_id=claim.id, today=D(2025, 10, 13))
    claim = services.claim_approve(actor=A(cc_officer), claim_id=claim.id, today=D(2025, 10, 14))
    assert claim.status == "approved" and claim.amount == Decimal(1950) and claim.decided_on == D(2025, 10, 14)
    steps = list(claim.decisions.values_list("step", "outcome", "policy__code"))
    assert steps == [
        ("submit", "submitted", "cc-2025"),
        ("review", "pass", "cc-2025"),
        ("second_review", "pass", "cc-2025"),
        ("approve", "approve", "cc-2025"),
    ]
    assert Notification.objects.filter(user=worker, title="技能提升补贴已审批通过").exists()
    assert audit_verify().ok


def test_the_second_review_must_be_by_another_officer(autumn, cc_officer):
    services.claim_review(actor=A(cc_officer), claim_id=autumn.id, decision="pass", today=D(2025, 9, 28))
    with pytest.raises(PermissionDenied) as exc:
        services.claim_second_review(actor=A(cc_officer), claim_id=autumn.id, decision="pass", today=D(2025, 9, 29))
    assert exc.value.code == "same_officer"
    assert Claim.objects.get(pk=autumn.id).status == "reviewed"
    # The database holds the same line if a service ever forgot it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=autumn.id).update(second_reviewed_by=cc_officer)


def test_a_second_reviewer_may_send_it_back(autumn, cc_officer, cc_officer2):
    services.claim_review(actor=A(cc_officer), claim_id=autumn.id, decision="pass", today=D(2025, 9, 28))
    with pytest.raises(ValidationFailed):
        services.claim_second_review(actor=A(cc_officer2), claim_id=autumn.id, decision="return", today=D(2025, 9, 29))
    claim = services.claim_second_review(
        actor=A(cc_officer2), claim_id=autumn.id, decision="return", reason="请核实参保地", today=D(2025, 9, 29)
    )
    assert claim.status == "submitted" and claim.reviewed_by is None
    # The officer who sent it back may now 核定 it; someone else then 复核.
    services.claim_review(actor=A(cc_officer2), claim_id=autumn.id, decision="pass", today=D(2025, 9, 30))
    with pytest.raises(PermissionDenied):
        services.claim_second_review(actor=A(cc_officer2), claim_id=autumn.id, decision="pass", today=D(2025, 9, 30))


def test_review_re_decides_with_the_agencys_record(autumn, cc_officer):
    InsuranceRecord.objects.create(
        person=autumn.person, months=8, as_of=D(2025, 8, 31), region=region("220100"), source="长春市社保"
    )
    with pytest.raises(Conflict) as exc:
        services.claim_review(actor=A(cc_officer), claim_id=autumn.id, decision="pass", today=D(2025, 9, 28))
    assert "8个月,不足12个月" in exc.value.message
    with pytest.raises(ValidationFailed):
        services.claim_review(actor=A(cc_officer), claim_id=autumn.id, decision="reject", today=D(2025, 9, 28))
    claim = services.claim_review(
        actor=A(cc_officer), claim_id=autumn.id, decision="reject", reason="缴费不足12个月", today=D(2025, 9, 28)
    )
    assert claim.status == "rejected" and claim.decision_reason == "缴费不足12个月"
    assert claim.decisions.get(step="review").assessment["eligible"] is False
    assert Notification.objects.filter(title="技能提升补贴申请未获通过", body="缴费不足12个月").exists()


def test_wrong_state_is_a_conflict(autumn, cc_officer):
    with pytest.raises(Conflict):
        services.claim_approve(actor=A(cc_officer), claim_id=autumn.id, today=D(2025, 12, 1))
    with pytest.raises(Conflict):
        services.claim_second_review(actor=A(cc_officer), claim_id=autumn.id, decision="pass")
    assert Claim.objects.get(pk=autumn.id).status == "submitted"


def test_a_rejected_or_withdrawn_claim_frees_the_certificate(autumn, worker, cc_officer):
    with pytest.raises(PermissionDenied):
        services.claim_withdraw(actor=A(cc_officer), claim_id=autumn.id)
    services.claim_withdraw(actor=A(worker), claim_id=autumn.id, reason="信息填错")
    again = submit(worker, autumn.certificate, today=D(2025, 9, 30))
    assert again.status == "submitted" and Claim.objects.count() == 2


def test_officers_do_not_handle_their_own_claim(changchun_bureau, cc_officer):
    officer = member(Role.BUREAU_STAFF, bureau=changchun_bureau, person=PersonFactory())
    cert = make_certificate(officer.person, issued_on=D(2025, 6, 2))
    claim = submit(officer, cert, today=D(2025, 7, 1))
    with pytest.raises(PermissionDenied, match="本人"):
        services.claim_review(actor=A(officer), claim_id=claim.id, decision="pass", today=D(2025, 7, 2))
    services.claim_review(actor=A(cc_officer), claim_id=claim.id, decision="pass", today=D(2025, 7, 2))


# --- Publicity and objections ----------------------------------------------------------------------------


def test_an_objection_holds_approval_until_answered(autumn, cc_officer, cc_officer2):
    claim = _to_publicity(autumn, cc_officer, cc_officer2)
    objection = services.objection_raise(
        actor=A(None), claim_id=claim.id, text="该人员为事业单位职工", client_ip="10.0.0.1", today=D(2025, 9, 30)
    )
    assert objection.due_on == D(2025, 10, 14)  # 9, 10, 11 (调休 Saturday), 13, 14 October
    assert Notification.objects.filter(user=cc_officer2, title="补贴公示收到异议").exists()
    with pytest.raises(Conflict, match="异议"):
        services.claim_approve(actor=A(cc_officer), claim_id=claim.id, today=D(2025, 10, 20))
    services.objection_resolve(
        actor=A(cc_officer),
        objection_id=objection.id,
        upheld=False,
        resolution="经核实为企业职工",
        today=D(2025, 10, 9),
    )
    assert services.claim_approve(actor=A(cc_officer), claim_id=claim.id, today=D(2025, 10, 20)).status == "approved"
    with pytest.raises(Conflict):
        services.objection_resolve(actor=A(cc_officer), objection_id=objection.id, upheld=True, resolution="x")


def test_an_upheld_objection_rejects_the_claim(autumn, cc_officer, cc_officer2):
    claim = _to_publicity(autumn, cc_officer, cc_officer2)
    objection = services.objection_raise(actor=A(None), claim_id=claim.id, text="冒名申领", today=D(2025, 9, 30))
    services.objection_resolve(
        actor=A(cc_officer), objection_id=objection.id, upheld=True, resolution="确属冒名", today=D(2025, 10, 9)
    )
    claim.refresh_from_db()
    assert claim.status == "rejected" and "确属冒名" in claim.decision_reason
    assert Objection.objects.get(pk=objection.id).status == "upheld"


def test_objections_only_while_publicity_runs(autumn, cc_officer, cc_officer2):
    with pytest.raises(NotFound):
        services.objection_raise(actor=A(None), claim_id=autumn.id, text="x", today=D(2025, 9, 27))
    _to_publicity(autumn, cc_officer, cc_officer2)
    with pytest.raises(NotFound):
        services.objection_raise(actor=A(None), claim_id=autumn.id, text="x", today=D(2025, 10, 14))
    with pytest.raises(ValidationFailed):
        services.objection_raise(actor=A(None), claim_id=autumn.id, text="  ", today=D(2025, 10, 9))


# --- Payment -------------------------------------------------------------------------------------------------


@pytest.fixture
def approved(autumn, cc_officer, cc_officer2):
    claim = _to_publicity(autumn, cc_officer, cc_officer2)
    return services.claim_approve(actor=A(cc_officer), claim_id=claim.id, today=D(2025, 10, 14))


def test_a_monthly_batch_pays_once_with_the_banks_reference(approved, cc_officer, worker):
    batch = payments.batch_create(actor=A(cc_officer), month="2025-10")
    assert batch.region.code == "220100"
    assert Claim.objects.get(pk=approved.id).status == "in_payment"
    with pytest.raises(Conflict):
        payments.batch_create(actor=A(cc_officer), month="2025-10")
    with pytest.raises(Conflict, match="没有待支付"):
        payments.batch_create(actor=A(cc_officer), month="2025-11")
    sheet = load_workbook(io.BytesIO(payments.batch_bank_file(actor=A(cc_officer), batch_id=batch.id))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("序号", "户名", "证件类型", "证件号码", "账户类型", "账号")
    assert rows[1][3] == worker.person.id_number and rows[1][5] == ACCOUNT and rows[1][7] == 1950
    payments.payment_mark_paid(
        actor=A(cc_officer), batch_id=batch.id, claim_id=approved.id, bank_reference="ICBC2025102800017"
    )
    claim = Claim.objects.get(pk=approved.id)
    assert claim.status == "paid" and claim.bank_reference == "ICBC2025102800017"
    assert PaymentBatch.objects.get(pk=batch.id).status == "closed"
    with pytest.raises(Conflict):
        payments.payment_mark_paid(actor=A(cc_officer), batch_id=batch.id, claim_id=approved.id, bank_reference="x2")
    with pytest.raises(Conflict):
        services.claim_reject(actor=A(cc_officer), claim_id=approved.id, reason="x")
    assert Notification.objects.filter(user=worker, title="技能提升补贴已发放").exists()
    assert audit_verify().ok


def test_a_failed_payment_returns_the_claim_with_the_reason(approved, cc_officer, worker):
    batch = payments.batch_create(actor=A(cc_officer), month="2025-10")
    payments.payment_mark_failed(actor=A(cc_officer), batch_id=batch.id, claim_id=approved.id, reason="账户已销户")
    claim = Claim.objects.get(pk=approved.id)
    assert claim.status == "approved" and claim.payment_failure_reason == "账户已销户"
    assert claim in review_queue(A(cc_officer))
    services.claim_update_account(
        actor=A(worker), claim_id=claim.id, account_kind="social_security_card", account_number="6214670000001234999"
    )
    retry = payments.batch_create(actor=A(cc_officer), month="2025-11")
    line = retry.lines.get()
    assert line.account_number == "6214670000001234999" and line.account_kind == "social_security_card"
    payments.payment_mark_paid(actor=A(cc_officer), batch_id=retry.id, claim_id=claim.id, bank_reference="B-2")
    assert PaymentLine.objects.filter(claim=claim).count() == 2
    assert Claim.objects.get(pk=claim.id).payment_failure_reason == ""


def test_the_database_never_holds_two_live_payments_for_one_claim(approved, cc_officer):
    batch = payments.batch_create(actor=A(cc_officer), month="2025-10")
    line = batch.lines.get()
    line.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        line.save()


def test_another_region_cannot_touch_the_batch(approved, cc_officer, jlc_officer):
    batch = payments.batch_create(actor=A(cc_officer), month="2025-10")
    with pytest.raises(NotFound):
        payments.payment_mark_paid(actor=A(jlc_officer), batch_id=batch.id, claim_id=approved.id, bank_reference="x")
    with pytest.raises(NotFound):
        payments.batch_bank_file(actor=A(jlc_officer), batch_id=batch.id)


# --- Scope and deadlines ---------------------------------------------------------------------------------


@pytest.fixture
def jilin_city_claim(worker):
    cert = make_certificate(worker.person, issued_on=D(2025, 6, 2), region_code="220202")
    return submit(worker, cert, today=D(2025, 7, 1))


def test_a_changchun_officer_cannot_see_or_decide_a_jilin_city_claim(jilin_city_claim, cc_officer, jlc_officer):
    claim = jilin_city_claim
    with pytest.raises(NotFound):
        claim_get(A(cc_officer), claim.id)
    for call in (
        lambda: services.claim_review(actor=A(cc_officer), claim_id=claim.id, decision="pass"),
        lambda: services.claim_reject(actor=A(cc_officer), claim_id=claim.id, reason="x"),
    ):
        with pytest.raises(NotFound):
            call()
    assert claim not in review_queue(A(cc_officer))
    assert claim in review_queue(A(jlc_officer))
    assert Claim.objects.get(pk=claim.id).status == "submitted"


def test_the_province_sees_its_cities(jilin_city_claim, province_officer):
    assert claims_for(A(province_officer)).filter(pk=jilin_city_claim.id).exists()


def test_overdue_claims_come_first_in_the_queue(worker, cc_officer):
    late = submit(worker, make_certificate(worker.person, issued_on=D(2025, 6, 2)), today=D(2025, 9, 26))
    fresh = submit(worker, make_certificate(worker.person, level="3", issued_on=D(2025, 6, 2)), today=D(2025, 10, 10))
    rows = list(review_queue(A(cc_officer), today=D(2025, 10, 13)))
    assert [(c.id, c.overdue) for c in rows] == [(late.id, True), (fresh.id, False)]
    assert [c.id for c in review_queue(A(cc_officer), overdue_only=True, today=D(2025, 10, 13))] == [late.id]


def test_review_deadline_across_spring_festival_2026(worker):
    """Friday 13 February 2026: Saturday the 14th is worked (调休), 15–23 are off, so five days end on the 27th."""
    cert = make_certificate(worker.person, issued_on=D(2025, 12, 1))
    claim = submit(worker, cert, today=D(2026, 2, 13))
    assert claim.due_on == D(2026, 2, 27) and not claim.due_provisional


def test_a_december_deadline_in_an_unpublished_year_is_provisional(worker):
    cert = make_certificate(worker.person, issued_on=D(2026, 9, 1))
    claim = submit(worker, cert, today=D(2026, 12, 28))
    assert claim.due_on == D(2027, 1, 5) and claim.due_provisional and "暂定" in claim.due_note


def test_the_daily_job_reminds_officers_once_a_day(worker, cc_officer, jlc_officer):
    submit(
        worker,
        make_certificate(worker.person, issued_on=timezone.localdate() - datetime.timedelta(days=40)),
        today=timezone.localdate() - datetime.timedelta(days=20),
    )
    assert claims_remind_overdue_task.delay().get() == {"reminded": 1, "regions": 1}
    assert Notification.objects.filter(user=cc_officer, title="技能提升补贴申请已超期").count() == 1
    assert not Notification.objects.filter(user=jlc_officer).exists()
    assert claims_remind_overdue_task.delay().get()["reminded"] == 0


def test_another_worker_sees_nothing(autumn):
    stranger = worker_user()
    assert not claims_for(A(stranger)).exists()
    with pytest.raises(NotFound):
        services.claim_withdraw(actor=A(stranger), claim_id=autumn.id)
