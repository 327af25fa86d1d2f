"""Hammer amoCRM through the rate limiter from several processes and report what amoCRM would count.

Each process sends real requests through the project's transport to the amoCRM sandbox over HTTPS (a throwaway
certificate made at start-up, trusted through AMOCRM_SANDBOX_CA_BUNDLE), which delays every new connection's setup
by --connect-delay-ms and logs when each request arrives, after its handshake: amoCRM counts requests that way.
Every --reconnect-every requests a process drops its connections, as an idle connection closed by the server would.
Run by hand against a development Redis (it resets the limiter and takes slots real workers would need):
    DEBUG=1 .venv/bin/python bench/ratelimit.py --processes 8 --seconds 10 --connect-delay-ms 400
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

import django  # noqa: E402 - needs the project on sys.path first
from django.conf import settings  # noqa: E402

from amocrm.sandbox.config import SandboxConfig  # noqa: E402
from amocrm.sandbox.faults import FaultConfig  # noqa: E402
from amocrm.sandbox.server import SandboxServer  # noqa: E402

SECOND_US = 1_000_000
AMOCRM_LIMIT = 7  # requests in any one second (https://www.amocrm.ru/developers/content/api/recommendations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connect-delay-ms", type=int, default=400, help="added to each new connection's setup")
    parser.add_argument("--reconnect-every", type=int, default=3, help="requests before a process reconnects")
    parser.add_argument("--sandbox-port", type=int, default=0, help="0: a free port")
    args = parser.parse_args()

    faults = FaultConfig(rate_limit=0, connect_delay_ms=args.connect_delay_ms)  # count arrivals, refuse none
    sandbox = SandboxServer(SandboxConfig(), faults, port=args.sandbox_port, https=True).start()
    try:
        os.environ["AMOCRM_SANDBOX_URL"], os.environ["AMOCRM_SANDBOX_CA_BUNDLE"] = sandbox.url, sandbox.ca_cert_path
        django.setup()
        from amocrm.api import ratelimit

        ratelimit.reset()
        slots = sorted(run(args, sandbox.url, sandbox.issue_tokens()["access_token"]))
        arrivals = sorted(round(record.time * SECOND_US) for record in sandbox.received(path="/api/v4/account"))
        connections = len({record.connection for record in sandbox.received(path="/api/v4/account")})
        report(args, ratelimit.state(), slots, arrivals, connections)
    finally:
        sandbox.stop()


def run(args: argparse.Namespace, url: str, token: str) -> list[int]:
    ctx = multiprocessing.get_context("spawn")  # separate interpreters, like separate workers
    barrier, results = ctx.Barrier(args.processes), ctx.Queue()
    work = (barrier, results, url, token, args.seconds, args.reconnect_every)
    workers = [ctx.Process(target=hammer, args=work) for _ in range(args.processes)]
    for worker in workers:
        worker.start()
    slots = [slot for _ in workers for slot in results.get(timeout=args.seconds + 120)]
    for worker in workers:
        worker.join()
    return slots


def hammer(barrier, results, url: str, token: str, seconds: float, reconnect_every: int) -> None:
    """One process: send as fast as the limiter allows; the slot (Redis server time, µs) of every turn taken."""
    django.setup()
    from amocrm.api import ratelimit, transport

    transport.request_log.record = lambda *args, **kwargs: None  # the wire is measured here, not the log
    slots, acquire = [], ratelimit.acquire

    def recording_acquire(timeout: float | None = 30.0) -> int:
        slots.append(acquire(timeout=timeout))
        return slots[-1]

    ratelimit.acquire = recording_acquire
    barrier.wait()
    deadline, sent = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        if sent and sent % reconnect_every == 0:
            transport.amocrm_session().close()  # its pooled connections go; the next request sets one up
        transport.send("GET", f"{url}/api/v4/account", headers={"Authorization": f"Bearer {token}"})
        sent += 1
    results.put(slots)


def busiest_second(times_us: list[int]) -> int:
    """The most events in any window [t, t + 1 s), t being each event in turn."""
    return max(bisect_left(times_us, start + SECOND_US) - i for i, start in enumerate(times_us))


def report(args: argparse.Namespace, state, slots: list[int], arrivals: list[int], connections: int) -> None:
    span = (arrivals[-1] - arrivals[0]) / SECOND_US
    rate = (len(arrivals) - 1) / span
    closest = min(b - a for a, b in zip(arrivals, arrivals[1:], strict=False)) / 1000
    busiest = busiest_second(arrivals)
    print(f"Redis:            {settings.REDIS_URL}")
    print(f"configured:       {state.requests_per_second:g} req/s, spacing {state.spacing_seconds * 1000:.1f} ms")
    print(f"sandbox:          HTTPS, {args.connect_delay_ms} ms added to each new connection's setup")
    print(f"requests:         {len(arrivals)} from {args.processes} processes in {span:.2f} s, "
          f"over {connections} connections (a new one every {args.reconnect_every} requests per process)")  # fmt: skip
    print(f"turns taken:      {len(slots)} (one more for each new connection, taken once it is ready)")
    print(f"arrivals/s:       {rate:.2f} ({rate / state.requests_per_second:.1%} of the configured rate)")
    print(f"busiest second:   {busiest} arrivals ({busiest / AMOCRM_LIMIT:.0%} of amoCRM's {AMOCRM_LIMIT}); "
          f"{busiest_second(slots)} turns")  # fmt: skip
    print(f"closest arrivals: {closest:.1f} ms apart (turns themselves are the spacing apart)")


if __name__ == "__main__":
    main()
