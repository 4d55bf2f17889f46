"""Failed sign-ins are limited per account and per client address; successes never count."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from core.ratelimit import wait_text
from tests.factories import PASSWORD, Role, enrolled, member, totp_code

pytestmark = pytest.mark.django_db

WAIT = re.compile(r"登录失败次数过多,请 \d+ (分钟|秒)后再试")


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def attempt(username: str, password: str, address: str = "10.0.0.1"):
    client = Client(REMOTE_ADDR=address)
    return client, client.post("/login/", {"username": username, "password": password})


def test_failures_are_limited_per_account_from_any_address(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": (3, 900)}
    victim = member(Role.WORKER)
    statuses = [attempt(victim.username, "guess", f"10.0.{i}.1")[1].status_code for i in range(3)]
    assert statuses == [200, 200, 429]
    client, r = attempt(victim.username, PASSWORD, "10.9.9.9")  # the right password from a fresh address waits too
    assert r.status_code == 429 and WAIT.search(r.content.decode())
    assert "_auth_user_id" not in client.session
    other = member(Role.WORKER)
    assert attempt(other.username, PASSWORD, "10.0.0.1")[1].status_code == 302  # other accounts are untouched


def test_the_account_limit_ignores_case_and_unknown_names_count_the_same(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": (2, 900)}
    victim = member(Role.WORKER)
    attempt(victim.username.upper(), "guess")
    assert attempt(victim.username, "guess")[1].status_code == 429
    # An account that does not exist is answered exactly like one that does (no way to test which names exist).
    attempt("nobody-here", "guess")
    r = attempt("nobody-here", "guess")[1]
    assert r.status_code == 429 and WAIT.search(r.content.decode())


def test_failures_are_limited_per_address_across_accounts(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_address": (4, 900)}
    users = [member(Role.WORKER) for _ in range(5)]
    statuses = [attempt(u.username, "guess", "203.0.113.7")[1].status_code for u in users[:4]]
    assert statuses == [200, 200, 200, 429]
    client, r = attempt(users[4].username, PASSWORD, "203.0.113.7")
    assert r.status_code == 429 and WAIT.search(r.content.decode()) and "_auth_user_id" not in client.session
    assert attempt(users[4].username, PASSWORD, "198.51.100.2")[1].status_code == 302  # another address is not


def test_an_office_signing_in_from_one_address_is_not_locked_out(settings):
    """Successes never count: sixty colleagues behind one address sign in, a few mistype, nobody waits."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_address": (5, 900), "login_account": (3, 900)}
    office = "192.0.2.10"
    staff = [member(Role.WORKER) for _ in range(60)]
    for i, user in enumerate(staff):
        if i % 20 == 0:  # three mistyped passwords in the morning, each corrected at once
            assert attempt(user.username, "typo", office)[1].status_code == 200
        assert attempt(user.username, PASSWORD, office)[1].status_code == 302
    for user in staff[:10]:  # and again after lunch
        assert attempt(user.username, PASSWORD, office)[1].status_code == 302


def test_a_success_clears_the_accounts_own_failures(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": (3, 900)}
    user = member(Role.WORKER)
    attempt(user.username, "typo")
    attempt(user.username, "typo")
    assert attempt(user.username, PASSWORD)[1].status_code == 302
    attempt(user.username, "typo")
    attempt(user.username, "typo")
    assert attempt(user.username, PASSWORD)[1].status_code == 302


def test_a_refusal_does_not_check_the_password():
    """While the limit holds, the right password neither signs in nor tells the guesser it was right."""
    user = member(Role.WORKER)
    for _ in range(5):
        attempt(user.username, "guess")
    wrong = attempt(user.username, "guess")[1]
    right = attempt(user.username, PASSWORD)[1]
    assert wrong.status_code == right.status_code == 429
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|\d+ (分钟|秒)')
    assert strip.sub("", wrong.content.decode()) == strip.sub("", right.content.decode())


def test_the_wait_is_said_in_minutes_or_seconds():
    assert wait_text(45) == "45 秒"
    assert wait_text(60) == "1 分钟"
    assert wait_text(61) == "2 分钟"
    assert wait_text(899) == "15 分钟"
    assert wait_text(0) == "1 秒"


def test_the_admin_login_is_the_sites_login(operator):
    r = Client().get("/admin/login/?next=/admin/accounts/user/")
    assert r.status_code == 302 and r["Location"] == "/login/?next=/admin/accounts/user/"
    # Posting credentials to the admin's login signs nobody in: the site's login (limited, two steps) is the way.
    c = Client()
    r = c.post("/admin/login/", {"username": "operator", "password": "x-operator-1"})
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert "_auth_user_id" not in c.session
    assert Client().get("/admin/")["Location"] == "/admin/login/?next=/admin/"


def test_the_admin_needs_the_second_factor_too(operator):
    device = enrolled(operator)
    c = Client()
    r = c.post("/login/?next=/admin/", {"username": "operator", "password": "x-operator-1"})
    assert r["Location"] == "/accounts/second-factor/verify/?next=%2Fadmin%2F"
    assert c.get("/admin/")["Location"] == "/accounts/second-factor/verify/?next=%2Fadmin%2F"
    assert c.get("/admin/accounts/user/")["Location"].startswith("/accounts/second-factor/verify/")
    r = c.post(r["Location"], {"code": totp_code(device.key)})
    assert r["Location"] == "/admin/"
    assert c.get("/admin/").status_code == 200


def test_the_admin_site_refuses_an_unverified_session_even_without_the_middleware(operator, rf):
    """Defence in depth: the admin's own permission check asks for the second factor as well."""
    from django.contrib import admin
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/admin/")
    request.user = operator
    assert not admin.site.has_permission(request)  # no is_verified: OTPMiddleware did not vouch
    operator.is_verified = lambda: True
    assert admin.site.has_permission(request)
    request.user = AnonymousUser()
    assert not admin.site.has_permission(request)
