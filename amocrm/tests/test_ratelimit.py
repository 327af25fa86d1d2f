"""The amoCRM rate limiter, against real Redis: amoCRM must never see more than 7 requests in one second."""

import threading
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings

from amocrm.api import ratelimit
from amocrm.api.ratelimit import LimiterState, RateLimitTimeout

ROOT = Path(__file__).resolve().parents[2]
SECOND_US = 1_000_000


@pytest.fixture(autouse=True)
def _no_pause_left_behind(settings):
    """The embedded Redis is also the development one: a test's 10-minute pause must not outlive it."""
    real_redis = django_settings.REDIS_URL
    yield
    settings.REDIS_URL = real_redis  # whatever the test pointed it at
    ratelimit.reset()


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """acquire() records how long it would sleep instead of sleeping."""
    calls: list[float] = []
    monkeypatch.setattr(ratelimit, "sleep", calls.append)
    return calls


@pytest.fixture
def default_rate(settings):
    settings.AMOCRM_RATE_LIMIT, settings.AMOCRM_RATE_MARGIN = 7.0, 0.05


@pytest.fixture
def slow_rate(settings):
    """One request every 2 s: waits are long enough that test timing cannot blur them."""
    settings.AMOCRM_RATE_LIMIT, settings.AMOCRM_RATE_MARGIN = 0.5, 0.0


# Spacing


def test_it_spaces_requests_150_ms_apart_by_default(default_rate):
    slots = [ratelimit._reserve(None).at_us for _ in range(5)]

    assert [b - a for a, b in zip(slots, slots[1:], strict=False)] == [150_000] * 4


def test_it_keeps_slots_the_spacing_apart_when_many_threads_reserve_at_once(default_rate):
    slots: list[int] = []
    threads = [threading.Thread(target=lambda: slots.extend(_reserve_many(10))) for _ in range(8)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    slots.sort()
    assert len(slots) == 80
    assert min(b - a for a, b in zip(slots, slots[1:], strict=False)) >= 150_000


def test_it_sends_the_first_request_at_once(sleeps, slow_rate):
    ratelimit.acquire()

    assert sleeps == []


def test_it_sleeps_until_the_reserved_slot(sleeps, slow_rate):
    ratelimit.acquire()

    ratelimit.acquire()

    assert len(sleeps) == 1
    assert 1.5 < sleeps[0] <= 2.0


# 429 pause


def test_it_makes_every_caller_wait_out_a_pause(sleeps):
    ratelimit.pause(3)

    ratelimit.acquire()

    assert len(sleeps) == 1
    assert 2.5 < sleeps[0] <= 3.0


def test_it_keeps_a_longer_pause_already_in_force():
    ratelimit.pause(10)

    ratelimit.pause(1)

    assert ratelimit.state().paused_for_seconds > 9


def test_it_extends_a_shorter_pause():
    ratelimit.pause(1)

    ratelimit.pause(10)

    assert ratelimit.state().paused_for_seconds > 9


def test_it_queues_again_when_a_pause_starts_while_it_sleeps(monkeypatch, slow_rate):
    sleeps: list[float] = []

    def sleep_through_a_429(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            ratelimit.pause(5)  # another process got a 429 while this one waited for its slot

    monkeypatch.setattr(ratelimit, "sleep", sleep_through_a_429)
    ratelimit.acquire()

    ratelimit.acquire()

    assert len(sleeps) == 2
    assert 4.5 < sleeps[1] <= 5.0


# state() and reset()


def test_it_reports_the_configured_rate_and_spacing(settings):
    settings.AMOCRM_RATE_LIMIT, settings.AMOCRM_RATE_MARGIN = 5.0, 0.1

    state = ratelimit.state()

    assert state == LimiterState(
        requests_per_second=5.0, spacing_seconds=0.22, paused_for_seconds=0.0, next_slot_in_seconds=0.0
    )


def test_it_reports_how_long_the_next_caller_would_wait(slow_rate):
    ratelimit.acquire()

    state = ratelimit.state()

    assert 1.5 < state.next_slot_in_seconds <= 2.0
    assert state.paused_for_seconds == 0.0


def test_it_reports_a_pause_in_force():
    ratelimit.pause(3)

    state = ratelimit.state()

    assert 2.5 < state.paused_for_seconds <= 3.0
    assert state.next_slot_in_seconds == state.paused_for_seconds


def test_it_forgets_reserved_slots_and_pauses_on_reset(sleeps, slow_rate):
    ratelimit.acquire()
    ratelimit.pause(60)

    ratelimit.reset()

    ratelimit.acquire()
    assert sleeps == []


def test_it_sets_an_expiry_on_every_key(slow_rate):
    ratelimit.acquire()
    ratelimit.pause(5)

    client = ratelimit._redis().client
    keys = list(client.scan_iter(f"{ratelimit.PREFIX}*"))

    assert len(keys) == 2
    assert all(0 < client.pttl(key) <= 5_001 for key in keys)


# Timeouts


def test_it_raises_rate_limit_timeout_when_the_slot_is_too_far(slow_rate):
    ratelimit.acquire()

    with pytest.raises(RateLimitTimeout):
        ratelimit.acquire(timeout=1)


def test_it_reserves_no_slot_when_it_times_out(slow_rate):
    ratelimit.acquire()

    with pytest.raises(RateLimitTimeout):
        ratelimit.acquire(timeout=1)

    assert ratelimit.state().next_slot_in_seconds <= 2.0  # still the first caller's slot, not one 2 s later


def test_it_waits_as_long_as_it_takes_without_a_timeout(sleeps):
    ratelimit.pause(600)

    ratelimit.acquire(timeout=None)

    assert sleeps[0] > 599


# Redis


def test_it_refuses_traffic_when_redis_is_unreachable(settings, tmp_path):
    settings.REDIS_URL = f"unix://{tmp_path}/no-redis.sock"

    with pytest.raises(redis.ConnectionError):
        ratelimit.acquire()


def test_it_recovers_when_redis_forgets_its_scripts(sleeps, slow_rate):
    ratelimit.acquire()
    ratelimit._redis().client.script_flush()

    ratelimit.acquire()

    assert len(sleeps) == 1


def _reserve_many(count: int) -> list[int]:
    return [ratelimit._reserve(None).at_us for _ in range(count)]
