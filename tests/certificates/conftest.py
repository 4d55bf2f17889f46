import os
import zlib

import pytest
from django.conf import settings

from tests import factories


@pytest.fixture(autouse=True)
def _keys(settings, tmp_path_factory):
    """Each test session signs with its own keys, never the developer's var/keys."""
    if not str(settings.SIGNING_KEYS_DIR).startswith(str(tmp_path_factory.getbasetemp())):
        settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
        settings.SIGNING_KEYS_GENERATE = True


# The finalised plan is the certificate tests' starting point, written directly (tests/factories.py); tests of
# issuance run the `issue` step below on it. `finalise` marks a plan the test built as finalised.
finalise = factories.finalised


@pytest.fixture
def finalised_plan(org, org_admin, cc_officer):
    """`org` filed, a published 电工 plan, four approved candidates at level 4 and three at level 3, all passed."""
    return factories.finalised_plan(org, org_admin, cc_officer)


@pytest.fixture
def sm2_region(settings):
    """吉林省 chooses 国密 (its cities inherit it) and the ring gets an SM2 key."""
    from django.core.management import call_command

    from certificates import signing
    from occupations.models import Region

    signing.token_sign("S000022000102263000001", {})  # the ring's first (EdDSA) key
    call_command("rotate_signing_key", "--algorithm", "SM2")
    Region.objects.filter(code="220000").update(signature_algorithm="SM2")


@pytest.fixture
def issue(django_capture_on_commit_callbacks):
    """Start issuance and run what it queued on commit (the Celery task, eager in tests)."""
    from accounts.actors import Actor
    from certificates import issuance

    def run(plan, user):
        with django_capture_on_commit_callbacks(execute=True):
            batch = issuance.issue_batch_start(actor=Actor.for_user(user), plan_id=plan.id)
        batch.refresh_from_db()
        return batch

    return run


def _verification_redis_url() -> str:
    """A Redis database of this checkout's and this xdist worker's own (3..14), so that parallel workers and
    several checkouts on one machine never share the verification stream; TEST_REDIS_URL overrides."""
    if os.environ.get("TEST_REDIS_URL"):
        return os.environ["TEST_REDIS_URL"]
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % 2
    checkout = zlib.crc32(str(settings.BASE_DIR).encode()) % 6
    return f"redis://127.0.0.1:6379/{3 + 2 * checkout + worker}"


VERIFICATION_REDIS_URL = _verification_redis_url()


@pytest.fixture
def verification_redis():
    """A clean Redis database for the verification log and feed (skipped without Redis, never in CI)."""
    import redis

    from certificates import verification_cache, verification_log
    from tests.conftest import IN_CI

    client = redis.Redis.from_url(VERIFICATION_REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if IN_CI:
            pytest.fail("CI has Redis on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379: the verification log buffer and feed need it")
    keys = (verification_cache.STREAM_KEY, verification_cache.SEQ_KEY, verification_log.QUEUE_KEY)
    client.delete(*keys)
    yield client
    client.delete(*keys)
