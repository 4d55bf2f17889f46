"""What a sign-in through the identity provider does, decided from what the provider vouched for (the protocol is
tested over HTTP in test_oidc_sign_in.py): reading the claims, the refusals on later sign-ins, conflicts a bureau
has already decided, and the races of two first sign-ins at once (PostgreSQL)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.actors import Actor
from accounts.binding import identity_bind
from accounts.conflicts import name_key
from accounts.models import IdentityBinding, IdentityConflict, OidcIdentity, User
from accounts.oidc.provider import ProviderConfig, SignInFailed, Vouched, provider_config, vouched_from_claims
from accounts.oidc.services import oidc_sign_in
from accounts.oidc.views import _claims
from core.errors import Conflict, PermissionDenied
from core.models import AuditEntry
from tests.conftest import require_postgres
from tests.factories import PersonFactory, UserFactory, make_ric

pytestmark = pytest.mark.django_db

ISSUER = "https://idp.example.gov.cn"
ID_A = make_ric(seq=21)


def vouched(subject: str = "sub-1", name: str = "王芳", id_number: str = ID_A, acr: str = "L3") -> Vouched:
    return Vouched(
        issuer=ISSUER, subject=subject, assurance=acr, name=name, id_type="ric", id_number=id_number, problem=""
    )


@pytest.fixture
def cfg(settings) -> ProviderConfig:
    settings.OIDC_ISSUER = ISSUER
    return provider_config()


def test_claims_are_read_as_configured(cfg, settings):
    v = vouched_from_claims(
        cfg, {"sub": "s", "name": " 王芳 ", "id_type": "居民身份证", "id_number": ID_A.lower(), "acr": "L3"}
    )
    assert (v.name, v.id_type, v.id_number, v.problem, v.can_bind) == ("王芳", "ric", ID_A, "", True)
    settings.OIDC_CLAIM_NAME, settings.OIDC_CLAIM_ID_NUMBER, settings.OIDC_CLAIM_ASSURANCE = "xm", "zjhm", "loa"
    settings.OIDC_CLAIM_ID_TYPE, settings.OIDC_ID_TYPE_MAP = "zjlx", {"01": "ric"}
    v = vouched_from_claims(cfg, {"sub": "s", "xm": "王芳", "zjlx": "01", "zjhm": ID_A, "loa": "L4"})
    assert (v.name, v.id_type, v.id_number, v.assurance, v.can_bind) == ("王芳", "ric", ID_A, "L4", True)


@pytest.mark.parametrize(
    ("claims", "problem"),
    [
        ({"name": "王芳"}, "未提供证件号码"),
        ({"name": "王芳", "id_number": ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")}, "校验位"),
        ({"name": "王芳", "id_number": ID_A, "id_type": "驾驶证"}, "无法识别"),
        ({"id_number": ID_A}, "未提供姓名"),
    ],
)
def test_unusable_identity_claims_sign_in_but_never_bind(cfg, claims, problem):
    v = vouched_from_claims(cfg, {"sub": "s", "acr": "L4", **claims})
    assert problem in v.problem and not v.can_bind
    result = oidc_sign_in(vouched=v)
    assert result.outcome == "claims_unusable" and result.user.person is None
    assert not IdentityBinding.objects.exists()


def test_an_assurance_level_not_configured_counts_as_below_the_minimum(cfg):
    assert not vouched(acr="substantial").assurance_ok and not vouched(acr="").assurance_ok
    assert vouched(acr="L3").assurance_ok and vouched(acr="L4").assurance_ok and not vouched(acr="L2").assurance_ok


def test_names_compare_without_spaces_and_whatever_middle_dot():
    assert name_key("阿卜杜拉·买买提") == name_key("阿卜杜拉•买买提") == name_key("阿卜杜拉 . 买买提")
    assert name_key("王芳") != name_key("王芬")


def test_a_minority_name_written_with_another_dot_binds(cfg):
    person = PersonFactory(name="阿卜杜拉·买买提", id_number=ID_A)
    assert oidc_sign_in(vouched=vouched(name="阿卜杜拉•买买提")).user.person == person
    assert not IdentityConflict.objects.exists()


def test_a_later_sign_in_vouching_for_another_person_is_refused(cfg):
    first = oidc_sign_in(vouched=vouched())
    with pytest.raises(Conflict) as exc:
        oidc_sign_in(vouched=vouched(name="李强", id_number=make_ric(seq=22)))
    assert exc.value.code == "person_mismatch"
    assert AuditEntry.objects.get(action="oidc.sign_in_refused").after["why"] == "person_mismatch"
    assert User.objects.get().person == first.user.person


def test_a_deactivated_account_is_not_signed_into(cfg):
    user = oidc_sign_in(vouched=vouched()).user
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(PermissionDenied) as exc:
        oidc_sign_in(vouched=vouched())
    assert exc.value.code == "account_inactive"


def test_a_conflict_the_bureau_decided_for_the_record_is_not_reopened(cfg):
    person = PersonFactory(name="王芳", id_number=ID_A)
    first = oidc_sign_in(vouched=vouched(name="王芬"))
    assert first.user is None and first.outcome == "conflict"
    IdentityConflict.objects.update(status=IdentityConflict.Status.RECORD_KEPT, resolution="户籍记录为王芳")
    again = oidc_sign_in(vouched=vouched(name="王芬"))
    assert again.outcome == "conflict" and "维持原姓名" in again.message
    assert IdentityConflict.objects.count() == 1 and person.bindings.count() == 0


def test_an_unbound_account_meets_a_person_bound_elsewhere_and_stays_signed_in(cfg):
    """Signed in at a low level first (the account exists); when the provider later vouches at the level needed,
    the person turns out to be bound to another account: the account stays theirs, unbound, and says why."""
    low = oidc_sign_in(vouched=vouched(acr="L2")).user
    person = PersonFactory(name="王芳", id_number=ID_A)
    identity_bind(actor=Actor.platform(), user=UserFactory(), person=person, channel="code")
    result = oidc_sign_in(vouched=vouched())
    assert (result.user, result.outcome) == (low, "person_already_bound")
    assert "人社服务窗口" in result.message
    low.refresh_from_db()
    assert low.person is None


class _FakeClient:
    server_metadata = {"userinfo_endpoint": "https://idp.example.gov.cn/userinfo"}

    def __init__(self, answer):
        self.answer = answer

    def userinfo(self, token):
        return self.answer


def test_userinfo_about_another_subject_is_refused(cfg):
    token = {"userinfo": {"sub": "alice", "name": "王芳"}, "access_token": "x"}
    with pytest.raises(SignInFailed) as exc:
        _claims(cfg, _FakeClient({"sub": "mallory", "id_number": ID_A}), token)
    assert exc.value.code == "userinfo_subject_mismatch"
    merged = _claims(cfg, _FakeClient({"sub": "alice", "id_number": ID_A, "name": "别名"}), token)
    assert merged["name"] == "王芳" and merged["id_number"] == ID_A  # the signed ID token wins


def test_the_provider_being_unreachable_is_a_page_that_says_so(settings):
    from accounts.oidc.provider import forget_metadata

    settings.OIDC_ISSUER = "http://127.0.0.1:9/nothing-here"
    settings.OIDC_TIMEOUT = 2
    forget_metadata()
    client = Client()
    response = client.post("/accounts/oidc/login/")
    assert response.status_code == 503 and "暂时无法访问" in response.content.decode()
    forget_metadata()


def test_without_a_configured_provider_there_is_no_provider_sign_in(settings):
    settings.OIDC_ISSUER = ""
    client = Client()
    assert "oidc-login" not in client.get("/login/").content.decode()
    assert client.post("/accounts/oidc/login/").status_code == 404
    assert client.get("/accounts/oidc/callback/", {"state": "x", "code": "y"}).status_code == 404


def test_a_callback_nobody_asked_for_is_refused_without_calling_the_provider(cfg):
    response = Client().get("/accounts/oidc/callback/", {"state": "made-up", "code": "stolen"})
    assert response.status_code == 400 and 'data-code="state_mismatch"' in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_subject", [True, False], ids=["one subject twice", "two subjects"])
def test_two_first_sign_ins_at_once_make_one_binding(cfg, same_subject):
    """Two tabs (one subject) or two provider accounts (two subjects) for the same person, at the same moment:
    one account is bound; the other tab lands in that account, the other subject is refused."""
    require_postgres()
    person = PersonFactory(name="王芳", id_number=ID_A)
    barrier, results = threading.Barrier(2), []

    def attempt(subject: str) -> None:
        try:
            barrier.wait()
            results.append(oidc_sign_in(vouched=vouched(subject=subject)).user.pk)
        except Conflict as exc:
            results.append(exc.code)
        finally:
            connection.close()

    subjects = ["sub-1", "sub-1"] if same_subject else ["sub-1", "sub-2"]
    threads = [threading.Thread(target=attempt, args=(s,)) for s in subjects]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert IdentityBinding.objects.filter(person=person).count() == 1
    bound = IdentityBinding.objects.get(person=person).user_id
    if same_subject:
        assert results == [bound, bound] and OidcIdentity.objects.count() == 1
    else:
        assert sorted(map(str, results)) == sorted([str(bound), "person_already_bound"])
        assert User.objects.count() == 1  # the refused subject left no account behind
