"""The local identity provider refuses what a real one must: unknown clients and redirect URIs (shown, never
redirected to), requests without PKCE S256, nonce or state, wrong verifiers, codes used twice, expired or issued to
another client, unauthenticated clients, dead access tokens. Its ID tokens verify against its published JWKS."""

import base64
import datetime
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from devidp.models import AccessToken, AuthorizationCode
from tests.oidc import CITIZEN_PASSWORD, citizen

pytestmark = pytest.mark.django_db

REDIRECT = "http://testserver/accounts/oidc/callback/"
CLIENT = "test-platform"
SECRET = "test-client-secret-0123456789"


@pytest.fixture(autouse=True)
def _provider(settings):
    settings.DEV_IDP_ISSUER = "http://testserver/dev-idp"
    settings.DEV_IDP_CLIENTS = {
        CLIENT: {"secret": SECRET, "redirect_uris": [REDIRECT], "name": "测试平台"},
        "other-client": {
            "secret": "other-secret-0123456789",
            "redirect_uris": ["http://other.test/cb"],
            "name": "另一平台",
        },
    }


@pytest.fixture
def person():
    return citizen("wang", "王芳", "220102199001011234", "L3")


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _params(verifier: str, **overrides) -> dict:
    return {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
    } | overrides


def _code(client: Client, verifier: str, username: str = "wang", **overrides) -> str:
    params = _params(verifier, **overrides)
    r = client.post(
        "/dev-idp/authorize", {**params, "username": username, "password": CITIZEN_PASSWORD, "decision": "allow"}
    )
    assert r.status_code == 302, r.content[:300]
    query = parse_qs(urlparse(r["Location"]).query)
    assert query["state"] == [params["state"]]
    return query["code"][0]


def _exchange(
    client: Client, code: str, verifier: str, *, redirect_uri: str = REDIRECT, secret: str = SECRET, client_id=CLIENT
):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        "/dev-idp/token",
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": redirect_uri},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def test_discovery_and_jwks_describe_the_provider():
    client = Client()
    doc = client.get("/dev-idp/.well-known/openid-configuration").json()
    assert doc["issuer"] == "http://testserver/dev-idp"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["token_endpoint"] == "http://testserver/dev-idp/token"
    keys = client.get("/dev-idp/jwks").json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & keys[0].keys()  # public parts only


def test_a_code_becomes_a_signed_id_token_once(person):
    client, verifier = Client(), secrets.token_urlsafe(48)
    code = _code(client, verifier)
    r = _exchange(client, code, verifier)
    assert r.status_code == 200, r.content
    assert "no-store" in r["Cache-Control"]
    body = r.json()
    token = jwt.decode(
        body["id_token"], KeySet.import_key_set(client.get("/dev-idp/jwks").json()), algorithms=["RS256"]
    )
    claims = token.claims
    assert claims["iss"] == "http://testserver/dev-idp" and claims["aud"] == CLIENT
    assert claims["sub"] == person.subject and claims["nonce"] == "nonce-456"
    assert (claims["name"], claims["id_number"], claims["acr"]) == ("王芳", "220102199001011234", "L3")
    assert claims["exp"] > claims["iat"]
    info = client.get("/dev-idp/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert info.status_code == 200 and info.json()["sub"] == person.subject

    # The same code again: refused, and the access token the first exchange got is revoked (RFC 6749 §4.1.2).
    again = _exchange(client, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert client.get("/dev-idp/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}").status_code == 401
    assert AccessToken.objects.get().revoked_at is not None


def test_a_wrong_verifier_is_refused_and_burns_the_code(person):
    client, verifier = Client(), secrets.token_urlsafe(48)
    code = _code(client, verifier)
    r = _exchange(client, code, secrets.token_urlsafe(48))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert "PKCE" in r.json()["error_description"]
    assert _exchange(client, code, verifier).status_code == 400  # a code is presented once, right or wrong
    assert not AccessToken.objects.exists()


def test_a_wrong_redirect_uri_is_refused(person):
    client, verifier = Client(), secrets.token_urlsafe(48)
    code = _code(client, verifier)
    r = _exchange(client, code, verifier, redirect_uri="http://testserver/elsewhere/")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_an_expired_code_is_refused(person):
    client, verifier = Client(), secrets.token_urlsafe(48)
    code = _code(client, verifier)
    AuthorizationCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    r = _exchange(client, code, verifier)
    assert r.status_code == 400 and r.json() == {"error": "invalid_grant", "error_description": "the code has expired"}
    assert not AccessToken.objects.exists()


def test_codes_live_for_a_minute(person):
    code = _code(Client(), secrets.token_urlsafe(48))
    row = AuthorizationCode.objects.get()
    assert datetime.timedelta(seconds=55) < row.expires_at - row.auth_time <= datetime.timedelta(seconds=60)
    assert row.code_hash != code  # only a digest is kept


def test_the_client_must_authenticate(person):
    client, verifier = Client(), secrets.token_urlsafe(48)
    code = _code(client, verifier)
    wrong = _exchange(client, code, verifier, secret="not-the-secret")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong["WWW-Authenticate"].startswith("Basic")
    bare = client.post("/dev-idp/token", {"grant_type": "authorization_code", "code": code, "code_verifier": verifier})
    assert bare.status_code == 401
    # client_secret_post works as well, and the code was not spent by the failed attempts.
    posted = client.post(
        "/dev-idp/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": REDIRECT,
            "client_id": CLIENT,
            "client_secret": SECRET,
        },
    )
    assert posted.status_code == 200, posted.content


def test_a_code_issued_to_another_client_is_refused(person):
    client, verifier = Client(), secrets.token_urlsafe(48)
    code = _code(client, verifier)
    r = _exchange(client, code, verifier, client_id="other-client", secret="other-secret-0123456789")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert _exchange(client, code, verifier).status_code == 200  # still the right client's


def test_only_the_authorization_code_grant_is_served(person):
    basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    r = Client().post("/dev-idp/token", {"grant_type": "password"}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"client_id": "nobody"}, "未知的客户端"),
        ({"redirect_uri": "https://evil.example/cb"}, "回调地址"),
        ({"redirect_uri": REDIRECT + "?next=x"}, "回调地址"),  # exact match, nothing appended
    ],
)
def test_an_unknown_client_or_redirect_uri_is_shown_and_never_redirected_to(overrides, problem):
    r = Client().get("/dev-idp/authorize", _params(secrets.token_urlsafe(48), **overrides))
    assert r.status_code == 400 and "Location" not in r
    assert problem in r.content.decode()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),
        ({"nonce": ""}, "invalid_request"),
        ({"state": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
    ],
)
def test_a_request_without_pkce_nonce_or_state_goes_back_with_an_error(overrides, error):
    r = Client().get("/dev-idp/authorize", _params(secrets.token_urlsafe(48), **overrides))
    assert r.status_code == 302 and r["Location"].startswith(REDIRECT)
    query = parse_qs(urlparse(r["Location"]).query)
    assert query["error"] == [error] and "code" not in query
    assert query.get("state", [""])[0] == overrides.get("state", "state-123")


def test_a_wrong_password_or_a_refusal_gives_no_code(person):
    client, params = Client(), _params(secrets.token_urlsafe(48))
    wrong = client.post("/dev-idp/authorize", {**params, "username": "wang", "password": "guess", "decision": "allow"})
    assert wrong.status_code == 200 and "用户名或密码不正确" in wrong.content.decode()
    denied = client.post("/dev-idp/authorize", {**params, "decision": "deny"})
    assert parse_qs(urlparse(denied["Location"]).query)["error"] == ["access_denied"]
    assert not AuthorizationCode.objects.exists()


def test_the_login_form_carries_the_request_and_no_script(person):
    page = Client().get("/dev-idp/authorize", _params(secrets.token_urlsafe(48))).content.decode()
    assert 'name="code_challenge"' in page and 'name="nonce"' in page
    assert "<script" not in page
    assert re.search(r"测试平台", page)


def test_userinfo_needs_a_live_bearer_token(person):
    client, verifier = Client(), secrets.token_urlsafe(48)
    access = _exchange(client, _code(client, verifier), verifier).json()["access_token"]
    assert client.get("/dev-idp/userinfo").status_code == 401
    assert client.get("/dev-idp/userinfo", HTTP_AUTHORIZATION="Bearer garbage").status_code == 401
    AccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    expired = client.get("/dev-idp/userinfo", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert expired.status_code == 401 and 'error="invalid_token"' in expired["WWW-Authenticate"]
