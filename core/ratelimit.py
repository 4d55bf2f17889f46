"""A fixed-window rate limiter on the cache (Redis in production: shared by every web node)."""

import time

from django.conf import settings
from django.core.cache import cache

from .errors import RateLimited


def client_ip(request) -> str:
    # Behind the load balancer the last hop's address is in REMOTE_ADDR; X-Forwarded-For is client-controlled.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def check_rate(scope: str, key: str) -> None:
    """Count one hit for `key` in `scope`; raise RateLimited past the scope's limit for the window."""
    limit, window = settings.RATE_LIMITS[scope]
    bucket = int(time.time() // window)
    cache_key = f"rl:{scope}:{key}:{bucket}"
    if cache.add(cache_key, 1, timeout=window + 5):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:
            cache.set(cache_key, 1, timeout=window + 5)
            count = 1
    if count > limit:
        raise RateLimited(details={"retry_after_seconds": window - int(time.time() % window)})
