"""数据上报: the outbox, its deadlines, and a reference receiver over HTTP that accepts, rejects, times out and
comes back."""

import datetime

import pytest
from django.utils import timezone

from accounts.actors import Actor
from accreditation.models import Organisation
from assessments.signals import plan_finalised
from certificates import services as certificate_services
from certificates.models import Certificate
from certificates.national import rules
from certificates.national.models import DeadlineRule, ReportRecord
from certificates.national.receiver import ReferenceDatabase, serve_in_thread
from certificates.national.services import backoff, records_for_certificates, records_for_results, records_send_due
from core.models import AuditEntry, Notification
from occupations.models import Level
from occupations.workdays import add_working_days
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

RECORDS = "/api/v1/certificates/national/records"
BAD_CREDIT_CODE = "91220102MA00000010"  # one digit off a valid code: the check character no longer matches


@pytest.fixture
def receiver(settings):
    server = serve_in_thread()
    settings.NATIONAL_REPORT_URL = server.url
    settings.NATIONAL_REPORT_TIMEOUT = 2.0
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def certs(finalised_plan, org_admin, issue) -> list[Certificate]:
    issue(finalised_plan, org_admin)
    return list(Certificate.objects.order_by("number"))


def later(seconds: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


def test_issuance_writes_one_record_per_certificate_due_five_working_days_after_issue(certs):
    records = ReportRecord.objects.filter(kind="certificate")
    assert records.count() == len(certs) == 7
    record = records.get(certificate=certs[0])
    assert record.event == "issued" and record.status == "pending"
    assert record.payload["certificate_number"] == certs[0].number
    assert record.payload["organisation_credit_code"] == certs[0].organisation.credit_code
    assert record.due_on == add_working_days(certs[0].issued_on, 5).date
    assert "5个工作日" in record.due_explanation and "起算当日不计入" in record.due_explanation


def test_without_an_endpoint_records_wait_and_the_page_says_so(certs, org_admin, settings):
    settings.NATIONAL_REPORT_URL = ""
    assert records_send_due() == {"configured": False}
    assert set(ReportRecord.objects.values_list("status", flat=True)) == {"pending"}
    page = client_for(org_admin).get("/certificates/national/")
    assert page.status_code == 200
    assert "上报接口尚未配置" in page.content.decode()


def test_the_receiver_accepts_each_record_once_and_the_receipts_are_kept(certs, receiver):
    outcome = records_send_due()
    assert outcome["accepted"] == 7
    accepted = ReportRecord.objects.filter(status="accepted")
    assert accepted.count() == 7 and all(r.receipt and r.answered_at for r in accepted)
    assert set(receiver.database.certificates) == {c.number for c in certs}
    # Nothing is due any more: a second run sends nothing.
    requests_before = receiver.requests
    assert records_send_due(now=later(3600)).get("accepted", 0) == 0
    assert receiver.requests == requests_before
    assert AuditEntry.objects.filter(action="national.report_feedback").exists()


def test_a_rejected_record_shows_the_reason_and_is_resent_after_correction(certs, receiver, org, org_admin):
    # A typo in the organisation's credit code, which the platform let through: the national database refuses.
    ReportRecord.objects.all().delete()
    good_code = org.credit_code
    Organisation.objects.filter(pk=org.pk).update(credit_code=BAD_CREDIT_CODE)
    cert = Certificate.objects.select_related("organisation", "level", "occupation").get(pk=certs[0].pk)
    [record] = records_for_certificates(event="issued", certificates=[cert])
    records_send_due()
    record.refresh_from_db()
    assert record.status == "rejected"
    assert record.feedback_code == "BAD_CREDIT_CODE" and "统一社会信用代码" in record.feedback_message
    assert Notification.objects.filter(user=org_admin, title__contains="退回").exists()
    page = client_for(org_admin).get("/certificates/national/?status=rejected").content.decode()
    assert "BAD_CREDIT_CODE" in page and "更正后重新上报" in page

    # Resending unchanged data is refused: it would only be rejected again.
    response = client_for(org_admin).post(f"{RECORDS}/{record.id}/resend", content_type="application/json")
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"

    Organisation.objects.filter(pk=org.pk).update(credit_code=good_code)
    response = client_for(org_admin).post(f"{RECORDS}/{record.id}/resend", content_type="application/json")
    assert response.status_code == 200, response.content
    new = ReportRecord.objects.get(pk=response.json()["id"])
    record.refresh_from_db()
    assert record.status == "corrected" and new.resent_from_id == record.id
    assert new.record_id != record.record_id
    assert new.status == "pending"
    records_send_due()  # what the task queued on commit does
    new.refresh_from_db()
    assert new.status == "accepted"
    assert AuditEntry.objects.filter(action="national.report_resend", object_id=str(new.id)).exists()


def test_a_timeout_is_retried_with_backoff_and_the_record_is_stored_once(certs, receiver, settings):
    settings.NATIONAL_REPORT_TIMEOUT = 0.3
    receiver.delay = 1.0  # it stores the records, then answers too late: the answers are lost
    outcome = records_send_due()
    assert outcome["failed"] == 7
    record = ReportRecord.objects.get(certificate=certs[0])
    assert record.status == "pending" and record.attempts == 1
    assert "未应答" in record.last_error
    assert record.next_attempt_at > timezone.now() + datetime.timedelta(seconds=55)
    assert len(receiver.database.answers) == 7

    # Not yet due again: nothing is sent.
    assert records_send_due().get("failed", 0) == 0 and receiver.database.received == 7

    receiver.delay = 0
    assert records_send_due(now=later(61))["accepted"] == 7
    assert receiver.database.received == 14  # sent twice …
    assert len(receiver.database.answers) == 7 and len(receiver.database.certificates) == 7  # … stored once
    record.refresh_from_db()
    assert record.status == "accepted" and record.attempts == 2 and record.last_error == ""


def test_a_receiver_that_is_down_then_failing_then_back(certs, receiver):
    port = receiver.server_address[1]
    database = receiver.database
    receiver.shutdown()
    receiver.server_close()
    records_send_due()
    record = ReportRecord.objects.get(certificate=certs[0])
    assert record.attempts == 1 and "无法连接" in record.last_error
    first_wait = record.next_attempt_at

    back = serve_in_thread(port=port, database=database)
    try:
        back.fail_next(1, status=503)
        records_send_due(now=later(61))
        record.refresh_from_db()
        assert record.attempts == 2 and "503" in record.last_error
        assert record.next_attempt_at - first_wait > datetime.timedelta(seconds=100)  # the wait doubled

        records_send_due(now=later(61 + 121))
        record.refresh_from_db()
        assert record.status == "accepted" and record.attempts == 3
    finally:
        back.shutdown()
        back.server_close()


def test_backoff_doubles_up_to_its_cap(settings):
    settings.NATIONAL_REPORT_RETRY_BASE, settings.NATIONAL_REPORT_RETRY_MAX = 60, 600
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 6)] == [60, 120, 240, 480, 600, 600]


def test_status_changes_are_reported_and_the_receiver_knows_the_certificate(
    certs, receiver, org_admin, django_capture_on_commit_callbacks
):
    records_send_due()
    with django_capture_on_commit_callbacks(execute=True):  # the send task is queued on commit
        certificate_services.certificate_revoke(
            actor=Actor.for_user(org_admin), certificate_id=certs[0].id, reason="材料造假"
        )
    revoked = ReportRecord.objects.get(certificate=certs[0], event="revoked")
    assert revoked.status == "accepted"
    assert receiver.database.certificates[certs[0].number]["status"] == "revoked"


def test_a_status_change_of_a_certificate_the_database_never_received_is_rejected(
    certs, receiver, org_admin, django_capture_on_commit_callbacks
):
    ReportRecord.objects.all().delete()  # as if the issue records had never gone
    with django_capture_on_commit_callbacks(execute=True):
        certificate_services.certificate_suspend(
            actor=Actor.for_user(org_admin), certificate_id=certs[1].id, reason="核查"
        )
    record = ReportRecord.objects.get(certificate=certs[1])
    assert record.status == "rejected" and record.feedback_code == "UNKNOWN_CERTIFICATE"


def test_new_levels_are_held_with_a_visible_reason_and_released_when_the_rule_defines_them(certs, settings, receiver):
    ReportRecord.objects.all().delete()
    cert = Certificate.objects.select_related("organisation", "occupation").get(pk=certs[0].pk)
    cert.level = Level.objects.get(code="TJ")
    [record] = records_for_certificates(event="issued", certificates=[cert])
    assert record.status == "held" and "特级技师" in record.last_error and "没有等级代码" in record.last_error
    records_send_due()
    record.refresh_from_db()
    assert record.status == "held" and receiver.database.received == 0

    from certificates.national.services import records_release_held

    settings.NATIONAL_REPORT_LEVEL_DIGITS = ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert records_release_held() == 1
    record.refresh_from_db()
    assert record.status != "held"


def test_results_are_reported_with_the_organisation_kinds_deadline(finalised_plan):
    records = records_for_results(plan=finalised_plan)
    assert len(records) == 7
    last_exam = timezone.localdate(finalised_plan.components.order_by("-ends_at").first().ends_at)
    # The test organisation is a social organisation (S): 5 working days; an employer (Y) would have 10.
    assert {r.due_on for r in records} == {add_working_days(last_exam, 5).date}
    assert records[0].payload["outcome"] == "passed" and records[0].payload["assessed_on"] == last_exam.isoformat()


def test_finalising_a_plan_announces_it_and_result_records_follow(finalised_plan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        plan_finalised.send(sender=type(finalised_plan), plan=finalised_plan, actor=Actor.platform())
    assert ReportRecord.objects.filter(kind="result").count() == 7
    assert records_for_results(plan=finalised_plan) == []  # idempotent


def test_the_daily_sweep_writes_result_records_a_lost_task_never_wrote(finalised_plan):
    from certificates.national.services import records_for_unreported_results

    assert records_for_unreported_results() == 7
    assert records_for_unreported_results() == 0


def test_the_most_specific_deadline_rule_wins():
    rules.deadline_rules_load()
    DeadlineRule.objects.create(
        kind="certificate",
        region_prefix="22",
        working_days=3,
        basis="吉林省试点:3个工作日",
        effective_from=datetime.date(2024, 1, 1),
    )
    day = datetime.date(2026, 3, 2)
    assert rules.due_date(kind="certificate", region_code="220102", organisation_kind="S", start=day).on == (
        add_working_days(day, 3).date
    )
    assert rules.due_date(kind="certificate", region_code="110101", organisation_kind="S", start=day).on == (
        add_working_days(day, 5).date
    )
    # Before the provincial rule took effect, the national one applied.
    old = datetime.date(2023, 6, 1)
    assert rules.due_date(kind="certificate", region_code="220102", organisation_kind="S", start=old).on == (
        add_working_days(old, 5).date
    )


def test_overdue_records_are_on_the_bureau_page_and_not_on_another_regions(certs, cc_officer, jlc_officer):
    ReportRecord.objects.filter(certificate=certs[0]).update(due_on=datetime.date(2020, 1, 2))
    page = client_for(cc_officer).get("/certificates/national/?overdue=1")
    assert page.status_code == 200
    body = page.content.decode()
    assert "1条记录已超过上报期限" in body and certs[0].number in body
    other = client_for(jlc_officer).get("/certificates/national/").content.decode()
    assert certs[0].number not in other
    summary = client_for(cc_officer).get("/api/v1/certificates/national/summary").json()
    assert summary["overdue"] == 1 and summary["by_status"]["pending"] == 7


def test_other_tenants_cannot_see_or_resend(certs, other_org_admin, org_admin, receiver):
    Organisation.objects.filter(pk=certs[0].organisation_id).update(credit_code=BAD_CREDIT_CODE)
    ReportRecord.objects.all().delete()
    cert = Certificate.objects.select_related("organisation", "level", "occupation").get(pk=certs[0].pk)
    [record] = records_for_certificates(event="issued", certificates=[cert])
    records_send_due()
    assert client_for(other_org_admin).get(RECORDS).json()["count"] == 0
    response = client_for(other_org_admin).post(f"{RECORDS}/{record.id}/resend", content_type="application/json")
    assert response.status_code == 404
    assert client_for(None).get(RECORDS).status_code == 401
    assert client_for(org_admin).get(RECORDS).json()["count"] == 1


def test_the_reference_receiver_checks_records_itself():
    db = ReferenceDatabase()
    good = {
        "certificate_number": "S000022000102263000001",
        "name": "张三",
        "id_type": "居民身份证",
        "id_number": "11010519491231002X",
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "level_digit": "3",
        "organisation_name": "机构",
        "organisation_credit_code": "91110000802100433B",
        "issued_on": "2026-03-01",
        "status": "valid",
    }

    def answer(data, event="issued", record_id="r1"):
        return db.receive({"records": [{"record_id": record_id, "type": "certificate", "event": event, "data": data}]})[
            "results"
        ][0]

    assert answer(good)["status"] == "accepted"
    assert answer({**good, "level_digit": "7"}, record_id="r2")["code"] == "BAD_LEVEL"
    assert answer({**good, "id_number": "110105194912310021"}, record_id="r3")["code"] == "BAD_ID_NUMBER"
    assert answer({**good, "certificate_number": "S000022000102253000001"}, record_id="r4")["code"] == "BAD_NUMBER"
    assert answer({**good, "id_number": "11010519491231002X", "name": ""}, record_id="r5")["code"] == "MISSING_FIELD"
    # The same record id gets the same answer, even with other data.
    assert answer({**good, "level_digit": "7"})["status"] == "accepted"


@pytest.fixture
def worker_receiver():
    """A reference receiver that only the worker knows of: in this process the records wait."""
    server = serve_in_thread()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def worker_env(worker_receiver):
    """The real worker reports to the reference receiver running here."""
    return {"NATIONAL_REPORT_URL": worker_receiver.url, "NATIONAL_REPORT_TIMEOUT": "5"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_outbox_over_http(worker_receiver, finalised_plan, org_admin, issue, real_worker):
    from certificates.national.tasks import national_send_due_task
    from config.celery import app

    receiver = worker_receiver
    app.conf.task_always_eager = True
    try:
        issue(finalised_plan, org_admin)  # in-process, with no endpoint configured here: the records wait
    finally:
        app.conf.task_always_eager = False
    assert ReportRecord.objects.filter(status="pending").count() == 7
    receiver.fail_next(1, status=503)  # the first delivery fails; the worker's next run (the back-off) delivers

    first = national_send_due_task.delay().get(timeout=60)
    assert ReportRecord.objects.filter(status="pending", attempts=1).count() == 7, (
        first,
        list(ReportRecord.objects.values_list("status", "attempts", "last_error")),
    )
    ReportRecord.objects.update(next_attempt_at=timezone.now())  # skip the wait instead of sleeping a minute
    national_send_due_task.delay().get(timeout=60)
    assert ReportRecord.objects.filter(status="accepted", attempts=2).count() == 7
    assert set(receiver.database.certificates) == set(Certificate.objects.values_list("number", flat=True))


def test_the_bureau_dashboard_counts_overdue_and_rejected_records(certs, cc_officer):
    ReportRecord.objects.filter(certificate=certs[0]).update(due_on=datetime.date(2020, 1, 2))
    ReportRecord.objects.filter(certificate=certs[1]).update(status="rejected", feedback_code="BAD_ID_NUMBER")
    page = client_for(cc_officer).get("/oversight/dashboard/").content.decode()
    assert 'id="fig-reporting-overdue">1<' in page and "被退回 1" in page
