"""A staff account signed in with its password alone reaches only the second-factor pages until it passes one."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from core.errors import SecondFactorRequired, error_response

from .second_factor import second_factor_pending, totp_device

# The pages a half-signed-in staff account may still open (by URL name).
OPEN_DURING_SECOND_FACTOR = frozenset(
    {
        "login",
        "logout",
        "accounts:second_factor_verify",
        "accounts:second_factor_enrol",
        "set_language",
        "healthz",
        "ping",
    }
)


class SecondFactorMiddleware:
    """After django_otp's OTPMiddleware: pages redirect to the verify (or enrol) page keeping `next`; session calls
    to the API get the platform's JSON error 401 `second_factor_required`. Requests carrying an Authorization
    header (organisation API tokens) are left to the API's own authentication, which checks sessions again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_DURING_SECOND_FACTOR:
            return None
        if not second_factor_pending(request):
            return None
        if request.path.startswith("/api/"):
            if "HTTP_AUTHORIZATION" in request.META:
                return None
            return second_factor_json(request)
        return redirect(second_factor_url(request, request.get_full_path()))


def second_factor_url(request, next_url: str) -> str:
    """Where a staff account goes to pass its second factor: verify if it has an authenticator, else enrol."""
    name = "accounts:second_factor_verify" if totp_device(request.user) else "accounts:second_factor_enrol"
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def second_factor_json(request) -> JsonResponse:
    exc = SecondFactorRequired(
        details={
            "verify_url": reverse("accounts:second_factor_verify"),
            "enrol_url": reverse("accounts:second_factor_enrol"),
        }
    )
    return error_response(exc.status, exc.code, exc.message, exc.details)
