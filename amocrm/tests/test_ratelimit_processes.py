"""The amoCRM rate limiter as processes see it: its settings at start-up, and many processes sharing one budget."""

import multiprocessing
import os
import subprocess
import sys
from bisect import bisect_left
from pathlib import Path

import pytest

from amocrm.api import ratelimit

ROOT = Path(__file__).resolve().parents[2]
SECOND_US = 1_000_000


# Configuration


@pytest.mark.parametrize("value", ["8", "0", "-1", "fast"])
def test_it_refuses_to_start_with_a_bad_rate_limit(value):
    result = _python("manage.py", "check", AMOCRM_RATE_LIMIT=value)

    assert result.returncode == 1
    assert f"AMOCRM_RATE_LIMIT is malformed: expected requests per second above 0 and at most 7, got '{value}'" in (
        result.stderr
    )


def test_it_refuses_to_start_with_a_negative_margin():
    result = _python("manage.py", "check", AMOCRM_RATE_MARGIN="-0.1")

    assert result.returncode == 1
    assert "AMOCRM_RATE_MARGIN is malformed" in result.stderr


def test_it_reads_a_lower_rate_limit_from_the_environment():
    result = _python("-c", "from amocrm.api import ratelimit; print(ratelimit.state())", AMOCRM_RATE_LIMIT="3.5")

    assert result.returncode == 0, result.stderr
    assert "requests_per_second=3.5, spacing_seconds=0.3" in result.stdout


# Several processes at once: what amoCRM would see


@pytest.fixture(scope="module")
def grants() -> list[int]:
    """4 processes × 15 requests through the limiter at once; the slot (Redis server time, µs) each was given.

    The slots are what the limiter decides; when a process actually wakes up from its sleep depends on the machine
    (a late wake-up on a loaded CPU squeezes two sends together, which the spacing's margin absorbs). Arrivals as
    amoCRM counts them are measured over HTTPS in test_ratelimit_arrivals.py and by bench/ratelimit.py.
    """
    ratelimit.reset()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AMOCRM_RATE_LIMIT", "7")
        env.setenv("AMOCRM_RATE_MARGIN", "0.05")
        return _grants_from_processes(processes=4, each=15)


def test_it_never_gives_eight_slots_in_one_second_across_processes(grants):
    assert len(grants) == 60
    assert _busiest_second(grants) <= 7


def test_it_spaces_every_two_slots_by_at_least_the_spacing(grants):
    spacing_us = 1_000_000 / 7 * 1.05
    grants = sorted(grants)

    assert min(b - a for a, b in zip(grants, grants[1:], strict=False)) >= spacing_us - 1


def test_it_sustains_six_requests_per_second_with_a_backlog(grants):
    grants = sorted(grants)

    assert (len(grants) - 1) / ((grants[-1] - grants[0]) / SECOND_US) >= 6


def _busiest_second(grants: list[int]) -> int:
    """The most grants in any window [t, t + 1 s), t being each grant in turn."""
    grants = sorted(grants)
    return max(bisect_left(grants, start + SECOND_US) - i for i, start in enumerate(grants))


def _grants_from_processes(processes: int, each: int) -> list[int]:
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters, like separate workers and hosts
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_take_slots, args=(barrier, results, each)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    grants = [grant for _ in workers for grant in results.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=10)
    return grants


def _take_slots(barrier, results, count: int) -> None:
    """Runs in a child process: acquire `count` times, noting the slot each was given."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acoustic.settings")
    barrier.wait(timeout=60)
    results.put([ratelimit.acquire() for _ in range(count)])


def _python(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Python in the project, in development mode, with extra environment variables."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "acoustic.settings", "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
