from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    """加注件: copies of a certificate the holder makes for one purpose and period, verifiable and withdrawable.

    A sub-package of certificates with its own app label, so that its tables and migrations stay its own."""

    name = "certificates.sharing"
    label = "certificate_sharing"
    verbose_name = _("证书加注件")
    default_auto_field = "django.db.models.BigAutoField"
