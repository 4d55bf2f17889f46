from celery import shared_task

from .services import claims_remind_overdue, policies_warn_lapse


@shared_task(name="subsidies.remind_overdue")
def claims_remind_overdue_task() -> dict:
    return claims_remind_overdue()


@shared_task(name="subsidies.warn_policy_lapse")
def policies_warn_lapse_task() -> dict:
    return policies_warn_lapse()
