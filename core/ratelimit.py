"""Sliding-window rate limits on the cache (Redis in production: shared by every web node).

Each scope counts in clock-aligned windows, and a window's count is judged together with the previous window's,
weighted by how much of that window still lies within the last `window` seconds (the sliding-window counter):
with fixed windows alone an address could spend its allowance in a window's last second and again in the next
one's first, twice the limit in two seconds.

One rule judges every attempt: it passes while the count over the last window before it is below the limit
(`_Window.blocks`), and the wait told is until the next attempt passes, so that `rate_blocked` refuses exactly what
`check_rate` would and a caller who waits the time told is not refused again.

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


class _Window:
    """Where `key` stands in `scope` now: the limit, the window's length, how far into the current window we are,
    the current window's cache key and the previous window's count."""

    def __init__(self, scope: str, key: str):
        self.limit, self.length = settings.RATE_LIMITS[scope]
        now = time.time()
        index = int(now // self.length)
        self.elapsed = now - index * self.length
        digest = hashlib.sha256(str(key).encode()).hexdigest()[:32]  # key is user input: hashed, bounded
        self.current_key = f"rl:{scope}:{digest}:{index}"
        self.previous_key = f"rl:{scope}:{digest}:{index - 1}"
        self._previous: int | None = None

    @property
    def previous(self) -> int:
        if self._previous is None:
            self._previous = cache.get(self.previous_key) or 0
        return self._previous

    def weighted(self, current: int) -> float:
        """The count over the last `length` seconds, the previous window's share taken pro rata."""
        return current + self.previous * (self.length - self.elapsed) / self.length

    def blocks(self, current: int) -> bool:
        """Whether the next attempt is refused: while the count over the last `length` seconds is at the limit."""
        return self.weighted(current) >= self.limit - 1e-9  # a float's last bit does not let one more through

    def wait(self, current: int) -> int:
        """Whole seconds until the next attempt passes (the count over the last `length` seconds is below the
        limit), if nothing more comes."""
        left = self.length - self.elapsed
        if current >= self.limit:  # this window alone is at the limit; at its end it becomes the previous one
            until = left + self.length * (current - self.limit) / current
        else:  # current + previous * (length - t) / length < limit  <=>  t > length * (previous - limit + current) / previous
            until = self.length * (self.previous - self.limit + current) / self.previous - self.elapsed
        return max(1, math.floor(until) + 1)

    def increment(self) -> int:
        if cache.add(self.current_key, 1, timeout=2 * self.length + 5):  # kept while it is the previous window
            return 1
        try:
            return cache.incr(self.current_key)
        except ValueError:  # expired between add() and incr()
            cache.set(self.current_key, 1, timeout=2 * self.length + 5)
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
    """Count one hit for `key` in `scope`; raise RateLimited past the scope's limit over the last window."""
    w = _Window(scope, key)
    current = w.increment()
    if w.blocks(current - 1):  # this hit was the attempt judged
        raise too_many(w.wait(current), _("请求过于频繁,请 %(wait)s后再试。"))


def rate_blocked(scope: str, key: str, message: str | None = None) -> None:
    """Raise RateLimited if `key` has used up its allowance in `scope` over the last window; count nothing. For
    limits that count only what succeeds (check_rate once it has), so that a refused caller is told before
    anything else is looked at."""
    wait = failures_blocked(scope, key)
    if wait:
        raise too_many(wait, message or _("请求过于频繁,请 %(wait)s后再试。"))


def failures_blocked(scope: str, key: str) -> int | None:
    """Seconds to wait if `key` has used up its failures in `scope` over the last window, else None. Counts
    nothing."""
    w = _Window(scope, key)
    current = cache.get(w.current_key) or 0
    return w.wait(current) if w.blocks(current) else None


def failure_count(scope: str, key: str) -> int | None:
    """Count one failure; return the seconds to wait if that used up the allowance, else None."""
    w = _Window(scope, key)
    current = w.increment()
    return w.wait(current) if w.blocks(current) else None


def failures_clear(scope: str, key: str) -> None:
    """Forget the failures counted (the account's owner has just proved who they are)."""
    w = _Window(scope, key)
    cache.delete_many([w.current_key, w.previous_key])
