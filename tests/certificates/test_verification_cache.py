"""Repeat scans answered from memory must never outlive a change: on this node, on another node, across a
missed feed entry, a key-ring change or a Redis outage."""

import time

import pytest

from accounts.actors import Actor
from certificates import services, signing, verification_cache, verification_log
from certificates.models import Certificate, VerificationLog
from tests.certificates.conftest import VERIFICATION_REDIS_URL
from tests.factories import issued_certificates

pytestmark = pytest.mark.django_db


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def redis_feed(settings, verification_redis):
    settings.VERIFICATION_LOG_REDIS_URL = VERIFICATION_REDIS_URL
    settings.VERIFICATION_CACHE_SIZE = 100
    settings.VERIFICATION_FEED_POLL_SECONDS = 0.1
    settings.VERIFICATION_LOG_BUFFERED = False  # log rows straight to Redis: the thread never writes to the test DB
    verification_cache.reset()
    feed = verification_cache.feed()
    assert wait_for(lambda: feed.healthy), "the feed thread did not start"
    yield verification_redis
    verification_cache.reset()
    verification_log._redis.cache_clear()


@pytest.fixture
def issued(finalised_plan, org_admin):
    issued_certificates(finalised_plan, org_admin)
    return Certificate.objects.order_by("number").first()


def status(client, cert) -> str:
    return client.get(f"/api/v1/verify/{cert.token}").json()["status"]


def another_node_publishes(client, numbers: str) -> None:
    """What `publish` does on another web node, written to Redis directly."""
    client.eval(verification_cache._PUBLISH, 2, verification_cache.SEQ_KEY, verification_cache.STREAM_KEY, numbers, 100)


def test_a_repeat_scan_is_answered_without_the_database(client, issued, redis_feed, django_assert_num_queries):
    assert status(client, issued) == "valid"
    with django_assert_num_queries(0):
        assert status(client, issued) == "valid"
    assert redis_feed.llen(verification_log.QUEUE_KEY) == 2  # both scans are logged


def test_a_change_on_this_node_is_seen_at_once(
    client, issued, org_admin, redis_feed, django_capture_on_commit_callbacks
):
    assert status(client, issued) == "valid"
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_suspend(actor=Actor.for_user(org_admin), certificate_id=issued.id, reason="核查中")
    assert status(client, issued) == "suspended"
    assert redis_feed.xlen(verification_cache.STREAM_KEY) == 1  # and the other nodes are told


def test_a_change_announced_by_another_node_reaches_this_one(client, issued, redis_feed):
    assert status(client, issued) == "valid"
    Certificate.objects.filter(pk=issued.id).update(status=Certificate.Status.REVOKED, status_reason="作弊")
    assert status(client, issued) == "valid"  # remembered: the update above told nobody
    another_node_publishes(redis_feed, issued.number)
    assert wait_for(lambda: status(client, issued) == "revoked")


def test_a_missed_feed_entry_forgets_everything(client, finalised_plan, org_admin, issue, redis_feed):
    issue(finalised_plan, org_admin)
    first, second = Certificate.objects.order_by("number")[:2]
    assert status(client, first) == status(client, second) == "valid"
    Certificate.objects.filter(pk=second.id).update(status=Certificate.Status.SUSPENDED)
    another_node_publishes(redis_feed, first.number)
    redis_feed.incr(verification_cache.SEQ_KEY)  # an entry that never reached the stream
    another_node_publishes(redis_feed, first.number)
    assert wait_for(lambda: status(client, second) == "suspended")


def test_a_row_read_before_a_change_is_not_remembered_after_it(issued, redis_feed):
    feed = verification_cache.feed()
    _, generation = verification_cache.lookup(issued.token)
    feed.drop([issued.number])  # the change lands while the old row is being read
    verification_cache.store(issued.token, issued.number, ("ring", issued, True), generation)
    assert verification_cache.lookup(issued.token)[0] is None


def test_a_new_signing_key_ring_is_not_answered_from_memory(client, issued, redis_feed, django_assert_num_queries):
    assert status(client, issued) == "valid"
    signing.rotate()
    with django_assert_num_queries(1):  # looked up again, and still valid: retired keys keep verifying
        assert status(client, issued) == "valid"


def test_entries_expire_after_the_ttl(client, issued, redis_feed, settings):
    settings.VERIFICATION_CACHE_TTL = 0.05
    verification_cache.reset()
    assert wait_for(lambda: verification_cache.feed().healthy)
    assert status(client, issued) == "valid"
    Certificate.objects.filter(pk=issued.id).update(status=Certificate.Status.REVOKED)
    time.sleep(0.1)
    assert status(client, issued) == "revoked"


def test_the_cache_is_bounded(client, finalised_plan, org_admin, issue, redis_feed, settings):
    settings.VERIFICATION_CACHE_SIZE = 2
    verification_cache.reset()
    assert wait_for(lambda: verification_cache.feed().healthy)
    issue(finalised_plan, org_admin)
    for cert in Certificate.objects.order_by("number")[:5]:
        assert status(client, cert) == "valid"
    assert len(verification_cache.feed().entries) == 2


def test_without_the_feed_every_scan_goes_to_the_database(client, issued, settings, django_assert_num_queries):
    settings.VERIFICATION_LOG_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.VERIFICATION_LOG_BUFFERED = True  # but with the feed down, nothing waits in memory
    verification_cache.reset()
    verification_log._redis.cache_clear()
    try:
        feed = verification_cache.feed()
        time.sleep(0.3)
        assert not feed.healthy
        assert status(client, issued) == "valid"
        Certificate.objects.filter(pk=issued.id).update(status=Certificate.Status.REVOKED)
        assert status(client, issued) == "revoked"  # nothing was answered from memory
        assert VerificationLog.objects.count() == 2  # and the log fell back to the database
    finally:
        verification_cache.reset()
        verification_log._redis.cache_clear()


def test_buffered_log_lines_reach_redis_in_one_call(client, issued, redis_feed, settings):
    settings.VERIFICATION_LOG_BUFFERED = True
    for _ in range(3):
        assert status(client, issued) == "valid"
    assert wait_for(lambda: redis_feed.llen(verification_log.QUEUE_KEY) == 3)
    assert verification_log.flush() == 3
    assert VerificationLog.objects.filter(result="valid", certificate_id=issued.id).count() == 3


def test_a_confirmed_cancellation_reaches_remembered_answers(
    client, issued, operator, redis_feed, django_capture_on_commit_callbacks, monkeypatch
):
    """The catalogue note is read with the certificate's row: a remembered row must not hide a confirmed change."""
    import datetime

    from django.utils import timezone

    from tests.certificates.test_verification import _cancel_electrician

    assert client.get(f"/api/v1/verify/{issued.token}").json()["certificate"]["catalogue_note"] == ""
    with django_capture_on_commit_callbacks(execute=True):
        change = _cancel_electrician(operator, issued.issued_on + datetime.timedelta(days=1))
    assert redis_feed.xlen(verification_cache.STREAM_KEY) == 1  # the other nodes are told to forget everything
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: change.effective_on)
    data = client.get(f"/api/v1/verify/{issued.token}").json()
    assert data["status"] == "valid" and "继续有效" in data["certificate"]["catalogue_note"]


def test_an_admin_edit_of_the_catalogue_entry_reaches_remembered_answers(
    client, admin_client, issued, redis_feed, django_capture_on_commit_callbacks, monkeypatch
):
    """The operator may correct a cancelled entry's basis in the admin (its status and dates change only through
    a catalogue change): the note read with the remembered row must follow, on every node."""
    import datetime

    from django.forms.models import model_to_dict
    from django.utils import timezone

    from occupations.models import Occupation, Qualification

    cancelled_on = issued.issued_on + datetime.timedelta(days=1)
    qual = Qualification.objects.create(
        name="电工(测试资格)", kind="evaluation", status="cancelled", cancelled_on=cancelled_on, cancellation_basis="误"
    )
    Occupation.objects.filter(code="6-31-01-03").update(qualification=qual)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: cancelled_on)
    assert "误" in client.get(f"/api/v1/verify/{issued.token}").json()["certificate"]["catalogue_note"]
    form = {k: v for k, v in model_to_dict(qual).items() if v is not None}
    form.update(cancellation_basis="人社部发〔2026〕98号")
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post(f"/admin/occupations/qualification/{qual.id}/change/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert redis_feed.xlen(verification_cache.STREAM_KEY) == 1
    note = client.get(f"/api/v1/verify/{issued.token}").json()["certificate"]["catalogue_note"]
    assert "人社部发〔2026〕98号" in note


def test_an_admin_photo_change_reaches_remembered_answers(
    client, admin_client, issued, redis_feed, django_capture_on_commit_callbacks
):
    """`has_photo` is read with the remembered row (from the holder's Person): a photo removed in the admin must
    not stay announced on any node until the TTL."""
    from django.forms.models import model_to_dict

    from accounts.models import Person

    Person.objects.filter(pk=issued.person_id).update(photo="photos/2026/holder.jpg")
    assert client.get(f"/api/v1/verify/{issued.token}").json()["certificate"]["has_photo"] is True
    person = Person.objects.get(pk=issued.person_id)
    form = {k: v for k, v in model_to_dict(person, exclude=["photo"]).items() if v is not None}
    form["photo-clear"] = "on"
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post(f"/admin/accounts/person/{person.id}/change/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert not Person.objects.get(pk=person.id).photo
    assert redis_feed.xlen(verification_cache.STREAM_KEY) == 1  # the other nodes are told
    assert client.get(f"/api/v1/verify/{issued.token}").json()["certificate"]["has_photo"] is False


def test_reloading_the_reference_data_reaches_remembered_answers(
    client, issued, redis_feed, django_capture_on_commit_callbacks, monkeypatch
):
    """`load_reference --update` rewrites catalogue entries and occupations, which verification reads with each
    remembered row (the catalogue note): it must go on the feed like an admin edit."""
    import datetime

    from django.utils import timezone

    from occupations.models import Occupation, Qualification
    from occupations.services import reference_load

    occupation = Occupation.objects.get(pk=issued.occupation_id)
    cancelled_on = issued.issued_on + datetime.timedelta(days=1)
    qual = Qualification.objects.create(
        name="电工(测试资格)", kind="evaluation", status="cancelled", cancelled_on=cancelled_on, cancellation_basis="误"
    )
    Occupation.objects.filter(pk=occupation.pk).update(qualification=qual)  # the file says otherwise
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: cancelled_on)
    assert "误" in client.get(f"/api/v1/verify/{issued.token}").json()["certificate"]["catalogue_note"]
    with django_capture_on_commit_callbacks(execute=True):
        counts = reference_load(update=True)
    assert counts["Occupation.updated"] == 1
    assert redis_feed.xlen(verification_cache.STREAM_KEY) == 1
    assert client.get(f"/api/v1/verify/{issued.token}").json()["certificate"]["catalogue_note"] == ""


def test_expired_entries_do_not_stay_in_memory(client, finalised_plan, org_admin, issue, redis_feed, settings):
    """Each remembered row is worth VERIFICATION_CACHE_TTL seconds: rows scanned once and never again must not
    sit in every process until VERIFICATION_CACHE_SIZE of them (about 5 KB each) fill it."""
    settings.VERIFICATION_CACHE_TTL = 0.05
    verification_cache.reset()
    assert wait_for(lambda: verification_cache.feed().healthy)
    issue(finalised_plan, org_admin)
    first, *others = Certificate.objects.order_by("number")[:5]
    for cert in others:
        assert status(client, cert) == "valid"
    time.sleep(0.1)
    assert status(client, first) == "valid"
    assert list(verification_cache.feed().entries) == [first.token]


def test_stopping_waits_for_log_lines_the_thread_is_pushing(redis_feed, settings, monkeypatch):
    """On a normal exit (atexit) the lines the thread has already taken from the buffer must arrive too: the
    thread is a daemon, and the interpreter does not wait for it."""
    settings.VERIFICATION_LOG_BUFFERED = True
    verification_cache.reset()
    feed = verification_cache.feed()
    assert wait_for(lambda: feed.healthy)
    push = feed.client.rpush

    def slow_push(*args):
        time.sleep(0.3)
        return push(*args)

    monkeypatch.setattr(feed.client, "rpush", slow_push)
    feed.log('{"result": "valid"}')
    assert wait_for(lambda: not feed.pending_log)  # taken by the thread, on its way to Redis
    feed.stop()
    assert redis_feed.llen(verification_log.QUEUE_KEY) == 1


def test_a_zero_poll_interval_still_polls(redis_feed, settings):
    """VERIFICATION_FEED_POLL_SECONDS=0 ("as often as possible") must not become Redis's BLOCK 0 (wait forever):
    the buffered log would wait for the next certificate change, and the socket timeout would keep the feed down."""
    settings.VERIFICATION_FEED_POLL_SECONDS = 0
    settings.VERIFICATION_LOG_BUFFERED = True
    verification_cache.reset()
    feed = verification_cache.feed()
    assert wait_for(lambda: feed.healthy)
    feed.log('{"result": "valid"}')
    assert wait_for(lambda: redis_feed.llen(verification_log.QUEUE_KEY) == 1, timeout=1.0)


def test_buffered_log_lines_wait_while_neither_redis_nor_the_database_takes_them(redis_feed, settings, monkeypatch):
    """A scan answered with its log line in the buffer must still be logged once either store is back."""
    settings.VERIFICATION_LOG_BUFFERED = True
    verification_cache.reset()
    feed = verification_cache.feed()
    assert wait_for(lambda: feed.healthy)
    verification_cache.reset()  # no thread: this test flushes by hand
    feed.stopping.set()

    def down(*args, **kwargs):
        raise ConnectionError("down")

    monkeypatch.setattr(feed.client, "rpush", down)
    monkeypatch.setattr(verification_log, "save_lines", down)
    feed.log('{"result": "valid"}')
    with pytest.raises(ConnectionError):
        feed.flush_log()
    assert feed.pending_log == ['{"result": "valid"}']
    saved = []
    monkeypatch.setattr(verification_log, "save_lines", saved.extend)
    feed.flush_log()
    assert saved == ['{"result": "valid"}'] and feed.pending_log == []
