from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _certificate_changed(sender, instance, created=False, **kwargs) -> None:
    """Every changed or deleted certificate goes on the verification feed, so no node answers from an old row.
    (A new one cannot be remembered anywhere yet: unknown numbers are never cached.)"""
    from .verification_cache import certificates_changed

    if instance.number and not created:
        certificates_changed([instance.number])


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("证书")

    def ready(self) -> None:
        from .models import Certificate

        post_save.connect(_certificate_changed, sender=Certificate, dispatch_uid="certificate-verification-feed")
        post_delete.connect(_certificate_changed, sender=Certificate, dispatch_uid="certificate-verification-feed-del")
