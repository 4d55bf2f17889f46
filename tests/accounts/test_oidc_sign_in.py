"""Real-name sign-in through the identity provider, over real HTTP against the live server: the browser's
redirects, the local provider's login and consent, the platform's token call to the provider, a signed ID token.

First sign-in creates the Person or binds the existing one; a different name is a conflict for a bureau; a person
bound to another account is refused; below the minimum assurance the account signs in unbound; later sign-ins log
straight in. And what an attacker would try: a changed or replayed state, a code moved into another session, ID
tokens forged, unsigned, for another audience or issuer, expired or with another nonce."""

import base64
import datetime
import hashlib
import hmac
import json

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from accounts.actors import Actor
from accounts.binding import identity_bind
from accounts.models import IdentityBinding, IdentityConflict, OidcIdentity, Person, User
from core.models import AuditEntry
from devidp import views as idp
from devidp.models import Citizen
from tests.factories import PASSWORD, OrganisationFactory, PersonFactory, Role, UserFactory, make_ric, member
from tests.oidc import Visitor, citizen, with_query

pytestmark = pytest.mark.django_db(transaction=True)

ID_A = make_ric(birth=datetime.date(1991, 3, 4), seq=11)


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


def test_first_sign_in_creates_the_person_and_a_bound_account(local_idp):
    wang = citizen("wang", "王芳", ID_A)
    visitor = Visitor(local_idp)
    answer = visitor.sign_in("wang")
    assert (answer.status, answer.location) == (302, "/accounts/me/")
    user = User.objects.get(oidc_identities__subject=wang.subject)
    assert user.username.startswith("gov_") and not user.has_usable_password()
    assert user.memberships.count() == 0
    person = Person.objects.get(id_number=ID_A)
    assert (person.name, user.person) == ("王芳", person)
    binding = IdentityBinding.objects.get(user=user)
    assert binding.channel == "oidc" and binding.person == person
    assert binding.evidence["issuer"] == f"{local_idp}/dev-idp" and binding.evidence["subject"] == wang.subject
    assert binding.evidence["acr"] == "L3" and ID_A not in str(binding.evidence)  # the proof keeps a masked number
    assert visitor.whoami() == user.username
    assert [a for a in actions() if a.startswith(("oidc", "person", "identity"))] == [
        "oidc.account_create",
        "person.create",
        "identity.bind",
        "oidc.sign_in",
    ]
    me = visitor.http.get(f"{local_idp}/accounts/me/").text
    assert 'data-status="bound"' in me and "已通过统一身份认证完成实名绑定" in me


def test_first_sign_in_binds_the_existing_unbound_person(local_idp):
    person = PersonFactory(name="王芳", id_number=ID_A)
    citizen("wang", "王芳", ID_A)
    answer = Visitor(local_idp).sign_in("wang")
    assert answer.status == 302
    assert Person.objects.filter(id_number=ID_A).count() == 1
    assert IdentityBinding.objects.get(person=person).user.person == person


def test_later_sign_ins_log_straight_into_the_same_account(local_idp):
    wang = citizen("wang", "王芳", ID_A)
    Visitor(local_idp).sign_in("wang")
    again = Visitor(local_idp)
    answer = again.sign_in("wang")
    assert (answer.status, answer.location) == (302, "/")
    user = User.objects.get()
    assert again.whoami() == user.username
    assert IdentityBinding.objects.count() == 1 and Person.objects.filter(id_number=ID_A).count() == 1
    identity = OidcIdentity.objects.get(subject=wang.subject)
    assert identity.user == user and identity.last_login_at is not None
    assert actions().count("oidc.sign_in") == 2


def test_a_different_name_for_the_id_number_is_a_conflict_and_binds_nothing(local_idp):
    person = PersonFactory(name="王芳", id_number=ID_A)
    citizen("wang", "王芬", ID_A)
    visitor = Visitor(local_idp)
    answer = visitor.sign_in("wang")
    assert (answer.status, answer.code) == (409, "conflict")
    assert "人社部门核查" in answer.message and "再次使用统一身份认证登录" in answer.message
    assert visitor.whoami() == "" and not User.objects.exists() and not IdentityBinding.objects.exists()
    conflict = IdentityConflict.objects.get()
    assert (conflict.person, conflict.claimed_name, conflict.source, conflict.status) == (
        person,
        "王芬",
        "oidc",
        "open",
    )
    assert conflict.region_code == ID_A[:6]
    assert f"编号 {conflict.pk}" in answer.message
    # Trying again does not pile up cases for the bureau.
    assert Visitor(local_idp).sign_in("wang").code == "conflict"
    assert IdentityConflict.objects.count() == 1
    assert actions().count("identity.conflict_open") == 1

    # The bureau corrects the record; the next sign-in binds.
    Person.objects.filter(pk=person.pk).update(name="王芬")
    IdentityConflict.objects.update(status=IdentityConflict.Status.RECORD_CORRECTED)
    assert Visitor(local_idp).sign_in("wang").status == 302
    assert IdentityBinding.objects.get().person == person


def test_a_person_bound_to_another_account_is_refused_and_nothing_is_made(local_idp):
    person = PersonFactory(name="王芳", id_number=ID_A)
    owner = UserFactory()
    identity_bind(actor=Actor.platform(), user=owner, person=person, channel="code")
    citizen("wang", "王芳", ID_A)
    visitor = Visitor(local_idp)
    answer = visitor.sign_in("wang")
    assert (answer.status, answer.code) == (409, "person_already_bound")
    assert "已绑定另一个平台账号" in answer.message and "人社服务窗口" in answer.message
    assert visitor.whoami() == ""
    assert list(User.objects.all()) == [owner] and not OidcIdentity.objects.exists()
    refused = AuditEntry.objects.get(action="identity.bind_refused")
    assert refused.after["channel"] == "oidc" and refused.after["why"] == "person_already_bound"


def test_below_the_minimum_assurance_the_account_signs_in_unbound(local_idp):
    person = PersonFactory(name="王芳", id_number=ID_A)
    wang = citizen("wang", "王芳", ID_A, assurance="L2")
    visitor = Visitor(local_idp)
    answer = visitor.sign_in("wang")
    assert (answer.status, answer.location) == (302, "/accounts/me/")
    user = User.objects.get()
    assert visitor.whoami() == user.username and user.person is None and not IdentityBinding.objects.exists()
    me = visitor.http.get(f"{local_idp}/accounts/me/").text
    assert 'data-status="unbound"' in me and "“L2”" in me and "“L3”" in me
    assert 'href="/accounts/bind/code/"' in me  # the other way to bind
    assert AuditEntry.objects.get(action="oidc.sign_in").after["outcome"] == "assurance_too_low"

    # Verified at the provider since: the next sign-in binds the same account.
    Citizen.objects.filter(pk=wang.pk).update(assurance="L3")
    assert Visitor(local_idp).sign_in("wang").status == 302
    user.refresh_from_db()
    assert user.person == person and User.objects.count() == 1


def test_a_changed_state_is_refused(local_idp):
    citizen("wang", "王芳", ID_A)
    visitor = Visitor(local_idp)
    callback = visitor.consent(visitor.start(), "wang")
    answer = visitor.back(with_query(callback, state="forged-state"))
    assert (answer.status, answer.code) == (400, "state_mismatch")
    assert visitor.whoami() == "" and not User.objects.exists()


def test_a_replayed_callback_is_refused(local_idp):
    citizen("wang", "王芳", ID_A)
    victim = Visitor(local_idp)
    callback = victim.consent(victim.start(), "wang")
    assert victim.back(callback).status == 302
    # The same answer again, in the same browser or in an attacker's who captured the URL: the state is spent.
    assert victim.back(callback).code == "state_mismatch"
    attacker = Visitor(local_idp)
    attacker.start()
    assert attacker.back(callback).code == "state_mismatch"
    assert attacker.whoami() == "" and User.objects.count() == 1


def test_a_code_moved_into_another_session_is_refused_by_pkce(local_idp):
    """Code injection: the attacker's browser has a sign-in of its own pending; it presents the victim's code
    under its own state. The provider refuses the attacker's PKCE verifier for the victim's code."""
    citizen("wang", "王芳", ID_A)
    victim = Visitor(local_idp)
    stolen = victim.consent(victim.start(), "wang")
    attacker = Visitor(local_idp)
    own_state = with_query(attacker.start()).split("state=")[1].split("&")[0]
    answer = attacker.back(with_query(stolen, state=own_state))
    assert (answer.status, answer.code) == (400, "oidc_failed")
    assert attacker.whoami() == "" and not User.objects.exists()
    assert AuditEntry.objects.get(action="oidc.sign_in_failed").after["why"] == "invalid_grant"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(header: dict, claims: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _unsigned(claims: dict) -> str:
    return _compact({"alg": "none", "typ": "JWT"}, claims) + "."


def _forged(claims: dict) -> str:
    """Signed by a key of the attacker's, under the provider's key id."""
    return jwt.encode({"alg": "RS256", "kid": idp.signing_key().kid}, claims, RSAKey.generate_key(2048, private=True))


def _hs256_with_public_key(claims: dict) -> str:
    """The classic algorithm confusion: HMAC keyed with the provider's public key, which anyone can fetch."""
    signing_input = _compact({"alg": "HS256", "kid": idp.signing_key().kid}, claims)
    public = idp.signing_key().as_pem(private=False)
    return f"{signing_input}.{_b64(hmac.new(public, signing_input.encode(), hashlib.sha256).digest())}"


# case: (claims changed, how it is signed (None: by the provider), the reason the platform must give)
BAD_TOKENS = {
    "another nonce": ({"nonce": "not-the-one-sent"}, None, "invalid_claim: Invalid claim: 'nonce'"),
    "another audience": ({"aud": "another-client", "azp": "another-client"}, None, "Invalid claim: 'aud'"),
    "another issuer": ({"iss": "https://idp.attacker.example"}, None, "Invalid claim: 'iss'"),
    "expired": ({"exp": 1_000_000_000, "iat": 999_999_000}, None, "expired_token"),
    "no subject": ({"sub": None}, None, "missing_claim"),
    "unsigned (alg none)": ({}, _unsigned, "unsupported_algorithm"),
    "signed by another key": ({}, _forged, "bad_signature"),
    "HS256 keyed with the public key": ({}, _hs256_with_public_key, "unsupported_algorithm"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_an_id_token_that_fails_validation_is_refused(case, local_idp, monkeypatch):
    changes, signer, expected = BAD_TOKENS[case]
    real_claims = idp.id_token_claims
    monkeypatch.setattr(idp, "id_token_claims", lambda code, token: real_claims(code, token) | changes)
    if signer is not None:
        monkeypatch.setattr(idp, "sign", signer)
    citizen("wang", "王芳", ID_A)
    visitor = Visitor(local_idp)
    answer = visitor.sign_in("wang")
    assert (answer.status, answer.code) == (400, "oidc_failed"), (answer.status, answer.text[:300])
    assert visitor.whoami() == "" and not User.objects.exists() and not Person.objects.filter(id_number=ID_A).exists()
    failure = AuditEntry.objects.get(action="oidc.sign_in_failed").after
    assert expected in f"{failure['why']}: {failure['detail']}", failure


def test_a_refusal_at_the_provider_says_so(local_idp):
    citizen("wang", "王芳", ID_A)
    visitor = Visitor(local_idp)
    answer = visitor.back(visitor.consent(visitor.start(), "wang", decision="deny"))
    assert (answer.status, answer.code) == (400, "access_denied")
    assert "取消授权" in answer.message and visitor.whoami() == ""


def test_a_password_account_links_the_provider_and_is_bound(local_idp):
    person = PersonFactory(name="王芳", id_number=ID_A)
    user = UserFactory(username="wangfang")
    wang = citizen("wang", "王芳", ID_A)
    visitor = Visitor(local_idp)
    visitor.password_login("wangfang", PASSWORD)
    assert 'data-status="unbound"' in visitor.http.get(f"{local_idp}/accounts/me/").text
    authorize = visitor.start("/accounts/oidc/link/", csrf_from="/accounts/me/")
    answer = visitor.back(visitor.consent(authorize, "wang"))
    assert (answer.status, answer.location) == (302, "/accounts/me/")
    user.refresh_from_db()
    assert user.person == person and OidcIdentity.objects.get().user == user
    assert "oidc.link" in actions()
    # From now on the provider signs straight into this account.
    other = Visitor(local_idp)
    assert other.sign_in("wang").status == 302 and other.whoami() == "wangfang"
    assert OidcIdentity.objects.get().subject == wang.subject


def test_a_subject_already_linked_elsewhere_cannot_be_linked_again(local_idp):
    citizen("wang", "王芳", ID_A, assurance="L2")
    Visitor(local_idp).sign_in("wang")  # the provider made an account for this subject
    UserFactory(username="second")
    visitor = Visitor(local_idp)
    visitor.password_login("second", PASSWORD)
    answer = visitor.back(visitor.consent(visitor.start("/accounts/oidc/link/", csrf_from="/accounts/me/"), "wang"))
    assert (answer.status, answer.code) == (409, "subject_linked_elsewhere")
    assert OidcIdentity.objects.get().user.username != "second"


def test_a_staff_account_is_never_signed_into_through_the_provider(local_idp):
    """Staff sign in with a password and a second factor; a provider link must not become a way around it."""
    person = PersonFactory(name="王芳", id_number=ID_A)
    admin = member(Role.ORG_ADMIN, organisation=OrganisationFactory())
    identity_bind(actor=Actor.platform(), user=admin, person=person, channel="code")
    citizen("wang", "王芳", ID_A)
    linking = Visitor(local_idp)
    linking.password_login(admin.username, PASSWORD)
    assert (
        linking.back(linking.consent(linking.start("/accounts/oidc/link/", csrf_from="/accounts/me/"), "wang")).status
        == 302
    )
    assert OidcIdentity.objects.get().user == admin

    visitor = Visitor(local_idp)
    answer = visitor.sign_in("wang")
    assert (answer.status, answer.code) == (403, "second_factor_required")
    assert visitor.whoami() == ""
    assert AuditEntry.objects.get(action="oidc.sign_in_refused").after["why"] == "second_factor_required"
