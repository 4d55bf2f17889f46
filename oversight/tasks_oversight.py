"""Celery tasks for oversight: thin wrappers that load, call one service and report."""

import logging

from celery import shared_task

from accounts.actors import Actor

log = logging.getLogger(__name__)


@shared_task(name="oversight.guazheng_scan", acks_late=True, max_retries=3, default_retry_delay=60)
def guazheng_scan_task(region_code: str = "") -> dict:
    from .guazheng import guazheng_scan

    return guazheng_scan(actor=Actor.platform(), region_code=region_code).as_dict()


@shared_task(name="oversight.overdue_notify")
def overdue_notify_task() -> dict:
    from .deadlines import overdue_notify

    return overdue_notify()
