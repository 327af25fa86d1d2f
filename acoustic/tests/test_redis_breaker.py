"""The Redis circuit breaker: open for a few seconds after a failure, then Redis is tried again."""

import redis
from kombu.exceptions import OperationalError

from acoustic.redis_breaker import CircuitBreaker


def test_it_starts_closed():
    assert CircuitBreaker(open_seconds=5).is_open() is False


def test_it_opens_when_tripped():
    breaker = CircuitBreaker(open_seconds=5)

    breaker.trip()

    assert breaker.is_open() is True


def test_it_closes_again_after_its_open_seconds(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("acoustic.redis_breaker.time.monotonic", lambda: now[0])
    breaker = CircuitBreaker(open_seconds=5)
    breaker.trip()

    now[0] += 5

    assert breaker.is_open() is False


def test_a_timeout_wrapped_by_kombu_trips_it():
    breaker = CircuitBreaker(open_seconds=5)
    try:
        try:
            raise redis.TimeoutError("Timeout reading from socket")
        except redis.TimeoutError as error:
            raise OperationalError(str(error)) from None  # kombu re-raises inside the handler: only __context__
    except OperationalError as wrapped:
        breaker.failed(wrapped)

    assert breaker.is_open() is True


def test_a_refused_connection_leaves_it_closed():
    breaker = CircuitBreaker(open_seconds=5)

    breaker.failed(redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."))

    assert breaker.is_open() is False
