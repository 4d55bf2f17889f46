from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Webhooks: organisations' own systems told of their certificates' events, signed and delivered by Celery.

    A sub-package of certificates with its own app label, so that its tables and migrations stay its own."""

    name = "certificates.webhooks"
    label = "webhooks"
    verbose_name = _("事件推送(Webhook)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from certificates.signals import certificate_event

        from .services import on_certificate_event

        certificate_event.connect(on_certificate_event, dispatch_uid="webhooks-certificate-event")
