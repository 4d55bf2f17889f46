from django.urls import path

from . import views
from .oidc import urls as oidc_urls

app_name = "accounts"
urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("signup/", views.signup, name="signup"),
    path("me/", views.account, name="me"),
    *oidc_urls.urlpatterns,
]
