"""Proof of reliability: leads posted while amoCRM, Redis and a worker fail; every lead arrives, once.

How to run (everything it needs is started here, on loopback ports of its own). A full run takes about 6 minutes
when the queue drains, up to submission + --timeout (about 13 minutes) when it does not:
    .venv/bin/python bench/chaos.py                      # 1000 leads at 6.5/s; faults stay on until drained
    .venv/bin/python bench/chaos.py --quick              # 200 leads, the same faults in a shorter window
    .venv/bin/python bench/chaos.py --heal-after-submit  # amoCRM recovers once the last lead is posted
    .venv/bin/python bench/chaos.py --sqlite             # SQLite in the temp dir instead of PostgreSQL

PostgreSQL (the default) is the one at 127.0.0.1:5432 (trust auth, user postgres): the bench creates a database
acoustic_chaos_<pid> and drops it at the end. SQLite without WAL answers "database is locked" under this load
(check_alerts and reconcile_deal_stages failed that way in a trial run), so it is only an option.

It starts its own redis-server (no persistence), the amoCRM sandbox (its own limit at 7/s), gunicorn with the
project's config, --workers Celery workers (-c 1 each) and celery beat; connects the settings row through the
sandbox's consent page with the "Site lead ID" field (900203) as the marker field; then posts the leads to
/api/leads at --rate while the sandbox answers --error-rate of API requests with 5xx and drops --drop-rate of the
answers after doing the work, and, at fixed points of the submission window: 429s (each one pauses every process
for a minute, so a "burst" is consumed one per minute), amoCRM answering every write with 402 for a minute (the
site pauses sending and tries one lead a minute: AMOCRM_PAUSED_TRY_MINUTES=1 here), an access-token expiry, a
SIGKILL of one worker's whole process group (restarted), Redis hung for 20 s (SIGSTOP: it accepts connections and
answers nothing) and Redis killed and restarted. The faults live in chaos_faults.py, the figures in
chaos_report.py. Then it waits for every delivery (--timeout), prints the figures with a PASS/FAIL line per
requirement and exits 1 on any FAIL (the temp dir with every log is kept then).
"""

import argparse
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]  # chaos_support, and the project for django.setup()
import chaos_support as cs  # noqa: E402 - after the path
from chaos_faults import FaultEvents  # noqa: E402
from chaos_report import report  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1000, help="leads to post")
    parser.add_argument("--quick", action="store_true", help="200 leads (unless --leads is given too)")
    parser.add_argument("--rate", type=float, default=6.5, help="leads posted per second")
    parser.add_argument("--workers", type=int, default=3, help="Celery worker processes (-c 1 each)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--error-rate", type=float, default=0.2, help="share of API requests answered 5xx")
    parser.add_argument("--drop-rate", type=float, default=0.05, help="share of processed requests left unanswered")
    parser.add_argument("--bursts", type=int, default=3, help="429s injected (each pauses sending for 60 s)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the queue to drain")
    parser.add_argument("--seed", type=int, default=7, help="seed of the sandbox's fault dice")
    parser.add_argument("--sqlite", action="store_true", help="SQLite in the temp dir instead of PostgreSQL")
    parser.add_argument(
        "--heal-after-submit", action="store_true", help="switch 5xx and dropped answers off once all leads are posted"
    )
    parser.add_argument(
        "--sandbox-state-file",
        action="store_true",
        help="run the sandbox with --state-file (rewrites its whole JSON on every API write)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, database)")
    args = parser.parse_args()
    if args.quick and "--leads" not in sys.argv:
        args.leads = 200
    return args


class Bench(FaultEvents):
    """The run's processes, clock and findings."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args, self.workdir = args, workdir
        self.redis_port, sandbox_port, self.web_port = cs.free_port(), cs.free_port(), cs.free_port()
        self.sandbox = cs.Sandbox(f"http://{cs.HOST}:{sandbox_port}")
        self.web_url = f"http://{cs.HOST}:{self.web_port}"
        self.pg_name = f"acoustic_chaos_{os.getpid()}" if not args.sqlite else None
        self.children: list[cs.Child] = []
        self.workers: list[cs.Child] = []
        self.log = cs.RequestLog()
        self.posts: dict[int, tuple[int, str]] = {}  # lead number -> (HTTP status or 0, lead id or error)
        self.armed_429 = 0
        self.post_times: list[tuple[float, float]] = []  # (sent at, seconds until the answer) per post
        self.hang: tuple[float, float] | None = None  # when Redis was frozen, and until when
        self.paused_at = self.resumed_at = self.paid_at = None
        self.started = time.time()

    def say(self, text: str) -> None:
        print(f"[{time.time() - self.started:7.1f} s] {text}", flush=True)

    # Setup

    def environment(self) -> dict[str, str]:
        database = cs.create_postgres_db(self.pg_name) if self.pg_name else f"sqlite:///{self.workdir / 'db.sqlite3'}"
        key = secrets.token_urlsafe(50)
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "acoustic.settings",
            "DEBUG": "1",
            "SECRET_KEY": key,
            "FERNET_KEYS": key,
            "DATABASE_URL": database,
            "REDIS_URL": f"redis://{cs.HOST}:{self.redis_port}/0",
            "AMOCRM_SANDBOX_URL": self.sandbox.url,
            "SITE_URL": self.web_url,
            "LEAD_RATE_LIMIT": "",
            "AMOCRM_PAUSED_TRY_MINUTES": "1",  # the 402 phase lasts a minute; production tries every 10
            "LOG_LEVEL": "WARNING",
            "TELEGRAM_API_URL": f"http://{cs.HOST}:9",  # nothing leaves the machine
            "PYTHONPATH": os.pathsep.join(filter(None, [str(cs.ROOT), os.environ.get("PYTHONPATH")])),
        }

    def start(self) -> None:
        env = self.environment()
        os.environ.update(env)  # this process migrates, connects and reads the results with the same settings
        import django

        django.setup()
        self.redis = self._spawn(cs.redis_server(self.workdir, self.redis_port))
        cs.wait_until(lambda: cs.redis_ready(self.redis_port), "redis-server", 10, self.redis)
        cs.migrate()
        box = self._spawn(
            cs.sandbox(env, self.workdir, int(self.sandbox.url.rsplit(":", 1)[1]), self.args.sandbox_state_file)
        )
        cs.wait_until(lambda: self.sandbox.settings() is not None, "sandbox", 30, box)
        cs.connect(self.sandbox.url)
        web = self._spawn(cs.gunicorn(env, self.workdir, self.web_port, self.args.web_workers))
        cs.wait_until(lambda: requests.get(f"{self.web_url}/healthz", timeout=5).ok, "gunicorn", 30, web)
        self.workers = [self._spawn(cs.celery_worker(env, self.workdir, n)) for n in range(self.args.workers)]
        for worker in self.workers:
            cs.wait_until(lambda w=worker: cs.worker_ready(w), worker.name, 60, worker)
        self._spawn(cs.celery_beat(env, self.workdir))
        self.say(
            f"up: redis :{self.redis_port}, sandbox {self.sandbox.url}, web {self.web_url}, "
            f"{self.args.workers} workers, beat; database {env['DATABASE_URL']}; logs in {self.workdir}"
        )

    def _spawn(self, child: cs.Child) -> cs.Child:
        self.children.append(child.start())
        return child

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        if self.pg_name:
            from django.db import connections

            connections.close_all()
            cs.drop_postgres_db(self.pg_name)

    # The run

    def run(self) -> None:
        self.sandbox.control(error_rate=self.args.error_rate, drop_rate=self.args.drop_rate, seed=self.args.seed)
        self.say(
            f"faults on: {self.args.error_rate:.0%} 5xx, {self.args.drop_rate:.0%} dropped answers; "
            f"posting {self.args.leads} leads at {self.args.rate}/s"
        )
        self.submit_started = time.time()
        submitter = threading.Thread(target=self.submit, daemon=True)
        submitter.start()
        for at, event in self.timeline():
            self._sleep_until(self.submit_started + at)
            event()
        submitter.join()
        if self.args.heal_after_submit:
            self.sandbox.control(error_rate=0, drop_rate=0)
            self.say("faults off: amoCRM answers every request again (429s already armed stay armed)")
        self.submit_ended = time.time()
        self.say(f"submitted {len(self.posts)}: {dict(Counter(status for status, _ in self.posts.values()))}")

    def timeline(self) -> list:
        window = self.args.leads / self.args.rate
        bursts = [0.08 + 0.77 * i / max(self.args.bursts - 1, 1) for i in range(self.args.bursts)]
        events = [(f, self.force_429) for f in bursts]
        # The 402 phase comes first: once the 429s start, their minute-long pauses leave no write to refuse.
        events += [(0.0, self.require_payment), (0.30, self.kill_worker), (0.50, self.hang_redis)]
        events += [(0.60, self.expire_tokens), (0.75, self.restart_redis)]
        events += [(f / 10, self.progress) for f in range(1, 10, 2)]
        return [(f * window, event) for f, event in sorted(events, key=lambda e: e[0])]

    def _sleep_until(self, moment: float) -> None:
        while time.time() < moment:
            time.sleep(min(0.2, moment - time.time()))

    def submit(self) -> None:
        local = threading.local()

        def post(number: int) -> None:
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            sent = time.time()
            try:
                response = session.post(f"{self.web_url}/api/leads", json=cs.lead_fields(number), timeout=30)
                lead_id = response.json().get("id") if response.status_code == 201 else response.text[:200]
                self.posts[number] = (response.status_code, lead_id)
                self.post_times.append((sent, time.time() - sent))
            except (requests.RequestException, ValueError) as error:
                self.posts[number] = (0, repr(error)[:200])

        with ThreadPoolExecutor(max_workers=8) as pool:
            for number in range(self.args.leads):
                self._sleep_until(self.submit_started + number / self.args.rate)
                pool.submit(post, number)

    # The faults

    def progress(self) -> None:
        self.collect()
        self.say(
            f"posted {len(self.posts)}; deliveries {self.delivery_states()}; "
            f"API requests so far {len(self.log.records)}"
        )

    def collect(self) -> None:
        """Keep the sandbox's request log: it holds only its last 5000 requests."""
        self.log.add(self.sandbox.state())

    # Draining and the figures

    def delivery_states(self) -> dict[str, int]:
        from amocrm.models import Delivery

        return dict(Counter(Delivery.objects.values_list("state", flat=True)))

    def wait_for_drain(self) -> float | None:
        from amocrm.models import Delivery, DeliveryState
        from leads.models import Lead

        deadline, next_report, next_collect = time.time() + self.args.timeout, 0.0, time.time() + 60
        while time.time() < deadline:
            if time.time() >= next_collect:
                self.collect()
                next_collect = time.time() + 60
            waiting = Delivery.objects.exclude(state__in=[DeliveryState.DELIVERED, DeliveryState.NEEDS_ATTENTION])
            if not waiting.exists() and Delivery.objects.count() >= Lead.objects.count():
                return time.time()
            if time.time() >= next_report:
                attempts = max(Delivery.objects.values_list("attempts", flat=True), default=0)
                self.say(f"draining: {self.delivery_states()}; most attempts of one lead {attempts}")
                next_report = time.time() + 15
            time.sleep(1)
        self.say(f"gave up waiting after {self.args.timeout:.0f} s: {self.delivery_states()}")
        return None


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-chaos-"))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    bench = Bench(args, workdir)
    failed = True
    try:
        bench.start()
        bench.run()
        drained_at = bench.wait_for_drain()
        bench.collect()
        state = bench.sandbox.state()
        failed = report(bench, state, drained_at)
    except KeyboardInterrupt:
        print("interrupted; stopping everything", flush=True)
    finally:
        bench.stop()
        if args.keep or failed:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
