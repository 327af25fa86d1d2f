"""Hammer the amoCRM rate limiter from several processes and report what amoCRM would see.

Run by hand against a development Redis (it resets the limiter and takes slots real workers would need):
    DEBUG=1 .venv/bin/python bench/ratelimit.py --processes 8 --seconds 5
"""

import argparse
import multiprocessing
import os
import sys
import time
from bisect import bisect_left
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acoustic.settings")

import redis  # noqa: E402 - needs the project on sys.path first
from django.conf import settings  # noqa: E402

from amocrm.api import ratelimit  # noqa: E402

SECOND_US = 1_000_000
AMOCRM_LIMIT = 7  # requests in any one second (https://www.amocrm.ru/developers/content/api/recommendations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    ratelimit.reset()
    grants = sorted(run(args.processes, args.seconds))
    report(grants, args.processes)


def run(processes: int, seconds: float) -> list[int]:
    ctx = multiprocessing.get_context("spawn")  # separate interpreters, like separate workers
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=hammer, args=(barrier, results, seconds)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    grants = [grant for _ in workers for grant in results.get(timeout=seconds + 120)]
    for worker in workers:
        worker.join()
    return grants


def hammer(barrier, results, seconds: float) -> None:
    """One process: acquire as fast as the limiter allows; Redis server time (µs) right after each grant."""
    server = redis.Redis.from_url(settings.REDIS_URL)
    barrier.wait()
    deadline, grants = time.monotonic() + seconds, []
    while time.monotonic() < deadline:
        ratelimit.acquire(timeout=None)
        now_seconds, micros = server.time()
        grants.append(now_seconds * SECOND_US + micros)
    results.put(grants)


def report(grants: list[int], processes: int) -> None:
    state = ratelimit.state()
    span = (grants[-1] - grants[0]) / SECOND_US
    rate = (len(grants) - 1) / span
    busiest = max(bisect_left(grants, start + SECOND_US) - i for i, start in enumerate(grants))
    closest = min(b - a for a, b in zip(grants, grants[1:], strict=False)) / 1000
    print(f"Redis:          {settings.REDIS_URL}")
    print(f"configured:     {state.requests_per_second:g} req/s, spacing {state.spacing_seconds * 1000:.1f} ms")
    print(f"grants:         {len(grants)} from {processes} processes in {span:.2f} s")
    print(f"grants/s:       {rate:.2f} ({rate / state.requests_per_second:.1%} of the configured rate)")
    print(f"busiest second: {busiest} grants ({busiest / AMOCRM_LIMIT:.0%} of amoCRM's {AMOCRM_LIMIT})")
    print(f"closest pair:   {closest:.1f} ms apart (wake-up jitter; slots themselves are spacing apart)")


if __name__ == "__main__":
    main()
