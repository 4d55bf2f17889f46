"""The Django admin, on the platform's terms.

- Signing in is the site's own login (failed attempts limited per account and per address, then the second
  factor): the admin's login page only redirects there, and its pages need a session that passed a second factor.
- Every ModelAdmin registered on it, the project's and third-party ones (auth's groups, django-otp's devices),
  writes the audit log: registration mixes `AuditedAdmin` in where a class does not already have it.
"""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from .admin_mixins import AuditedAdmin


class PlatformAdminSite(AdminSite):
    site_header = "职业技能等级认定平台 · 运维管理"
    site_title = "运维管理"

    def has_permission(self, request) -> bool:
        # django_otp's OTPMiddleware gives the user is_verified(): true once this session passed a second factor.
        is_verified = getattr(request.user, "is_verified", None)
        return super().has_permission(request) and bool(is_verified and is_verified())

    def login(self, request, extra_context=None):
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"), settings.LOGIN_URL)

    def register(self, model_or_iterable, admin_class=None, **options):
        from django.contrib.admin import ModelAdmin

        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, AuditedAdmin):
            admin_class = type(f"Audited{admin_class.__name__}", (AuditedAdmin, admin_class), {})
        return super().register(model_or_iterable, admin_class, **options)
