from celery import shared_task

from .services import claims_remind_overdue


@shared_task(name="subsidies.remind_overdue")
def claims_remind_overdue_task() -> dict:
    return claims_remind_overdue()
