from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from accounts import views as account_views
from accreditation import urls as accreditation_urls
from certificates import views as certificate_views
from certificates.sharing import views as sharing_views

from .api import api
from .views import favicon, handler_404_view, handler_500_view, healthz, home, ping

urlpatterns = [
    # The scan API first, before the API's own routing (tokens always contain dots; /verify/lookup does not).
    re_path(r"^api/v1/verify/(?P<token>[^/]*\.[^/]*)$", certificate_views.verify_api, name="verify_api"),
    path("api/v1/", api.urls),
    path("", home, name="home"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("ping", ping, name="ping"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("reference/", include("occupations.urls")),
    path("accreditation/", include("accreditation.urls")),
    path("assessments/", include("assessments.urls")),
    path("certificates/national/", include("certificates.national.urls")),
    path("certificates/webhooks/", include("certificates.webhooks.urls")),
    path("certificates/shared/", include("certificates.sharing.urls")),
    path("certificates/", include("certificates.urls")),
    path("subsidies/", include("subsidies.urls")),
    path("oversight/", include("oversight.urls")),
    path("exports/", include("core.urls")),
    path("v/<str:token>", certificate_views.verify_page, name="verify"),
    path("v/<str:token>/photo", certificate_views.verify_photo, name="verify_photo"),
    path("s/<str:token>", sharing_views.verify_page, name="shared_copy_verify"),
    path("verify/", certificate_views.lookup_page, name="verify_lookup"),
    path(".well-known/jwks.json", certificate_views.jwks, name="jwks"),
    path(".well-known/sm2-keys.json", certificate_views.sm2_keys, name="sm2_keys"),
    path(
        ".well-known/document-signing-chain.pem",
        certificate_views.document_signing_chain,
        name="document_signing_chain",
    ),
    path(
        ".well-known/document-signing-chain-sm2.pem",
        certificate_views.document_signing_chain_sm2,
        name="document_signing_chain_sm2",
    ),
    path("directory/", include((accreditation_urls.public_urlpatterns, "directory"))),
]

if settings.DEV_IDP_ENABLED:
    # The local identity provider: development, the demo and the tests only (settings refuse it in production).
    urlpatterns += [path("dev-idp/", include("devidp.urls"))]

# No URL serves MEDIA_ROOT, in development either: every upload goes out through a view that checks the reader
# (core/files.py; SECURITY.md, "File uploads").

handler404 = handler_404_view
handler500 = handler_500_view
