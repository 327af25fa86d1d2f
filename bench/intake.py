"""POST /api/leads under concurrency, side by side with a bare view that only inserts one row (issue 2: ≤ 1.3×), and
with an Idempotency-Key on every request (the key's check may cost at most 10% of the intake's throughput).

How to run (a Redis DB of your own: the bench deletes its Celery queue there at the end; the rate limit's counters
expire by themselves within two minutes):
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/intake.py
    # the published dispatch tasks taken off the queue at once, as by idle workers (see "No worker runs" below)
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/intake.py --idle-worker
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/intake.py --requests 4000 --concurrency 16
    # PostgreSQL instead of a fresh SQLite file: give it an empty database of its own
    createdb -h 127.0.0.1 -U postgres acoustic_bench_intake
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/intake.py \
        --database-url postgres://postgres@127.0.0.1:5432/acoustic_bench_intake
    # as deployed: DEBUG off, the project's gunicorn.conf.py (PostgreSQL connections persist, as in settings.py)
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/intake.py --no-debug --gunicorn-config gunicorn.conf.py \
        --database-url postgres://postgres@127.0.0.1:5432/acoustic_bench_intake
    dropdb -h 127.0.0.1 -U postgres acoustic_bench_intake
    # as deployed, plus what the slow requests have in common, seen from inside gunicorn (bench/intake_trace.py)
    ... bench/intake.py --no-debug --gunicorn-config gunicorn.conf.py --database-url ... --trace
    # where the time goes (pip install pyinstrument into .venv first; it is not a project requirement)
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/intake.py --requests 0 --profile 500
    # CPU per request in-process (with and without a key, and the bare insert), which other load hardly moves
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/intake.py --requests 0 --cpu 3000

What was found with it, and what changed: bench/README.md.

It migrates a fresh database in a temp dir, serves bench.intake_wsgi with gunicorn (sync workers, like
production), warms up, then sends the same number of requests to /api/leads without a key, to /api/leads with a
new Idempotency-Key each (as the site script sends every lead) and to /bench/bare, in rotating rounds, and prints
req/s and p50/p99 latency of each, and their ratios, overall and round by round. Each request comes from a visitor
of its own behind a trusted proxy, so the rate limit runs as deployed. Figures only; nothing is asserted.

No worker runs. Each gunicorn worker publishes leads.tasks.dispatch_leads at most every 0.5 s (leads/intake.py), so a
run publishes a few dozen tasks whatever the rate; --idle-worker takes each off the queue at once, as an idle
Celery worker would, without doing its work. Each visitor posts once, so the rate limit asks Redis nothing (a
visitor's first post in a window is counted with their second, leads/rate_limit.py).
"""

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
TRACE_CONFIG = Path(__file__).resolve().with_name("intake_trace.py")  # --trace: a gunicorn config and its summary
PYTHON = sys.executable
HOST = "127.0.0.1"
INTAKE, BARE = "/api/leads", "/bench/bare"
KEYED = INTAKE + " +key"  # the same endpoint, each request with its own Idempotency-Key
GOAL_RATIO = 1.3
GOAL_P99_RATIO = 3
GOAL_KEY_COST = 1.10
CELERY_QUEUE = "celery"  # kombu's Redis list for the default queue
# As the HTTPS proxy in front of production sends them (with DEBUG off, plain HTTP is redirected to HTTPS).
HEADERS = {"Content-Type": "application/json", "User-Agent": "bench/intake", "X-Forwarded-Proto": "https"}
# Every request comes from a visitor of its own, as the trusted proxy says in X-Forwarded-For: the rate limit runs as
# deployed and never refuses one. A random start, so that a run soon after another does not meet its visitors (a
# visitor seen before is counted in Redis).
VISITORS = itertools.count(random.randrange(1 << 24))  # next() on it is atomic under the GIL


def visitor() -> str:
    number = next(VISITORS) % (1 << 24)
    return f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)  # seconds
    seconds: float = 0.0  # wall time spent in this endpoint's phases
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, other: "Sample") -> None:
        self.latencies += other.latencies
        self.seconds += other.seconds
        for key, count in other.errors.items():
            self.errors[key] = self.errors.get(key, 0) + count

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else float("nan")


def main() -> None:
    args = parse_args()
    redis_url = args.redis_url or os.environ.get("REDIS_URL", "")
    if not redis_url.startswith("redis://"):
        sys.exit("Set REDIS_URL (or --redis-url) to a Redis DB of your own, e.g. redis://127.0.0.1:6379/13")
    workdir = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    env = server_env(args, redis_url, workdir)
    queued_before = queue_length(redis_url)
    server, worker = None, IdleWorker(redis_url)
    try:
        migrate(env, workdir)
        if args.requests:
            server, port = start_gunicorn(env, workdir, args)
            if args.idle_worker:
                worker.start()
            run_load(args, port)
            if args.trace:
                from intake_trace import summarize  # beside this script, which Python put first on sys.path

                summarize(workdir / "trace.log", args.workers)
        if args.cpu:
            cpu_cost(env, args.cpu)
        if args.profile:
            profile(env, args.profile)
    finally:
        worker.stop()
        if server is not None:
            stop(server)
        report_queue(redis_url, queued_before, worker.taken, args.keep_queue)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per endpoint (0: skip)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests per endpoint first")
    # Short rounds: on a shared machine other load comes and goes within seconds, and falls on all endpoints alike.
    parser.add_argument("--rounds", type=int, default=20, help="alternating rounds the requests are split into")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--app", default="bench.intake_wsgi:application", help="WSGI app to serve (to try a variant)")
    parser.add_argument("--gunicorn-config", help="e.g. gunicorn.conf.py (default: none, only -w and -b)")
    parser.add_argument("--database-url", help="an empty database of the bench's own (default: SQLite in a temp dir)")
    parser.add_argument("--redis-url", help="default $REDIS_URL")
    parser.add_argument("--no-debug", action="store_true", help="serve with DEBUG off, as in production")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile N in-process requests each")
    parser.add_argument("--cpu", type=int, default=0, metavar="N", help="CPU time of N in-process requests, ± key")
    parser.add_argument("--idle-worker", action="store_true", help="take queued tasks at once, as idle workers do")
    parser.add_argument("--keep-queue", action="store_true", help="leave the queued tasks in Redis")
    parser.add_argument("--no-rate-limit", action="store_true", help="switch the rate limit off (as before 2026-12)")
    parser.add_argument("--trace", action="store_true", help="server-side times, worker restarts, full collections")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, gunicorn log)")
    return parser.parse_args()


def server_env(args: argparse.Namespace, redis_url: str, workdir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "acoustic.settings",
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'db.sqlite3'}",
        "REDIS_URL": redis_url,
        "LEAD_RATE_LIMIT": "" if args.no_rate_limit else "10/m",  # the default, per visitor (VISITORS)
        "TRUSTED_PROXIES": HOST,  # the bench's client stands for the proxy in front of gunicorn
        "DEBUG": "0" if args.no_debug else "1",
        "LOG_LEVEL": "WARNING",
        "TELEGRAM_API_URL": f"http://{HOST}:9",  # nothing may leave the machine, whatever the database says
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    if args.no_debug:  # what production must set; throwaway values
        env.update(SECRET_KEY=secrets.token_urlsafe(50), FERNET_KEYS=Fernet.generate_key().decode(),
                   ALLOWED_HOSTS=HOST, SITE_URL="https://acoustic.uz")  # fmt: skip
    return env


def migrate(env: dict[str, str], workdir: Path) -> None:
    log = workdir / "migrate.log"
    with log.open("w") as out:
        code = subprocess.call([PYTHON, "manage.py", "migrate", "--no-input"], cwd=ROOT, env=env, stdout=out,
                               stderr=subprocess.STDOUT)  # fmt: skip
    if code:
        sys.exit(f"migrate failed:\n{log.read_text()}")


def start_gunicorn(env: dict[str, str], workdir: Path, args: argparse.Namespace) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = (workdir / "gunicorn.log").open("w")
    command = [PYTHON, "-m", "gunicorn", args.app, "-w", str(args.workers), "-b", f"{HOST}:{port}"]
    config = str(Path(args.gunicorn_config).resolve()) if args.gunicorn_config else ""
    if args.trace:  # the config under test, loaded by the tracing one
        env = {**env, "BENCH_TRACE_CONFIG": config, "BENCH_TRACE_LOG": str(workdir / "trace.log")}
        config = str(TRACE_CONFIG)
    if config:
        command += ["-c", config]
    # Started in the temp dir: gunicorn reads ./gunicorn.conf.py from its working directory unless told otherwise.
    server = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited:\n{(workdir / 'gunicorn.log').read_text()}")
        try:
            if post(port, BARE, b"")[0] == 201:
                return server, port
        except OSError:
            time.sleep(0.2)
    stop(server)
    sys.exit("gunicorn did not answer within 30 s")


def run_load(args: argparse.Namespace, port: int) -> None:
    print(f"warming up: {args.warmup} requests each")
    targets = [INTAKE, KEYED, BARE]
    for target in targets:
        phase(port, target, args.warmup, args.concurrency)
    totals = {target: Sample() for target in targets}
    rounds = []  # each round's samples: endpoints measured seconds apart, which load from elsewhere rarely tells apart
    per_round = [args.requests // args.rounds + (i < args.requests % args.rounds) for i in range(args.rounds)]
    for number, count in enumerate(per_round):
        rounds.append({})
        for target in targets[number % 3 :] + targets[: number % 3]:  # each target first in turn
            rounds[-1][target] = phase(port, target, count, args.concurrency)
            totals[target].add(rounds[-1][target])
    report(args, totals)
    report_rounds(rounds)
    report_key_cost(totals, [r[INTAKE].rate / r[KEYED].rate if r[KEYED].rate else float("inf") for r in rounds])


def phase(port: int, target: str, count: int, concurrency: int) -> Sample:
    """`count` requests to `target` from `concurrency` threads; wall time from the first send to the last answer."""
    tickets = itertools.count()  # next() on it is atomic under the GIL
    samples = [Sample() for _ in range(concurrency)]
    threads = [threading.Thread(target=client, args=(port, target, count, tickets, s)) for s in samples]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Sample(seconds=time.perf_counter() - started)
    for sample in samples:
        total.add(sample)
    return total


def client(port: int, target: str, count: int, tickets: itertools.count, sample: Sample) -> None:
    while (number := next(tickets)) < count:
        body = lead_body(number) if target != BARE else b""
        key = {"Idempotency-Key": secrets.token_hex(16)} if target == KEYED else {}
        started = time.perf_counter()
        try:
            status, _ = post(port, target.split()[0], body, key)
        except OSError as error:
            status = type(error).__name__
        sample.latencies.append(time.perf_counter() - started)
        if status != 201:
            sample.errors[str(status)] = sample.errors.get(str(status), 0) + 1


def post(port: int, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    # A fresh connection per request: gunicorn's sync workers close every connection after answering.
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("POST", path, body, {**HEADERS, "X-Forwarded-For": visitor(), **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def lead_body(number: int) -> bytes:
    """A lead as the site's product page sends it; the phone differs per request, typed as visitors do."""
    digits = f"{1_000_000 + number % 9_000_000:07d}"
    prefix = ("90", "91", "93", "94", "97", "99")[number % 6]
    return json.dumps(
        {
            "name": ("Dilnoza Karimova", "Азиз Рахимов", "Bobur")[number % 3],
            "phone": f"{prefix} {digits[:3]} {digits[3:5]} {digits[5:]}",
            "email": f"client{number}@example.uz" if number % 2 else "",
            "message": "Salom! Eshitish apparati narxi qancha? Iltimos, qo'ng'iroq qiling.",
            "source": "product_page",
            "product_id": f"p-{number % 40}",
            "page_url": f"https://acoustic.uz/uz/products/p-{number % 40}?utm_source=google",
            "referrer": "https://www.google.com/",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "hearing-aids-2025",
        }
    ).encode()


def report(args: argparse.Namespace, totals: dict[str, Sample]) -> None:
    intake, keyed, bare = totals[INTAKE], totals[KEYED], totals[BARE]
    url = urlsplit(args.database_url or "sqlite://")
    database = f"{url.scheme}{' ?' + url.query if url.query else ''}" if args.database_url else "SQLite (temp file)"
    print(f"\n{args.requests} requests per endpoint, {args.concurrency} client threads, {args.rounds} alternating "
          f"rounds, gunicorn -w {args.workers} (sync, config {args.gunicorn_config or 'none'}), "
          f"DEBUG={'off' if args.no_debug else 'on'}, database {database}, "
          f"rate limit {'off' if args.no_rate_limit else 'on'}")  # fmt: skip
    print(f"{'endpoint':<23}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, sample in (("POST " + INTAKE, intake), ("POST " + KEYED, keyed), ("POST " + BARE, bare)):
        errors = sum(sample.errors.values())
        print(f"{name:<23}{len(sample.latencies):>10}{errors:>8}{sample.rate:>10.1f}"
              f"{sample.percentile(50):>10.1f}{sample.percentile(99):>10.1f}")  # fmt: skip
        if sample.errors:
            print(f"{'':<23}errors: {sample.errors}")
    ratios = [
        ("p50 latency (intake / bare)", intake.percentile(50) / bare.percentile(50), GOAL_RATIO),
        ("throughput (bare / intake)", bare.rate / intake.rate if intake.rate else float("inf"), GOAL_RATIO),
        ("p99 latency (intake / bare)", intake.percentile(99) / bare.percentile(99), GOAL_P99_RATIO),
    ]
    for label, ratio, goal in ratios:
        print(f"ratio {label:<28}{ratio:>6.2f}  goal ≤ {goal}: {verdict(ratio, goal)}")
    ratio = bare.rate / keyed.rate if keyed.rate else float("inf")
    print(
        f"ratio {'throughput (bare / intake +key)':<28}{ratio:>6.2f}  goal ≤ {GOAL_RATIO}: {verdict(ratio, GOAL_RATIO)}"
    )


def report_rounds(rounds: list[dict[str, Sample]]) -> None:
    """The same ratios round by round: their median is what other load on a shared machine moves least."""
    throughput = [r[BARE].rate / r[INTAKE].rate if r[INTAKE].rate else float("inf") for r in rounds]
    p50 = [r[INTAKE].percentile(50) / r[BARE].percentile(50) for r in rounds]
    print(f"per round, median (range) of {len(rounds)}: throughput (bare / intake) {statistics.median(throughput):.2f} "
          f"({min(throughput):.2f}-{max(throughput):.2f}), p50 latency (intake / bare) {statistics.median(p50):.2f} "
          f"({min(p50):.2f}-{max(p50):.2f})")  # fmt: skip


def report_key_cost(totals: dict[str, Sample], key_costs: list[float]) -> None:
    """The Idempotency-Key's cost: overall, and the median of the rounds (robust to other load on the machine)."""
    overall = totals[INTAKE].rate / totals[KEYED].rate if totals[KEYED].rate else float("inf")
    median = statistics.median(key_costs)
    print(f"idempotency key: intake throughput without / with a key: {overall:.2f} overall, {median:.2f} median of "
          f"{len(key_costs)} rounds (range {min(key_costs):.2f}-{max(key_costs):.2f})  "
          f"goal ≤ {GOAL_KEY_COST}: {verdict(median, GOAL_KEY_COST)}")  # fmt: skip


def verdict(ratio: float, goal: float) -> str:
    return "met" if ratio <= goal else "NOT met"


def in_process_client(env: dict[str, str]):
    """Django's test client in this process: the same view and middleware, without gunicorn and sockets."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    settings.ROOT_URLCONF = "bench.bare_urls"
    return Client(REMOTE_ADDR=HOST, HTTP_HOST=HOST, HTTP_USER_AGENT="bench/intake")


def cpu_cost(env: dict[str, str], count: int) -> None:
    """CPU time of this process per POST /api/leads without and with a new Idempotency-Key, and per bare insert.

    Unlike the wall-clock rounds, other load on a shared machine hardly moves it. With SQLite the database's work
    is done in this process too; PostgreSQL's is not counted, nor Redis's.
    """
    web, targets = in_process_client(env), (INTAKE, KEYED, BARE)
    for target in targets:  # warm up: imports, URL resolver, connections
        for number in range(50):
            _post_in_process(web, target, number)
    spent = dict.fromkeys(targets, 0.0)
    # In random order: a strict alternation lines up with whatever recurs (the garbage collector, the dispatch
    # task's publish every few seconds) and charges it to one side.
    order = [target for target in targets for _ in range(count)]
    random.Random(7).shuffle(order)
    for number, target in enumerate(order):
        started = time.process_time()
        _post_in_process(web, target, number)
        spent[target] += time.process_time() - started
    plain, keyed, bare = (spent[target] / count * 1000 for target in targets)
    cost = keyed / plain
    print(f"\nCPU per request in-process ({count} each, in random order): without a key {plain:.3f} ms, with a key "
          f"{keyed:.3f} ms: {cost:.3f}×  goal ≤ {GOAL_KEY_COST}: {verdict(cost, GOAL_KEY_COST)}; bare insert "
          f"{bare:.3f} ms (intake / bare {plain / bare:.2f}×)")  # fmt: skip


def _post_in_process(web, target: str, number: int) -> None:
    key = {"HTTP_IDEMPOTENCY_KEY": secrets.token_hex(16)} if target == KEYED else {}
    response = web.post(target.split()[0], lead_body(number), content_type="application/json", secure=True,
                        HTTP_X_FORWARDED_FOR=visitor(), **key)  # fmt: skip
    if response.status_code != 201:
        sys.exit(f"POST {target} answered {response.status_code}: {response.content[:300]!r}")


def profile(env: dict[str, str], count: int) -> None:
    """In-process, through Django's test client, profiled with pyinstrument."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        sys.exit("--profile needs pyinstrument: .venv/bin/pip install pyinstrument (not a project requirement)")
    web = in_process_client(env)
    for path in (INTAKE, BARE):
        for number in range(50):  # warm up: imports, URL resolver, connections
            _post_in_process(web, path, number)
        profiler = Profiler(interval=0.0002)
        started = time.perf_counter()
        with profiler:
            for number in range(count):
                _post_in_process(web, path, 10_000 + number)
        mean_ms = (time.perf_counter() - started) / count * 1000
        print(f"\n=== profile of {count} × POST {path}: {mean_ms:.2f} ms per request in-process (profiled) ===")
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def queue_length(redis_url: str) -> int:
    import redis

    return redis.Redis.from_url(redis_url).llen(CELERY_QUEUE)


def report_queue(redis_url: str, before: int, taken: int, keep: bool) -> None:
    """How many tasks the stored leads published (dispatch_leads, at most every 0.5 s per gunicorn worker)."""
    import redis

    server = redis.Redis.from_url(redis_url)
    queued = server.llen(CELERY_QUEUE) - before
    print(f"tasks published to {redis_url} during the run: {queued + taken} ({taken} taken by --idle-worker)")
    if not keep:
        server.delete(CELERY_QUEUE)


class IdleWorker:
    """Takes each task off the queue the moment it arrives, doing none of its work.

    A process of its own, like a worker: in a thread it would hold the GIL the client threads need.
    """

    def __init__(self, redis_url: str) -> None:
        self._taken = multiprocessing.Value("i", 0)
        self._stopping = multiprocessing.Event()
        self._process = multiprocessing.Process(target=self._run, args=(redis_url,), daemon=True)

    @property
    def taken(self) -> int:
        return self._taken.value

    def start(self) -> None:
        self._process.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._process.is_alive():
            self._process.join()

    def _run(self, redis_url: str) -> None:
        import redis

        server = redis.Redis.from_url(redis_url)
        while not self._stopping.is_set():
            popped = server.blpop([CELERY_QUEUE], timeout=0.5)
            if popped:
                with self._taken.get_lock():
                    self._taken.value += 1


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop; it reaps its own workers
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
