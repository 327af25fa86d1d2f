"""What a failed attempt means for each lead of the batch, and for the size of the next batch.

Only amoCRM refusing a lead's own data parks that lead ("needs attention"); a fault of the connection or the
account holds sending for everybody and leaves every lead due; a passing one is retried with backoff.
"""

import random
from datetime import timedelta

from django.core.cache import cache

from acoustic.backoff import backoff_delay
from amocrm.api.client import MAX_BATCH
from amocrm.api.errors import AmoError, ErrorKind, Fault
from amocrm.models import ConnectionState, Delivery, Settings

_BACKOFF_BASE_SECONDS = 10
_BATCH_SIZE_KEY = "amocrm:delivery:batch-size"
# After a 429 every lead waits out the same pause; a few seconds of spread keep them from all coming back at once.
_AFTER_PAUSE_SPREAD_SECONDS = 5


def record(conn: Settings, deliveries: list[Delivery], error: AmoError) -> None:
    """What the failure means for each lead; whose fault it is was decided where amoCRM's answer was read."""
    if error.status == 504:
        # On 504 amoCRM asks for smaller batches. Reference: https://www.amocrm.ru/developers/content/api/recommendations
        shrink_batch_size()
    if error.fault == Fault.CONNECTION:
        _hold_sending(conn, error)
        for delivery in deliveries:
            # Not this lead's fault: it stays due, no attempt is counted, and it goes once staff have acted.
            delivery.schedule_retry(error.message, timedelta(0), counted=False)
        return
    at_fault = {fe.request_id for fe in error.field_errors}
    for delivery in deliveries:
        _record_one_failure(delivery, error, at_fault, len(deliveries))


def _hold_sending(conn: Settings, error: AmoError) -> None:
    """The account refuses deals (paused until a lead goes through) or our access is gone (reconnect)."""
    if error.pauses_sending:
        conn.pause_sending(error.message)
    elif error.needs_reconnect and conn.state == ConnectionState.CONNECTED:
        conn.mark_needs_reconnect(error.message)


def _record_one_failure(delivery: Delivery, error: AmoError, at_fault: set[str], batch_size: int) -> None:
    if error.fault == Fault.LEAD and at_fault and str(delivery.id) not in at_fault:
        delivery.requeue()  # another lead of the batch was rejected, not this one
    elif error.fault == Fault.LEAD and (str(delivery.id) in at_fault or batch_size == 1):
        path = next((fe.path for fe in error.field_errors if fe.request_id == str(delivery.id)), "")
        delivery.mark_needs_attention(error.message, path)
    elif error.fault == Fault.LEAD:
        shrink_batch_size(to=1)  # amoCRM did not say which lead it rejected: send them one by one
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


def shrink_batch_size(to: int | None = None) -> None:
    cache.set(_BATCH_SIZE_KEY, to or max(1, current_batch_size() // 2), 600)


def grow_batch_size() -> None:
    size = current_batch_size()
    if size < MAX_BATCH:
        cache.set(_BATCH_SIZE_KEY, min(MAX_BATCH, size * 2), 600)
