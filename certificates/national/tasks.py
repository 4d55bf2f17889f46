from celery import current_app, shared_task
from django.db import InterfaceError, OperationalError

from .services import (
    next_retry_in,
    records_for_results,
    records_for_unreported_results,
    records_release_held,
    records_send_due,
)


@shared_task(
    name="national.send_due",
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=5,
    retry_backoff=2,
)
def national_send_due_task() -> dict:
    """Send due records. When some failed, schedule the next run for when the earliest is due again (the
    back-off); the beat's run every minute catches anything this misses (a lost schedule, a restart)."""
    outcome = records_send_due()
    if outcome.get("failed") and not current_app.conf.task_always_eager:
        delay = next_retry_in()
        if delay is not None:
            national_send_due_task.apply_async(countdown=delay + 1)
    return outcome


@shared_task(name="national.results", autoretry_for=(OperationalError, InterfaceError), max_retries=5)
def national_results_task(plan_id: int) -> int:
    from assessments.models import Plan

    return len(records_for_results(plan=Plan.objects.get(pk=plan_id)))


@shared_task(name="national.release_held", ignore_result=True)
def national_release_held_task() -> int:
    """Daily: held records whose level is now reportable, and result records a lost task never wrote."""
    return records_release_held() + records_for_unreported_results()
