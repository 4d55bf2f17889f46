import logging

from celery import shared_task

from core.audit import audit_verify

from .tasks_comebacks import comeback_scan_task  # noqa: F401 - registers the task
from .tasks_oversight import guazheng_scan_task, overdue_notify_task  # noqa: F401 - registers the tasks

log = logging.getLogger(__name__)


@shared_task(name="core.audit_verify")
def audit_verify_task() -> dict:
    report = audit_verify()
    if not report.ok:
        log.error("audit chain broken: %s", report.problem)
    return {"ok": report.ok, "checked": report.checked, "problem": report.problem}


@shared_task(name="oversight.daily_counts_refresh", ignore_result=True)
def daily_counts_refresh_task() -> dict:
    """The dashboards' daily counts for the days that may have changed (oversight/aggregates.py)."""
    from .aggregates import daily_counts_refresh, enabled

    return daily_counts_refresh() if enabled() else {}
