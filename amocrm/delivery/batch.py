"""Delivering a batch of leads: at most one deal per lead, whatever fails on the way."""

import logging
import random
import uuid
from datetime import timedelta
from time import monotonic

import redis
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from acoustic.backoff import backoff_delay
from amocrm.api import catalog, client, ratelimit
from amocrm.api.answers import RemoteLead
from amocrm.api.client import MAX_BATCH
from amocrm.api.errors import AmoError, ErrorKind
from amocrm.delivery import contacts, notes, payload
from amocrm.models import Delivery, DeliveryState, Settings
from amocrm.signals import deal_created

logger = logging.getLogger(__name__)

_BACKOFF_BASE_SECONDS = 10
_BATCH_SIZE_KEY = "amocrm:delivery:batch-size"
# Tries of one claimed batch before it backs off, within this many seconds (the claim's lease is 5 minutes).
QUICK_TRIES = 3
QUICK_RETRY_SECONDS = 60
# After a 429 every lead waits out the same pause; a few seconds of spread keep them from all coming back at once.
_AFTER_PAUSE_SPREAD_SECONDS = 5
UNCONFIRMED = _("amoCRM did not confirm this deal; it will be looked up before sending again.")


def deliver_due(first_id: int | None = None) -> int:
    """Claim up to one batch of due deliveries (first_id first) and deliver it; return how many were claimed."""
    conn = Settings.load()
    if not can_send_now(conn):
        return 0  # they stay due; the sweeper tries again once sending is possible
    batch = Delivery.claim_due(current_batch_size(), first_id=first_id)
    if batch:
        deliver_batch(conn, batch)
    return len(batch)


def can_send_now(conn: Settings) -> bool:
    """Claiming a batch that cannot be sent would only count an attempt against each lead and push it back."""
    if not conn.is_connected or conn.sending_paused_reason:
        return False
    try:
        return ratelimit.state().paused_for_seconds == 0  # a 429 pause is in force for every process
    except redis.RedisError:
        return False  # without Redis nothing can be paced, so nothing is sent


def due_batch_starts(max_batches: int) -> list[int]:
    """The first delivery id of each batch that is due now (the sweeper queues one push per batch)."""
    if not can_send_now(Settings.load()):
        return []
    size = current_batch_size()
    due_ids = list(Delivery.due().order_by("id").values_list("id", flat=True)[: size * max_batches])
    return due_ids[::size]


def deliver_batch(conn: Settings, batch: list[Delivery]) -> None:
    try:
        _deliver_steps_with_quick_retries(conn, batch)
    except AmoError as error:
        _record_failure(conn, [d for d in batch if not _complete(d)], error)
    else:
        _grow_batch_size()
    done = [d for d in batch if _complete(d) and d.state != DeliveryState.DELIVERED]
    _save_all(done, delivered=True)
    for delivery in done:
        deal_created.send_robust(sender=Delivery, delivery=delivery, deal_url=delivery.deal_url(conn.base_url))
    for delivery in batch:
        if delivery.state == DeliveryState.SENDING:
            delivery.schedule_retry(str(UNCONFIRMED), retry_delay(delivery.attempts))


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
    _find_unconfirmed_deals(conn, [d for d in batch if d.outcome_unknown and not d.deal_created])
    _create_deals(conn, [d for d in batch if not d.deal_created])
    notes.find_unconfirmed(conn, [d for d in batch if d.note_outcome_unknown and not d.note_sent])
    notes.send(conn, [d for d in batch if d.deal_created and d.lead.message and not d.note_sent])


def _save_all(deliveries: list[Delivery], *fields: str, delivered: bool = False) -> None:
    """One UPDATE for a whole batch instead of one per lead."""
    if delivered:
        now = timezone.now()
        for delivery in deliveries:
            delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, now
            delivery.last_error = delivery.last_error_path = delivery.claim_token = ""
            delivery.claimed_until = None
        fields = (*fields, "state", "delivered_at", "last_error", "last_error_path", "claim_token", "claimed_until")
    if deliveries:
        Delivery.objects.bulk_update(deliveries, list(fields))


def _complete(delivery: Delivery) -> bool:
    return delivery.deal_created and (delivery.note_sent or not delivery.lead.message)


def _find_unconfirmed_deals(conn: Settings, unconfirmed: list[Delivery]) -> None:
    """Before re-sending after an unknown outcome, look the deals up by the marker they carry."""
    by_token: dict[str, list[Delivery]] = {}
    for delivery in unconfirmed:
        by_token.setdefault(delivery.marker.split()[-1], []).append(delivery)
    for token, deliveries in by_token.items():
        # One search finds every deal of that attempt; `query` is fuzzy, so confirm each marker.
        page = client.list_leads(conn, page=1, limit=250, query=token)
        for delivery in deliveries:
            found = next((deal for deal in page.leads if _carries_marker(conn, deal, delivery.marker)), None)
            if found:
                delivery.mark_deal_created(found.id, found.contact_ids[0] if found.contact_ids else None)
            else:
                delivery.mark_not_created()


def _carries_marker(conn: Settings, deal: RemoteLead, marker: str) -> bool:
    if conn.marker_field_id:
        return marker in deal.custom_fields.get(conn.marker_field_id, [])
    return deal.name.endswith(f"[{marker}]")


def _create_deals(conn: Settings, pending: list[Delivery]) -> None:
    # Leads that share a new phone go in separate rounds: amoCRM would make one contact per lead.
    forgotten: set[int] = set()
    while pending:
        known = contacts.known_contacts(conn, pending)
        this_round, pending = contacts.split_by_new_phone(pending, known)
        try:
            _send_round(conn, this_round, known)
        except AmoError as error:
            gone = contacts.deleted_contacts(error, this_round, known)
            if not gone or gone & forgotten:  # the second time it cannot be our stale record: give up on them
                raise
            contacts.forget_contacts(gone)
            forgotten |= gone
            pending = this_round + pending  # the same round again, each with a new contact where ours is gone


def _send_round(conn: Settings, deliveries: list[Delivery], known: dict[int, int | None]) -> None:
    fields = catalog.load(conn).tracking_field_ids()
    token = uuid.uuid4().hex[:12]
    # Written before the request: if no answer comes, the next attempt looks for this marker first.
    for delivery in deliveries:
        delivery.marker, delivery.outcome_unknown = payload.marker_for(delivery, token), True
    _save_all(deliveries, "marker", "outcome_unknown")
    try:
        if conn.use_unsorted:
            _send_unsorted(conn, deliveries, fields)
        else:
            body = [payload.complex_lead(conn, d, fields, known.get(d.id)) for d in deliveries]
            created = client.create_complex_leads(conn, body)
            _record_created(deliveries, {rid: deal for deal in created for rid in deal.request_ids})
    except AmoError as error:
        if not error.outcome_unknown:  # a clear refusal (a 5xx on a write counts as unknown): not created
            for delivery in deliveries:
                delivery.outcome_unknown = False
            _save_all(deliveries, "outcome_unknown")
        raise


def _send_unsorted(conn: Settings, deliveries: list[Delivery], fields: dict[str, int]) -> None:
    created = client.create_unsorted_forms(conn, [payload.unsorted_form(conn, d, fields) for d in deliveries])
    by_request = {item.request_id: item for item in created}
    for delivery in deliveries:
        item = by_request.get(str(delivery.id))
        if item and item.lead_ids:
            delivery.mark_deal_created(item.lead_ids[0], item.contact_ids[0] if item.contact_ids else None)


def _record_created(deliveries: list[Delivery], by_request: dict) -> None:
    created = []
    for delivery in deliveries:
        deal = by_request.get(str(delivery.id))
        if deal is None:
            logger.error("amoCRM's answer did not mention delivery %s; it will be looked up", delivery.id)
            continue
        delivery.amocrm_lead_id, delivery.amocrm_contact_id, delivery.outcome_unknown = deal.id, deal.contact_id, False
        created.append(delivery)
    _save_all(created, "amocrm_lead_id", "amocrm_contact_id", "outcome_unknown")


def _record_failure(conn: Settings, deliveries: list[Delivery], error: AmoError) -> None:
    if error.kind in (ErrorKind.PAYMENT_REQUIRED, ErrorKind.BLOCKED):
        conn.pause_sending(error.message)
    if error.status == 504:
        # On 504 amoCRM asks for smaller batches. Reference: https://www.amocrm.ru/developers/content/api/recommendations
        _shrink_batch_size()
    at_fault = {fe.request_id for fe in error.field_errors}
    for delivery in deliveries:
        _record_one_failure(delivery, error, at_fault, len(deliveries))


def _record_one_failure(delivery: Delivery, error: AmoError, at_fault: set[str], batch_size: int) -> None:
    if error.permanent and at_fault and str(delivery.id) not in at_fault:
        delivery.requeue()  # another lead of the batch was rejected, not this one
    elif error.permanent and (str(delivery.id) in at_fault or batch_size == 1):
        path = next((fe.path for fe in error.field_errors if fe.request_id == str(delivery.id)), "")
        delivery.mark_needs_attention(error.message, path)
    elif error.permanent:
        _shrink_batch_size(to=1)  # amoCRM did not say which lead it rejected: send them one by one
        delivery.requeue()
    elif error.kind == ErrorKind.RATE_LIMITED:
        # Not this lead's fault: it waits out the shared pause, and an attempt that never left is not counted.
        delivery.schedule_retry(error.message, after_pause(error.retry_after), counted=error.status is not None)
    else:
        delivery.schedule_retry(error.message, retry_delay(delivery.attempts, error.retry_after))


def after_pause(retry_after: float | None) -> timedelta:
    pause = retry_after if retry_after is not None else _BACKOFF_BASE_SECONDS
    return timedelta(seconds=pause + random.uniform(0, _AFTER_PAUSE_SPREAD_SECONDS))


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    return backoff_delay(attempts, _BACKOFF_BASE_SECONDS, retry_after)


def current_batch_size() -> int:
    return cache.get(_BATCH_SIZE_KEY) or MAX_BATCH


def _shrink_batch_size(to: int | None = None) -> None:
    cache.set(_BATCH_SIZE_KEY, to or max(1, current_batch_size() // 2), 600)


def _grow_batch_size() -> None:
    size = current_batch_size()
    if size < MAX_BATCH:
        cache.set(_BATCH_SIZE_KEY, min(MAX_BATCH, size * 2), 600)
