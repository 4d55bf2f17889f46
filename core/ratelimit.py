"""Fixed-window rate limits on the cache (Redis in production: shared by every web node).

Two kinds of limit, both configured in `settings.RATE_LIMITS[scope] = (limit, window_seconds)`:
- `check_rate` counts every hit it is called for (public lookups; accepted reports and objections, called once
  the input is valid, with `rate_blocked` first so that an address over its allowance is refused up front);
- `failures_blocked` / `failure_count` / `failures_clear` count failures only (logins, second-factor codes), so
  that successes never use up anyone's allowance: an office whose staff all sign in from one address is never
  locked out by signing in.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from .errors import RateLimited


def client_ip(request) -> str:
    # Behind the load balancer the last hop's address is in REMOTE_ADDR; X-Forwarded-For is client-controlled.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _window(scope: str) -> tuple[int, int, int]:
    """(limit, window seconds, seconds left in the current window)."""
    limit, window = settings.RATE_LIMITS[scope]
    return limit, window, window - int(time.time() % window)


def _cache_key(scope: str, key: str, window: int) -> str:
    # Keys are user input (a typed username): hashed, so that any text makes a valid, bounded cache key.
    digest = hashlib.sha256(str(key).encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{int(time.time() // window)}"


def _increment(cache_key: str, window: int) -> int:
    if cache.add(cache_key, 1, timeout=window + 5):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, timeout=window + 5)
        return 1


def wait_text(seconds: int) -> str:
    """How long to wait, as a person reads it: '45 秒', '3 分钟' (rounded up, never '0 分钟')."""
    seconds = max(1, int(seconds))
    if seconds < 60:
        return _("%(n)d 秒") % {"n": seconds}
    return _("%(n)d 分钟") % {"n": math.ceil(seconds / 60)}


def too_many(seconds: int, message: str | None = None) -> RateLimited:
    """The error for a limit reached: the message says how long to wait; details carry the seconds."""
    text = message or _("尝试次数过多,请 %(wait)s后再试。")
    return RateLimited(text % {"wait": wait_text(seconds)}, details={"retry_after_seconds": int(seconds)})


def check_rate(scope: str, key: str) -> None:
    """Count one hit for `key` in `scope`; raise RateLimited past the scope's limit for the window."""
    limit, window, left = _window(scope)
    if _increment(_cache_key(scope, key, window), window) > limit:
        raise too_many(left, _("请求过于频繁,请 %(wait)s后再试。"))


def rate_blocked(scope: str, key: str, message: str | None = None) -> None:
    """Raise RateLimited if `key` has used up its allowance in `scope` for this window; count nothing. For limits
    that count only what succeeds (check_rate once it has), so that a refused caller is told before anything
    else is looked at."""
    wait = failures_blocked(scope, key)
    if wait:
        raise too_many(wait, message or _("请求过于频繁,请 %(wait)s后再试。"))


def failures_blocked(scope: str, key: str) -> int | None:
    """Seconds to wait if `key` has used up its failures in `scope` for this window, else None. Counts nothing."""
    limit, window, left = _window(scope)
    count = cache.get(_cache_key(scope, key, window)) or 0
    return left if count >= limit else None


def failure_count(scope: str, key: str) -> int | None:
    """Count one failure; return the seconds to wait if that used up the allowance, else None."""
    limit, window, left = _window(scope)
    return left if _increment(_cache_key(scope, key, window), window) >= limit else None


def failures_clear(scope: str, key: str) -> None:
    """Forget the failures of this window (the account's owner has just proved who they are)."""
    _limit, window, _left = _window(scope)
    cache.delete(_cache_key(scope, key, window))
