"""Scheduled work of the assessments app (config.settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task


@shared_task(name="assessments.evidence_purge_expired", ignore_result=False)
def evidence_purge_expired_task() -> dict:
    """Daily: destroy the files of exam evidence past its retention date (tombstones and audit entries stay)."""
    from .evidence.services import evidence_purge_due

    report = evidence_purge_due()
    return {"purged": len(report.purged), "held": len(report.held), "extended": len(report.extended)}
