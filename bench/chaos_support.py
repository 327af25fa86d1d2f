"""The processes and look-ups behind bench/chaos.py: Redis, the sandbox, gunicorn, Celery, the OAuth connect.

Every child runs in its own session (process group), so one os.killpg reaches a Celery worker's main process and
its pool child together, and Ctrl-C in the terminal reaches only the bench, which then stops them in order.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
HOST = "127.0.0.1"
SOURCE_FIELD, PRODUCT_FIELD, MARKER_FIELD = 900_201, 900_202, 900_203  # the sandbox catalog's text fields


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Child:
    """One child process (group) with its log file; restartable with the same command."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path = ROOT
    process: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> "Child":
        self.starts += 1
        out = self.log.open("a")
        out.write(f"\n--- start {self.starts} at {time.time():.3f} ---\n")
        out.flush()
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill_group(self) -> None:
        """SIGKILL to the whole process group: main process and children die at once, as in an OOM kill."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def freeze_group(self, frozen: bool) -> None:
        """SIGSTOP / SIGCONT to the whole group: a stopped redis-server still accepts connections (the kernel does)
        but answers nothing, as a paused, overloaded or half-open Redis."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the group (Celery: warm shutdown), then SIGKILL whatever is left."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGCONT)  # a frozen group would not act on SIGTERM
        except ProcessLookupError:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                _reap_group(self.process.pid, wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _reap_group(pgid: int, timeout: float) -> None:
    """Wait until no process of the group is left (a pool child may outlive its parent by a moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_until(check, what: str, timeout: float, child: Child | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and not child.running:
            raise RuntimeError(f"{what}: the process exited\n{child.tail()}")
        try:
            if check():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not ready within {timeout:.0f} s" + (f"\n{child.tail()}" if child else ""))


# The children


def redis_server(workdir: Path, port: int) -> Child:
    command = ["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
               "--daemonize", "no", "--dir", str(workdir)]  # fmt: skip
    return Child("redis", command, dict(os.environ), workdir / "redis.log")


def redis_ready(port: int) -> bool:
    with socket.create_connection((HOST, port), timeout=1) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(16).startswith(b"+PONG")


def sandbox(env: dict[str, str], workdir: Path, port: int, state_file: bool) -> Child:
    command = [PYTHON, "manage.py", "amocrm_sandbox", "--host", HOST, "--port", str(port), "--rate-limit", "7"]
    if state_file:
        command += ["--state-file", str(workdir / "sandbox-state.json")]
    return Child("sandbox", command, env, workdir / "sandbox.log")


def gunicorn(env: dict[str, str], workdir: Path, port: int, workers: int) -> Child:
    # The project's own config (sync workers, max_requests recycling, JSON logs); -b keeps it on loopback.
    command = [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "acoustic.wsgi", "-b", f"{HOST}:{port}",
               "-w", str(workers)]  # fmt: skip
    return Child("gunicorn", command, env, workdir / "gunicorn.log")


def celery_worker(env: dict[str, str], workdir: Path, number: int) -> Child:
    command = [PYTHON, "-m", "celery", "-A", "acoustic", "worker", "-c", "1", "-P", "prefork", "-n",
               f"chaos{number}@%h", "--loglevel=INFO"]  # fmt: skip
    return Child(f"worker{number}", command, env, workdir / f"worker{number}.log")


def celery_beat(env: dict[str, str], workdir: Path) -> Child:
    command = [PYTHON, "-m", "celery", "-A", "acoustic", "beat", "--loglevel=INFO",
               "--schedule", str(workdir / "celerybeat-schedule")]  # fmt: skip
    return Child("beat", command, env, workdir / "beat.log")


def busy_with_push(worker: Child) -> bool:
    """Whether the worker's log shows a push_lead received and not yet finished (it holds claimed deliveries)."""
    running = set()
    for line in worker.log.read_text(errors="replace").splitlines()[-200:]:
        match = _TASK_LINE.search(line)
        if match and match["what"] == "received":
            running.add(match["id"])
        elif match:
            running.discard(match["id"])
        elif "--- start" in line:
            running.clear()
    return bool(running)


_TASK_LINE = re.compile(r"Task amocrm\.tasks\.push_lead\[(?P<id>[0-9a-f-]+)\] (?P<what>received|succeeded|raised)")


def worker_ready(worker: Child) -> bool:
    text = worker.log.read_text(errors="replace")
    return text.count("ready.") >= worker.starts


# PostgreSQL: a database of the bench's own, dropped at the end


def create_postgres_db(name: str) -> str:
    subprocess.run(["createdb", "-h", HOST, "-U", "postgres", name], check=True)
    return f"postgres://postgres@{HOST}:5432/{name}"


def drop_postgres_db(name: str) -> None:
    subprocess.run(["dropdb", "-h", HOST, "-U", "postgres", "--if-exists", "--force", name], check=False)


# The project side, in this process (django.setup() with the children's environment)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def connect(sandbox_url: str) -> None:
    """The admin's Connect button by hand: consent page, Allow, the project's code exchange, then the mapping."""
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
        raise RuntimeError(f"the consent page did not redirect as expected: {allowed.headers.get('Location')}")
    pair = oauth.exchange_code(conn, query["code"], query["referer"])
    conn.store_tokens(pair.access_token, pair.refresh_token, pair.expires_in)
    account = client.get_account(conn)
    conn.mark_connected(account.id, account.name)
    pipeline = next(p for p in client.list_pipelines(conn) if not p.is_main)
    conn.pipeline_id, conn.status_id = pipeline.id, [s for s in pipeline.statuses if s.type == 0][1].id
    conn.tags = "sayt"
    conn.source_field_id, conn.product_field_id, conn.marker_field_id = SOURCE_FIELD, PRODUCT_FIELD, MARKER_FIELD
    conn.save()


def lead_fields(number: int) -> dict[str, str]:
    """A product-page lead; every number gets its own phone, which is how a lead is found again in the database."""
    return {
        "name": ("Dilnoza Karimova", "Азиз Рахимов", "Bobur")[number % 3],
        "phone": phone_of(number),
        "message": f"Salom! Eshitish apparati narxi qancha? (chaos #{number})",
        "source": "product_page",
        "product_id": f"p-{number % 40}",
        "page_url": f"https://acoustic.uz/uz/products/p-{number % 40}",
        "utm_source": "google",
        "utm_medium": "cpc",
    }


def phone_of(number: int) -> str:
    return f"+99890{2_000_000 + number:07d}"


# The sandbox's side


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url

    def control(self, **changes) -> dict:
        response = requests.post(f"{self.url}/_sandbox/control", json=changes, timeout=30)
        response.raise_for_status()
        return response.json()

    def settings(self) -> dict:
        return requests.get(f"{self.url}/_sandbox/control", timeout=30).json()

    def state(self) -> dict:
        return requests.get(f"{self.url}/_sandbox/state", timeout=120).json()


@dataclass
class RequestLog:
    """The sandbox keeps its last 5000 requests: collected every few seconds, so none is missed."""

    records: dict[str, dict] = field(default_factory=dict)  # by the sandbox's request id

    def add(self, state: dict) -> None:
        for record in state["requests"]:
            if record["path"].startswith("/api/v4/"):
                record.pop("body", None)
                self.records[record["request_id"]] = record

    @property
    def api(self) -> list[dict]:
        return sorted(self.records.values(), key=lambda r: r["time"])


def busiest_second(log: list[dict]) -> tuple[int, float]:
    """The most requests within any one-second window (each window starts at a request), and where it starts."""
    times = sorted(r["time"] for r in log)
    best = max(((bisect_left(times, start + 1.0) - i, start) for i, start in enumerate(times)), default=(0, 0.0))
    return best


def marker_lead_id(deal: dict) -> int | None:
    """The site's lead id from the deal's marker field ("#<lead id> <attempt token>")."""
    for value in deal.get("custom_fields_values") or []:
        if value.get("field_id") == MARKER_FIELD:
            text = str((value.get("values") or [{}])[0].get("value", ""))
            if text.startswith("#") and text[1:].split(" ")[0].isdigit():
                return int(text[1:].split(" ")[0])
    return None


def deals_by_lead(deals: list[dict]) -> Counter:
    return Counter(marker_lead_id(deal) for deal in deals)
