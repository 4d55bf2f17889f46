from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NationalReportingConfig(AppConfig):
    """数据上报: certificate data and results sent to the provincial/national database through an outbox.

    A sub-package of certificates with its own app label, so that its tables and migrations stay its own."""

    name = "certificates.national"
    label = "national_reporting"
    verbose_name = _("数据上报")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from assessments.signals import plan_finalised
        from certificates.signals import certificate_event

        from . import receivers

        certificate_event.connect(receivers.on_certificate_event, dispatch_uid="national-certificate-event")
        plan_finalised.connect(receivers.on_plan_finalised, dispatch_uid="national-plan-finalised")
