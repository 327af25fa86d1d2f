"""The Celery app (Redis broker, settings under CELERY_* in acoustic/settings.py) and safe queuing."""

import logging
import os
import threading
import time

from celery import Celery
from django.db import transaction

from acoustic.redis_breaker import redis_breaker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acoustic.settings")

app = Celery("acoustic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args) -> None:
    """Queue a task once the current transaction commits; a broker outage is logged, never raised.

    Nothing is lost when queuing fails: every task's work is also found by a periodic sweeper.
    """
    transaction.on_commit(lambda: _send(task, args))


def enqueue_throttled_on_commit(task, seconds: float) -> None:
    """Like enqueue_on_commit, for a task without arguments that does all the work waiting: this process publishes it
    at most once every `seconds`, and the commits in between make no network call at all.

    A commit skipped here is taken by the task published before it (if that is still queued or running), by the next
    publish, or by the task's beat entry, which must run about as often.
    """

    def send() -> None:
        if publish_throttle.due(task.name, seconds):
            _send(task, ())

    transaction.on_commit(send)


class PublishThrottle:
    """When this process last published each task: an in-memory clock, safe for a threaded server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._published_at: dict[str, float] = {}

    def due(self, name: str, seconds: float) -> bool:
        """True, and the clock restarted, if `name` was not published in the last `seconds`."""
        now = time.monotonic()
        with self._lock:
            last = self._published_at.get(name)
            if last is not None and now - last < seconds:
                return False
            self._published_at[name] = now
            return True

    def reset(self) -> None:
        with self._lock:
            self._published_at.clear()


publish_throttle = PublishThrottle()


def publish_each_or_run(task, args_list: list[tuple], run_here) -> int:
    """The sweepers' step: queue task(*args) for each; once the broker refuses, run the rest in this process.

    A sweeper exists for when messages were lost; a broker that is down as well must not leave the work waiting.
    Returns how many were queued (the rest ran here).
    """
    for position, args in enumerate(args_list):
        if not _published(task, args):
            logger.warning("Broker unavailable; %d of %s run in the sweeper", len(args_list) - position, task.name)
            for rest in args_list[position:]:
                run_here(*rest)
            return position
    return len(args_list)


def _published(task, args: tuple) -> bool:
    """False when the broker refused or timed out, or timed out a moment ago (the breaker skips it a while)."""
    if redis_breaker.is_open():
        return False
    try:
        task.apply_async(args=args, retry=False)
    except Exception as error:  # noqa: BLE001 - any broker failure must not reach the caller
        redis_breaker.failed(error)
        logger.info("Publishing %s failed: %s", task.name, error)
        return False
    return True


def _send(task, args: tuple) -> None:
    if not _published(task, args):
        logger.warning("Could not queue %s%r; the sweeper will pick it up", task.name, args)
