import pytest

from certificates import verification_log
from certificates.models import VerificationLog
from tests.conftest import IN_CI

pytestmark = pytest.mark.django_db
REDIS_URL = "redis://127.0.0.1:6379/3"


@pytest.fixture
def redis_buffer(settings):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if IN_CI:
            pytest.fail("CI has Redis on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379")
    client.delete(verification_log.QUEUE_KEY)
    settings.VERIFICATION_LOG_REDIS_URL = REDIS_URL
    settings.VERIFICATION_LOG_BUFFERED = False  # one push per verification (the buffered way: test_verification_cache)
    yield client
    client.delete(verification_log.QUEUE_KEY)


def test_verifications_are_buffered_then_flushed_in_bulk(redis_buffer):
    for result in ("valid", "forged", "unknown"):
        verification_log.record(channel="api", result=result, certificate_id=None, organisation_id=None, region_code="")
    assert VerificationLog.objects.count() == 0 and redis_buffer.llen(verification_log.QUEUE_KEY) == 3
    assert verification_log.flush() == 3
    assert sorted(VerificationLog.objects.values_list("result", flat=True)) == ["forged", "unknown", "valid"]
    assert redis_buffer.llen(verification_log.QUEUE_KEY) == 0


def test_without_redis_the_entry_goes_straight_to_the_database(settings):
    settings.VERIFICATION_LOG_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.VERIFICATION_LOG_BUFFERED = False
    verification_log._redis.cache_clear()
    verification_log.record(channel="scan", result="valid", certificate_id=None, organisation_id=None, region_code="")
    assert VerificationLog.objects.filter(channel="scan").count() == 1
    verification_log._redis.cache_clear()
