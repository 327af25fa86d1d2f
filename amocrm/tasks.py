"""Every Celery task of the amoCRM app: thin, safe to run twice, each calling one step function.

Task names stay `amocrm.tasks.<name>`: beat's schedule and messages already queued refer to them.
Nothing below this module queues a task; the steps return what should be queued next.
"""

import logging
from collections.abc import Callable
from functools import wraps

from celery import shared_task
from cryptography.fernet import InvalidToken

from acoustic.celery import enqueue_on_commit, publish_each_or_run
from acoustic.encryption import explain, unreadable_rows
from amocrm.api import request_log, tokens
from amocrm.api.errors import AmoError, ErrorKind
from amocrm.delivery import batch, failures
from amocrm.models import Delivery, Settings
from amocrm.sync import reconcile, webhooks

logger = logging.getLogger(__name__)

SWEEP_MAX_BATCHES = 20


def readable_secrets(task_step: Callable) -> Callable:
    """A settings row no key in FERNET_KEYS opens ends the run with one clear line, not a traceback every 15 s.

    Nothing is lost: deliveries stay due and webhook events stay stored until the keys are put right.
    """

    @wraps(task_step)
    def run(*args, **kwargs):
        try:
            return task_step(*args, **kwargs)
        except InvalidToken:
            logger.error("%s.%s skipped: %s", __name__, task_step.__name__, explain(unreadable_rows()))
            return None

    return run


# Delivery: every dispatched lead gets its delivery row and a push; the sweeper picks up whatever a lost message,
# a dead worker or a retry time left behind.


def create_delivery(sender, lead, **kwargs) -> None:
    """lead_stored receiver, in the dispatch's transaction: the delivery row now, its push after the commit."""
    delivery, _ = Delivery.objects.get_or_create(lead=lead)  # safe if a lead is ever dispatched twice
    queue_push(delivery.id)


def queue_push(delivery_id: int) -> None:
    """Push this delivery once the current transaction commits (staff pressed Retry, say)."""
    enqueue_on_commit(push_lead, delivery_id)


@shared_task(acks_late=True)
@readable_secrets
def push_lead(delivery_id: int) -> None:
    """Deliver this lead now, together with up to 49 others that are due (one complex request)."""
    claimed = batch.deliver_due(first_id=delivery_id)
    if claimed and claimed >= failures.current_batch_size():
        # A full batch means a backlog: keep a push going rather than wait for the next sweep.
        _push_batches(batch.due_batch_starts(max_batches=1))


@shared_task(acks_late=True)
@readable_secrets
def sweep_deliveries() -> int:
    """Queue a push for every batch of due deliveries; runs every few seconds from beat. Returns the batches."""
    starts = batch.due_batch_starts(max_batches=SWEEP_MAX_BATCHES)
    _push_batches(starts)
    return len(starts)


def _push_batches(first_ids: list[int]) -> None:
    publish_each_or_run(push_lead, [(first_id,) for first_id in first_ids], run_here=batch.deliver_due)


# Token keep-alive: an unused refresh token dies after 3 months, so once a day the pair is refreshed if it is older
# than 30 days. Beat runs it (CELERY_BEAT_SCHEDULE); the next run is the retry.


@shared_task
@readable_secrets
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


# The request log behind the settings page's error list and the alerts' error rate keeps two weeks.


@shared_task
def prune_request_log() -> int:
    """Delete request log rows older than 14 days; runs daily from beat."""
    return request_log.prune()


# Two-way sync: webhook events are applied as they arrive; every 10 minutes beat runs the reconcile, which also
# applies events a lost message left behind and pulls what no webhook brought.


def queue_webhook_events(event_ids: list[int]) -> None:
    """Apply each newly stored webhook event once the receiver's transaction commits."""
    for event_id in event_ids:
        enqueue_on_commit(apply_webhook_event, event_id)


@shared_task(acks_late=True)
@readable_secrets
def apply_webhook_event(event_id: int) -> bool:
    """Take one stored amoCRM webhook event into its deal's stage."""
    return webhooks.apply_event(event_id)


@shared_task
@readable_secrets
def reconcile_deal_stages() -> int:
    """Catch up on deal stages from amoCRM; how many stage changes were recorded."""
    webhooks.apply_pending_events()
    webhooks.prune()
    try:
        return reconcile.reconcile()
    except AmoError as error:
        logger.warning("Reconciling deal stages failed: %s", error.kind)  # the next run covers the same period
        return 0
