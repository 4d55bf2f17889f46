"""Subscriptions: certificate events and finalised plans become outbox records in the same transaction."""


def on_certificate_event(sender, *, event: str, certificates, **kwargs) -> None:
    from .services import records_for_certificates

    records_for_certificates(event=event, certificates=certificates)


def on_plan_finalised(sender, *, plan, **kwargs) -> None:
    from .services import records_for_results

    records_for_results(plan=plan)
