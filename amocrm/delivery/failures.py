"""What a failed attempt means for each lead of the batch, and for the size of the next batch."""

import random
from datetime import timedelta

from django.core.cache import cache

from acoustic.backoff import backoff_delay
from amocrm.api.client import MAX_BATCH
from amocrm.api.errors import AmoError, ErrorKind
from amocrm.models import Delivery, Settings

_BACKOFF_BASE_SECONDS = 10
_BATCH_SIZE_KEY = "amocrm:delivery:batch-size"
# After a 429 every lead waits out the same pause; a few seconds of spread keep them from all coming back at once.
_AFTER_PAUSE_SPREAD_SECONDS = 5


def record(conn: Settings, deliveries: list[Delivery], error: AmoError) -> None:
    if error.kind in (ErrorKind.PAYMENT_REQUIRED, ErrorKind.BLOCKED):
        conn.pause_sending(error.message)
    if error.status == 504:
        # On 504 amoCRM asks for smaller batches. Reference: https://www.amocrm.ru/developers/content/api/recommendations
        shrink_batch_size()
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
