"""gunicorn, configured from the environment: `gunicorn -c gunicorn.conf.py acoustic.wsgi`.

WEB_CONCURRENCY worker processes (default 3) on PORT (default 8000); every line gunicorn writes, the access
log included, is one JSON object, masked like the application's own logs (acoustic/logging.py).
"""

import gc
import os
from datetime import timedelta
from typing import Any

from gunicorn import glogging
from gunicorn.config import Config

from acoustic.logging import JsonFormatter, RedactFilter, RequestIdFilter

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Sync workers: a request is one short database write. Not derived from the CPU count, which in a container
# is the host's and would open far more database connections than PostgreSQL allows by default.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20  # docker stop waits 10 s by default; compose gives the web service 30 s
keepalive = 5  # the reverse proxy reuses connections; keep them past its own idle check
# Recycle workers now and then so a slow leak never grows; the jitter keeps them from restarting together.
max_requests = 1000
max_requests_jitter = 100
# Heartbeat files on tmpfs: a worker blocked on a slow overlay /tmp would be killed as if it hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# The application is loaded once, in the master, and warmed there (when_ready below); every worker is forked from it,
# ready. Loaded in each worker instead, a new one (at start, and each time max_requests recycles one) took half a
# second to boot and then 50-400 ms more on its first requests, and its garbage collections walked the whole
# application (bench/README.md). Code is read at start only: deploy by restarting gunicorn (a new container).
preload_app = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


class JsonLogger(glogging.Logger):
    """gunicorn's start-up, worker and access lines as JSON, with the same masking as the application's."""

    def setup(self, cfg: Config) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())
                handler.addFilter(RequestIdFilter())
                handler.addFilter(RedactFilter())

    def access(self, resp: Any, req: Any, environ: dict, request_time: timedelta) -> None:
        if self.cfg.accesslog is None:
            return
        status = int(str(resp.status).split(None, 1)[0])
        headers = {name.lower(): value for name, value in resp.headers}
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("RAW_URI") or environ.get("PATH_INFO"),  # the query string too (RedactFilter masks it)
            "status": status,
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "bytes": getattr(resp, "sent", None),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            # Set by acoustic.request_id on the way out; the request's own context is gone by now.
            "request_id": headers.get("x-request-id"),
        }
        self.access_log.info("%s %s %s", fields["method"], fields["path"], status, extra=fields)


logger_class = JsonLogger


def when_ready(server: Any) -> None:
    """In the master, with the application loaded, before the first worker is forked."""
    from acoustic.warm_up import warm_up

    warm_up()
    # What is loaded by now lives as long as the process. Frozen, a full collection in a worker no longer walks it (it
    # took 50-190 ms each time), and its memory pages stay shared with the master instead of being copied.
    gc.collect()
    gc.freeze()
