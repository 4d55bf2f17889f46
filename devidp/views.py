"""A small OpenID Connect provider (authorization code flow with PKCE S256), by the book, for development.

It plays the government identity provider for `make run`, the demo and the tests, so that the platform's relying
party is exercised over real HTTP: discovery, JWKS, the browser's redirects, the token call, a signed ID token.
Refusals follow RFC 6749 §4.1.2.1 and §5.2: a bad client or redirect URI is shown to the user and never redirected
to; any other bad request goes back to the client with `error` and the `state`.
"""

import base64
import datetime
import hashlib
import hmac
import re
import secrets
from urllib.parse import unquote_plus, urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from joserfc import jwt

from .keys import ALG, jwks, signing_key
from .models import AccessToken, AuthorizationCode, Citizen, digest

CODE_TTL = datetime.timedelta(seconds=60)
TOKEN_TTL = datetime.timedelta(minutes=5)
ID_TOKEN_TTL = datetime.timedelta(minutes=5)
SCOPES = ["openid", "profile"]
CLAIMS = ["sub", "name", "id_type", "id_number", "acr"]
# RFC 7636 §4.1: 43 to 128 characters from the unreserved set; an S256 challenge is 43 base64url characters.
VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CHALLENGE_RE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
PARAMS = ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge"]


def issuer() -> str:
    return settings.DEV_IDP_ISSUER


def registered_clients() -> dict[str, dict]:
    """The clients this provider knows: DEV_IDP_CLIENTS if set, else the platform itself as configured."""
    clients = getattr(settings, "DEV_IDP_CLIENTS", None)
    if clients:
        return clients
    return {
        settings.OIDC_CLIENT_ID: {
            "secret": settings.OIDC_CLIENT_SECRET,
            "redirect_uris": list(settings.DEV_IDP_REDIRECT_URIS),
            "name": "职业技能等级认定平台",
        }
    }


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _at_hash(access_token: str) -> str:
    half = hashlib.sha256(access_token.encode("ascii")).digest()[:16]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode()


# --- Discovery and keys ----------------------------------------------------------------------------------------


@require_GET
def discovery(request):
    base = issuer()
    return JsonResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALG],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": SCOPES,
            "claims_supported": [*CLAIMS, "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr"],
            "acr_values_supported": list(Citizen.Assurance.values),
        }
    )


@require_GET
def jwks_view(request):
    return JsonResponse(jwks())


# --- Authorization endpoint ------------------------------------------------------------------------------------


class _Refusal(Exception):
    def __init__(self, error: str, description: str):
        self.error, self.description = error, description


def _validate(params: dict) -> dict:
    """The checks that decide whether the request may be answered by redirecting to the client."""
    if params["response_type"] != "code":
        raise _Refusal("unsupported_response_type", "only the authorization code flow is supported")
    if "openid" not in params["scope"].split():
        raise _Refusal("invalid_scope", "the openid scope is required")
    if not params["state"] or len(params["state"]) > 255:
        raise _Refusal("invalid_request", "state is required (at most 255 characters)")
    if not params["nonce"] or len(params["nonce"]) > 255:
        raise _Refusal("invalid_request", "nonce is required (at most 255 characters)")
    if params["code_challenge_method"] != "S256" or not CHALLENGE_RE.match(params["code_challenge"]):
        raise _Refusal("invalid_request", "PKCE is required with code_challenge_method=S256")
    return params


def _client_and_redirect(params: dict) -> tuple[dict | None, str]:
    """The client and its redirect URI when both are registered (exact string match), else why not."""
    client = registered_clients().get(params["client_id"])
    if client is None:
        return None, "未知的客户端(client_id)"
    if params["redirect_uri"] not in client["redirect_uris"]:
        return None, "回调地址(redirect_uri)未登记"
    return client, ""


def _back_to_client(redirect_uri: str, **values: str) -> HttpResponseRedirect:
    sep = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(redirect_uri + sep + urlencode({k: v for k, v in values.items() if v}))


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request):
    source = request.GET if request.method == "GET" else request.POST
    params = {name: source.get(name, "") for name in PARAMS}
    params["code_challenge_method"] = source.get("code_challenge_method", "")
    client, problem = _client_and_redirect(params)
    if client is None:
        return render(request, "devidp/error.html", {"problem": problem}, status=400)
    try:
        _validate(params)
    except _Refusal as exc:
        return _back_to_client(
            params["redirect_uri"], error=exc.error, error_description=exc.description, state=params["state"]
        )
    context = {"params": params, "client": client, "issuer": issuer()}
    if request.method == "GET":
        return render(request, "devidp/authorize.html", context)
    if request.POST.get("decision") != "allow":
        return _back_to_client(
            params["redirect_uri"], error="access_denied", error_description="the user declined", state=params["state"]
        )
    citizen = Citizen.objects.filter(username=request.POST.get("username", "").strip()).first()
    if citizen is None or not citizen.check_password(request.POST.get("password", "")):
        context["error"] = "用户名或密码不正确"
        context["username"] = request.POST.get("username", "")
        return render(request, "devidp/authorize.html", context)
    code = secrets.token_urlsafe(32)
    now = timezone.now()
    AuthorizationCode.objects.create(
        code_hash=digest(code),
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        citizen=citizen,
        scope=params["scope"],
        nonce=params["nonce"],
        code_challenge=params["code_challenge"],
        auth_time=now,
        expires_at=now + CODE_TTL,
    )
    # RFC 9207: the issuer travels with the code, so a client talking to several providers can tell them apart.
    return _back_to_client(params["redirect_uri"], code=code, state=params["state"], iss=issuer())


# --- Token endpoint --------------------------------------------------------------------------------------------


def _token_error(error: str, description: str, status: int = 400, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name] = value
    return response


def _authenticate_client(request) -> tuple[str | None, bool]:
    """(client_id, used Basic) when the client proved its secret (RFC 6749 §2.3.1), else (None, used Basic)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    basic = header.startswith("Basic ")
    if basic:
        try:
            raw = base64.b64decode(header[6:], validate=True).decode()
            client_id, _, secret = (unquote_plus(part) for part in raw.partition(":"))
        except (ValueError, UnicodeDecodeError):
            return None, True
    else:
        client_id, secret = request.POST.get("client_id", ""), request.POST.get("client_secret", "")
    client = registered_clients().get(client_id)
    if client is None or not secret or not hmac.compare_digest(client["secret"].encode(), secret.encode()):
        return None, basic
    return client_id, basic


def _redeem(code: str, client_id: str) -> AuthorizationCode | None:
    """The code, marked used in the same statement that checks it was unused: two presentations cannot both win.
    A second presentation revokes what the first one got (RFC 6749 §4.1.2)."""
    found = AuthorizationCode.objects.filter(code_hash=digest(code), client_id=client_id).first()
    if found is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        won = AuthorizationCode.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now)
        if not won:
            AccessToken.objects.filter(code=found, revoked_at__isnull=True).update(revoked_at=now)
            return None
    found.used_at = now
    return found


def id_token_claims(code: AuthorizationCode, access_token: str) -> dict:
    citizen = code.citizen
    now = timezone.now()
    return {
        "iss": issuer(),
        "sub": citizen.subject,
        "aud": code.client_id,
        "azp": code.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + ID_TOKEN_TTL).timestamp()),
        "auth_time": int(code.auth_time.timestamp()),
        "nonce": code.nonce,
        "acr": citizen.assurance,
        "amr": ["pwd"],
        "at_hash": _at_hash(access_token),
        "jti": secrets.token_urlsafe(16),
        **_person_claims(citizen),
    }


def sign(claims: dict) -> str:
    key = signing_key()
    return jwt.encode({"alg": ALG, "kid": key.kid, "typ": "JWT"}, claims, key)


def _person_claims(citizen: Citizen) -> dict:
    return {"name": citizen.name, "id_type": citizen.id_type, "id_number": citizen.id_number}


@csrf_exempt  # called by the client's server with its own credentials, never by a browser with cookies
@never_cache
@require_POST
def token(request):
    client_id, basic = _authenticate_client(request)
    if client_id is None:
        headers = {"WWW-Authenticate": 'Basic realm="dev-idp"'} if basic else {}
        return _token_error("invalid_client", "client authentication failed", status=401, **headers)
    if request.POST.get("grant_type") != "authorization_code":
        return _token_error("unsupported_grant_type", "only authorization_code is supported")
    code = _redeem(request.POST.get("code", ""), client_id)
    if code is None:
        return _token_error("invalid_grant", "the code is unknown, was issued to another client, or was used")
    if code.expires_at <= timezone.now():
        return _token_error("invalid_grant", "the code has expired")
    if request.POST.get("redirect_uri", "") != code.redirect_uri:
        return _token_error("invalid_grant", "redirect_uri does not match the authorization request")
    verifier = request.POST.get("code_verifier", "")
    if not VERIFIER_RE.match(verifier) or not hmac.compare_digest(_s256(verifier), code.code_challenge):
        return _token_error("invalid_grant", "PKCE verification failed")
    access_token = secrets.token_urlsafe(32)
    AccessToken.objects.create(
        token_hash=digest(access_token),
        code=code,
        citizen=code.citizen,
        client_id=client_id,
        scope=code.scope,
        expires_at=timezone.now() + TOKEN_TTL,
    )
    response = JsonResponse(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": int(TOKEN_TTL.total_seconds()),
            "scope": code.scope,
            "id_token": sign(id_token_claims(code, access_token)),
        }
    )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


# --- UserInfo endpoint -----------------------------------------------------------------------------------------


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def userinfo(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    raw = header[7:].strip() if header.startswith("Bearer ") else ""
    found = AccessToken.objects.select_related("citizen").filter(token_hash=digest(raw)).first() if raw else None
    if found is None or found.revoked_at is not None or found.expires_at <= timezone.now():
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    citizen = found.citizen
    return JsonResponse({"sub": citizen.subject, "acr": citizen.assurance, **_person_claims(citizen)})
