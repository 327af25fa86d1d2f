"""gunicorn loads the application in its master and warms it there: workers are forked ready, sharing no connection."""

import http.client
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Nothing listens on port 9 (discard): a warm-up that reached either would fail.
UNREACHABLE = {"DATABASE_URL": "postgres://postgres@127.0.0.1:9/none", "REDIS_URL": "redis://127.0.0.1:9/0"}
# Runs gunicorn.conf.py's when_ready hook as gunicorn's master does, after loading the application.
WHEN_READY = """
import gc, json, runpy, sys
import django
django.setup()
runpy.run_path("gunicorn.conf.py")["when_ready"](None)
print(json.dumps({"frozen": gc.get_freeze_count(), "views_loaded": "leads.views" in sys.modules}))
"""


def run_when_ready() -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "acoustic.settings", "DEBUG": "1", **UNREACHABLE}
    return subprocess.run([sys.executable, "-c", WHEN_READY], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def warmed() -> dict:
    result = run_when_ready()
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_gunicorn_loads_the_application_in_its_master():
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["preload_app"] is True


def test_it_warms_up_without_reaching_the_database_or_redis():
    result = run_when_ready()

    assert result.returncode == 0, result.stderr


def test_it_imports_the_views_before_the_first_request(warmed):
    assert warmed["views_loaded"] is True


def test_it_freezes_what_it_loaded_so_collections_in_workers_skip_it(warmed):
    assert warmed["frozen"] > 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def recycling_server(tmp_path_factory) -> Iterator[int]:
    """gunicorn as configured, but recycling each worker after 2 requests: most leads meet a freshly forked one."""
    workdir = tmp_path_factory.mktemp("gunicorn")
    env = {**os.environ, "DEBUG": "1", "LEAD_RATE_LIMIT": "", "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py and acoustic/wsgi.py set it
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "acoustic.wsgi",
               "-b", f"127.0.0.1:{port}", "-w", "2", "--max-requests", "2", "--max-requests-jitter", "0"]  # fmt: skip
    with (workdir / "gunicorn.log").open("w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(port, server)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def wait_until_listening(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


def post_lead(port: int, number: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"name": f"Lead {number}", "phone": f"+998 90 123 45 {number:02d}"})
    conn.request("POST", "/api/leads", body, {"Content-Type": "application/json"})
    status = conn.getresponse().status
    conn.close()
    return status


def test_recycled_workers_forked_from_the_warm_master_take_every_lead(recycling_server):
    statuses = [post_lead(recycling_server, number) for number in range(10)]

    assert statuses == [201] * 10
