from celery import shared_task

from .services import filings_expire_and_remind


@shared_task(name="accreditation.expire_and_remind")
def filings_expire_and_remind_task() -> dict:
    return filings_expire_and_remind()
