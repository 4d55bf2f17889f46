import pytest

from certificates import verification_log
from certificates.models import VerificationLog
from tests.certificates.conftest import VERIFICATION_REDIS_URL

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_buffer(settings, verification_redis):
    settings.VERIFICATION_LOG_REDIS_URL = VERIFICATION_REDIS_URL
    settings.VERIFICATION_LOG_BUFFERED = False  # one push per verification (the buffered way: test_verification_cache)
    return verification_redis


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
