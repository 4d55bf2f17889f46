"""The verification log, written so that verifying stays fast under load.

With VERIFICATION_LOG_REDIS_URL set (production), each verification appends one small JSON line to a Redis
list and a beat task moves them into the database in bulk every few seconds. With VERIFICATION_LOG_BUFFERED
(the default), a web process collects its lines for one poll of its verification feed and pushes them in one
call (see verification_cache). Without Redis, or when it cannot be reached, the rows are written to the
database directly: a verification is never left unlogged.
"""

import datetime
import json
import logging
from functools import lru_cache

from django.conf import settings
from django.utils import timezone

from . import verification_cache
from .models import VerificationLog

log = logging.getLogger(__name__)
QUEUE_KEY = "verification-log"
BATCH = 5000


@lru_cache(maxsize=1)
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)


def record(
    *, channel: str, result: str, certificate_id: int | None, organisation_id: int | None, region_code: str
) -> None:
    entry = {
        "at": timezone.now().isoformat(),
        "channel": channel,
        "result": result,
        "certificate_id": certificate_id,
        "organisation_id": organisation_id,
        "region_code": region_code,
    }
    url = getattr(settings, "VERIFICATION_LOG_REDIS_URL", "")
    if url and verification_cache.log_buffered():
        feed = verification_cache.feed()
        if feed is not None and feed.healthy:  # else Redis is unreachable: no entry waits on it, see below
            feed.log(json.dumps(entry))
            return
    if url:
        try:
            _redis(url).rpush(QUEUE_KEY, json.dumps(entry))
            return
        except Exception:  # any Redis failure: fall back to the database, below
            log.warning("verification log buffer unavailable; writing directly", exc_info=True)
    _save([entry])


def _save(entries: list[dict]) -> None:
    VerificationLog.objects.bulk_create(
        [
            VerificationLog(
                at=datetime.datetime.fromisoformat(e["at"]),
                channel=e["channel"],
                result=e["result"],
                certificate_id=e["certificate_id"],
                organisation_id=e["organisation_id"],
                region_code=e["region_code"],
            )
            for e in entries
        ]
    )


def save_lines(lines: list) -> None:
    _save([json.loads(line) for line in lines])


def flush(max_batches: int = 100) -> int:
    """Move buffered entries into the database; returns how many. Entries are removed only after they are saved."""
    url = getattr(settings, "VERIFICATION_LOG_REDIS_URL", "")
    if not url:
        return 0
    client, moved = _redis(url), 0
    for _ in range(max_batches):
        raw = client.lrange(QUEUE_KEY, 0, BATCH - 1)
        if not raw:
            break
        save_lines(raw)
        client.ltrim(QUEUE_KEY, len(raw), -1)
        moved += len(raw)
    return moved
