from celery import shared_task
from django.db import InterfaceError, OperationalError

from .issuance import issue_batch_run, issue_graduates_due


# A database restart or a dropped connection in the middle of a batch is retried with back-off: the run is
# idempotent and picks up where the committed chunks stopped (bench/fault_db_restart.py).
@shared_task(
    name="certificates.issue_batch",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=8,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=False,
)
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


@shared_task(name="certificates.verification_log_partitions", ignore_result=True)
def verification_log_partitions_task() -> dict:
    """Daily: the coming months' partitions of the verification log, and months past retention archived."""
    from .log_partitions import partitions_archive, partitions_ensure

    created = partitions_ensure()
    archived = partitions_archive()
    return {"created": created, "archived": [a.month.isoformat() for a in archived]}


@shared_task(name="certificates.status_lists_recount", ignore_result=True)
def status_lists_recount_task() -> dict:
    from .status_index import status_lists_recount

    return status_lists_recount()
