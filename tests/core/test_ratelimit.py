"""Rate limits over a sliding window: an allowance spent at the end of one clock window is still spent at the start
of the next (with fixed windows alone, twice the limit passed within two seconds), and it frees up pro rata. One rule
judges every attempt, so the wait told is exact and the up-front check refuses what counting would."""

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
    # 3 + 4 * (3600 - t) / 3600 < 5 once t > 1800
    assert [ratelimit.failure_count("test", "x") for _ in range(3)] == [None, None, 1]


def test_hits_across_a_window_boundary_are_limited_like_hits_inside_one(clock):
    clock.t = START + HOUR - 1
    for _ in range(5):
        ratelimit.check_rate("test", "client")
    clock.t = START + HOUR  # one second later, in a new clock window
    with pytest.raises(RateLimited) as refused:
        ratelimit.check_rate("test", "client")
    assert refused.value.details["retry_after_seconds"] >= 1


def test_a_caller_who_waits_the_time_told_is_let_through_and_not_a_second_earlier(clock):
    clock.t = START + HOUR // 2
    for _ in range(5):
        ratelimit.check_rate("test", "client")
    clock.t = START + HOUR + HOUR // 2  # the previous window's 5 weigh 2.5
    for _ in range(3):  # 0, 1, 2 before each: below 5 with the 2.5
        ratelimit.check_rate("test", "client")
    with pytest.raises(RateLimited) as refused:  # 3 + 2.5 >= 5
        ratelimit.check_rate("test", "client")
    wait = refused.value.details["retry_after_seconds"]
    assert wait == 2880 - 1800 + 1  # 4 (the refused hit counts) + 5 * (3600 - t) / 3600 < 5 once t > 2880
    clock.t += wait - 1
    with pytest.raises(RateLimited):
        ratelimit.rate_blocked("test", "client")
    clock.t += 1
    ratelimit.rate_blocked("test", "client")
    ratelimit.check_rate("test", "client")


@pytest.mark.parametrize("second", [HOUR // 2 - 360, HOUR // 2, HOUR // 2 + 360, HOUR - 1])
def test_the_up_front_check_refuses_exactly_what_counting_would(clock, second):
    # Where the count over the last window lies between limit - 1 and the limit, the check before a report is
    # filled in and the count when it is filed must agree (they disagreed with a share of the previous window).
    clock.t = START + 100
    for _ in range(5):
        ratelimit.check_rate("test", "reporter")
    clock.t = START + HOUR + second
    for _ in range(20):
        try:
            ratelimit.rate_blocked("test", "reporter")
            up_front = None
        except RateLimited as exc:
            up_front = exc.details["retry_after_seconds"]
        try:
            ratelimit.check_rate("test", "reporter")
            counted = None
        except RateLimited:
            counted = "refused"
        assert (up_front is None) == (counted is None)
        if up_front is not None:
            return  # refused both ways (check_rate counted the refused hit, as it counts every hit)
    pytest.fail("never refused")


def test_the_owner_proving_who_they_are_clears_both_windows(clock):
    clock.t = START + HOUR - 1
    for _ in range(5):
        ratelimit.failure_count("test", "account")
    clock.t = START + HOUR + 1
    assert ratelimit.failure_count("test", "account") is not None
    ratelimit.failures_clear("test", "account")
    assert ratelimit.failures_blocked("test", "account") is None
