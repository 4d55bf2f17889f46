"""Binding codes (issue 13, item 3): issued after an in-person check by whoever may check that person's papers,
shown once, stored as a digest, single-use, expiring, limited per account and per person, every step audited."""

import datetime
import itertools
import time
import types

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.actors import Actor
from accounts.binding_codes import binding_code_issue, binding_code_issue_at_desk, binding_code_redeem, code_digest
from accounts.models import BindingCode, IdentityBinding, IdentityConflict, Role, User
from accreditation.people import appointment_register
from core import ratelimit
from core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationFailed
from core.models import AuditEntry
from tests.conftest import client_for
from tests.factories import PersonFactory, UserFactory, make_ric, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


_serial = itertools.count(1)


def someone(**kwargs):
    """A person whose ID number python-stdnum accepts (its data lacks some district codes, such as 220102)."""
    n = next(_serial)
    birth = datetime.date(1986, 1, 1) + datetime.timedelta(days=n)
    return PersonFactory(id_number=make_ric(region="220104", birth=birth, seq=n), **kwargs)


def A(user) -> Actor:
    return Actor.for_user(user)


@pytest.fixture
def appointee(org, org_admin):
    """A trainer the organisation registered (papers seen), with no account yet."""
    return appointment_register(
        actor=A(org_admin),
        role="trainer",
        name="王培训",
        id_type="ric",
        id_number=make_ric(region="220104", birth=datetime.date(1983, 6, 9), seq=41),
        scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
        organisation_id=org.id,
    ).person


@pytest.fixture
def window(cc_officer, changchun_bureau):
    return cc_officer, changchun_bureau


def redeem(user, person, code, name=None):
    return binding_code_redeem(
        actor=A(user),
        user=user,
        name=name or person.name,
        id_type=person.id_type,
        id_number=person.id_number,
        code=code,
    )


def test_a_bureau_window_issues_a_code_the_person_redeems_once(window):
    officer, bureau = window
    person = someone()
    code = binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    assert len(code) == 14 and code.count("-") == 2
    stored = BindingCode.objects.get()
    assert stored.code_hash == code_digest(code) and code.replace("-", "") not in str(stored.__dict__)
    assert code not in str(list(AuditEntry.objects.values()))  # never in the audit either
    user = UserFactory()
    binding = redeem(user, person, code.lower().replace("-", " "))  # as typed on a phone
    assert (binding.channel, binding.person, binding.evidence["place"]) == ("code", person, "bureau_window")
    user.refresh_from_db()
    assert user.person == person and A(user).person == person
    stored.refresh_from_db()
    assert stored.used_by == user and stored.used_at is not None
    assert AuditEntry.objects.filter(action="binding_code.redeem").count() == 1
    other = UserFactory()
    with pytest.raises(ValidationFailed):  # single use: a second account gets nothing
        redeem(other, person, code)
    assert not IdentityBinding.objects.filter(user=other).exists()


def test_an_organisation_issues_only_for_its_own_people(org, org_admin, other_org_admin, appointee):
    stranger = someone()
    with pytest.raises(NotFound):
        binding_code_issue(actor=A(org_admin), person=stranger, place="organisation", organisation=org)
    with pytest.raises(NotFound):  # another organisation cannot even see this one
        binding_code_issue(actor=A(other_org_admin), person=appointee, place="organisation", organisation=org)
    assessor = member(Role.ASSESSOR, organisation=org)
    with pytest.raises(PermissionDenied):
        binding_code_issue(actor=A(assessor), person=appointee, place="organisation", organisation=org)
    worker = UserFactory()
    with pytest.raises(NotFound):
        binding_code_issue(actor=A(worker), person=appointee, place="organisation", organisation=org)
    assert binding_code_issue(actor=A(org_admin), person=appointee, place="organisation", organisation=org)
    assert BindingCode.objects.count() == 1


def test_a_bureau_issues_only_at_its_own_window(window, jlc_officer):
    _officer, bureau = window
    with pytest.raises(NotFound):
        binding_code_issue(actor=A(jlc_officer), person=someone(), place="bureau_window", bureau=bureau)
    assert not BindingCode.objects.exists()


def test_a_new_code_retires_the_unused_ones(window):
    officer, bureau = window
    person = someone()
    first = binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    second = binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    user = UserFactory()
    with pytest.raises(ValidationFailed):
        redeem(user, person, first)
    assert redeem(user, person, second).person == person


def test_an_expired_code_binds_nobody(window):
    officer, bureau = window
    person = someone()
    code = binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    BindingCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    user = UserFactory()
    with pytest.raises(ValidationFailed, match="已过期"):
        redeem(user, person, code)
    assert User.objects.get(pk=user.pk).person_id is None


def test_a_code_for_someone_else_is_a_failure_that_counts(window):
    officer, bureau = window
    victim, squatter_person = someone(), someone()
    code = binding_code_issue(actor=A(officer), person=squatter_person, place="bureau_window", bureau=bureau)
    user = UserFactory()
    with pytest.raises(ValidationFailed):
        redeem(user, victim, code)  # a real code, but not the victim's
    assert not IdentityBinding.objects.exists()
    failed = AuditEntry.objects.get(action="binding_code.redeem_failed")
    assert failed.after["why"] == "no_such_code" and failed.after["person"] == victim.pk


@pytest.fixture
def mid_hour(monkeypatch):
    """The limits count in clock-aligned windows, so in a window's last minute the wait reads in seconds ("请 51 秒
    后再试", seen when the suite ran at 23:59). The rate limiter's clock is set to the middle of the hour, running on
    from there, so that what these tests read does not depend on when the suite runs."""
    started = time.time()
    base = started - started % 3600 + 1800
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: base + (time.time() - started)))


@pytest.mark.usefixtures("mid_hour")
def test_guessing_is_limited_per_account_and_the_code_retires(window):
    officer, bureau = window
    person = someone()
    code = binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    user = UserFactory()
    for _ in range(4):
        with pytest.raises(ValidationFailed):
            redeem(user, person, "AAAA-BBBB-CCCC")
    with pytest.raises(RateLimited) as exc:
        redeem(user, person, "AAAA-BBBB-CCCC")
    assert "分钟" in exc.value.message and exc.value.details["retry_after_seconds"] > 0
    with pytest.raises(RateLimited):  # even the right code waits now
        redeem(user, person, code)
    stored = BindingCode.objects.get()
    assert stored.failed_attempts == 5 and stored.retired_at is not None  # too many wrong tries: retired
    assert AuditEntry.objects.filter(action="binding_code.redeem_failed").count() == 5


def test_guessing_is_limited_per_person_across_accounts(window):
    officer, bureau = window
    person = someone()
    for _ in range(9):
        with pytest.raises(ValidationFailed):
            redeem(UserFactory(), person, "AAAA-BBBB-CCCC")
    with pytest.raises(RateLimited):
        redeem(UserFactory(), person, "AAAA-BBBB-CCCC")
    code = binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    with pytest.raises(RateLimited):  # the person named is protected, whichever account tries
        redeem(UserFactory(), person, code)


def test_another_name_with_the_right_code_is_a_conflict_for_the_bureau(window):
    officer, bureau = window
    person = someone(name="王芳")
    code = binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    user = UserFactory()
    with pytest.raises(Conflict) as exc:
        redeem(user, person, code, name="王芬")
    conflict = IdentityConflict.objects.get()
    assert exc.value.code == "identity_conflict" and str(conflict.pk) in exc.value.message
    assert (conflict.source, conflict.claimed_name, conflict.status) == ("binding_code", "王芬", "open")
    assert BindingCode.objects.get().used_at is None  # the code still works once the bureau has decided
    assert redeem(user, person, code, name=" 王芳 ").person == person


def test_an_already_bound_person_or_account_is_refused(window):
    officer, bureau = window
    person = someone()
    code = binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    owner = UserFactory(person=someone())
    with pytest.raises(Conflict) as exc:
        redeem(owner, person, code)
    assert exc.value.code == "account_already_bound"
    redeem(UserFactory(), person, code)
    with pytest.raises(Conflict) as exc:
        binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    assert exc.value.code == "person_already_bound"


def test_only_the_account_itself_redeems(window):
    officer, bureau = window
    person = someone()
    code = binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    user = UserFactory()
    with pytest.raises(PermissionDenied):
        binding_code_redeem(
            actor=A(officer), user=user, name=person.name, id_type="ric", id_number=person.id_number, code=code
        )
    assert BindingCode.objects.get().used_at is None


# --- Pages and API ---------------------------------------------------------------------------------------------


def test_the_desk_page_issues_after_the_papers_check_and_shows_the_code_once(org, org_admin, appointee):
    client = client_for(org_admin)
    form = {"place": "organisation", "name": appointee.name, "id_type": "ric", "id_number": appointee.id_number}
    refused = client.post("/accounts/binding-codes/", form)
    assert refused.status_code == 422 and "核验" in refused.content.decode() and not BindingCode.objects.exists()
    slip = client.post("/accounts/binding-codes/", {**form, "papers_checked": "true"})
    assert slip.status_code == 200
    code = slip.context["code"]
    assert code in slip.content.decode() and BindingCode.objects.get().code_hash == code_digest(code)
    assert appointee.id_number not in slip.content.decode()  # masked on the slip


def test_the_worker_page_binds_and_explains_a_wrong_code(window):
    officer, bureau = window
    person = someone()
    code = binding_code_issue(actor=A(officer), person=person, place="bureau_window", bureau=bureau)
    user = UserFactory()
    client = client_for(user)
    form = {"name": person.name, "id_type": "ric", "id_number": person.id_number}
    wrong = client.post("/accounts/bind/code/", {**form, "code": "2222-3333-4444"})
    assert wrong.status_code == 422 and "不正确" in wrong.content.decode()
    right = client.post("/accounts/bind/code/", {**form, "code": code})
    assert (right.status_code, right["Location"]) == (302, "/accounts/me/")
    assert A(User.objects.get(pk=user.pk)).person == person
    assert 'id="bound"' in client.get("/accounts/bind/code/").content.decode()


def test_the_api_issues_and_redeems(window):
    officer, _bureau = window
    person = someone()
    issued = client_for(officer).post(
        "/api/v1/accounts/binding-codes",
        {"place": "bureau_window", "name": person.name, "id_number": person.id_number, "papers_checked": True},
        content_type="application/json",
    )
    assert issued.status_code == 201, issued.content
    body = issued.json()
    assert body["place"] == "bureau_window" and body["masked_id_number"] != person.id_number
    user = UserFactory()
    bound = client_for(user).post(
        "/api/v1/accounts/bind/code",
        {"name": person.name, "id_number": person.id_number, "code": body["code"]},
        content_type="application/json",
    )
    assert bound.status_code == 200 and bound.json()["channel"] == "code"
    worker = client_for(UserFactory()).post(
        "/api/v1/accounts/binding-codes",
        {"place": "bureau_window", "name": person.name, "id_number": person.id_number, "papers_checked": True},
        content_type="application/json",
    )
    assert worker.status_code == 403


def test_a_bureau_window_makes_the_record_of_someone_new(window):
    officer, bureau = window

    id_number = make_ric(region="220104", birth=datetime.date(1999, 9, 9), seq=7)
    code, person = binding_code_issue_at_desk(
        actor=A(officer), place="bureau_window", name="新来者", id_type="ric", id_number=id_number, papers_checked=True
    )
    assert person.name == "新来者" and BindingCode.objects.get(person=person).bureau == bureau
    assert redeem(UserFactory(), person, code).person == person


@pytest.mark.django_db(transaction=True)
def test_two_accounts_redeeming_one_code_at_once_bind_one(changchun_bureau, cc_officer):
    """Two people type the same code at the same moment (it was read out loud): one account is bound, the other is
    told the code no longer works, and the code is used once (PostgreSQL: the row lock decides)."""
    import threading

    from django.db import connection

    from tests.conftest import require_postgres

    require_postgres()
    person = someone()
    code = binding_code_issue(actor=A(cc_officer), person=person, place="bureau_window", bureau=changchun_bureau)
    users = [UserFactory(), UserFactory()]
    barrier, results = threading.Barrier(2), []

    def attempt(user) -> None:
        try:
            barrier.wait()
            results.append(redeem(user, person, code).user_id)
        except (Conflict, ValidationFailed) as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
    [t.start() for t in threads]
    [t.join() for t in threads]
    binding = IdentityBinding.objects.get(person=person)
    assert sorted(map(str, results)) == sorted([str(binding.user_id), "binding_code_wrong"])
    stored = BindingCode.objects.get()
    assert stored.used_by_id == binding.user_id


@pytest.mark.usefixtures("mid_hour")
def test_guessing_is_limited_per_client_address_across_accounts_and_people(window, settings):
    """One machine spreading guesses over fresh accounts and many people's ID numbers meets the per-address limit;
    the refusal says how long to wait. Successes from that address count for nothing, and another address is not
    held up."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "binding_code_address": (4, 3600)}
    officer, bureau = window
    hall = {"REMOTE_ADDR": "203.0.113.7"}

    def api_redeem(person, code, meta):
        return client_for(UserFactory()).post(
            "/api/v1/accounts/bind/code",
            {"name": person.name, "id_number": person.id_number, "code": code},
            content_type="application/json",
            **meta,
        )

    honest = someone()
    code = binding_code_issue(actor=A(officer), person=honest, place="bureau_window", bureau=bureau)
    assert api_redeem(honest, code, hall).status_code == 200  # a success: no allowance used
    for _ in range(3):
        assert api_redeem(someone(), "AAAA-BBBB-CCCC", hall).status_code == 422
    blocked = api_redeem(someone(), "AAAA-BBBB-CCCC", hall)  # the 4th failure uses the allowance up
    assert blocked.status_code == 429 and "后再试" in blocked.json()["message"]
    assert blocked.json()["details"]["retry_after_seconds"] > 0
    victim = someone()
    right = binding_code_issue(actor=A(officer), person=victim, place="bureau_window", bureau=bureau)
    refused = api_redeem(victim, right, hall)  # new account, new person, right code: this address waits
    assert refused.status_code == 429 and "分钟" in refused.json()["message"]
    assert not IdentityBinding.objects.filter(person=victim).exists()
    assert api_redeem(victim, right, {"REMOTE_ADDR": "198.51.100.20"}).status_code == 200  # another address
    failed = AuditEntry.objects.filter(action="binding_code.redeem_failed")
    assert failed.count() == 4 and {e.after["address"] for e in failed} == {"203.0.113.7"}
