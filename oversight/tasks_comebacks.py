"""Nightly comeback scan: a cancellation recorded for a future day is checked for the first time once in force."""

from celery import shared_task

from accounts.actors import Actor


@shared_task(name="oversight.comeback_scan", acks_late=True, max_retries=3, default_retry_delay=60)
def comeback_scan_task(region_code: str = "") -> dict:
    from .comebacks import comeback_scan

    return comeback_scan(actor=Actor.platform(), region_code=region_code).as_dict()
