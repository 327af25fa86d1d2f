"""Dispatching stored leads: lead_stored is sent once per lead, by a worker, after the request has answered.

The intake stores only the lead, marked dispatch_pending, and queues dispatch_leads. Here one transaction per lead
clears the mark and runs the receivers, so their rows (the amoCRM delivery, the Telegram message) commit with it or
not at all. A lost task, a broker outage or a dead worker leaves the mark set: beat's run of the task finds it then.
"""

import logging

from django.db import transaction

from leads.models import Lead
from leads.signals import lead_stored

logger = logging.getLogger(__name__)

BATCH = 200


def dispatch_waiting() -> int:
    """Dispatch every lead still waiting, oldest first; how many this call dispatched."""
    dispatched, after = 0, 0
    # Keyset pages: a lead whose receiver keeps failing stays waiting but never stops the loop.
    while ids := _waiting_ids(after):
        for lead_id in ids:
            dispatched += _dispatch_logged(lead_id)
        after = ids[-1]
    return dispatched


def dispatch(lead_id: int) -> bool:
    """Send lead_stored for this lead unless that was done already; True if it was sent now."""
    with transaction.atomic():
        # The conditional update is the claim: on PostgreSQL a second worker waits for this row, then matches nothing.
        if not Lead.objects.filter(id=lead_id, dispatch_pending=True).update(dispatch_pending=False):
            return False
        # A receiver that fails rolls the claim back with its own rows: the lead is dispatched again later.
        lead_stored.send(sender=Lead, lead=Lead.objects.get(id=lead_id))
    return True


def _waiting_ids(after: int) -> list[int]:
    waiting = Lead.objects.filter(dispatch_pending=True, id__gt=after).order_by("id")
    return list(waiting.values_list("id", flat=True)[:BATCH])


def _dispatch_logged(lead_id: int) -> bool:
    try:
        return dispatch(lead_id)
    except Exception:  # noqa: BLE001 - one lead's failing receiver must not hold up the others
        logger.exception("Could not dispatch lead %s; the next run tries again", lead_id)
        return False
