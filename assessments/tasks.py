"""Scheduled work of the assessments app (config.settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task


@shared_task(name="assessments.evidence_purge_expired", ignore_result=False)
def evidence_purge_expired_task() -> dict:
    """Daily: destroy the files of exam evidence past its retention date (tombstones and audit entries stay)."""
    from .evidence.services import evidence_purge_due

    report = evidence_purge_due()
    return {"purged": len(report.purged), "held": len(report.held), "extended": len(report.extended)}


@shared_task(name="assessments.bureau_waiting_notify", ignore_result=False)
def bureau_waiting_notify_task() -> dict:
    """Daily: each bureau's officers are told what result and employment reviews wait, overdue first."""
    from .review.waiting import bureau_waiting_notify

    return {"bureaus": len(bureau_waiting_notify())}
