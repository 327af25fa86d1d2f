"""What the settings page says about delivery: leads waiting, the oldest one, and amoCRM's latest errors."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.timesince import timesince

from amocrm.api import request_log
from amocrm.api.request_log import ErrorRate
from amocrm.delivery import stats
from amocrm.models import DeliveryState, RequestLog


@dataclass
class HealthPanel:
    pending: int
    retrying: int
    needs_attention: int
    delivered: int
    oldest_pending: str  # "12 minutes", or "" when nothing waits
    error_rate: ErrorRate  # the last 15 minutes
    recent_errors: list[RequestLog]


def health_panel() -> HealthPanel:
    counts = stats.counts_by_state()
    since = stats.oldest_undelivered_since()
    return HealthPanel(
        pending=counts[DeliveryState.PENDING] + counts[DeliveryState.SENDING],
        retrying=counts[DeliveryState.RETRYING],
        needs_attention=counts[DeliveryState.NEEDS_ATTENTION],
        delivered=counts[DeliveryState.DELIVERED],
        oldest_pending=timesince(since, timezone.now()) if since else "",
        error_rate=request_log.error_rate(),
        recent_errors=request_log.recent_errors(20),
    )
