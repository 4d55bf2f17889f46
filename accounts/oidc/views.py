"""The relying party's pages: start a sign-in (or a link) at the provider, and take the answer back."""

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import DjangoIntegration
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from joserfc.errors import JoseError

from core.errors import Conflict, PermissionDenied, PlatformError
from core.pages import safe_next
from core.ratelimit import check_rate, client_ip

from ..actors import Actor
from .provider import (
    ProviderConfig,
    ProviderUnavailable,
    SignInFailed,
    claims_options,
    provider_client,
    provider_config,
    remember_jwks,
    vouched_from_claims,
)
from .services import oidc_failure_record, oidc_link, oidc_sign_in

logger = logging.getLogger(__name__)
# Where authlib keeps each pending sign-in (state, nonce, PKCE verifier) in the session, keyed by its state.
_PENDING = DjangoIntegration("gov")


def _config() -> ProviderConfig:
    cfg = provider_config()
    if cfg is None:
        raise Http404()
    return cfg


def _result(request, error: PlatformError):
    """A page that says plainly what happened and what to do next."""
    return render(
        request,
        "accounts/oidc_result.html",
        {"message": error.message, "code": error.code, "provider": settings.OIDC_PROVIDER_LABEL},
        status=error.status,
    )


def _start(request, intent: str):
    cfg = _config()
    try:
        check_rate("oidc", client_ip(request))
        client = provider_client(cfg)
        redirect_uri = settings.OIDC_REDIRECT_URI or request.build_absolute_uri(reverse("accounts:oidc_callback"))
        authorization = client.create_authorization_url(redirect_uri)
    except PlatformError as exc:
        return _result(request, exc)
    _warn_if_csp_blocks(request, authorization["url"])
    client.save_authorize_data(
        request,
        redirect_uri=redirect_uri,
        intent=intent,
        user_id=request.user.pk if intent == "link" else None,
        next=safe_next(request, ""),
        **authorization,
    )
    return HttpResponseRedirect(authorization["url"])


def _warn_if_csp_blocks(request, url: str) -> None:
    """The Content-Security-Policy's form-action covers this redirect; a provider origin it does not list would leave
    the browser on a blank refusal. Say so in the log, where an operator can act on it."""
    origin = "/".join(url.split("/", 3)[:3])
    if origin != f"{request.scheme}://{request.get_host()}" and origin not in settings.CSP_FORM_ACTION_SOURCES:
        logger.error(
            "the provider's authorization endpoint %s is not in OIDC_FORM_ACTION_ORIGINS: browsers will refuse it",
            origin,
        )


@require_POST
def sign_in(request):
    """使用统一身份认证登录: off to the provider, with a fresh state, nonce and PKCE verifier in the session."""
    return _start(request, "sign_in")


@login_required
@require_POST
def link(request):
    """绑定统一身份认证, from the account page: the same round trip, for the account signed in now."""
    return _start(request, "link")


def _claims(cfg: ProviderConfig, client, token: dict) -> dict:
    """The validated ID token's claims, completed by the userinfo answer for the same subject (OIDC Core §5.3.2)."""
    claims = token.get("userinfo")
    if not claims:
        raise SignInFailed(code="no_id_token")
    claims = dict(claims)
    if client.server_metadata.get("userinfo_endpoint"):
        info = client.userinfo(token=token)
        if info.get("sub") != claims["sub"]:
            raise SignInFailed(code="userinfo_subject_mismatch")
        claims = {**info, **claims}  # what the signed ID token says wins
    remember_jwks(cfg, client)
    return claims


def _cancelled() -> PlatformError:
    return PlatformError(_("您已在身份提供方取消授权,未登录。"), code="access_denied")


@require_GET
def callback(request):
    """The provider sends the browser back here with a code and the state; everything is checked before use."""
    cfg = _config()
    state = request.GET.get("state", "")
    pending = _PENDING.get_state_data(request.session, state) if state else None
    if pending is None:
        # No sign-in started in this browser under that state: a forged or replayed answer, or a stale tab.
        logger.warning("identity provider callback without a pending sign-in")
        return _result(
            request,
            SignInFailed(_("登录请求已失效,或不是从本站发起的。请返回登录页重新登录。"), code="state_mismatch"),
        )
    actor = Actor.from_request(request)
    intent = pending.get("intent", "sign_in")
    try:
        client = provider_client(cfg)
        token = client.authorize_access_token(request, claims_options=claims_options(cfg), leeway=cfg.leeway)
        vouched = vouched_from_claims(cfg, _claims(cfg, client, token))
    except (AuthlibBaseError, JoseError, requests.RequestException, PlatformError, ValueError, KeyError) as exc:
        _PENDING.clear_state_data(request.session, state)
        why = str(getattr(exc, "error", None) or getattr(exc, "code", None) or type(exc).__name__)
        logger.warning("identity provider sign-in failed: %s: %s", why, exc)
        oidc_failure_record(actor=actor, why=why, detail=str(exc), intent=intent)
        if why == "access_denied":
            return _result(request, _cancelled())
        if isinstance(exc, requests.RequestException):
            return _result(request, ProviderUnavailable())
        return _result(request, exc if isinstance(exc, PlatformError) else SignInFailed())
    try:
        if intent == "link":
            if not request.user.is_authenticated or request.user.pk != pending.get("user_id"):
                raise PermissionDenied(
                    _("关联请求与当前登录的账号不一致,请重新登录后再关联。"), code="link_user_changed"
                )
            result = oidc_link(actor=actor, vouched=vouched)
        else:
            result = oidc_sign_in(vouched=vouched)
    except PlatformError as exc:
        return _result(request, exc)
    if result.user is None:
        return _result(request, Conflict(result.message, code=result.outcome))
    if intent == "sign_in":
        login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
        request.session["auth_channel"] = "oidc"
    if result.message:
        (messages.success if result.outcome in ("bound", "linked") else messages.warning)(request, result.message)
    if pending.get("next"):
        return redirect(pending["next"])
    return redirect("home" if result.outcome == "signed_in" else "accounts:me")
