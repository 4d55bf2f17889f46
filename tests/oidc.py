"""Drives real-name sign-in over real HTTP, as a browser would: the platform's pages, the local identity provider's
login and consent, the redirects between them. The token call is the platform's own, server to server."""

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import requests

from devidp.models import Citizen

CITIZEN_PASSWORD = "citizen-pass-2026"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def citizen(username: str, name: str, id_number: str, assurance: str = "L3", id_type: str = "ric") -> Citizen:
    c = Citizen(username=username, name=name, id_type=id_type, id_number=id_number, assurance=assurance)
    c.set_password(CITIZEN_PASSWORD)
    c.save()
    return c


def with_query(url: str, **changes: str) -> str:
    parts = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunparse(parts._replace(query=urlencode(query)))


@dataclass
class Answer:
    """The platform's answer to the callback: where it sends the browser, or the page it shows."""

    status: int
    location: str
    text: str

    @property
    def message(self) -> str:
        found = re.search(r'id="oidc-message">(.*?)</p>', self.text, re.S)
        return html.unescape(found.group(1)) if found else ""

    @property
    def code(self) -> str:
        found = re.search(r'id="oidc-result" data-code="([^"]*)"', self.text)
        return found.group(1) if found else ""


class Visitor:
    """One browser: its own cookies (the platform's session, which also holds the pending sign-in)."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def csrf(self, path: str = "/login/") -> str:
        return _CSRF.search(self.http.get(self.base + path).text).group(1)

    def password_login(self, username: str, password: str) -> None:
        """Sign in with the password; a staff account then passes its second factor with the test authenticator
        (tests.factories.enrolled), as the person would type the code their app shows."""
        r = self.http.post(
            self.base + "/login/",
            data={"csrfmiddlewaretoken": self.csrf(), "username": username, "password": password},
            allow_redirects=False,
        )
        assert r.status_code == 302, r.text[:500]
        if "/accounts/second-factor/" in r.headers["Location"]:
            from accounts.models import User
            from tests.factories import enrolled, totp_code

            enrolled(User.objects.get(username=username))
            verify = "/accounts/second-factor/verify/"
            r = self.http.post(
                self.base + verify,
                data={"csrfmiddlewaretoken": self.csrf(verify), "code": totp_code()},
                allow_redirects=False,
            )
            assert r.status_code == 302 and "/second-factor/" not in r.headers["Location"], r.text[:500]

    def start(self, path: str = "/accounts/oidc/login/", csrf_from: str = "/login/", **data) -> str:
        """Press the button: the platform sends the browser to the provider. Returns the authorize URL."""
        r = self.http.post(
            self.base + path, data={"csrfmiddlewaretoken": self.csrf(csrf_from), **data}, allow_redirects=False
        )
        assert r.status_code == 302, (r.status_code, r.text[:500])
        return r.headers["Location"]

    def consent(self, authorize_url: str, username: str, password: str = CITIZEN_PASSWORD, decision: str = "allow"):
        """At the provider: sign in and consent. Returns the URL the provider sends the browser back to."""
        page = self.http.get(authorize_url)
        assert page.status_code == 200, page.text[:500]
        fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(page.text)}
        r = self.http.post(
            page.url,
            data={**fields, "username": username, "password": password, "decision": decision},
            allow_redirects=False,
        )
        assert r.status_code == 302, r.text[:500]
        return r.headers["Location"]

    def back(self, callback_url: str) -> Answer:
        r = self.http.get(callback_url, allow_redirects=False)
        return Answer(r.status_code, r.headers.get("Location", ""), r.text)

    def sign_in(self, username: str, password: str = CITIZEN_PASSWORD) -> Answer:
        return self.back(self.consent(self.start(), username, password))

    def whoami(self) -> str:
        """The username the platform's session is signed in as, or "" (from /api/v1/accounts/me)."""
        r = self.http.get(self.base + "/api/v1/accounts/me")
        return r.json()["username"] if r.status_code == 200 else ""
