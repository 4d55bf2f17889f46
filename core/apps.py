from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app uses and nothing above it: audit log, notifications, errors, request context, imports."""

    name = "core"
    verbose_name = "平台基础"
