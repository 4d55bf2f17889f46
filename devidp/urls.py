from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import path

from . import views

if getattr(settings, "PRODUCTION", False):
    raise ImproperlyConfigured("devidp is a development identity provider and is never mounted in production")

app_name = "devidp"
urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="discovery"),
    path("jwks", views.jwks_view, name="jwks"),
    path("authorize", views.authorize, name="authorize"),
    path("token", views.token, name="token"),
    path("userinfo", views.userinfo, name="userinfo"),
]
