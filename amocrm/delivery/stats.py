"""How the way to amoCRM is doing: deliveries by state and the oldest lead still on its way.

Read by the settings page's health panel, /metrics and the Telegram alerts.
"""

from datetime import datetime

from django.db.models import Count, Min, QuerySet, Sum
from django.utils import timezone

from amocrm.models import Delivery, DeliveryState
from leads.models import Lead

# On their way: not delivered yet and not given up on.
UNDELIVERED = (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.RETRYING)


def counts_by_state() -> dict[str, int]:
    """Every state with its number of deliveries, zeros included; leads not yet dispatched count as pending."""
    found = dict(Delivery.objects.values_list("state").annotate(n=Count("id")).order_by())
    counts = {state: found.get(state, 0) for state in DeliveryState.values}
    counts[DeliveryState.PENDING] += _undispatched().count()
    return counts


def undelivered_count() -> int:
    return Delivery.objects.filter(state__in=UNDELIVERED).count() + _undispatched().count()


def oldest_undelivered_since() -> datetime | None:
    """When the oldest lead still on its way to amoCRM was stored; None if there is none."""
    dates = [
        Delivery.objects.filter(state__in=UNDELIVERED).aggregate(oldest=Min("lead__created_at"))["oldest"],
        _undispatched().aggregate(oldest=Min("created_at"))["oldest"],
    ]
    return min((date for date in dates if date), default=None)


def oldest_undelivered_age(now: datetime | None = None) -> float:
    """Its age in seconds (0 when every lead has arrived or needs a person)."""
    since = oldest_undelivered_since()
    return max(((now or timezone.now()) - since).total_seconds(), 0.0) if since else 0.0


def _undispatched() -> QuerySet[Lead]:
    # A lead gets its delivery row when a worker dispatches it (leads/dispatch.py): until then it has none, and
    # while workers are down such leads pile up here, which is just what these figures must show.
    return Lead.objects.filter(dispatch_pending=True)


def retries() -> int:
    """Attempts beyond each delivery's first: grows with every retry (rows are never deleted)."""
    totals = Delivery.objects.filter(attempts__gt=0).aggregate(attempts=Sum("attempts"), tried=Count("id"))
    return (totals["attempts"] or 0) - totals["tried"]
