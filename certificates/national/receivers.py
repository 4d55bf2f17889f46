"""Subscriptions: certificate events and finalised plans become outbox records in the same transaction."""


def on_certificate_event(sender, *, event: str, certificates, **kwargs) -> None:
    from .services import records_for_certificates

    records_for_certificates(event=event, certificates=certificates)


def on_plan_finalised(sender, *, plan, **kwargs) -> None:
    """Result records are written by a task after the finalisation commits (idempotent, and swept daily by
    national.release_held in case the task was lost), so finalising stays one short transaction whatever the
    number of candidates."""
    from django.db import transaction

    from .services import enqueue_results

    transaction.on_commit(lambda: enqueue_results(plan.id))
