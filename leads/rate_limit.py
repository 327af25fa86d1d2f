"""The per-visitor limit on lead posts (LEAD_RATE_LIMIT), counted in Redis and shared by every process.

A visitor's first post in a window is let through by this process without asking Redis, and counted there with
their second: most visitors send one lead, and asking Redis about each cost the intake a round trip per lead
(bench/README.md). From a visitor's second post on, each process counts exactly, so a flood from one address gets at
most one post per other web process past the limit in a window.
"""

import logging
import re
import threading
import time

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from acoustic.redis_breaker import redis_breaker
from leads.client_ip import client_ip

logger = logging.getLogger(__name__)

_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}


class FirstPosts:
    """How many posts each visitor sent this process in the current window; safe for a threaded server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window: tuple[str, int] | None = None
        self._posts: dict[str, int] = {}

    def count(self, visitor: str, rate: str) -> int:
        """This post's number among the visitor's posts to this process in the window: 1 for the first."""
        window = (rate, int(time.time() // _parsed(rate)[1]))
        with self._lock:
            if window != self._window:
                self._window, self._posts = window, {}
            self._posts[visitor] = self._posts.get(visitor, 0) + 1
            return self._posts[visitor]

    def reset(self) -> None:
        with self._lock:
            self._window, self._posts = None, {}


first_posts = FirstPosts()


def is_over_limit(request: HttpRequest) -> bool:
    """True when this post takes the visitor over LEAD_RATE_LIMIT; False whenever Redis cannot say."""
    rate = settings.LEAD_RATE_LIMIT  # read per request: it can be changed, or emptied to switch the limit off
    if request.method != "POST" or not rate:
        return False
    number = first_posts.count(client_ip(request), rate)
    if number == 1 and _parsed(rate)[0] > 0:
        return False
    over = False
    for _ in range(2 if number == 2 else 1):  # the second post counts the first one too, let through without it
        over = _counted_over(request, rate)
    return over


def _counted_over(request: HttpRequest, rate: str) -> bool:
    # Fail open while Redis is down or silent: losing a lead is worse than letting a burst through. After a timeout
    # the breaker skips Redis for a few seconds, so a burst does not pay the socket timeout on every request.
    if redis_breaker.is_open():
        return False
    try:
        return is_ratelimited(request, group="leads", key=_client_ip_key, rate=rate, increment=True)
    except RedisError as error:
        redis_breaker.failed(error)
        logger.warning("Rate limiter unavailable; accepting the request", exc_info=True)
        return False


def _client_ip_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def _parsed(rate: str) -> tuple[int, int]:
    """ "10/m" as (10, 60): posts allowed, and in how many seconds (settings.py checks the format)."""
    count, multiple, unit = re.fullmatch(r"(\d+)/(\d*)([smhd])", rate).groups()
    return int(count), int(multiple or 1) * _PERIOD_SECONDS[unit]
