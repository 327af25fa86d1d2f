"""Celery tasks of the amoCRM integration. Tasks take ids, are safe to run twice, and call plain functions."""

import logging

from celery import shared_task

from amocrm import deal_sync, delivery, request_log, tokens, webhook_events
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
    claimed = delivery.deliver_due(first_id=delivery_id)
    if claimed and claimed >= delivery.current_batch_size():
        # A full batch means a backlog: keep a push going rather than wait for the next sweep.
        delivery.queue_due_batches(max_batches=1)


@shared_task(acks_late=True)
def sweep_deliveries() -> int:
    """Queue a push for every batch of due deliveries; runs every few seconds from beat."""
    return delivery.queue_due_batches()


# The request log behind the settings page's error list and the alerts' error rate keeps two weeks.


@shared_task
def prune_request_log() -> int:
    """Delete request log rows older than 14 days; runs daily from beat."""
    return request_log.prune()


# Two-way sync: webhook events are applied as they arrive; every 10 minutes beat runs the reconcile, which also
# applies events a lost message left behind and pulls what no webhook brought.


@shared_task(acks_late=True)
def apply_webhook_event(event_id: int) -> bool:
    """Take one stored amoCRM webhook event into its deal's stage."""
    return deal_sync.apply_webhook_event(event_id)


@shared_task
def reconcile_deal_stages() -> int:
    """Catch up on deal stages from amoCRM; how many stage changes were recorded."""
    deal_sync.apply_pending_events()
    webhook_events.prune()
    try:
        return deal_sync.reconcile()
    except AmoError as error:
        logger.warning("Reconciling deal stages failed: %s", error.kind)  # the next run covers the same period
        return 0
