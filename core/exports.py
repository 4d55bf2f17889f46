"""Exports that grow with the data, built by a worker into a file, never inside a web request.

An app registers a kind of export (`register`) with a function that, given the Export, checks again that its owner
may still have it and returns the headers and rows. `export_request` records what was asked (who, what, filters)
and queues `core.export_run` on commit; the request that asked is answered at once with the export's page/URL.
The worker streams rows into the file (CSV line by line, xlsx through openpyxl's write-only mode) and writes its
progress every PROGRESS_EVERY rows, so the page can show it. A done file is kept for the export-file retention
period in force (RetentionPeriod, data with effective dates) and then deleted by `exports_purge` (beat).
"""

import contextlib
import csv
import datetime
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import NotFound, PlatformError, ValidationFailed
from .models import Export, RetentionPeriod
from .spreadsheets import csv_cell, write_workbook

log = logging.getLogger(__name__)
PROGRESS_EVERY = 5000
FORMATS = ("csv", "xlsx")

#: Used only when no RetentionPeriod row is in force for a subject (a fresh database before its data migration,
#: a period that starts later): the platform keeps working and says so in the log.
DEFAULT_RETENTION_DAYS = {
    RetentionPeriod.Subject.EXPORT_FILES: 7,
    RetentionPeriod.Subject.VERIFICATION_LOG: 730,
}


def retention_days(subject: str, on: datetime.date | None = None) -> int:
    """The retention period for `subject` in force on `on` (today): the latest that took effect by then."""
    on = on or timezone.localdate()
    period = RetentionPeriod.objects.filter(subject=subject, effective_from__lte=on).order_by("-effective_from").first()
    if period is None:
        log.warning(
            "no retention period in force for %s on %s; using %d days", subject, on, DEFAULT_RETENTION_DAYS[subject]
        )
        return DEFAULT_RETENTION_DAYS[subject]
    return period.days


@dataclass(frozen=True)
class Content:
    headers: list[str]
    rows: Iterable[list]
    sheet_title: str
    total: int | None = None  # the exact number of rows, for the progress shown while the file is written


@dataclass(frozen=True)
class Kind:
    key: str
    build: Callable[[Export], Content]  # re-checks the owner's permission; raises PlatformError when refused


_KINDS: dict[str, Kind] = {}


def register(key: str, build: Callable[[Export], Content]) -> None:
    _KINDS[key] = Kind(key, build)


def export_request(
    *, owner, kind: str, title: str, file_format: str, params: dict, total: int, filename: str
) -> Export:
    """Record an export and queue it; the caller has checked the owner may have it (the worker checks again)."""
    if kind not in _KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    if file_format not in FORMATS:
        raise ValidationFailed(_("导出格式应为 xlsx 或 csv"), details={"field": "format"})
    if owner is None:
        raise ValidationFailed(_("数据量较大,需以个人账户登录后导出(文件生成后在“我的导出”下载)"))
    export = Export.objects.create(
        owner=owner,
        kind=kind,
        title=title[:128],
        file_format=file_format,
        params=params,
        total=total,
        filename=filename[:128],
    )
    from .tasks import export_run_task

    transaction.on_commit(lambda: export_run_task.delay(export.id))
    return export


def exports_for(user):
    """The exports a user may see: their own. Anyone else's is a 404 (exports carry full ID numbers)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Export.objects.none()
    return Export.objects.filter(owner=user)


def export_get(user, export_id: int) -> Export:
    export = exports_for(user).filter(pk=export_id).first()
    if export is None:
        raise NotFound(_("没有这个导出文件"))
    return export


#: A running export whose worker wrote no progress for this long is taken to be dead and started again. The broker
#: hands an unacknowledged task to another worker after its visibility timeout (31 min) even when the first is
#: still writing a long file: the heartbeat tells the second to leave it alone.
STALE_AFTER = datetime.timedelta(minutes=5)


def _progress(export_id: int, done: int) -> None:
    Export.objects.filter(pk=export_id).update(done=done, progress_at=timezone.now())


def _write_csv(path: str, content: Content, export_id: int) -> int:
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:  # the BOM lets Excel read the Chinese text
        writer = csv.writer(fh)
        writer.writerow(content.headers)
        for row in content.rows:
            writer.writerow([csv_cell(v) for v in row])
            n += 1
            if n % PROGRESS_EVERY == 0:
                _progress(export_id, n)
    return n


def _write_xlsx(path: str, content: Content, export_id: int) -> int:
    counter = {"n": 0}

    def counted():
        for row in content.rows:
            yield row
            counter["n"] += 1
            if counter["n"] % PROGRESS_EVERY == 0:
                _progress(export_id, counter["n"])

    with open(path, "wb") as fh:
        write_workbook(fh, content.headers, counted(), content.sheet_title)
    return counter["n"]


def export_run(*, export_id: int) -> Export | None:
    """Build the file of a queued export (or one whose worker died midway: it starts again). Idempotent: a done,
    failed or expired export is left as it is."""
    with transaction.atomic():
        export = Export.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status not in (Export.Status.QUEUED, Export.Status.RUNNING):
            return export
        now = timezone.now()
        if export.status == Export.Status.RUNNING and export.progress_at and now - export.progress_at < STALE_AFTER:
            return export  # another worker is writing it (a redelivered task)
        export.status, export.started_at, export.progress_at, export.done = Export.Status.RUNNING, now, now, 0
        export.save(update_fields=["status", "started_at", "progress_at", "done"])
    name = f"exports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{export.file_format}"
    path = default_storage.path(name)  # a file system storage: the file is written in place, row by row
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f"{path}.part"
    try:
        content = _KINDS[export.kind].build(export)
        if content.total is not None:
            Export.objects.filter(pk=export.id).update(total=content.total)
        writer = _write_csv if export.file_format == "csv" else _write_xlsx
        rows = writer(partial, content, export.id)
        os.replace(partial, path)
    except PlatformError as exc:  # the owner may no longer have it (moved out of the bureau, region gone)
        _discard(partial)
        return _finish_failed(export, exc.message)
    except Exception as exc:
        _discard(partial)
        log.exception("export %s failed", export.id)
        _finish_failed(export, _("生成失败,请重新导出(%(e)s)") % {"e": type(exc).__name__})
        raise
    now = timezone.now()
    export.status, export.file, export.done, export.total = Export.Status.DONE, name, rows, rows
    export.size = os.path.getsize(path)
    export.finished_at = now
    export.expires_at = now + datetime.timedelta(days=retention_days(RetentionPeriod.Subject.EXPORT_FILES))
    export.save(update_fields=["status", "file", "done", "total", "size", "finished_at", "expires_at"])
    return export


def _discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _finish_failed(export: Export, message: str) -> Export:
    export.status, export.error, export.finished_at = Export.Status.FAILED, message, timezone.now()
    export.save(update_fields=["status", "error", "finished_at"])
    return export


def exports_purge(now: datetime.datetime | None = None) -> int:
    """Delete the files of exports past their retention; the record stays (who exported what, and when)."""
    now = now or timezone.now()
    purged = 0
    for export in Export.objects.filter(status=Export.Status.DONE, expires_at__lt=now):
        if export.file:
            export.file.delete(save=False)
        export.status, export.size = Export.Status.EXPIRED, 0
        export.save(update_fields=["status", "file", "size"])
        purged += 1
    # An export whose worker never came back (queued or running for longer than a file is kept) is failed.
    stale = now - datetime.timedelta(days=retention_days(RetentionPeriod.Subject.EXPORT_FILES))
    Export.objects.filter(status__in=[Export.Status.QUEUED, Export.Status.RUNNING], created_at__lt=stale).update(
        status=Export.Status.FAILED, error=_("长时间未完成,已取消,请重新导出"), finished_at=now
    )
    return purged


def media_type(export: Export) -> str:
    return {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }[export.file_format]


def download_response(export: Export):
    """The file of a done export, for its owner (the caller used export_get)."""
    from django.http import FileResponse

    if export.status != Export.Status.DONE or not export.file:
        raise NotFound(_("文件尚未生成或已过保存期限"))
    response = FileResponse(export.file.open("rb"), content_type=media_type(export))
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def describe(export: Export) -> dict:
    """The export as the API and the page's polling show it."""
    data = {
        "id": export.id,
        "kind": export.kind,
        "title": export.title,
        "format": export.file_format,
        "params": export.params,
        "status": export.status,
        "total": export.total,
        "done": export.done,
        "percent": export.percent,
        "size": export.size,
        "error": export.error,
        "created_at": export.created_at.isoformat() if export.created_at else None,
        "finished_at": export.finished_at.isoformat() if export.finished_at else None,
        "expires_at": export.expires_at.isoformat() if export.expires_at else None,
        "url": f"/api/v1/exports/{export.id}",
        "page": f"/exports/{export.id}/",
        "download": f"/api/v1/exports/{export.id}/file" if export.status == Export.Status.DONE else None,
    }
    return data


def sync_max_rows() -> int:
    return int(getattr(settings, "EXPORT_SYNC_MAX_ROWS", 10_000))
