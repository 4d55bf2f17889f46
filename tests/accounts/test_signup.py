"""Worker sign-up: anyone may make a plain account (no role, no person) from the login page; it says "未实名" and
offers the ways to bind by proof. Bad input changes nothing; sign-ups are limited per address."""

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from core.models import AuditEntry
from tests.conftest import client_for
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test here signs up from 127.0.0.1; one test's attempts must not count against the next."""
    cache.clear()
    yield
    cache.clear()


GOOD = {"username": "zhangsan2026", "password1": "Gongjiang-2026!", "password2": "Gongjiang-2026!"}


def test_the_login_page_offers_sign_up_and_the_identity_provider():
    page = Client().get("/login/").content.decode()
    assert 'href="/accounts/signup/"' in page
    assert 'action="/accounts/oidc/login/"' in page and "使用统一身份认证登录" in page


def test_anyone_can_sign_up_and_gets_a_plain_unbound_account():
    client = Client()
    response = client.post("/accounts/signup/", {**GOOD, "phone": "138 0431 0000", "email": "ZS@Example.com"})
    assert (response.status_code, response["Location"]) == (302, "/accounts/me/")
    user = User.objects.get(username="zhangsan2026")
    assert (user.phone, user.email, user.person, user.memberships.count()) == ("13804310000", "zs@example.com", None, 0)
    assert user.check_password(GOOD["password1"])
    assert AuditEntry.objects.get(action="account.signup").after == {
        "username": "zhangsan2026",
        "phone": True,
        "email": True,
    }
    me = client.get("/accounts/me/").content.decode()  # signed in straight away
    assert 'data-status="unbound"' in me and "未实名" in me
    assert 'href="/accounts/bind/code/"' in me and 'action="/accounts/oidc/link/"' in me
    home = client.get("/").content.decode()
    assert 'id="unbound-notice"' in home


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"password2": "Gongjiang-2027!"}, "password2"),
        ({"password1": "12345678", "password2": "12345678"}, "password"),
        ({"password1": "zhangsan2026", "password2": "zhangsan2026"}, "password"),
        ({"username": ""}, "username"),
        ({"username": "张 三"}, "username"),
        ({"username": "x" * 151}, "username"),
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-address"}, "email"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_changes_nothing(changes, field):
    response = Client().post("/accounts/signup/", {**GOOD, **changes})
    assert response.status_code in (409, 422)
    assert f'name="{"password1" if field == "password" else field}"' in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert not User.objects.exists()


def test_a_username_taken_in_any_case_is_refused():
    UserFactory(username="ZhangSan2026")
    response = Client().post("/accounts/signup/", GOOD)
    assert response.status_code == 409 and "已被使用" in response.content.decode()
    assert User.objects.count() == 1


def test_sign_ups_are_limited_per_address(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (2, 3600)}
    client = Client()
    for n in range(2):
        assert client.post("/accounts/signup/", {**GOOD, "username": f"worker{n}x"}).status_code == 302
        client.logout()
    response = client.post("/accounts/signup/", {**GOOD, "username": "worker9x"})
    assert response.status_code == 429 and "频繁" in response.content.decode()
    assert not User.objects.filter(username="worker9x").exists()


def test_a_signed_in_user_is_sent_to_their_account():
    response = client_for(UserFactory()).get("/accounts/signup/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/me/")


def test_the_account_page_of_a_bound_account_shows_the_person_masked():
    person = PersonFactory(name="王芳")
    user = UserFactory(person=person)
    page = client_for(user).get("/accounts/me/").content.decode()
    assert 'data-status="bound"' in page and "王芳" in page
    assert person.masked_id_number in page and person.id_number not in page
    assert "/accounts/bind/code/" not in page
