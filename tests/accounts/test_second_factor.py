"""The staff second factor: enrolment, signing in with a code or a recovery code, and what a half-signed-in
session may reach."""

import re
from base64 import b32decode

import pytest
from django.core.cache import cache
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.actors import Actor
from accounts.second_factor import PENDING_SESSION_KEY, recovery_codes_regenerate, requires_second_factor
from core.models import AuditEntry, Notification
from tests.conftest import client_for
from tests.factories import PASSWORD, Role, UserFactory, enrolled, member
from tests.factories import totp_code as code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def signed_in_with_password(user) -> Client:
    c = Client()
    r = c.post("/login/", {"username": user.username, "password": PASSWORD})
    assert r.status_code == 302, r.content[:300]
    return c


# --- who needs it -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "where", "needed"),
    [
        (Role.BUREAU_STAFF, "bureau", True),
        (Role.SUPERVISOR, "bureau", True),
        (Role.ORG_ADMIN, "org", True),
        (Role.ASSESSOR, "org", True),
        (Role.SUPERVISOR, "org", True),
        (Role.TRAINER, "org", False),
        (Role.WORKER, None, False),
    ],
)
def test_staff_roles_need_a_second_factor_workers_and_trainers_do_not(role, where, needed, org, changchun_bureau):
    scope = {"bureau": {"bureau": changchun_bureau}, "org": {"organisation": org}, None: {}}[where]
    user = member(role, **scope)
    assert requires_second_factor(Actor.for_user(user)) is needed
    r = Client().post("/login/", {"username": user.username, "password": PASSWORD})
    assert r.status_code == 302
    assert (r["Location"] != "/") is needed


def test_a_trainer_who_is_also_an_assessor_needs_one(org):
    user = member(Role.TRAINER, organisation=org)
    member(Role.ASSESSOR, organisation=org, user=user)
    assert requires_second_factor(Actor.for_user(user))


def test_the_operator_needs_one(operator):
    assert requires_second_factor(Actor.for_user(operator))
    r = Client().post("/login/", {"username": "operator", "password": "x-operator-1"})
    assert r["Location"] == "/accounts/second-factor/enrol/?next=%2F"


def test_an_organisation_token_is_not_asked_for_one(org_admin, org):
    from accounts.services import api_token_create

    _token, raw = api_token_create(actor=Actor.for_user(org_admin), organisation_id=org.id, name="hr")
    r = Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200 and r.json()["token_organisation_id"] == org.id


# --- a session that has passed the password only --------------------------------------------------------------


def test_password_alone_reaches_only_the_second_factor_pages(cc_officer):
    c = signed_in_with_password(cc_officer)
    for path in ["/", "/accreditation/review/", "/accounts/tokens/", "/admin/", "/accounts/security/"]:
        r = c.get(path)
        assert r.status_code == 302, path
        assert r["Location"].startswith("/accounts/second-factor/enrol/?next="), (path, r["Location"])
    assert c.get("/accreditation/review/")["Location"].endswith("next=%2Faccreditation%2Freview%2F")
    assert c.get("/accounts/second-factor/enrol/").status_code == 200
    assert c.post("/logout/").status_code == 302
    assert "_auth_user_id" not in c.session


def test_the_api_answers_a_half_signed_in_session_with_json(cc_officer):
    enrolled(cc_officer)
    c = signed_in_with_password(cc_officer)
    for path in ["/api/v1/accounts/me", "/api/v1/oversight/dashboard", "/api/v1/reference/levels"]:
        r = c.get(path)
        assert r.status_code == 401, path
        body = r.json()
        assert body["code"] == "second_factor_required" and body["message"]
        assert body["details"]["verify_url"] == "/accounts/second-factor/verify/"
    # A bearer header that is not a valid token does not get the session through either.
    r = c.get("/api/v1/accounts/me", HTTP_AUTHORIZATION="Bearer sk_nonsense")
    assert r.status_code == 401 and r.json()["code"] == "second_factor_required"


def test_login_sends_staff_to_verify_keeping_next(cc_officer):
    device = enrolled(cc_officer)
    c = Client()
    r = c.post("/login/?next=/accreditation/review/", {"username": cc_officer.username, "password": PASSWORD})
    assert r["Location"] == "/accounts/second-factor/verify/?next=%2Faccreditation%2Freview%2F"
    r = c.post(r["Location"], {"code": code(device.key)})
    assert r.status_code == 302 and r["Location"] == "/accreditation/review/"
    assert c.get("/accreditation/review/").status_code == 200


def test_next_never_leaves_the_site(cc_officer):
    device = enrolled(cc_officer)
    c = signed_in_with_password(cc_officer)
    r = c.post("/accounts/second-factor/verify/?next=https://evil.example/", {"code": code(device.key)})
    assert r["Location"] == "/"


# --- enrolment --------------------------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_secret_then_confirms_with_a_first_code(cc_officer):
    c = signed_in_with_password(cc_officer)
    page = c.get("/accounts/second-factor/enrol/?next=/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    key_hex = c.session[PENDING_SESSION_KEY]
    assert b32decode(secret + "=" * (-len(secret) % 8)).hex() == key_hex  # the text is the QR's secret
    c.get("/accounts/second-factor/enrol/")
    assert c.session[PENDING_SESSION_KEY] == key_hex  # a reload shows the same secret
    assert not TOTPDevice.objects.filter(user=cc_officer).exists()  # nothing stored before confirmation

    wrong = c.post("/accounts/second-factor/enrol/", {"code": "000000" if code(key_hex) != "000000" else "111111"})
    assert wrong.status_code == 422 and "验证码不正确" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=cc_officer).exists()
    assert c.get("/").status_code == 302

    r = c.post("/accounts/second-factor/enrol/?next=/", {"code": code(key_hex), "next": "/"})
    assert r.status_code == 302 and r["Location"].startswith("/accounts/second-factor/recovery-codes/")
    device = TOTPDevice.objects.get(user=cc_officer)
    assert device.confirmed and device.key == key_hex
    assert StaticToken.objects.filter(device__user=cc_officer).count() == 10
    shown = c.get(r["Location"]).content.decode()
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", shown)
    assert len(codes) == 10
    assert {x.replace("-", "") for x in codes} == set(
        StaticToken.objects.filter(device__user=cc_officer).values_list("token", flat=True)
    )
    assert "<code>" not in c.get("/accounts/second-factor/recovery-codes/").content.decode()  # shown once
    assert c.get("/").status_code == 200  # the session passed its second factor
    entry = AuditEntry.objects.get(action="second_factor.enrol")
    assert entry.actor_label == f"user:{cc_officer.username}" and entry.after["recovery_codes"] == 10


def test_the_enrolment_code_cannot_sign_in_again(cc_officer):
    c = signed_in_with_password(cc_officer)
    c.get("/accounts/second-factor/enrol/")
    key_hex = c.session[PENDING_SESSION_KEY]
    first = code(key_hex)
    c.post("/accounts/second-factor/enrol/", {"code": first})
    again = signed_in_with_password(cc_officer)
    r = again.post("/accounts/second-factor/verify/", {"code": first})
    assert r.status_code == 422 and again.get("/").status_code == 302


def test_workers_are_not_offered_enrolment(org):
    worker = member(Role.WORKER)
    assert client_for(worker).get("/accounts/second-factor/enrol/").status_code == 403
    trainer = member(Role.TRAINER, organisation=org)
    assert client_for(trainer).get("/accounts/second-factor/recovery-codes/").status_code == 403


def test_a_device_is_replaced_only_from_a_session_that_passed_it(cc_officer):
    old = enrolled(cc_officer)
    c = signed_in_with_password(cc_officer)  # e.g. someone who has the password only
    r = c.get("/accounts/second-factor/enrol/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/second-factor/verify/")
    r = c.post("/accounts/second-factor/enrol/", {"code": "123456"})
    assert r.status_code == 302 and TOTPDevice.objects.get(user=cc_officer).pk == old.pk

    verified = client_for(cc_officer)  # the owner, signed in with the code: may move to a new phone
    page = verified.get("/accounts/second-factor/enrol/")
    assert page.status_code == 200 and "更换手机验证器" in page.content.decode()
    key_hex = verified.session[PENDING_SESSION_KEY]
    verified.post("/accounts/second-factor/enrol/", {"code": code(key_hex)})
    assert list(TOTPDevice.objects.filter(user=cc_officer).values_list("key", flat=True)) == [key_hex]


# --- signing in -------------------------------------------------------------------------------------------------


def test_a_wrong_code_is_refused_and_the_right_one_lets_in(cc_officer):
    device = enrolled(cc_officer)
    c = signed_in_with_password(cc_officer)
    bad = "000000" if code(device.key) != "000000" else "111111"
    r = c.post("/accounts/second-factor/verify/", {"code": bad})
    assert r.status_code == 422 and "验证码不正确" in r.content.decode()
    assert c.get("/").status_code == 302
    cache.clear()
    for typed in ["", "abc", "1234567890123", "12345"]:
        assert c.post("/accounts/second-factor/verify/", {"code": typed}).status_code == 422
    cache.clear()
    ok = code(device.key)
    r = c.post("/accounts/second-factor/verify/", {"code": f"{ok[:3]} {ok[3:]}"})  # typed with a space
    assert r.status_code == 302 and c.get("/").status_code == 200


def test_wrong_codes_are_limited_per_account_and_say_how_long_to_wait(cc_officer, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "second_factor": (3, 300)}
    device = enrolled(cc_officer)
    c = signed_in_with_password(cc_officer)
    bad = "000000" if code(device.key) != "000000" else "111111"
    statuses = [c.post("/accounts/second-factor/verify/", {"code": bad}).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    r = c.post("/accounts/second-factor/verify/", {"code": code(device.key)})  # even the right code waits
    assert r.status_code == 429
    assert re.search(r"请 \d+ (分钟|秒)后再试", r.content.decode())
    assert c.get("/").status_code == 302
    # The count is the account's, not the session's: a new session (another address) waits too.
    other = signed_in_with_password(cc_officer)
    assert other.post("/accounts/second-factor/verify/", {"code": code(device.key)}).status_code == 429


def test_a_recovery_code_works_once(cc_officer):
    enrolled(cc_officer)
    codes = recovery_codes_regenerate(actor=Actor.for_user(cc_officer))
    c = signed_in_with_password(cc_officer)
    r = c.post("/accounts/second-factor/verify/", {"code": codes[0].upper()[:4] + "-" + codes[0][4:]})
    assert r.status_code == 302 and c.get("/").status_code == 200
    assert StaticToken.objects.filter(device__user=cc_officer).count() == 9
    entry = AuditEntry.objects.filter(action="second_factor.recovery_code_used").get()
    assert entry.after == {"recovery_codes_left": 9}
    assert Notification.objects.filter(user=cc_officer, title__contains="恢复码").exists()

    again = signed_in_with_password(cc_officer)
    assert again.post("/accounts/second-factor/verify/", {"code": codes[0]}).status_code == 422
    assert again.get("/").status_code == 302
    assert again.post("/accounts/second-factor/verify/", {"code": codes[1]}).status_code == 302


def test_regenerating_recovery_codes_retires_the_old_ones(cc_officer):
    enrolled(cc_officer)
    old = recovery_codes_regenerate(actor=Actor.for_user(cc_officer))
    c = client_for(cc_officer)
    r = c.post("/accounts/second-factor/recovery-codes/")
    assert r.status_code == 302
    shown = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", c.get(r["Location"]).content.decode())
    new = {x.replace("-", "") for x in shown}
    assert len(new) == 10 and not new & set(old)
    assert set(StaticToken.objects.filter(device__user=cc_officer).values_list("token", flat=True)) == new
    entries = AuditEntry.objects.filter(action="second_factor.recovery_codes_regenerate")
    assert entries.count() == 2 and entries.last().before == {"recovery_codes_left": 10}


def test_the_security_page_says_what_is_set_up(cc_officer):
    enrolled(cc_officer)
    html = client_for(cc_officer).get("/accounts/security/").content.decode()
    assert "已开启" in html and "剩余恢复码 0 个" in html
    worker_html = client_for(member(Role.WORKER)).get("/accounts/security/").content.decode()
    assert "登录只需密码" in worker_html
    assert Client().get("/accounts/security/")["Location"].startswith("/login/")


# --- reset by another administrator ---------------------------------------------------------------------------


def _enrolled_with_codes(user) -> None:
    enrolled(user)
    recovery_codes_regenerate(actor=Actor.for_user(user))


def _reset(by, user, reason: str = "手机遗失,已电话核实本人"):
    return client_for(by).post(f"/accounts/second-factor/staff/{user.pk}/reset/", {"reason": reason})


def test_an_organisation_admin_resets_an_assessor_of_their_organisation(org, org_admin):
    assessor = member(Role.ASSESSOR, organisation=org)
    _enrolled_with_codes(assessor)
    session = client_for(assessor)
    assert session.get("/").status_code == 200

    listing = client_for(org_admin).get("/accounts/second-factor/staff/").content.decode()
    assert f'id="user-{assessor.pk}"' in listing
    r = _reset(org_admin, assessor)
    assert r.status_code == 302
    assert not TOTPDevice.objects.filter(user=assessor).exists()
    assert not StaticDevice.objects.filter(user=assessor).exists()
    entry = AuditEntry.objects.get(action="second_factor.reset")
    assert entry.actor_label == f"user:{org_admin.username}" and entry.object_id == str(assessor.pk)
    assert entry.reason == "手机遗失,已电话核实本人" and len(entry.before["devices"]) == 2
    assert Notification.objects.filter(user=assessor, title__contains="重置").exists()
    # The assessor's session that had passed the old device no longer counts; the next sign-in enrols again.
    assert session.get("/")["Location"].startswith("/accounts/second-factor/enrol/")


def test_a_reset_needs_a_reason(org, org_admin):
    assessor = member(Role.ASSESSOR, organisation=org)
    enrolled(assessor)
    c = client_for(org_admin)
    r = c.post(f"/accounts/second-factor/staff/{assessor.pk}/reset/", {"reason": "  "}, follow=True)
    assert "请填写重置原因" in r.content.decode()
    assert TOTPDevice.objects.filter(user=assessor).exists()
    assert not AuditEntry.objects.filter(action="second_factor.reset").exists()


def test_nobody_resets_their_own_through_this_path(org_admin):
    enrolled(org_admin)
    assert _reset(org_admin, org_admin).status_code == 403
    assert TOTPDevice.objects.filter(user=org_admin).exists()


def test_an_outsider_cannot_reset(org, other_org_admin, cc_officer, jlc_officer):
    assessor = member(Role.ASSESSOR, organisation=org)
    enrolled(assessor)
    assert _reset(other_org_admin, assessor).status_code == 404  # another organisation's admin
    assert _reset(jlc_officer, assessor).status_code == 404  # a bureau: not its staff
    assert _reset(cc_officer, assessor).status_code == 404  # the region's bureau: oversees, does not employ
    colleague = member(Role.ASSESSOR, organisation=org)
    assert _reset(colleague, assessor).status_code == 404  # a colleague without the admin role
    assert client_for(colleague).get("/accounts/second-factor/staff/").status_code == 403
    assert _reset(member(Role.WORKER), assessor).status_code == 404
    assert Client().post(f"/accounts/second-factor/staff/{assessor.pk}/reset/", {"reason": "x"}).status_code == 302
    assert TOTPDevice.objects.filter(user=assessor).count() == 1
    assert not AuditEntry.objects.filter(action="second_factor.reset").exists()


def test_an_organisation_admin_cannot_reset_someone_who_also_serves_elsewhere(org, org_admin, changchun_bureau):
    both = member(Role.ASSESSOR, organisation=org)
    member(Role.BUREAU_STAFF, bureau=changchun_bureau, user=both)
    enrolled(both)
    assert _reset(org_admin, both).status_code == 403
    operator_member = member(Role.ASSESSOR, organisation=org, user=UserFactory(is_superuser=True, is_staff=True))
    enrolled(operator_member)
    assert _reset(org_admin, operator_member).status_code == 403
    assert TOTPDevice.objects.filter(user__in=[both, operator_member]).count() == 2


def test_bureau_staff_reset_their_own_bureaus_staff(cc_officer, changchun_bureau, jilin_city_bureau):
    colleague = member(Role.BUREAU_STAFF, bureau=changchun_bureau)
    supervisor = member(Role.SUPERVISOR, bureau=changchun_bureau)
    elsewhere = member(Role.BUREAU_STAFF, bureau=jilin_city_bureau)
    for user in (colleague, supervisor, elsewhere):
        enrolled(user)
    assert _reset(cc_officer, colleague).status_code == 302
    assert _reset(cc_officer, supervisor).status_code == 302
    assert _reset(cc_officer, elsewhere).status_code == 404
    remaining = TOTPDevice.objects.filter(user__in=[colleague, supervisor, elsewhere])
    assert list(remaining.values_list("user_id", flat=True)) == [elsewhere.pk]


def test_the_operator_resets_anyone_but_themselves(operator, cc_officer, org_admin):
    for user in (cc_officer, org_admin, operator):
        enrolled(user)
    assert _reset(operator, cc_officer).status_code == 302
    assert _reset(operator, org_admin).status_code == 302
    assert _reset(operator, operator).status_code == 403
    remaining = TOTPDevice.objects.filter(user__in=[cc_officer, org_admin, operator])
    assert list(remaining.values_list("user_id", flat=True)) == [operator.pk]
    assert AuditEntry.objects.filter(action="second_factor.reset").count() == 2
