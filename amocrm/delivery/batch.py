"""Delivering a batch of leads: claim what is due, run each missing step, record the outcome on every lead.

The steps are repeats.py (a repeat request joins its contact's open deal), routing.py (where each deal goes),
deals.py (one deal per lead, never two), notes.py (one note per deal), follow_up.py (one task for its manager) and
contact_gains.py (what a returning contact gains); failures.py decides what a failed attempt means for each lead.
"""

import logging
from time import monotonic

import redis
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from amocrm.api import ratelimit
from amocrm.api.errors import AmoError, ErrorKind
from amocrm.delivery import contact_gains, deals, failures, follow_up, notes, payload, repeats, routing
from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.signals import deal_created

logger = logging.getLogger(__name__)

# Tries of one claimed batch before it backs off, within this many seconds (the claim's lease is 5 minutes).
QUICK_TRIES = 3
QUICK_RETRY_SECONDS = 60
UNCONFIRMED = _("amoCRM did not confirm this deal; it will be looked up before sending again.")


def deliver_due(first_id: int | None = None) -> int:
    """Claim up to one batch of due deliveries (first_id first) and deliver it; return how many were claimed."""
    conn = Settings.load()
    if conn.sending_paused_reason:
        return _try_one_while_paused(conn, first_id)
    if not can_send_now(conn):
        return 0  # they stay due; the sweeper tries again once sending is possible
    batch = Delivery.claim_due(failures.current_batch_size(), first_id=first_id)
    if batch:
        deliver_batch(conn, batch)
    return len(batch)


def can_send_now(conn: Settings) -> bool:
    """Claiming a batch that cannot be sent would only count an attempt against each lead and push it back."""
    return not conn.sending_paused_reason and _connected_and_unthrottled(conn)


def _connected_and_unthrottled(conn: Settings) -> bool:
    if not conn.is_connected:
        return False
    try:
        return ratelimit.state().paused_for_seconds == 0  # a 429 pause is in force for every process
    except redis.RedisError:
        return False  # without Redis nothing can be paced, so nothing is sent


def due_batch_starts(max_batches: int) -> list[int]:
    """The first delivery id of each batch that is due now (the sweeper queues one push per batch)."""
    conn = Settings.load()
    if conn.sending_paused_reason:
        tried = conn.sending_probe_due(timezone.now()) and _connected_and_unthrottled(conn)
        return list(Delivery.due().order_by("id").values_list("id", flat=True)[:1]) if tried else []
    if not can_send_now(conn):
        return []
    size = failures.current_batch_size()
    due_ids = list(Delivery.due().order_by("id").values_list("id", flat=True)[: size * max_batches])
    return due_ids[::size]


def _try_one_while_paused(conn: Settings, first_id: int | None) -> int:
    """amoCRM refused deals (402/403): one due lead every 10 minutes, across all processes, finds out whether it
    still does, through the same path as any lead. Once amoCRM takes its deal, the pause lifts and the rest follow;
    a passing failure after that (its note, say) is that lead's to retry, not a reason to keep everyone waiting.
    """
    if not _connected_and_unthrottled(conn) or not Delivery.due().exists() or not Settings.claim_sending_probe():
        return 0
    batch = Delivery.claim_due(1, first_id=first_id)
    if batch:
        deliver_batch(conn, batch)
    if batch and _amocrm_took_a_write(batch[0]):
        logger.info("amoCRM took a deal while sending was paused; sending resumes")
        conn.resume_sending()
    return len(batch)


def _amocrm_took_a_write(delivery: Delivery) -> bool:
    """A new deal, or for a repeat request (whose deal existed before) its note: amoCRM accepts writes again."""
    return delivery.deal_created and (not delivery.is_repeat or delivery.note_sent)


def deliver_batch(conn: Settings, batch: list[Delivery]) -> None:
    try:
        _deliver_steps_with_quick_retries(conn, batch)
    except AmoError as error:
        failures.record(conn, [d for d in batch if not _complete(d)], error)
    else:
        failures.grow_batch_size()
    done = [d for d in batch if _complete(d) and d.state != DeliveryState.DELIVERED]
    Delivery.mark_all_delivered(done)
    for delivery in done:
        deal_created.send_robust(sender=Delivery, delivery=delivery, deal_url=delivery.deal_url(conn.base_url))
    for delivery in batch:
        if delivery.state == DeliveryState.SENDING:
            delivery.schedule_retry(str(UNCONFIRMED), failures.retry_delay(delivery.attempts))


def _deliver_steps_with_quick_retries(conn: Settings, batch: list[Delivery]) -> None:
    """Every step that is still missing; a passing 5xx or broken connection gets up to two immediate retries.

    Each step starts from what is recorded (ids, markers, flags), so a retry resumes where the last try stopped
    and looks up anything whose outcome is unknown. Retries stop well inside the claim's lease, and only a
    failure that outlasts them backs the batch off.
    """
    started = monotonic()
    for tries_left in reversed(range(QUICK_TRIES)):
        try:
            return _deliver_steps(conn, batch)
        except AmoError as error:
            passing = error.kind in (ErrorKind.SERVER, ErrorKind.NETWORK)
            if not (passing and tries_left and monotonic() - started < QUICK_RETRY_SECONDS and can_send_now(conn)):
                raise
            logger.info("amoCRM request failed (%s); trying the rest of the batch again", error.kind)


def _deliver_steps(conn: Settings, batch: list[Delivery]) -> None:
    deals.find_unconfirmed(conn, [d for d in batch if d.outcome_unknown and not d.deal_created])
    unrouted = [d for d in batch if not d.deal_created and not d.is_routed]
    routing.assign(conn, [d for d in batch if not d.deal_created], repeats.join_open_deals(conn, unrouted))
    repeats.attach(batch)
    deals.create(conn, [d for d in batch if not d.deal_created])
    notes.find_unconfirmed(conn, [d for d in batch if d.note_outcome_unknown and not d.note_sent])
    notes.send(conn, [d for d in batch if d.deal_created and payload.needs_note(d) and not d.note_sent])
    # A task or a contact update amoCRM refuses is marked failed there and never holds the deal back.
    follow_up.find_unconfirmed(conn, [d for d in batch if d.task_outcome_unknown and d.task_id is None])
    follow_up.send(conn, [d for d in batch if d.deal_created and d.needs_task])
    repeats.tag(conn, [d for d in batch if d.is_repeat and d.deal_created and not d.repeat_tagged])
    contact_gains.write(conn, [d for d in batch if d.deal_created and d.needs_contact_update])


def _complete(delivery: Delivery) -> bool:
    return (
        delivery.deal_created
        and (delivery.note_sent or not payload.needs_note(delivery))
        and not delivery.needs_task
        and (delivery.repeat_tagged or not delivery.is_repeat)
        and not delivery.needs_contact_update
    )
