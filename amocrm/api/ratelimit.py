"""The amoCRM rate limiter shared by every process on every host: one Redis clock, one queue of request slots.

amoCRM allows 7 requests per second; beyond that it answers 429 (an HTML page, no Retry-After) and, if we keep
going, blocks the account with 403. A token bucket of capacity 7 refilling at 7/s would let 14 through within one
second, so this is GCRA with a burst of one: each request gets its own slot, at least `spacing` after the one
before, on the Redis server's clock so that hosts with skewed clocks still agree.
Reference: https://www.amocrm.ru/developers/content/api/recommendations
"""

import logging
from dataclasses import dataclass
from functools import cache
from math import ceil
from time import monotonic, sleep
from typing import NamedTuple

import redis
from django.conf import settings
from redis.backoff import ExponentialWithJitterBackoff
from redis.commands.core import Script
from redis.retry import Retry

logger = logging.getLogger(__name__)

PREFIX = "acoustic:amocrm:ratelimit:"
NEXT_SLOT_KEY = PREFIX + "next_slot"  # server time (µs) of the earliest slot nobody has reserved yet
PAUSED_UNTIL_KEY = PREFIX + "paused_until"  # server time (µs) before which nobody may send, after a 429

# KEYS: next slot, paused until. ARGV: spacing µs, longest acceptable wait µs (-1: any).
# Returns {1, wait µs, slot µs} with the slot reserved, or {0, wait µs} with nothing reserved.
# Reserving ahead means a caller sleeps once and sends; every reservation moves next_slot on by the spacing,
# so slots never come closer than that however many callers queue up.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local next_slot = tonumber(redis.call('GET', KEYS[1]) or 0)
local paused_until = tonumber(redis.call('GET', KEYS[2]) or 0)
local slot = math.max(now, next_slot, paused_until)
local max_wait = tonumber(ARGV[2])
if max_wait >= 0 and slot - now > max_wait then
  return {0, slot - now}
end
next_slot = slot + tonumber(ARGV[1])
-- '%.0f': Lua would write a 16-digit number as 1.7e+15 and lose the microseconds.
redis.call('SET', KEYS[1], string.format('%.0f', next_slot), 'PX', math.ceil((next_slot - now) / 1000) + 1)
return {1, slot - now, slot}
"""

# KEYS: paused until. ARGV: pause µs (> 0). Only ever extends: a later, shorter 429 must not cut a pause short.
_PAUSE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused_until = now + tonumber(ARGV[1])
if paused_until > tonumber(redis.call('GET', KEYS[1]) or 0) then
  redis.call('SET', KEYS[1], string.format('%.0f', paused_until), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1)
end
return 1
"""


class RateLimitTimeout(Exception):
    """acquire() could not get a slot within its timeout; no slot was reserved."""


@dataclass(frozen=True)
class LimiterState:
    requests_per_second: float  # configured rate
    spacing_seconds: float  # minimum gap between two requests, margin included
    paused_for_seconds: float  # >0 while a 429 pause is in force
    next_slot_in_seconds: float  # how long a caller would wait now (0 if free)


class _Redis(NamedTuple):
    client: redis.Redis
    acquire: Script
    pause: Script


class _Slot(NamedTuple):
    wait_us: int  # how long the caller sleeps before sending
    at_us: int  # the reserved slot, in Redis server time


def acquire(timeout: float | None = 30.0) -> int:
    """Sleep until this process may send one request to amoCRM; the slot is reserved for it alone.

    Returns the slot: the Redis server time (µs) it was reserved for. Slots are never closer than the spacing; when
    the caller actually sends depends on how soon its sleep ends. Raises RateLimitTimeout if the slot is more than
    `timeout` seconds away (None: wait however long), and redis.ConnectionError if Redis is unreachable: traffic
    never goes through unlimited.
    """
    try:
        return _acquire(None if timeout is None else monotonic() + timeout)
    except redis.TimeoutError as error:
        # Callers treat ConnectionError as a temporary failure; a Redis that does not answer is one too.
        raise redis.ConnectionError(f"Redis did not answer: {error}") from error


def pause(seconds: float) -> None:
    """After a 429, make every process wait at least `seconds` from now; a longer pause already set is kept."""
    if seconds <= 0:
        return
    logger.warning("amoCRM answered 429: pausing every process for %.1f s", seconds)
    _redis().pause(keys=[PAUSED_UNTIL_KEY], args=[ceil(seconds * 1_000_000)])


def state() -> LimiterState:
    """A read-only view for `amocrm_test` and the admin panel."""
    pipe = _redis().client.pipeline(transaction=True)  # one server instant for all three values
    pipe.time().get(NEXT_SLOT_KEY).get(PAUSED_UNTIL_KEY)
    (seconds, micros), next_slot, paused_until = pipe.execute()
    now = seconds * 1_000_000 + micros
    paused_until = int(paused_until or 0)
    return LimiterState(
        requests_per_second=settings.AMOCRM_RATE_LIMIT,
        spacing_seconds=_spacing_us() / 1_000_000,
        paused_for_seconds=max(paused_until - now, 0) / 1_000_000,
        next_slot_in_seconds=(max(int(next_slot or 0), paused_until, now) - now) / 1_000_000,
    )


def reset() -> None:
    """Forget reserved slots and any pause (tests, operators)."""
    _redis().client.delete(NEXT_SLOT_KEY, PAUSED_UNTIL_KEY)


def _acquire(deadline: float | None) -> int:
    while True:
        slot = _reserve(None if deadline is None else max(deadline - monotonic(), 0.0))
        if not slot.wait_us:
            return slot.at_us
        sleep(slot.wait_us / 1_000_000)
        # A 429 while we slept voids our slot (a pause ends after it): queue again rather than send into a block.
        if int(_redis().client.get(PAUSED_UNTIL_KEY) or 0) <= slot.at_us:
            return slot.at_us


def _reserve(max_wait: float | None) -> _Slot:
    """Reserve the next slot unless it is more than max_wait seconds away (None: any wait)."""
    max_wait_us = -1 if max_wait is None else int(max_wait * 1_000_000)
    reply = _redis().acquire(keys=[NEXT_SLOT_KEY, PAUSED_UNTIL_KEY], args=[_spacing_us(), max_wait_us])
    if not reply[0]:
        raise RateLimitTimeout(f"the next amoCRM request slot is {reply[1] / 1_000_000:.1f} s away")
    return _Slot(wait_us=reply[1], at_us=reply[2])


def _spacing_us() -> int:
    # Rounded up (1/7 s is 142857.14 µs: 142857 would fit eight slots into one second); round(…, 3) first drops
    # float noise such as 150000.00000000003.
    return ceil(round(1_000_000 / settings.AMOCRM_RATE_LIMIT * (1 + settings.AMOCRM_RATE_MARGIN), 3))


def _redis() -> _Redis:
    return _connect(settings.REDIS_URL)


@cache
def _connect(url: str) -> _Redis:
    # redis-py reopens its connections after a fork, so one client per process and URL is safe under Celery prefork.
    # Short timeouts and retries: an unreachable Redis becomes a prompt ConnectionError the caller can retry later.
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=5,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=2),
    )
    # register_script: EVALSHA, falling back to EVAL when the server has lost its script cache.
    return _Redis(client, client.register_script(_ACQUIRE_LUA), client.register_script(_PAUSE_LUA))
