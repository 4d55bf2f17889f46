from celery import shared_task

from .issuance import issue_batch_run, issue_graduates_due


@shared_task(name="certificates.issue_batch", acks_late=True, max_retries=3, default_retry_delay=30)
def issue_batch_task(batch_id: int) -> dict:
    batch = issue_batch_run(batch_id)
    return {"batch": batch.id, "status": batch.status, "done": batch.done, "total": batch.total}


@shared_task(name="certificates.flush_verification_log", ignore_result=True)
def flush_verification_log_task() -> int:
    from .verification_log import flush

    return flush()


@shared_task(name="certificates.issue_graduates_due", ignore_result=True)
def issue_graduates_due_task() -> list[int]:
    return issue_graduates_due()
