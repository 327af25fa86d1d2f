"""What /healthz checks: the parts without which leads are lost or stuck, and the amoCRM connection.

The database, Redis, the broker and the stored secrets (every encrypted value must open with a key in FERNET_KEYS)
decide the answer (503 if any fails). amoCRM's state is reported but never
fails the check: while amoCRM is disconnected the site still stores every lead and sends it once reconnected, and
restarting the container would not help (the Telegram alerts tell staff instead).
"""

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection

from acoustic.celery import app
from acoustic.encryption import describe, unreadable_rows
from amocrm.models import Settings

logger = logging.getLogger(__name__)

REQUIRED = ("database", "redis", "broker", "secrets")
TIMEOUT = 2  # seconds per probe: a load balancer's health check must answer promptly


def checks() -> dict[str, str]:
    """Each part's state: "ok" or "error: <what>", and amoCRM's connection state."""
    found = {"database": _probe("database", _database), "redis": _probe("redis", _redis)}
    found["broker"] = _probe("broker", _broker)
    found["secrets"] = secrets_state() if found["database"] == "ok" else "unknown"
    found["amocrm"] = amocrm_state() if found["secrets"] == "ok" else "unknown"
    return found


def is_healthy(found: dict[str, str]) -> bool:
    return all(found[name] == "ok" for name in REQUIRED)


def amocrm_state() -> str:
    """connected, not_connected, needs_reconnect or disconnected; "paused" while amoCRM refuses deals."""
    conn = Settings.load()
    return "paused" if conn.sending_paused_reason else conn.state


def secrets_state() -> str:
    """ "ok", or "error: no key in FERNET_KEYS opens <model> pk <pk> (<fields>)": the reason, never a value."""
    rows = unreadable_rows()
    return f"error: {describe(rows)}" if rows else "ok"


def _probe(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as error:  # noqa: BLE001 - whatever breaks, the answer is "this part failed"
        logger.warning("Health check: %s failed", name, exc_info=True)
        # Only the error's type: /healthz is public and the message may name internal hosts.
        return f"error: {type(error).__name__}"
    return "ok"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()


def _broker() -> None:
    # The URL is read now (not from Celery's cached configuration), so it is the one settings name.
    with app.connection_for_write(url=settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT)
