"""Proof of reliability (issue 7): leads posted while amoCRM, Redis and a worker fail; every lead arrives, once.

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
for a minute, so a "burst" is consumed one per minute), an access-token expiry, a SIGKILL of one worker's whole
process group (restarted), and a Redis kill and restart. Then it waits for every delivery (--timeout), prints the
figures with a PASS/FAIL line per requirement and exits 1 on any FAIL (the temp dir with every log is kept then).
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

AMOCRM_LIMIT = 7


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


class Bench:
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
        self.post_seconds: list[float] = []
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
        events += [(0.30, self.kill_worker), (0.50, self.expire_tokens), (0.70, self.restart_redis)]
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
            try:
                response = session.post(f"{self.web_url}/api/leads", json=cs.lead_fields(number), timeout=30)
                lead_id = response.json().get("id") if response.status_code == 201 else response.text[:200]
                self.posts[number] = (response.status_code, lead_id)
                self.post_seconds.append(response.elapsed.total_seconds())
            except (requests.RequestException, ValueError) as error:
                self.posts[number] = (0, repr(error)[:200])

        with ThreadPoolExecutor(max_workers=8) as pool:
            for number in range(self.args.leads):
                self._sleep_until(self.submit_started + number / self.args.rate)
                pool.submit(post, number)

    # The faults

    def force_429(self) -> None:
        left = self.sandbox.settings()["faults"]["force_429_next"]
        self.sandbox.control(force_429_next=left + 1)  # the control sets the counter; one not yet used stays
        self.armed_429 += 1
        self.say(f"429 armed for the next API request ({left + 1} waiting)")

    def expire_tokens(self) -> None:
        done = self.sandbox.control(expire_tokens=True)["done"]
        self.say(f"access tokens expired in the sandbox: {done}")

    def kill_worker(self) -> None:
        from amocrm.models import Delivery, DeliveryState

        # Mid-batch if possible: a worker killed while it holds claimed deliveries tests the lease and the look-up.
        deadline, busy = time.time() + 60, []
        while not busy and time.time() < deadline:
            busy = [w for w in self.workers if cs.busy_with_push(w)]
            time.sleep(0.02)
        worker = (busy or self.workers)[0]
        sending = Delivery.objects.filter(state=DeliveryState.SENDING).count()
        worker.kill_group()
        state = "in the middle of a push_lead" if busy else "idle (none was busy within 60 s)"
        self.say(f"SIGKILL to {worker.name}'s process group, {state}; {sending} deliveries were claimed")
        time.sleep(2)
        worker.start()
        cs.wait_until(lambda: cs.worker_ready(worker), worker.name, 60, worker)
        self.say(f"{worker.name} restarted and ready")

    def restart_redis(self) -> None:
        self.redis.kill_group()
        self.say("redis-server killed (SIGKILL; no persistence: queue, limiter and cache are gone)")
        time.sleep(3)
        self.redis.start()
        cs.wait_until(lambda: cs.redis_ready(self.redis_port), "redis-server", 10, self.redis)
        self.say("redis-server started again on the same port")

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


def report(bench: Bench, state: dict, drained_at: float | None) -> bool:
    """Print the figures and one PASS/FAIL line per requirement; True if anything failed."""
    from amocrm.models import Delivery, DeliveryState
    from leads.models import Lead

    phones = {cs.phone_of(number): number for number in bench.posts}
    leads = dict(Lead.objects.filter(phone__in=phones).values_list("id", "phone"))
    deliveries = list(
        Delivery.objects.filter(lead_id__in=leads).values(
            "lead_id", "state", "attempts", "amocrm_lead_id", "delivered_at"
        )
    )
    delivered = [d for d in deliveries if d["state"] == DeliveryState.DELIVERED]
    not_stored = len(set(phones) - set(leads.values()))
    not_delivered = len(leads) - len(delivered)
    deals = {deal["id"]: deal for deal in state["leads"]}
    per_lead = cs.deals_by_lead(list(deals.values()))
    duplicates = sum(count - 1 for lead_id, count in per_lead.items() if lead_id is not None and count > 1)
    wrong_deal = sum(cs.marker_lead_id(deals.get(d["amocrm_lead_id"], {})) != d["lead_id"] for d in delivered)
    api = bench.log.api
    busiest, busiest_at = cs.busiest_second(api)
    statuses = Counter(r["status"] for r in api)
    forced = bench.armed_429 - bench.sandbox.settings()["faults"]["force_429_next"]
    limiter_429 = statuses[429] - forced
    posts = Counter(status for status, _ in bench.posts.values())
    end = drained_at or time.time()

    print("\n=== chaos bench ===")
    print(f"submitted {len(bench.posts)} (answers {dict(posts)}), stored {len(leads)}, delivered {len(delivered)}")
    print(
        f"deals in the sandbox {len(deals)}, duplicate deals {duplicates}, deals without a marker {per_lead[None]}, "
        f"delivered leads whose recorded deal is missing or not theirs {wrong_deal}"
    )
    print(
        f"lost: {not_stored} submitted but not stored, {not_delivered} stored but not delivered "
        f"(states {dict(Counter(d['state'] for d in deliveries))})"
    )
    print(
        f"API requests {len(api)}: by status {dict(sorted(statuses.items()))}, dropped answers "
        f"{sum(r['dropped'] for r in api)}"
    )
    print(
        f"429: {statuses[429]} ({forced} injected, {limiter_429} from the sandbox's own 7/s limit); "
        f"403 (blocked) {statuses[403]}; 401 (expired token) {statuses[401]}"
    )
    print(
        f"max requests in any 1 s window {busiest} (at +{busiest_at - bench.started:.1f} s); "
        f"closest two requests {_closest(api) * 1000:.0f} ms"
    )
    print(f"attempts per lead: {dict(sorted(Counter(d['attempts'] for d in deliveries).items()))}")
    print(f"lead stored -> delivered: {_latencies(delivered, leads)}; POST /api/leads: {_spread(bench.post_seconds)}")
    if not_delivered:
        print(f"not delivered: {_waiting(leads)}")
    notes, duplicate_contacts = _print_notes_and_contacts(state, deals)
    delivered_deals = {d["amocrm_lead_id"] for d in delivered}
    notes_wrong = sum(notes.get(deal_id, 0) != 1 for deal_id in delivered_deals) + len(set(notes) - delivered_deals)
    print(
        f"run time: submitting {bench.submit_ended - bench.submit_started:.0f} s, first post to last delivery "
        f"{end - bench.submit_started:.0f} s, whole bench {time.time() - bench.started:.0f} s"
    )
    checks = [
        (f"stored = submitted ({len(leads)} = {len(bench.posts)})", len(leads) == len(bench.posts)),
        (f"delivered = submitted ({len(delivered)} = {len(bench.posts)})", len(delivered) == len(bench.posts)),
        (f"every post answered 201 ({posts[201]} of {len(bench.posts)})", posts[201] == len(bench.posts)),
        (f"0 duplicate deals ({duplicates})", duplicates == 0 and per_lead[None] == 0),
        (f"every delivered lead's deal exists and carries its marker ({wrong_deal} wrong)", wrong_deal == 0),
        (f"0 lost ({not_stored + not_delivered})", not_stored + not_delivered == 0),
        (
            f"every delivered deal has its note exactly once ({notes_wrong} deals without or with more)",
            notes_wrong == 0,
        ),
        (f"0 duplicate contacts ({duplicate_contacts})", duplicate_contacts == 0),
        (
            f"never more than {AMOCRM_LIMIT} requests in a second ({busiest}; {limiter_429} limit 429s, "
            f"{statuses[403]} 403s)",
            busiest <= AMOCRM_LIMIT and limiter_429 == 0 and statuses[403] == 0,
        ),
        (f"drained within {bench.args.timeout:.0f} s", drained_at is not None),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'} {label}")
    return not all(ok for _, ok in checks)


def _print_notes_and_contacts(state: dict, deals: dict) -> tuple[Counter, int]:
    """What staff would see twice: a deal's note, or a person's contact. Notes per deal, duplicate contacts."""
    notes = Counter(note["entity_id"] for note in state["notes"] if note["entity_type"] == "leads")
    contacts_per_phone = Counter(_phones_of(contact) for contact in state["contacts"])
    duplicate_contacts = sum(c - 1 for c in contacts_per_phone.values() if c > 1)
    print(
        f"notes: {len(notes)} deals with notes, {sum(c - 1 for c in notes.values())} duplicate notes; contacts "
        f"{len(state['contacts'])}, {duplicate_contacts} duplicate contacts"
    )
    twice = [deal_id for deal_id, count in notes.items() if count > 1]
    if twice:
        same = [n for n in state["notes"] if n["entity_id"] == twice[0] and n["entity_type"] == "leads"]
        print(
            f"e.g. deal {twice[0]} (lead #{cs.marker_lead_id(deals.get(twice[0], {}))}) has notes "
            f"{[n['id'] for n in same]}, same text: {len({n['params'].get('text') for n in same}) == 1}"
        )
    return notes, duplicate_contacts


def _phones_of(contact: dict) -> tuple:
    values = [
        v
        for f in contact.get("custom_fields_values") or []
        if f.get("field_code") == "PHONE"
        for v in f.get("values") or []
    ]
    return tuple(sorted(str(v.get("value")) for v in values))


def _closest(api: list[dict]) -> float:
    times = sorted(r["time"] for r in api)
    return min((b - a for a, b in zip(times, times[1:], strict=False)), default=float("nan"))


def _latencies(delivered: list[dict], leads: dict) -> str:
    from leads.models import Lead

    created = dict(Lead.objects.filter(id__in=leads).values_list("id", "created_at"))
    return _spread([(d["delivered_at"] - created[d["lead_id"]]).total_seconds() for d in delivered])


def _spread(seconds: list[float]) -> str:
    seconds = sorted(seconds)
    if not seconds:
        return "-"
    pick = lambda p: seconds[min(len(seconds) - 1, int(p * len(seconds)))]  # noqa: E731
    return f"p50 {pick(0.5):.2f} s, p95 {pick(0.95):.2f} s, max {seconds[-1]:.2f} s"


def _waiting(leads: dict) -> str:
    """Why the undelivered ones still wait: attempts so far, when they are due, the last error."""
    from django.utils import timezone

    from amocrm.models import Delivery, DeliveryState

    rows = Delivery.objects.filter(lead_id__in=leads).exclude(state=DeliveryState.DELIVERED)
    attempts = dict(sorted(Counter(rows.values_list("attempts", flat=True)).items()))
    due = sorted((at - timezone.now()).total_seconds() for at in rows.values_list("next_attempt_at", flat=True))
    if not due:
        return "no delivery rows"
    errors = Counter(error[:70] for error in rows.values_list("last_error", flat=True)).most_common(3)
    return f"attempts {attempts}; next attempt in {due[0]:.0f} to {due[-1]:.0f} s; last errors {errors}"


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
