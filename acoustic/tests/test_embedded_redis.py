"""The embedded Redis is for development and tests: tests get one of their own, and whoever starts one stops it."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from acoustic import embedded_redis

ROOT = Path(__file__).resolve().parents[2]
INNER_TEST = """
from django.conf import settings

def test_note_the_redis_in_use():
    with open({out!r}, "w") as out:
        out.write(settings.REDIS_URL)
"""


def without_redis_url() -> dict[str, str]:
    """The environment of a fresh shell: conftest.py sets these two for this session."""
    return {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}


def answers(url: str) -> bool:
    return embedded_redis.answers(Path(url.removeprefix("unix://")))


@pytest.fixture
def short_dir() -> Path:
    """A run directory under var/ (short enough for a Unix socket path), removed afterwards."""
    path = ROOT / "var" / f"t-{os.getpid()}"
    yield path
    embedded_redis.stop(path)
    subprocess.run(["rm", "-rf", str(path)], check=True)


def test_tests_do_not_use_the_redis_that_make_run_uses():
    assert settings.REDIS_URL != f"unix://{embedded_redis.socket_path(ROOT / 'var')}"


def test_a_test_session_stops_the_redis_it_started(short_dir):
    short_dir.mkdir(parents=True)
    (short_dir / "test_inner.py").write_text(INNER_TEST.format(out=str(short_dir / "redis-url")))

    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(short_dir / "test_inner.py")],
        cwd=ROOT, env=without_redis_url(), check=True, capture_output=True, timeout=120,
    )  # fmt: skip

    assert answers((short_dir / "redis-url").read_text()) is False


def test_stop_shuts_the_server_down(short_dir):
    socket = embedded_redis.ensure_running(short_dir)

    embedded_redis.stop(short_dir)

    assert embedded_redis.answers(socket) is False


def test_make_clean_stops_it_from_the_command_line(short_dir):
    socket = embedded_redis.ensure_running(short_dir)

    subprocess.run([sys.executable, "-m", "acoustic.embedded_redis", "stop", str(short_dir)], cwd=ROOT, check=True)

    assert embedded_redis.answers(socket) is False


def test_make_run_stops_its_redis_on_ctrl_c(short_dir):
    stack = subprocess.Popen(
        [sys.executable, "-m", "acoustic.dev_stack", "--run-dir", str(short_dir), "--",
         sys.executable, "-c", "import os, time; print(os.environ['REDIS_URL'], flush=True); time.sleep(60)"],
        cwd=ROOT, env=without_redis_url(), stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    url = stack.stdout.readline().strip()

    os.killpg(stack.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's foreground processes
    stack.wait(timeout=30)

    assert answers(url) is False
