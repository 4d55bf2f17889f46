"""The identity provider the platform trusts, as the environment configures it, and the client that talks to it.

The client is authlib's (`authlib.integrations.django_client`): authorization code flow with PKCE (S256), state and
nonce kept in the session and checked, the ID token's signature checked against the provider's JWKS with only the
configured algorithms, and its issuer, audience, expiry, issue time, nonce and access-token hash validated.
mozilla-django-oidc 5 was the other candidate; it does not check the ID token's audience (`verify_aud: False`) or
issuer, has no discovery, and takes the identity from the userinfo answer without matching its subject to the
ID token's: each would need code of our own around it, where authlib does it by the specification.
"""

import logging
import threading
import time
from dataclasses import dataclass

import requests
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.errors import PlatformError, ValidationFailed

from ..identity import id_type_from_label, mask_id_number, normalise_id_number

logger = logging.getLogger(__name__)
METADATA_TTL = 600.0  # seconds a discovery document (and the JWKS fetched with it) is reused


class ProviderUnavailable(PlatformError):
    status = 503
    code = "identity_provider_unavailable"
    default_message = _lazy("统一身份认证服务暂时无法访问,请稍后再试,或使用账号密码登录。")


class SignInFailed(PlatformError):
    """The answer that came back through the browser or from the provider cannot be trusted."""

    status = 400
    code = "oidc_failed"
    default_message = _lazy("统一身份认证未完成:返回的登录信息无法验证。请重新登录。")


@dataclass(frozen=True)
class ProviderConfig:
    issuer: str
    discovery_url: str
    endpoints: tuple[tuple[str, str], ...]  # endpoints set one by one, overriding discovery
    client_id: str
    client_secret: str
    auth_method: str
    scopes: str
    algorithms: tuple[str, ...]
    timeout: float
    leeway: int
    label: str


def provider_config() -> ProviderConfig | None:
    """The configured provider, or None when real-name sign-in is not set up on this installation."""
    if not (settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID):
        return None
    issuer = settings.OIDC_ISSUER.rstrip("/")
    return ProviderConfig(
        issuer=issuer,
        discovery_url=settings.OIDC_DISCOVERY_URL or f"{issuer}/.well-known/openid-configuration",
        endpoints=tuple(
            (key, value)
            for key, value in [
                ("authorization_endpoint", settings.OIDC_AUTHORIZATION_ENDPOINT),
                ("token_endpoint", settings.OIDC_TOKEN_ENDPOINT),
                ("userinfo_endpoint", settings.OIDC_USERINFO_ENDPOINT),
                ("jwks_uri", settings.OIDC_JWKS_URI),
            ]
            if value
        ),
        client_id=settings.OIDC_CLIENT_ID,
        client_secret=settings.OIDC_CLIENT_SECRET,
        auth_method=settings.OIDC_TOKEN_AUTH_METHOD,
        scopes=settings.OIDC_SCOPES,
        algorithms=tuple(settings.OIDC_SIGNING_ALGS),
        timeout=settings.OIDC_TIMEOUT,
        leeway=settings.OIDC_LEEWAY,
        label=settings.OIDC_PROVIDER_LABEL,
    )


# --- Discovery, cached per process -----------------------------------------------------------------------------

_cache: dict[ProviderConfig, tuple[float, dict]] = {}
_cache_lock = threading.Lock()


def _metadata(cfg: ProviderConfig) -> dict:
    with _cache_lock:
        hit = _cache.get(cfg)
    if hit is not None and time.monotonic() - hit[0] < METADATA_TTL:
        return dict(hit[1])
    needed = {"authorization_endpoint", "token_endpoint", "jwks_uri"}
    endpoints = dict(cfg.endpoints)
    metadata = {"issuer": cfg.issuer, **endpoints}
    if not needed <= endpoints.keys():  # endpoints set one by one: a provider without discovery
        try:
            response = requests.get(cfg.discovery_url, timeout=cfg.timeout)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            logger.warning("identity provider discovery failed: %s", exc)
            raise ProviderUnavailable() from exc
        if not isinstance(document, dict) or document.get("issuer") != cfg.issuer:
            # OpenID Connect Discovery §4.3: the document must name the very issuer it was fetched for.
            logger.error("the discovery document at %s names another issuer", cfg.discovery_url)
            raise ProviderUnavailable()
        metadata = {**document, **endpoints}
        if not needed <= metadata.keys():
            logger.error("the discovery document at %s lacks %s", cfg.discovery_url, needed - metadata.keys())
            raise ProviderUnavailable()
    # Only the algorithms the operator configured, whatever the provider says it supports ("none" never).
    metadata["id_token_signing_alg_values_supported"] = [a for a in cfg.algorithms if a.lower() != "none"]
    with _cache_lock:
        _cache[cfg] = (time.monotonic(), metadata)
    return dict(metadata)


def remember_jwks(cfg: ProviderConfig, client) -> None:
    """Keep the JWKS the client fetched for the next sign-in (refetched by authlib on an unknown key id)."""
    jwks = client.server_metadata.get("jwks")
    if jwks:
        with _cache_lock:
            hit = _cache.get(cfg)
            if hit is not None:
                hit[1]["jwks"] = jwks


def forget_metadata() -> None:
    with _cache_lock:
        _cache.clear()


def provider_client(cfg: ProviderConfig):
    """A client for one request: configuration is read afresh, discovery comes from the cache."""
    metadata = _metadata(cfg)
    scopes = cfg.scopes.split()
    if "openid" not in scopes:
        scopes.insert(0, "openid")
    return OAuth().register(
        name="gov",
        client_id=cfg.client_id,
        client_secret=cfg.client_secret,
        client_kwargs={
            "scope": " ".join(scopes),
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": cfg.auth_method,
            "default_timeout": cfg.timeout,
        },
        **metadata,
    )


def claims_options(cfg: ProviderConfig) -> dict:
    """What the ID token must say beyond its signature: who issued it and for whom."""
    return {
        "iss": {"essential": True, "value": cfg.issuer},
        "aud": {"essential": True, "value": cfg.client_id},
        "sub": {"essential": True},
    }


# --- What the provider vouches for -----------------------------------------------------------------------------


def assurance_rank(value: str) -> int:
    """Position of an assurance level in OIDC_ASSURANCE_LEVELS (lowest first); -1 for a value not listed."""
    levels = list(settings.OIDC_ASSURANCE_LEVELS)
    return levels.index(value) if value in levels else -1


@dataclass(frozen=True)
class Vouched:
    """What a validated ID token (and the userinfo answer for the same subject) says about the person."""

    issuer: str
    subject: str
    assurance: str
    name: str
    id_type: str
    id_number: str  # normalised; "" when the provider sent none or an invalid one
    problem: str  # why the identity claims cannot be used, "" when they can
    auth_time: int | None = None

    @property
    def assurance_ok(self) -> bool:
        return assurance_rank(self.assurance) >= assurance_rank(settings.OIDC_MIN_ASSURANCE)

    @property
    def can_bind(self) -> bool:
        return self.assurance_ok and not self.problem

    def evidence(self) -> dict:
        """The proof kept with a binding: enough to trace it back to the provider, no full ID number."""
        return {
            "issuer": self.issuer,
            "subject": self.subject,
            "acr": self.assurance,
            "auth_time": self.auth_time,
            "name": self.name,
            "id_type": self.id_type,
            "id_number": mask_id_number(self.id_number),
        }


def vouched_from_claims(cfg: ProviderConfig, claims: dict) -> Vouched:
    """Read the configured claims. Claims that are missing or malformed make the answer unusable for binding,
    never an error page: the person is still signed in, and told why their account stays unbound."""
    problem = ""
    name = str(claims.get(settings.OIDC_CLAIM_NAME) or "").strip()
    raw_type = str(claims.get(settings.OIDC_CLAIM_ID_TYPE) or "").strip()
    raw_number = str(claims.get(settings.OIDC_CLAIM_ID_NUMBER) or "").strip()
    id_type = settings.OIDC_ID_TYPE_MAP.get(raw_type, raw_type) or settings.OIDC_DEFAULT_ID_TYPE
    id_number = ""
    try:
        id_type = id_type_from_label(id_type)
        if not raw_number:
            raise ValidationFailed(_("未提供证件号码"))
        id_number = normalise_id_number(id_type, raw_number)
    except ValidationFailed as exc:
        problem = exc.message
    if not name or len(name) > 64:
        problem = problem or _("未提供姓名")
    auth_time = claims.get("auth_time")
    return Vouched(
        issuer=cfg.issuer,
        subject=str(claims["sub"]),
        assurance=str(claims.get(settings.OIDC_CLAIM_ASSURANCE) or ""),
        name=name[:64],
        id_type=id_type,
        id_number=id_number,
        problem=problem,
        auth_time=auth_time if isinstance(auth_time, int) else None,
    )
