from django.urls import path

from . import views, views_identity, views_security
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

# Account security: second factor and passwords (accounts/views_security.py).
urlpatterns += [
    path("security/", views_security.security, name="security"),
    path("second-factor/enrol/", views_security.enrol, name="second_factor_enrol"),
    path("second-factor/verify/", views_security.verify, name="second_factor_verify"),
    path("second-factor/recovery-codes/", views_security.recovery_codes, name="recovery_codes"),
    path("second-factor/staff/", views_security.staff, name="second_factor_staff"),
    path("second-factor/staff/<int:user_id>/reset/", views_security.staff_reset, name="second_factor_reset"),
    path("password/", views_security.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views_security.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views_security.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views_security.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", views_security.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

# Identity: binding codes and the conflicts a bureau decides (accounts/views_identity.py).
urlpatterns += [
    path("bind/code/", views_identity.bind_code, name="bind_code"),
    path("binding-codes/", views_identity.binding_code_desk, name="binding_code_desk"),
    path("identity-conflicts/", views_identity.conflicts, name="conflicts"),
    path("identity-conflicts/<int:conflict_id>/", views_identity.conflict, name="conflict"),
    path("identity-conflicts/<int:conflict_id>/evidence/", views_identity.conflict_evidence, name="conflict_evidence"),
    path("invitations/", views_identity.invitations, name="invitations"),
    path("invitations/<int:invitation_id>/revoke/", views_identity.invitation_revoke_page, name="invitation_revoke"),
    path("invite/<str:token>/", views_identity.invitation, name="invitation"),
]
