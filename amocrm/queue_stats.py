"""How the way to amoCRM is doing: deliveries by state and the oldest lead still on its way.

Read by the settings page's health panel, /metrics and the Telegram alerts.
"""

from datetime import datetime

from django.db.models import Count, Min, Sum
from django.utils import timezone

from amocrm.models import Delivery, DeliveryState

# On their way: not delivered yet and not given up on.
UNDELIVERED = (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.RETRYING)


def counts_by_state() -> dict[str, int]:
    """Every state with its number of deliveries, zeros included."""
    found = dict(Delivery.objects.values_list("state").annotate(n=Count("id")).order_by())
    return {state: found.get(state, 0) for state in DeliveryState.values}


def oldest_undelivered_since() -> datetime | None:
    """When the oldest lead still on its way to amoCRM was stored; None if there is none."""
    return Delivery.objects.filter(state__in=UNDELIVERED).aggregate(oldest=Min("created_at"))["oldest"]


def oldest_undelivered_age(now: datetime | None = None) -> float:
    """Its age in seconds (0 when every lead has arrived or needs a person)."""
    since = oldest_undelivered_since()
    return max(((now or timezone.now()) - since).total_seconds(), 0.0) if since else 0.0


def retries() -> int:
    """Attempts beyond each delivery's first: grows with every retry (rows are never deleted)."""
    totals = Delivery.objects.filter(attempts__gt=0).aggregate(attempts=Sum("attempts"), tried=Count("id"))
    return (totals["attempts"] or 0) - totals["tried"]
