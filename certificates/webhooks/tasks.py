from celery import current_app, shared_task
from django.db import InterfaceError, OperationalError

from .models import Delivery
from .services import deliveries_due, delivery_attempt


@shared_task(name="webhooks.deliver", autoretry_for=(OperationalError, InterfaceError), max_retries=5, retry_backoff=2)
def webhook_deliver_task(delivery_id: int) -> str | None:
    """One attempt; a failed one is tried again when its back-off is over (the beat's deliver_due also catches it)."""
    delivery = delivery_attempt(delivery_id)
    if delivery is None:
        return None
    if (
        delivery.status == Delivery.Status.PENDING
        and delivery.next_attempt_at
        and not current_app.conf.task_always_eager
    ):
        webhook_deliver_task.apply_async((delivery_id,), eta=delivery.next_attempt_at)
    return delivery.status


@shared_task(name="webhooks.deliver_due", ignore_result=True)
def webhook_deliver_due_task() -> int:
    return deliveries_due()
