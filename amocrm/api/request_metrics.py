"""Counters of amoCRM requests shared by every process: kept in Redis, read by /metrics.

prometheus-client's counters live in one process's memory, while requests to amoCRM leave from gunicorn workers,
Celery workers and the admin, in separate containers. HINCRBY on one Redis hash adds them up where all of them
reach; the counts survive restarts and deploys, and start again from zero only if Redis loses its data (Prometheus
reads that as a counter reset).
"""

import logging
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

REQUESTS_KEY = "acoustic:metrics:amocrm:requests"  # "METHOD\tendpoint\tstatus" -> requests
DURATIONS_KEY = "acoustic:metrics:amocrm:durations"  # "METHOD\tendpoint\t<le>" -> requests, "...\tsum" -> seconds
BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0)  # seconds; amoCRM's read timeout is 20 s
NO_ANSWER = "none"  # the status label of a request that got no answer


@dataclass(frozen=True)
class Durations:
    method: str
    endpoint: str
    buckets: list[tuple[str, int]]  # cumulative, Prometheus style: ("0.1", n), ..., ("+Inf", total)
    total_seconds: float


def count(method: str, endpoint: str, status: int | None, seconds: float) -> None:
    """Add one request; a Redis outage loses the count (logged), never the request."""
    series = f"{method}\t{endpoint}"
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.hincrby(REQUESTS_KEY, f"{series}\t{NO_ANSWER if status is None else status}", 1)
        pipe.hincrby(DURATIONS_KEY, f"{series}\t{_bucket(seconds)}", 1)
        pipe.hincrbyfloat(DURATIONS_KEY, f"{series}\tsum", seconds)
        pipe.execute()
    except redis.RedisError:
        logger.warning("Could not count an amoCRM request in Redis", exc_info=True)


def requests_by_status() -> dict[tuple[str, str, str], int]:
    """(method, endpoint, status) -> requests since the counters began."""
    counts = _redis().hgetall(REQUESTS_KEY)
    return {tuple(field.decode().split("\t")): int(value) for field, value in counts.items()}  # type: ignore[misc]


def durations() -> list[Durations]:
    """One cumulative histogram per (method, endpoint)."""
    per_series: dict[tuple[str, str], dict[str, float]] = {}
    for field, value in _redis().hgetall(DURATIONS_KEY).items():
        method, endpoint, le = field.decode().split("\t")
        per_series.setdefault((method, endpoint), {})[le] = float(value)
    return [_histogram(method, endpoint, values) for (method, endpoint), values in sorted(per_series.items())]


def _histogram(method: str, endpoint: str, values: dict[str, float]) -> Durations:
    running, buckets = 0, []
    for le in [*map(str, BUCKETS), "+Inf"]:
        running += int(values.get(le, 0))
        buckets.append((le, running))
    return Durations(method, endpoint, buckets, values.get("sum", 0.0))


def _bucket(seconds: float) -> str:
    """The smallest bucket the duration fits in; the histogram is made cumulative when read."""
    return next((str(le) for le in BUCKETS if seconds <= le), "+Inf")


def _redis() -> redis.Redis:
    return _connect(settings.REDIS_URL)


@cache
def _connect(url: str) -> redis.Redis:
    # Short timeouts: counting must never hold up a request to amoCRM for long.
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
