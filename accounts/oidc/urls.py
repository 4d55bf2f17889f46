from django.urls import path

from . import views

# Included into accounts.urls under "oidc/" (namespace "accounts").
urlpatterns = [
    path("oidc/login/", views.sign_in, name="oidc_login"),
    path("oidc/link/", views.link, name="oidc_link"),
    path("oidc/callback/", views.callback, name="oidc_callback"),
]
