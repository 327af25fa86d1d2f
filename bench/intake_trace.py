"""bench/intake.py --trace: what the slow requests have in common, seen from inside gunicorn.

As a gunicorn config (-c bench/intake_trace.py) it loads the config under test (BENCH_TRACE_CONFIG, if any) and adds
hooks that write one line per worker start, per request (its worker, its number in that worker's life, wall and CPU
time) and per full garbage collection to BENCH_TRACE_LOG. summarize() reads that file back: the server-side times
per endpoint, the slowest requests and whether each was among a fresh worker's first or met a full collection, and
how long the server ran a worker short each time max_requests had one replaced.
"""

import gc
import os
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

_CONFIG = os.environ.get("BENCH_TRACE_CONFIG")
if _CONFIG:  # the config under test: its settings and hooks, before ours wrap them
    exec(compile(Path(_CONFIG).read_text(), _CONFIG, "exec"))  # noqa: S102 - a gunicorn config is Python
_LOG = os.environ.get("BENCH_TRACE_LOG", os.devnull)
_base_post_fork = globals().get("post_fork")
_base_post_worker_init = globals().get("post_worker_init")
_collecting: dict[str, float] = {}


def _write(*fields: object) -> None:
    with open(_LOG, "a") as log:
        log.write(" ".join(map(str, fields)) + "\n")


def post_fork(server, worker) -> None:
    _write("fork", os.getpid(), f"{time.time():.4f}")
    if _base_post_fork:
        _base_post_fork(server, worker)


def post_worker_init(worker) -> None:
    if _base_post_worker_init:
        _base_post_worker_init(worker)
    gc.callbacks.append(_note_full_collection)
    _write("ready", os.getpid(), f"{time.time():.4f}")


def pre_request(worker, req) -> None:
    worker.trace_started = (time.perf_counter(), time.process_time())


def post_request(worker, req, environ, resp) -> None:
    wall, cpu = time.perf_counter() - worker.trace_started[0], time.process_time() - worker.trace_started[1]
    _write("request", os.getpid(), worker.nr, f"{time.time():.4f}", req.path, f"{wall * 1000:.2f}", f"{cpu * 1000:.2f}")


def _note_full_collection(phase: str, info: dict) -> None:
    if phase == "start":
        _collecting["since"] = time.perf_counter()
    elif info["generation"] == 2:
        _write("gc", os.getpid(), f"{time.time():.4f}", f"{(time.perf_counter() - _collecting['since']) * 1000:.2f}")


def summarize(log: Path, workers: int, slowest: int = 8) -> None:
    lines = [line.split() for line in log.read_text().splitlines()]
    requests = [Request(line[1], int(line[2]), float(line[3]), line[4], float(line[5]), float(line[6]))
                for line in lines if line[0] == "request"]  # fmt: skip
    collections = [(line[1], float(line[2]), float(line[3])) for line in lines if line[0] == "gc"]
    pauses = [c[2] for c in collections]
    print(f"\nserver side (--trace): {len(collections)} full collections, median {_median(pauses):.1f} ms, longest "
          f"{max(pauses, default=0):.1f} ms")  # fmt: skip
    by_path = defaultdict(list)
    for request in requests:
        by_path[request.path].append(request)
    for path, seen in sorted(by_path.items()):
        walls, cpus = sorted(r.wall for r in seen), sorted(r.cpu for r in seen)
        print(f"{path:<14} wall p50 {_median(walls):.2f} p99 {walls[int(0.99 * len(walls))]:.2f} ms, "
              f"CPU p50 {_median(cpus):.2f} p99 {cpus[int(0.99 * len(cpus))]:.2f} ms")  # fmt: skip
        slow = sorted(seen, key=lambda r: r.wall, reverse=True)[:slowest]
        print(
            "  slowest (wall/CPU ms, the worker's nth request, gc: a full collection in it):",
            ", ".join(f"{r.wall:.0f}/{r.cpu:.0f} #{r.number}{' gc' if r.met(collections) else ''}" for r in slow),
        )
    gaps = _replacement_gaps(requests, workers)
    print(f"workers replaced {len(gaps)} times; one worker short meanwhile: median {_median(gaps) * 1000:.0f} ms, "
          f"longest {max(gaps, default=0) * 1000:.0f} ms")  # fmt: skip


@dataclass(frozen=True)
class Request:
    pid: str
    number: int  # in its worker's life, from 1
    ended: float
    path: str
    wall: float  # ms
    cpu: float  # ms

    def met(self, collections: list[tuple[str, float, float]]) -> bool:
        started = self.ended - self.wall / 1000
        return any(pid == self.pid and started <= at <= self.ended for pid, at, _ms in collections)


def _replacement_gaps(requests: list[Request], workers: int) -> list[float]:
    """Seconds from each worker's last answer to its successor's first request; the first `workers` had none."""
    first, last = {}, {}
    for request in requests:
        first.setdefault(request.pid, request.ended - request.wall / 1000)
        last[request.pid] = request.ended
    ended, started = sorted(last.values()), sorted(first.values())[workers:]
    return [max(0.0, start - end) for end, start in zip(ended, started, strict=False)]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
