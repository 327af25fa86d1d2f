"""Drain a backlog into the amoCRM sandbox at 7 requests/s: follow-up tasks on and off, and naive (no 429 anywhere).

Goals: with tasks on ≥ 100 leads/s (issue 14: complex, notes and tasks per batch; ceiling ≈ 106 at the limiter's
6.36/s), with tasks off ≥ 150 (issue 5: complex and notes).

How to run (a Redis DB of your own: the limiter, the Celery queue and the cache keys it uses there are cleared):
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/drain.py
    # the sweeper as beat runs it (every 15 s, see CELERY_BEAT_SCHEDULE) on a backlog larger than one sweep queues
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/drain.py --leads 3000 --sweep-interval 15 \
        --naive-leads 0 --latency-samples 0
    # production-like: PostgreSQL (an empty database of the bench's own), and a quicker naive pass
    createdb -h 127.0.0.1 -U postgres acoustic_bench_drain
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/drain.py \
        --database-url postgres://postgres@127.0.0.1:5432/acoustic_bench_drain --naive-leads 200
    dropdb -h 127.0.0.1 -U postgres acoustic_bench_drain

It starts the sandbox (`manage.py amocrm_sandbox --rate-limit 7`), connects the settings row through its consent
page and token endpoint, stores --leads leads with a delivery each, starts --workers Celery workers and calls
the sweeper (sweep_deliveries) every --sweep-interval seconds (as beat's sweeper would) until all are delivered,
once with the follow-up task on and once, on a second backlog of other people, with it off. Then it
sends the same leads the naive way (contact, deal, note: three requests per lead, through the same limiter), and
finally times single leads from store_lead() to the deal appearing in the sandbox on an idle queue.
The naive pass takes about 3 × leads / 6.7 s (≈ 7.5 min for 1000). Figures only; nothing is asserted.
"""

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
HOST = "127.0.0.1"
SITE_URL = f"http://{HOST}:8000"
AMOCRM_LIMIT = 7  # requests in any one second (https://www.amocrm.ru/developers/content/api/recommendations)
GOAL_LEADS_PER_SECOND = {True: 100, False: 150}  # follow-up tasks on / off
SOURCE_FIELD, PRODUCT_FIELD, MARKER_FIELD = 900_201, 900_202, 900_203  # the sandbox catalog's text fields
CELERY_KEYS = (
    "celery",
    "unacked",
    "unacked_index",
    "unacked_mutex",
    "_kombu.binding.celery",
    "_kombu.binding_permanent.celery",
    "_kombu.binding_deadlines",
)


@dataclass
class Drain:
    leads: int
    seconds: float
    log: list[dict]  # the sandbox's API request records of this drain
    deals: int
    notes: int
    tasks: int = 0
    pushes: int = 0  # push_lead tasks the sweeper queued (batched pass)

    @property
    def rate(self) -> float:
        return self.leads / self.seconds if self.seconds else 0.0


def main() -> None:
    args = parse_args()
    redis_url = args.redis_url or os.environ.get("REDIS_URL", "")
    if not redis_url.startswith("redis://"):
        sys.exit("Set REDIS_URL (or --redis-url) to a Redis DB of your own, e.g. redis://127.0.0.1:6379/13")
    workdir = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    port = args.sandbox_port or free_port()
    sandbox_url = f"http://{HOST}:{port}"
    env = project_env(args, redis_url, workdir, sandbox_url)
    os.environ.update(env)  # this process is a project process too: it stores leads and queues pushes
    setup_django()
    processes: list[subprocess.Popen] = []
    try:
        processes.append(start_sandbox(env, workdir, port))
        clear_redis()
        prepare_database()
        connect(sandbox_url, configure=True)
        processes += start_workers(env, workdir, args.workers)
        run(args, sandbox_url)
    finally:
        for process in reversed(processes):
            stop(process)
        clear_redis()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1000, help="backlog size")
    parser.add_argument("--workers", type=int, default=4, help="Celery worker processes (-c 1 each)")
    parser.add_argument("--naive-leads", type=int, help="leads for the naive pass (default: all; 0 skips it)")
    parser.add_argument("--naive-threads", type=int, default=4, help="senders in the naive pass")
    parser.add_argument("--latency-samples", type=int, default=20, help="single leads timed on an idle queue")
    parser.add_argument("--sweep-interval", type=float, default=1.0, help="seconds between sweeps (sweep_deliveries)")
    parser.add_argument("--timeout", type=float, default=600, help="give up a drain after this many seconds")
    parser.add_argument("--database-url", help="an empty database of the bench's own (default: SQLite in a temp dir)")
    parser.add_argument("--redis-url", help="default $REDIS_URL")
    parser.add_argument("--sandbox-port", type=int, default=0, help="the sandbox's port (default: a free one)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, worker and sandbox logs)")
    return parser.parse_args()


def project_env(args: argparse.Namespace, redis_url: str, workdir: Path, sandbox_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "acoustic.settings",
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'db.sqlite3'}",
        "REDIS_URL": redis_url,
        "AMOCRM_SANDBOX_URL": sandbox_url,
        "SITE_URL": SITE_URL,
        "LEAD_RATE_LIMIT": "",
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
        "TELEGRAM_API_URL": f"http://{HOST}:9",  # nothing may leave the machine, whatever the database says
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def setup_django() -> None:
    import django

    django.setup()


# Processes: the sandbox and the Celery workers


def start_sandbox(env: dict[str, str], workdir: Path, port: int) -> subprocess.Popen:
    command = [PYTHON, "manage.py", "amocrm_sandbox", "--port", str(port), "--rate-limit", str(AMOCRM_LIMIT),
               "--redirect-uri", f"{SITE_URL}/api/amocrm/callback"]  # fmt: skip
    log = (workdir / "sandbox.log").open("w")
    sandbox = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sandbox.poll() is None:
        try:
            requests.get(f"http://{HOST}:{port}/_sandbox/control", timeout=2).raise_for_status()
            return sandbox
        except requests.RequestException:
            time.sleep(0.2)
    stop(sandbox)
    sys.exit(f"the sandbox did not start:\n{(workdir / 'sandbox.log').read_text()}")


def start_workers(env: dict[str, str], workdir: Path, count: int) -> list[subprocess.Popen]:
    workers, logs = [], []
    for number in range(count):
        logs.append(workdir / f"worker-{number}.log")
        command = [PYTHON, "-m", "celery", "-A", "acoustic", "worker", "-c", "1", "-P", "prefork",
                   "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"drain{number}@%h",
                   "--loglevel=INFO"]  # fmt: skip
        out = logs[-1].open("w")
        workers.append(subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out))
    deadline = time.monotonic() + 60
    while not all("ready." in log.read_text() for log in logs):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            for worker in workers:
                stop(worker)
            sys.exit("Celery workers did not start; see " + ", ".join(map(str, logs)))
        time.sleep(0.2)
    return workers


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)  # Celery: warm shutdown, it stops its own pool child
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# The project side: database, Redis, the OAuth connection


def prepare_database() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def clear_redis() -> None:
    """Only what this bench touches: the limiter, the Celery queue and two cache keys."""
    from django.core.cache import cache

    from amocrm.api import catalog, ratelimit
    from amocrm.delivery import failures
    from amocrm.models import Settings

    ratelimit.reset()
    server = ratelimit._redis().client  # the limiter's client: same server, no other connection
    server.delete(*CELERY_KEYS, *server.scan_iter("acoustic:metrics:amocrm:*"))
    domain = Settings.objects.values_list("domain", flat=True).first() if _migrated() else None
    cache.delete_many([failures._BATCH_SIZE_KEY, catalog._KEY.format(domain=domain)])


def _migrated() -> bool:
    from django.db import connection

    return "amocrm_settings" in connection.introspection.table_names()


def connect(sandbox_url: str, configure: bool = False) -> None:
    """The admin's Connect button by hand: consent page, Allow, then the project's own code exchange."""
    from amocrm.api import client, oauth
    from amocrm.models import Settings
    from amocrm.sandbox.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    conn = Settings.load()
    conn.client_id, conn.client_secret = DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
    conn.domain = urlsplit(sandbox_url).netloc
    conn.save()
    state = secrets.token_urlsafe(16)
    fields = {"client_id": DEFAULT_CLIENT_ID, "state": state, "mode": "post_message"}
    requests.get(f"{sandbox_url}/oauth", params=fields, timeout=10).raise_for_status()
    allowed = requests.post(f"{sandbox_url}/oauth", data={**fields, "decision": "allow"}, allow_redirects=False,
                            timeout=10)  # fmt: skip
    query = {key: values[0] for key, values in parse_qs(urlsplit(allowed.headers["Location"]).query).items()}
    if query.get("state") != state or "code" not in query:
        sys.exit(f"the sandbox's consent page did not redirect as expected: {allowed.headers['Location']}")
    pair = oauth.exchange_code(conn, query["code"], query["referer"])
    conn.store_tokens(pair.access_token, pair.refresh_token, pair.expires_in)
    if configure:  # as amocrm/tests/test_delivery.py does: a named stage, a tag, the site's fields
        pipeline = next(p for p in client.list_pipelines(conn) if not p.is_main)
        conn.pipeline_id, conn.status_id = pipeline.id, [s for s in pipeline.statuses if s.type == 0][1].id
        conn.tags = "sayt"
        conn.source_field_id, conn.product_field_id, conn.marker_field_id = SOURCE_FIELD, PRODUCT_FIELD, MARKER_FIELD
        conn.save()


def reset_sandbox(sandbox_url: str) -> None:
    """Empty account and request log for the next pass; tokens go too, so connect again."""
    from amocrm.api import ratelimit

    requests.post(f"{sandbox_url}/_sandbox/reset", timeout=10).raise_for_status()
    connect(sandbox_url)
    ratelimit.reset()  # the connect's own slots are spent; the next pass starts with a free limiter


def sandbox_state(sandbox_url: str) -> dict:
    return requests.get(f"{sandbox_url}/_sandbox/state", timeout=60).json()


def lead_fields(number: int) -> dict[str, str]:
    """A lead as the site's product page sends it; every number gets its own phone (and so its own contact)."""
    digits = f"{1_000_000 + number:07d}"
    return {
        "name": ("Dilnoza Karimova", "Азиз Рахимов", "Bobur")[number % 3],
        "phone": f"+99890{digits}",
        "message": "Salom! Eshitish apparati narxi qancha? Iltimos, qo'ng'iroq qiling.",
        "source": "product_page",
        "product_id": f"p-{number % 40}",
        "page_url": f"https://acoustic.uz/uz/products/p-{number % 40}",
        "referrer": "https://www.google.com/",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "hearing-aids-2025",
    }


# The passes


def run(args: argparse.Namespace, sandbox_url: str) -> None:
    from leads.models import Lead

    passes = {}
    for tasks_on in (True, False):
        # Pushes the last pass's sweeps queued must not take the new backlog before the account and setting are.
        purge_queue()
        reset_sandbox(sandbox_url)
        set_follow_up(tasks_on)
        leads = create_backlog(args.leads, first_number=0 if tasks_on else args.leads)
        print(f"backlog: {len(leads)} leads, follow-up tasks {'on' if tasks_on else 'off'}; {args.workers} Celery "
              f"workers; sandbox {sandbox_url}")  # fmt: skip
        passes[tasks_on] = batched_drain(args, sandbox_url)
    naive = None
    naive_count = args.leads if args.naive_leads is None else min(args.naive_leads, args.leads)
    if naive_count:
        reset_sandbox(sandbox_url)
        naive = naive_drain(sandbox_url, list(Lead.objects.filter(id__in=leads[:naive_count])), args.naive_threads)
    latencies = []
    if args.latency_samples:
        reset_sandbox(sandbox_url)
        latencies = submit_to_deal(sandbox_url, args.latency_samples, first_number=2 * args.leads)
    report(args, passes, naive, latencies)


def purge_queue() -> None:
    from acoustic.celery import app

    app.control.purge()


def set_follow_up(enabled: bool) -> None:
    from amocrm.models import Settings

    Settings.objects.filter(pk=1).update(follow_up_enabled=enabled)


def create_backlog(count: int, first_number: int = 0) -> list[int]:
    from amocrm.models import Delivery
    from leads.models import Lead

    leads = Lead.objects.bulk_create(
        Lead(**fields, phone_raw=fields["phone"], client_ip=HOST, user_agent="bench/drain")
        for fields in map(lead_fields, range(first_number, first_number + count))
    )
    Delivery.objects.bulk_create(Delivery(lead=lead) for lead in leads)  # due now, as after an outage
    return [lead.id for lead in leads]


def batched_drain(args: argparse.Namespace, sandbox_url: str) -> Drain:
    """The engine as deployed: the sweeper queues push_lead per batch of due deliveries; workers send."""
    from django.db.models import Max

    from amocrm.models import Delivery, DeliveryState
    from amocrm.tasks import sweep_deliveries

    warm_account_catalog()
    started = time.time()
    deadline, next_sweep, pushes = started + args.timeout, 0.0, 0
    while Delivery.objects.exclude(state__in=[DeliveryState.DELIVERED, DeliveryState.NEEDS_ATTENTION]).exists():
        if time.time() > deadline:
            print(f"batched drain: gave up after {args.timeout:.0f} s")
            break
        if time.monotonic() >= next_sweep:
            pushes += sweep_deliveries()  # beat's sweeper: one push per batch of due deliveries
            next_sweep = time.monotonic() + args.sweep_interval
        time.sleep(0.02)
    last = Delivery.objects.aggregate(last=Max("delivered_at"))["last"]
    finished = last.timestamp() if last else time.time()
    states = Counter(Delivery.objects.values_list("state", flat=True))
    if set(states) != {DeliveryState.DELIVERED}:
        print(f"batched drain: delivery states at the end: {dict(states)}")
    drain = finish_drain(sandbox_url, args.leads, started, finished)
    drain.pushes = pushes
    return drain


def warm_account_catalog() -> None:
    """As on a running site, whose account cache (5 minutes) is warm: pipelines, fields, users and task types are
    read before the clock starts. A cold cache costs those 4 requests once per worker that finds it cold."""
    from amocrm.api import catalog
    from amocrm.models import Settings

    catalog.load(Settings.load())


def finish_drain(sandbox_url: str, leads: int, started: float, finished: float) -> Drain:
    state = sandbox_state(sandbox_url)
    log = [r for r in state["requests"] if r["path"].startswith("/api/v4/") and r["time"] >= started]
    if len(state["requests"]) >= 5000:
        print("warning: the sandbox keeps only the last 5000 requests; early ones of this pass may be missing")
    return Drain(leads, finished - started, log, len(state["leads"]), len(state["notes"]), len(state.get("tasks", [])))


def naive_drain(sandbox_url: str, leads: list, threads: int) -> Drain:
    """Contact, deal, note: one request each, per lead, through the project's shared limiter."""
    from amocrm.models import Settings

    conn = Settings.load()
    work: Queue = Queue()
    for lead in leads:
        work.put(lead)
    senders = [threading.Thread(target=naive_sender, args=(conn, work)) for _ in range(threads)]
    started = time.time()
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    return finish_drain(sandbox_url, len(leads), started, time.time())


def naive_sender(conn, work: Queue) -> None:
    from amocrm.delivery import payload as deal_payload

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {conn.access_token}"
    while True:
        try:
            lead = work.get_nowait()
        except Empty:
            return
        contact = deal_payload.contact_model(lead)
        contact_id = naive_post(session, conn, "/api/v4/contacts", contact)["contacts"][0]["id"]
        tags = [{"name": "sayt"}, {"name": lead.source}]
        deal = {"name": f"Yangi so'rov: {lead.name}", "pipeline_id": conn.pipeline_id, "status_id": conn.status_id,
                "_embedded": {"contacts": [{"id": contact_id}], "tags": tags}}  # fmt: skip
        deal_id = naive_post(session, conn, "/api/v4/leads", deal)["leads"][0]["id"]
        note = {"entity_id": deal_id, "note_type": "common", "params": {"text": deal_payload.note_text(lead)}}
        naive_post(session, conn, "/api/v4/leads/notes", note)


def naive_post(session: requests.Session, conn, path: str, item: dict) -> dict:
    from amocrm.api import errors, ratelimit, transport

    for _attempt in range(5):
        ratelimit.acquire(timeout=None)
        response = session.post(conn.base_url + path, json=[item], timeout=transport.TIMEOUT)
        if response.status_code == 429:
            ratelimit.pause(errors.DEFAULT_RETRY_AFTER)  # as the project does after a 429
            continue
        response.raise_for_status()
        return response.json()["_embedded"]
    raise RuntimeError(f"{path}: still 429 after 5 attempts")


def submit_to_deal(sandbox_url: str, samples: int, first_number: int) -> list[float]:
    """One lead at a time through store_lead (the intake's own step, push queued after commit) on an idle queue."""
    from amocrm.models import Delivery, DeliveryState
    from leads.forms import LeadForm
    from leads.intake import Visitor, store_lead

    latencies = []
    for number in range(first_number, first_number + samples):
        form = LeadForm(data=lead_fields(number))
        if not form.is_valid():
            sys.exit(f"bench lead is invalid: {form.errors.as_json()}")
        submitted = time.time()
        lead = store_lead(form, Visitor(ip=HOST, user_agent="bench/drain")).lead
        created_at = wait_for_deal(sandbox_url, submitted)
        latencies.append(created_at - submitted)
        deadline = time.time() + 30
        while Delivery.objects.get(lead=lead).state != DeliveryState.DELIVERED and time.time() < deadline:
            time.sleep(0.02)  # the note follows the deal; the queue is idle again once it is sent
        time.sleep(0.3)
    return latencies


def wait_for_deal(sandbox_url: str, since: float) -> float:
    """When the sandbox answered the request that created the deal (its log time), polling its state."""
    deadline = since + 60
    while time.time() < deadline:
        state = sandbox_state(sandbox_url)
        created = [r["time"] for r in state["requests"]
                   if r["time"] >= since and r["path"] == "/api/v4/leads/complex" and r["status"] == 200]  # fmt: skip
        if created:
            return created[0]
        time.sleep(0.02)
    sys.exit("no deal appeared in the sandbox within 60 s of submitting a lead")


# Figures


def report(args: argparse.Namespace, passes: dict[bool, Drain], naive: Drain | None, latencies: list[float]) -> None:
    columns = [("tasks on", passes[True]), ("tasks off", passes[False]), ("naive (3 calls)", naive)]
    print(f"\n{'':<34}" + "".join(f"{title:>18}" for title, _drain in columns))
    rows = [
        ("leads", lambda d: f"{d.leads}"),
        ("deals / notes / tasks in sandbox", lambda d: f"{d.deals} / {d.notes} / {d.tasks}"),
        ("wall time, s", lambda d: f"{d.seconds:.2f}"),
        ("leads/s", lambda d: f"{d.rate:.1f}"),
        ("API requests", lambda d: f"{len(d.log)}"),
        ("requests per lead", lambda d: f"{len(d.log) / d.leads:.3f}"),
        ("requests/s", lambda d: f"{len(d.log) / d.seconds:.2f}"),
        ("429 answers", lambda d: f"{sum(r['status'] == 429 for r in d.log)}"),
        ("other non-2xx answers", lambda d: f"{sum(r['status'] >= 300 and r['status'] != 429 for r in d.log)}"),
        ("max requests in any 1 s window", lambda d: f"{busiest_second(d.log)}"),
        ("closest two requests, ms", lambda d: f"{closest_pair(d.log) * 1000:.0f}"),
    ]
    for label, cell in rows:
        print(f"{label:<34}" + "".join(f"{cell(drain) if drain else '-':>18}" for _title, drain in columns))
    print("(windows and gaps use the sandbox log's arrival times, as amoCRM counts them)")
    for tasks_on, drain in passes.items():
        name = "tasks on" if tasks_on else "tasks off"
        print(f"\n{name}: requests by endpoint: {dict(Counter(r['method'] + ' ' + r['path'] for r in drain.log))}")
        print(f"{name}: leads per complex request: {batch_sizes(drain.log)}")
        print(f"{name}: push_lead tasks queued by the sweeper: {drain.pushes} "
              f"(for {len(batch_sizes_list(drain.log))} batches sent)")  # fmt: skip
        goal, no_429 = GOAL_LEADS_PER_SECOND[tasks_on], not any(r["status"] == 429 for r in drain.log)
        within_limit = busiest_second(drain.log) <= AMOCRM_LIMIT
        print(f"{name}: goal ≥ {goal} leads/s: {verdict(drain.rate >= goal)} ({drain.rate:.1f}); "
              f"no 429: {verdict(no_429)}; ≤ {AMOCRM_LIMIT} requests in any 1 s: {verdict(within_limit)}")  # fmt: skip
    if naive:
        print(f"\nspeed-up, batched with tasks / naive leads/s: {passes[True].rate / naive.rate:.1f}×")
    if latencies:
        ordered = sorted(latencies)
        p50, p95 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(f"submit-to-deal on an idle queue ({len(ordered)} leads): p50 {p50 * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")  # fmt: skip


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def busiest_second(log: list[dict]) -> int:
    """The most requests the sandbox logged within any one-second window (each window starts at a request)."""
    times = sorted(r["time"] for r in log)
    return max((bisect_left(times, start + 1.0) - i for i, start in enumerate(times)), default=0)


def closest_pair(log: list[dict]) -> float:
    """The smallest gap between two logged requests, seconds (the limiter's spacing minus wake-up jitter)."""
    times = sorted(r["time"] for r in log)
    return min((b - a for a, b in zip(times, times[1:], strict=False)), default=float("nan"))


def batch_sizes(log: list[dict]) -> dict[int, int]:
    return dict(sorted(Counter(batch_sizes_list(log)).items()))


def batch_sizes_list(log: list[dict]) -> list[int]:
    return [len(r["body"]) for r in log if r["path"] == "/api/v4/leads/complex" and isinstance(r["body"], list)]


if __name__ == "__main__":
    main()
