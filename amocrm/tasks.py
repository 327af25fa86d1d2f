"""Celery tasks of the amoCRM integration. Tasks take ids, are safe to run twice, and call plain functions."""

import logging

from celery import shared_task

from amocrm import delivery, tokens
from amocrm.client import AmoError, ErrorKind
from amocrm.models import Settings

logger = logging.getLogger(__name__)


# Token keep-alive: an unused refresh token dies after 3 months (amocrm-api.md §1.4, §8.2), so once a day the
# pair is refreshed if it is older than 30 days. Beat runs it (CELERY_BEAT_SCHEDULE); the next run is the retry.


@shared_task
def keep_tokens_alive() -> bool:
    """Refresh the OAuth pair when it is 30 days old; True if it was refreshed."""
    conn = Settings.load()
    try:
        refreshed = tokens.keep_alive(conn)
    except AmoError as error:
        logger.warning("amoCRM token keep-alive failed: %s", error.kind)
        if error.kind != ErrorKind.REVOKED:  # a revoked pair is already marked "needs reconnect"
            conn.record_error(error.message)
        return False
    return refreshed


# Delivery: push new leads at once, sweep up whatever a lost message or a dead worker left behind.


@shared_task(acks_late=True)
def push_lead(delivery_id: int) -> None:
    """Deliver this lead now, together with up to 49 others that are due (one complex request)."""
    delivery.deliver_due(first_id=delivery_id)


@shared_task(acks_late=True)
def sweep_deliveries() -> int:
    """Queue a push for every batch of due deliveries; runs every few seconds from beat."""
    return delivery.queue_due_batches()
