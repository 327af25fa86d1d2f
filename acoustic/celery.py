"""The Celery app (Redis broker, settings under CELERY_* in acoustic/settings.py) and safe queuing."""

import logging
import os

from celery import Celery
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acoustic.settings")

app = Celery("acoustic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args) -> None:
    """Queue a task once the current transaction commits; a broker outage is logged, never raised.

    Nothing is lost when queuing fails: every task's work is also found by a periodic sweeper.
    """

    def send() -> None:
        try:
            task.apply_async(args=args, retry=False)
        except Exception:  # noqa: BLE001 - any broker failure must not reach the caller
            logger.warning("Could not queue %s%r; the sweeper will pick it up", task.name, args, exc_info=True)

    transaction.on_commit(send)
