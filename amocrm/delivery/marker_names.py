"""Deals delivered before the account had the marker field end their names with `[#<lead> <token>]`: move it out.

For `manage.py amocrm_move_markers`. Each deal's name loses the suffix and its marker goes into the field, 50 deals
per PATCH through the shared rate limit. Progress is kept on the settings row, so a second run (or one after a
failure) carries on where the last stopped; a deal whose name is already clean is left alone.
Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api#leads-edit
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from amocrm.api import client
from amocrm.api.answers import RemoteLead
from amocrm.models import Delivery, DeliveryState, Settings


class NoMarkerField(Exception):
    """The account has no marker field yet: there is nowhere to move the markers to."""


@dataclass
class MoveSummary:
    checked: int = 0
    moved: int = 0
    already_clean: int = 0
    not_in_amocrm: int = 0  # deleted in amoCRM since


def move_markers(conn: Settings, from_start: bool = False, progress: Callable[[MoveSummary], None] | None = None):
    """Every delivered deal after the last run's end (or all, `from_start`); the summary of this run."""
    if not conn.marker_field_id:
        raise NoMarkerField
    summary = MoveSummary()
    for chunk in _delivered_chunks(0 if from_start else conn.markers_moved_through or 0):
        deals = {deal.id: deal for deal in client.list_leads_by_id(conn, [d.amocrm_lead_id for d in chunk])}
        for part in _parts(chunk, client.MAX_BATCH):
            changes = [change for d in part if (change := _change(conn, deals.get(d.amocrm_lead_id), d, summary))]
            client.update_leads(conn, changes)
            conn.record_markers_moved_through(part[-1].id)
            if progress:
                progress(summary)
    return summary


def _delivered_chunks(after_id: int) -> Iterator[list[Delivery]]:
    """Delivered deals in id order, one list per GET (250 ids)."""
    delivered = Delivery.objects.filter(state=DeliveryState.DELIVERED, amocrm_lead_id__isnull=False).exclude(marker="")
    while chunk := list(delivered.filter(id__gt=after_id).order_by("id")[: client.MAX_PAGE_SIZE]):
        yield chunk
        after_id = chunk[-1].id


def _parts(items: list[Delivery], size: int) -> Iterator[list[Delivery]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _change(conn: Settings, deal: RemoteLead | None, delivery: Delivery, summary: MoveSummary) -> dict | None:
    summary.checked += 1
    suffix = f" [{delivery.marker}]"
    if deal is None:
        summary.not_in_amocrm += 1
        return None
    if not deal.name.endswith(suffix):
        summary.already_clean += 1
        return None
    summary.moved += 1
    marker = {"field_id": conn.marker_field_id, "values": [{"value": delivery.marker}]}
    return {"id": deal.id, "name": deal.name.removesuffix(suffix), "custom_fields_values": [marker]}
