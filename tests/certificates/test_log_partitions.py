"""The verification log partitioned by month on PostgreSQL (certificates/log_partitions.py): partitions made
ahead, stray rows moved into their month, months past the retention period (data) archived to gzip CSV and
dropped; Django reads and writes the table as before. And the scan's lookup stays one index probe."""

import csv
import datetime
import gzip

import pytest
from django.db import connection
from django.utils import timezone

from certificates import log_partitions, verification
from certificates.models import VerificationLog, VerificationLogArchive
from core.models import RetentionPeriod
from tests.conftest import ON_POSTGRES, require_postgres

pytestmark = pytest.mark.django_db

REASON = "native partitioning and EXPLAIN are PostgreSQL's; SQLite keeps a plain table"


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def partition_of(row_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM certificates_verificationlog WHERE id = %s", [row_id])
        return cursor.fetchone()[0]


def test_on_sqlite_the_log_is_a_plain_table_and_the_tasks_do_nothing():
    if ON_POSTGRES:
        pytest.skip("this is the SQLite side")
    assert not log_partitions.partitioned()
    assert log_partitions.partitions_ensure() == [] and log_partitions.partitions_archive() == []
    row = VerificationLog.objects.create(at=timezone.now(), channel="scan", result="valid")
    assert VerificationLog.objects.get(pk=row.pk).result == "valid"


def test_rows_go_to_their_months_partition_and_django_works_as_before():
    require_postgres(REASON)
    assert log_partitions.partitioned()
    today = timezone.localdate()
    row = VerificationLog.objects.create(at=at(today), channel="scan", result="valid", region_code="220102")
    assert partition_of(row.id) == log_partitions.partition_name(today.replace(day=1))
    again = VerificationLog.objects.create(at=at(today), channel="api", result="forged")
    assert again.id > row.id  # one identity sequence for every partition: ids stay unique
    assert VerificationLog.objects.filter(at__gte=at(today, 0), result="valid").get().pk == row.pk
    VerificationLog.objects.filter(pk=again.pk).delete()
    assert VerificationLog.objects.count() == 1


def test_partitions_are_made_ahead_and_stray_rows_move_into_their_month():
    require_postgres(REASON)
    today = timezone.localdate()
    later = (today.replace(day=1) + datetime.timedelta(days=31 * 8)).replace(day=15)
    row = VerificationLog.objects.create(at=at(later), channel="scan", result="valid")
    assert partition_of(row.id) == log_partitions.DEFAULT  # no month made that far ahead yet
    created = log_partitions.partitions_ensure(today=later - datetime.timedelta(days=31))
    assert log_partitions.partition_name(later.replace(day=1)) in created
    assert partition_of(row.id) == log_partitions.partition_name(later.replace(day=1))
    assert log_partitions.partitions_ensure(today=later - datetime.timedelta(days=31)) == []  # idempotent
    months = log_partitions.partitions()
    month = today.replace(day=1)
    for _ in range(log_partitions.PARTITIONS_AHEAD + 1):
        assert month in months
        month = log_partitions.next_month(month)


def test_months_past_the_retention_period_are_archived_then_dropped(settings, tmp_path):
    require_postgres(REASON)
    settings.VERIFICATION_LOG_ARCHIVE_DIR = tmp_path
    today = timezone.localdate()
    old = (today - datetime.timedelta(days=800)).replace(day=10)
    recent = (today - datetime.timedelta(days=400)).replace(day=10)
    for day in (old, old, recent):
        VerificationLog.objects.create(at=at(day), channel="lookup", result="unknown", region_code="220102")
    log_partitions.partitions_ensure(today=today)  # the old months leave DEFAULT for their own partitions
    assert old.replace(day=1) in log_partitions.partitions()

    assert log_partitions.partitions_archive(today=today) == [
        VerificationLogArchive.objects.get(month=old.replace(day=1))
    ]  # 730 days, the seeded period: the month 800 days back goes, the one 400 days back stays
    archive = VerificationLogArchive.objects.get()
    assert archive.rows == 2 and archive.size > 0
    with gzip.open(archive.path, "rt", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 and {r["channel"] for r in rows} == {"lookup"} and rows[0]["region_code"] == "220102"
    assert old.replace(day=1) not in log_partitions.partitions()
    assert VerificationLog.objects.count() == 1  # only the recent month's row is left in the database

    # Retention is data: a shorter period in force from today archives the month 400 days back too.
    RetentionPeriod.objects.create(subject="verification_log", days=180, effective_from=today, basis="本省档案规定")
    archived = log_partitions.partitions_archive(today=today)
    assert [a.month for a in archived] == [recent.replace(day=1)]
    assert VerificationLog.objects.count() == 0


def test_the_scan_lookup_is_one_index_probe():
    """EXPLAIN of the scan's query (by certificate number) and of the lookup by number: an index scan on the
    certificates table, never a sequential one, whatever the table's size (seq scans priced out so that a tiny
    test table cannot hide a missing index; at 1,000,000 rows the planner picks the index by itself, README)."""
    require_postgres(REASON)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in (
            verification._BY_NUMBER,
            "SELECT id FROM certificates_certificate WHERE number = %s",
            "SELECT id FROM certificates_certificate WHERE token = %s",
            "SELECT id FROM certificates_certificate WHERE ecert_id = %s",
        ):
            cursor.execute("EXPLAIN " + sql, ["S000022000102263000001"])
            plan = "\n".join(r[0] for r in cursor.fetchall())
            assert "Seq Scan on certificates_certificate" not in plan, plan
            assert "Index Scan" in plan or "Index Only Scan" in plan, plan
