"""Rate limits over a sliding window: an allowance spent at the end of one clock window is still spent at the start
of the next (with fixed windows alone, twice the limit passed within two seconds), and it frees up pro rata."""

import types

import pytest
from django.core.cache import cache

from core import ratelimit
from core.errors import RateLimited

HOUR = 3600
START = 1_800_000_000 // HOUR * HOUR  # a clock window's first second


@pytest.fixture
def clock(monkeypatch, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "test": (5, HOUR)}
    cache.clear()
    now = types.SimpleNamespace(t=START)
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: now.t))
    return now


def test_failures_at_a_window_s_end_still_count_at_the_next_one_s_start(clock):
    clock.t = START + HOUR - 2
    waits = [ratelimit.failure_count("test", "1.2.3.4") for _ in range(5)]
    assert waits == [None, None, None, None, 3]  # used up; free again once the window has ended
    clock.t = START + HOUR + 1  # a new clock window; the previous one's 5 still weigh 3599/3600 of 5
    wait = ratelimit.failure_count("test", "1.2.3.4")
    # 1 + 5 * (3600 - t) / 3600 < 5 once t > 720: with fixed windows alone this was the first of 5 new failures.
    assert wait == 720
    clock.t += wait - 1
    assert ratelimit.failures_blocked("test", "1.2.3.4") == 1
    clock.t += 1
    assert ratelimit.failures_blocked("test", "1.2.3.4") is None
    assert ratelimit.failures_blocked("test", "5.6.7.8") is None  # another address was never limited


def test_half_a_window_later_half_of_the_previous_count_weighs(clock):
    clock.t = START + 10
    for _ in range(4):
        assert ratelimit.failure_count("test", "x") is None
    clock.t = START + HOUR + HOUR // 2  # the previous window's 4 weigh 2
    assert [ratelimit.failure_count("test", "x") for _ in range(3)] == [
        None,
        None,
        1,
    ]  # 3 + 4 * (3600 - t) / 3600 < 5 once t > 1800


def test_hits_across_a_window_boundary_are_limited_like_hits_inside_one(clock):
    clock.t = START + HOUR - 1
    for _ in range(5):
        ratelimit.check_rate("test", "client")
    clock.t = START + HOUR  # one second later, in a new clock window
    with pytest.raises(RateLimited) as refused:
        ratelimit.check_rate("test", "client")
    assert refused.value.details["retry_after_seconds"] >= 1


def test_the_owner_proving_who_they_are_clears_both_windows(clock):
    clock.t = START + HOUR - 1
    for _ in range(5):
        ratelimit.failure_count("test", "account")
    clock.t = START + HOUR + 1
    assert ratelimit.failure_count("test", "account") is not None
    ratelimit.failures_clear("test", "account")
    assert ratelimit.failures_blocked("test", "account") is None
