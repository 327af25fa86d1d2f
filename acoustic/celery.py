"""The Celery app (Redis broker, settings under CELERY_* in acoustic/settings.py) and safe queuing."""

import logging
import os

from celery import Celery
from django.core.cache import cache
from django.db import transaction

from acoustic.redis_breaker import redis_breaker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acoustic.settings")

app = Celery("acoustic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# How long enqueue_once_on_commit's mark says "one is waiting": longer than a queued task waits for a worker when all
# is well. Should the task be lost (or its publish fail after the mark was set), commits in this time queue nothing
# and the sweeper does their work; a busy queue only means a harmless second task.
WAITING_TTL = 10


def enqueue_on_commit(task, *args) -> None:
    """Queue a task once the current transaction commits; a broker outage is logged, never raised.

    Nothing is lost when queuing fails: every task's work is also found by a periodic sweeper.
    """
    transaction.on_commit(lambda: _send(task, args))


def enqueue_once_on_commit(task) -> None:
    """Like enqueue_on_commit, for a task without arguments that does all the work waiting: skipped while one such
    task is already queued and not yet started. The task calls mark_started() before it looks for work, so whatever
    commits after that queues it anew.
    """

    def send() -> None:
        if not _one_is_waiting(task):
            _send(task, ())

    transaction.on_commit(send)


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


def mark_started(task) -> None:
    """Called by an enqueue_once_on_commit task as it starts: from now on a commit queues another run."""
    cache.delete(_waiting_key(task))


def _one_is_waiting(task) -> bool:
    """Marks one as waiting unless one is already; False when Redis cannot say."""
    if redis_breaker.is_open():
        return False
    try:
        return not cache.add(_waiting_key(task), 1, WAITING_TTL)
    except Exception as error:  # noqa: BLE001 - Redis trouble: queue it anyway rather than leave it to the sweeper
        redis_breaker.failed(error)  # a timeout: _send and the next requests skip Redis for a while
        logger.warning("Could not check for a waiting %s; queuing it", task.name, exc_info=True)
        return False


def _waiting_key(task) -> str:
    return f"celery:waiting:{task.name}"


def _send(task, args: tuple) -> None:
    if not _published(task, args):
        logger.warning("Could not queue %s%r; the sweeper will pick it up", task.name, args)
