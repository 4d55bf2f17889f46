"""数据上报 at province size: a large report is built by a worker into a file (core/exports.py), the request that
asks for it answered at once; progress and the download on a page; the file only for its owner; kept for the
export-file retention period held as data, then deleted."""

import csv
import datetime
import io
import os

import pytest
from django.test import override_settings
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Membership
from certificates.models import Certificate
from certificates.reporting import REPORT_HEADERS
from core.exports import exports_purge, retention_days
from core.models import AuditEntry, Export, RetentionPeriod
from tests.conftest import client_for
from tests.factories import issued_certificates

pytestmark = pytest.mark.django_db

REPORT = "/api/v1/certificates/report"


@pytest.fixture
def certs(finalised_plan, org_admin) -> list[Certificate]:
    issued_certificates(finalised_plan, org_admin)
    return list(Certificate.objects.order_by("number"))


def ask(user, capture, **params) -> dict:
    with capture(execute=True):  # the export is queued on commit; Celery runs eagerly in the tests
        r = client_for(user).get(REPORT, params)
    assert r.status_code == 202, r.content
    assert r["Location"] == r.json()["url"]
    return r.json()


@override_settings(EXPORT_SYNC_MAX_ROWS=1)
def test_a_large_report_is_built_into_a_csv_file_for_its_owner(certs, cc_officer, django_capture_on_commit_callbacks):
    asked = ask(cc_officer, django_capture_on_commit_callbacks, format="csv")
    c = client_for(cc_officer)
    status = c.get(asked["url"]).json()
    assert status["status"] == "done" and status["done"] == status["total"] == len(certs)
    assert status["percent"] == 100 and status["expires_at"]
    r = c.get(status["download"])
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r["Cache-Control"] == "private, no-store" and "attachment" in r["Content-Disposition"]
    body = b"".join(r.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == REPORT_HEADERS
    assert {row[0] for row in rows[1:]} == {cert.number for cert in certs}
    assert {row[3] for row in rows[1:]} == {cert.id_number for cert in certs}  # full ID numbers, for the bureau
    export = Export.objects.get(pk=asked["id"])
    assert export.owner == cc_officer and export.params == {"region": "", "since": "", "until": ""}
    assert AuditEntry.objects.filter(action="certificate.report_export").count() == 1
    # The page shows the progress and the link.
    page = c.get(asked["page"])
    assert page.status_code == 200 and f"/exports/{export.id}/download/" in page.content.decode()
    assert c.get("/exports/").status_code == 200
    assert c.get(f"/exports/{export.id}/download/").status_code == 200


@override_settings(EXPORT_SYNC_MAX_ROWS=1)
def test_an_xlsx_export_opens_in_openpyxl(certs, cc_officer, django_capture_on_commit_callbacks):
    asked = ask(cc_officer, django_capture_on_commit_callbacks, format="xlsx", region="220100")
    export = Export.objects.get(pk=asked["id"])
    assert export.status == "done" and export.filename == "certificates-220100.xlsx"
    with export.file.open("rb") as fh:
        rows = list(load_workbook(io.BytesIO(fh.read()), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == REPORT_HEADERS
    assert sorted(row[0] for row in rows[1:]) == sorted(cert.number for cert in certs)


def test_the_file_is_its_owners_alone(
    certs, cc_officer, jlc_officer, org_admin, client, django_capture_on_commit_callbacks
):
    asked = ask(cc_officer, django_capture_on_commit_callbacks, format="csv", deliver="file")
    export_id = asked["id"]
    for other in (jlc_officer, org_admin):
        c = client_for(other)
        for url in (f"/api/v1/exports/{export_id}", f"/api/v1/exports/{export_id}/file"):
            r = c.get(url)
            assert r.status_code == 404 and r.json()["code"] == "not_found", url
        for url in (f"/exports/{export_id}/", f"/exports/{export_id}/download/"):
            assert c.get(url).status_code == 404, url
        assert c.get("/api/v1/exports").json() == []
    assert client.get(f"/api/v1/exports/{export_id}/file").status_code == 401
    assert client.get(f"/exports/{export_id}/download/").status_code == 302  # to the login page


def test_small_reports_are_still_answered_in_the_request(certs, cc_officer):
    r = client_for(cc_officer).get(REPORT, {"format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert not Export.objects.exists()
    with override_settings(EXPORT_SYNC_MAX_ROWS=1):
        r = client_for(cc_officer).get(REPORT, {"format": "csv", "deliver": "inline"})
        assert r.status_code == 200 and not Export.objects.exists()


@override_settings(EXPORT_SYNC_MAX_ROWS=1)
def test_an_officer_who_left_the_bureau_before_the_worker_ran_gets_no_file(
    certs, cc_officer, django_capture_on_commit_callbacks
):
    r = client_for(cc_officer).get(REPORT, {"format": "csv"})  # queued, not run: callbacks not executed
    assert r.status_code == 202
    export = Export.objects.get(pk=r.json()["id"])
    Membership.objects.filter(user=cc_officer).delete()
    from core.exports import export_run

    export_run(export_id=export.id)
    export.refresh_from_db()
    assert export.status == "failed" and export.error and not export.file
    assert client_for(cc_officer).get(f"/api/v1/exports/{export.id}/file").status_code == 404


@override_settings(EXPORT_SYNC_MAX_ROWS=1)
def test_files_are_kept_for_the_retention_period_in_force_then_deleted(
    certs, cc_officer, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    assert retention_days(RetentionPeriod.Subject.EXPORT_FILES) == 7  # the seeded period
    RetentionPeriod.objects.create(subject="export_files", days=2, effective_from=today, basis="本省通知")
    RetentionPeriod.objects.create(subject="export_files", days=30, effective_from=today + datetime.timedelta(days=9))
    assert retention_days(RetentionPeriod.Subject.EXPORT_FILES) == 2
    asked = ask(cc_officer, django_capture_on_commit_callbacks, format="csv")
    export = Export.objects.get(pk=asked["id"])
    assert export.expires_at - export.finished_at == datetime.timedelta(days=2)
    path = export.file.path
    assert os.path.exists(path)
    assert exports_purge(now=timezone.now() + datetime.timedelta(days=1)) == 0 and os.path.exists(path)
    assert exports_purge(now=timezone.now() + datetime.timedelta(days=3)) == 1
    export.refresh_from_db()
    assert export.status == "expired" and not export.file and not os.path.exists(path)
    r = client_for(cc_officer).get(f"/api/v1/exports/{export.id}/file")
    assert r.status_code == 404
    assert "过保存期限" in client_for(cc_officer).get(f"/exports/{export.id}/").content.decode()


def test_a_run_is_idempotent_and_a_restarted_one_starts_over(certs, cc_officer, django_capture_on_commit_callbacks):
    with override_settings(EXPORT_SYNC_MAX_ROWS=1):
        r = client_for(cc_officer).get(REPORT, {"format": "csv"})
    export = Export.objects.get(pk=r.json()["id"])
    from core.exports import STALE_AFTER, export_run

    # Another worker is writing it (its heartbeat is fresh): a redelivered task leaves it alone.
    Export.objects.filter(pk=export.id).update(status="running", done=1, progress_at=timezone.now())
    assert export_run(export_id=export.id).done == 1
    # That worker died midway: no progress for longer than STALE_AFTER, so the file is started over.
    Export.objects.filter(pk=export.id).update(progress_at=timezone.now() - STALE_AFTER * 2)

    first = export_run(export_id=export.id)
    assert first.status == "done" and first.done == len(certs)
    name = first.file.name
    again = export_run(export_id=export.id)  # the task delivered twice: nothing rebuilt
    assert again.status == "done" and again.file.name == name


def test_an_xlsx_over_the_sheet_limit_is_refused(certs, cc_officer, monkeypatch, django_capture_on_commit_callbacks):
    from certificates import reporting

    monkeypatch.setattr(reporting, "XLSX_MAX_ROWS", len(certs) - 1)
    r = client_for(cc_officer).get(REPORT, {"format": "xlsx", "deliver": "inline"})  # counted exactly: at once
    assert r.status_code == 422 and r.json()["details"]["field"] == "format"
    assert not Export.objects.exists()
    # A large report is counted by the worker, which refuses it with the same reason and makes no file.
    with override_settings(EXPORT_SYNC_MAX_ROWS=1):
        asked = ask(cc_officer, django_capture_on_commit_callbacks, format="xlsx")
    export = Export.objects.get(pk=asked["id"])
    assert export.status == "failed" and "Excel" in export.error and not export.file


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@override_settings(EXPORT_SYNC_MAX_ROWS=1)
def test_a_real_worker_builds_the_file_while_the_request_returns_at_once(certs, cc_officer, real_worker):
    import time

    r = client_for(cc_officer).get(REPORT, {"format": "csv"})
    assert r.status_code == 202 and r.json()["status"] == "queued"
    export = Export.objects.get(pk=r.json()["id"])
    for _ in range(240):
        export.refresh_from_db()
        if export.status in ("done", "failed"):
            break
        time.sleep(0.25)
    assert export.status == "done" and export.done == len(certs), export.error
    body = b"".join(client_for(cc_officer).get(f"/api/v1/exports/{export.id}/file").streaming_content)
    assert len(body.decode("utf-8-sig").strip().splitlines()) == 1 + len(certs)
