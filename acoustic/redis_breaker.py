"""A per-process circuit breaker for Redis on the request path: after a call times out, leave Redis alone a while.

A Redis that accepts connections but does not answer (paused, overloaded, a half-open link) costs every call its
socket timeout. Without the breaker each lead in a burst would pay it for the rate limit (a visitor's second post)
and the dispatch's publish (at most every 0.5 s per process). Skipping Redis loses nothing: the lead is in the
database, marked dispatch_pending, and beat's dispatch_leads finds it once Redis answers again; the rate limit fails
open meanwhile. A refused connection costs nothing, so it does not trip the breaker: the next call simply tries
again.
"""

import time

import redis

# Long enough that a burst pays the timeout once, short enough that a recovered Redis is used again promptly.
OPEN_SECONDS = 5.0


class CircuitBreaker:
    def __init__(self, open_seconds: float) -> None:
        self.open_seconds = open_seconds
        self._opened_at: float | None = None

    def is_open(self) -> bool:
        """True while the last failure is recent: callers skip the call and take their fallback."""
        return self._opened_at is not None and time.monotonic() - self._opened_at < self.open_seconds

    def trip(self) -> None:
        self._opened_at = time.monotonic()

    def failed(self, error: BaseException) -> None:
        """Trips the breaker if the call failed by timing out (kombu wraps redis-py's error in its own)."""
        if _is_timeout(error):
            self.trip()

    def reset(self) -> None:
        self._opened_at = None


def _is_timeout(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, TimeoutError | redis.TimeoutError):
            return True
        error = error.__cause__ or error.__context__
    return False


redis_breaker = CircuitBreaker(OPEN_SECONDS)
