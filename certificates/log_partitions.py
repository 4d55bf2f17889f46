"""The verification log, partitioned by month on PostgreSQL, so that it can grow with every scan and stay fast.

Every scan adds a row; a province's QR codes are scanned millions of times a year. On PostgreSQL the table is
range-partitioned on `at` by month (migration certificates 0006): a query for a period (the dashboards) reads only
its months, and a month past the retention period leaves the database as a whole partition, not by a DELETE of
millions of rows. Partitions are named certificates_verificationlog_yYYYYmMM; a DEFAULT partition catches a row
outside every month created (a clock far off), and `partitions_ensure` moves such rows into their month.

- `partitions_ensure` (beat, daily) creates this month's partition and the next PARTITIONS_AHEAD months';
- `partitions_archive` (beat, daily) detaches each month that ended before the retention period in force
  (core RetentionPeriod "verification_log", data with effective dates), writes it with COPY to a gzip-compressed
  CSV under VERIFICATION_LOG_ARCHIVE_DIR, checks the row count, records it (VerificationLogArchive) and drops it.

On SQLite (`make run`) the table is a plain table and both are no-ops. Django keeps `id` as the model's primary
key; on PostgreSQL the table's primary key is (id, at), as partitioning requires of a unique key, and ids still
come from one identity sequence, so `id` stays unique. Nothing references the log's rows.
"""

import datetime
import gzip
import hashlib
import logging
import os
import re
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.exports import retention_days
from core.models import RetentionPeriod

log = logging.getLogger(__name__)

TABLE = "certificates_verificationlog"
DEFAULT = f"{TABLE}_default"
PARTITIONS_AHEAD = 3
_NAME = re.compile(rf"^{TABLE}_y(\d{{4}})m(\d{{2}})$")


def partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def partition_name(month: datetime.date) -> str:
    return f"{TABLE}_y{month:%Y}m{month:%m}"


def _bound(day: datetime.date) -> str:
    """A month boundary in the platform's time zone (Beijing), as the dashboards count months."""
    aware = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return aware.isoformat()


def partitions() -> dict[datetime.date, str]:
    """The monthly partitions that exist, by first day of month."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        names = [r[0] for r in cursor.fetchall()]
    found = {}
    for name in names:
        match = _NAME.match(name)
        if match:
            found[datetime.date(int(match.group(1)), int(match.group(2)), 1)] = name
    return found


def create_partition(cursor, month: datetime.date) -> str:
    """One month's partition; rows of that month already in the DEFAULT partition move into it."""
    name, start, end = partition_name(month), _bound(month), _bound(next_month(month))
    cursor.execute(f"SELECT 1 FROM {DEFAULT} WHERE at >= %s AND at < %s LIMIT 1", [start, end])  # noqa: S608 - table names are this module's constants
    if cursor.fetchone() is None:
        cursor.execute(f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)", [start, end])
        return name
    cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE at >= %s AND at < %s RETURNING *) "  # noqa: S608 - table names are this module's constants
        f"INSERT INTO {name} SELECT * FROM moved",
        [start, end],
    )
    cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [start, end])
    return name


def partitions_ensure(today: datetime.date | None = None, ahead: int = PARTITIONS_AHEAD) -> list[str]:
    """Create this month's partition and the next `ahead` months' that do not exist yet; returns their names."""
    if not partitioned():
        return []
    today = today or timezone.localdate()
    have = partitions()
    created = []
    month = month_start(today)
    for _ in range(ahead + 1):
        if month not in have:
            with transaction.atomic(), connection.cursor() as cursor:
                # One creator at a time (two beat runs, a deploy running the task by hand).
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
                if month not in partitions():
                    created.append(create_partition(cursor, month))
        month = next_month(month)
    # Rows that went to DEFAULT for a month that already had no partition (a clock far off): into their month.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE %s)::date FROM {DEFAULT}",  # noqa: S608
            [settings.TIME_ZONE],
        )
        stray = [r[0] for r in cursor.fetchall()]
    for month in stray:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
            if month not in partitions():
                created.append(create_partition(cursor, month))
    if created:
        log.info("verification log partitions created: %s", ", ".join(created))
    return created


def archive_dir() -> Path:
    return Path(settings.VERIFICATION_LOG_ARCHIVE_DIR)


def partitions_archive(today: datetime.date | None = None) -> list:
    """Detach, archive (gzip CSV with a header) and drop each month that ended before the retention period in
    force; returns the VerificationLogArchive records made. A month is dropped only after its file is complete
    and holds as many rows as the partition."""
    from .models import VerificationLogArchive

    if not partitioned():
        return []
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=retention_days(RetentionPeriod.Subject.VERIFICATION_LOG, today))
    done = []
    for month, name in sorted(partitions().items()):
        if next_month(month) > cutoff:
            continue
        directory = archive_dir()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.csv.gz"
        # Written out while still attached: the month is over, so nothing is added to it; the lock that detaching
        # takes on the whole log is then held only for a count and a drop, not for the file.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608 - table names are this module's constants
            rows = cursor.fetchone()[0]
            partial = path.with_suffix(".gz.part")
            with (
                gzip.open(partial, "wb") as out,
                cursor.connection.cursor().copy(
                    f"COPY (SELECT * FROM {name} ORDER BY at, id) TO STDOUT WITH (FORMAT csv, HEADER true)"  # noqa: S608 - table names are this module's constants
                ) as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
        digest = hashlib.sha256()
        with open(partial, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        with gzip.open(partial, "rt", encoding="utf-8") as check:
            written = sum(1 for _ in check) - 1  # less the header (no field holds a newline)
        if written != rows:
            os.remove(partial)
            raise RuntimeError(f"archive of {name} holds {written} rows, the partition {rows}; kept in the database")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
            cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
            cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608 - table names are this module's constants
            if cursor.fetchone()[0] != rows:  # a row arrived meanwhile (a clock far behind): try again next run
                os.remove(partial)
                raise RuntimeError(f"{name} changed while it was archived; kept in the database")
            os.replace(partial, path)
            record = VerificationLogArchive.objects.create(
                month=month, rows=rows, path=str(path), sha256=digest.hexdigest(), size=path.stat().st_size
            )
            cursor.execute(f"DROP TABLE {name}")
        log.info("verification log %s archived to %s (%d rows) and dropped", name, path, rows)
        done.append(record)
    return done
