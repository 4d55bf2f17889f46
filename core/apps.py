from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    """What every app uses and nothing above it: audit log, notifications, errors, request context, imports."""

    default = True
    name = "core"
    verbose_name = "平台基础"


class PlatformAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the platform's site: the site's login and second factor, every change audited."""

    default = False  # named in INSTALLED_APPS; CoreConfig stays the default for "core"
    default_site = "core.admin_site.PlatformAdminSite"
