from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DevIdpConfig(AppConfig):
    name = "devidp"
    verbose_name = "本地身份提供方(仅开发)"

    def ready(self) -> None:
        # settings already refuse this combination; a second lock in case someone installs the app by hand.
        if getattr(settings, "PRODUCTION", False):
            raise ImproperlyConfigured("devidp is a development identity provider and never runs in production")
