"""A batch's notes in one request, each added once.

Reference: https://www.amocrm.ru/developers/content/crm_platform/events-and-notes

Notes carry no marker, so after a request whose answer never came, the common notes added since then are read
back before anything is sent again.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from math import ceil

from django.utils import timezone

from amocrm.api import client
from amocrm.api.answers import RemoteNote
from amocrm.api.errors import AmoError
from amocrm.delivery import payload
from amocrm.models import Delivery, Settings

# The look-up covers the attempt's time this far either way: the request may wait for a slot (30 s) and then for
# its answer (25 s), and amoCRM's clock and ours may disagree a little.
LOOKUP_MARGIN = timedelta(minutes=2)


def send(conn: Settings, deliveries: list[Delivery]) -> None:
    if not deliveries:
        return
    # Written before the request: if no answer comes, the next attempt reads the deals' notes back first.
    now = timezone.now()
    for delivery in deliveries:
        delivery.note_outcome_unknown, delivery.note_attempted_at = True, now
    Delivery.objects.bulk_update(deliveries, ["note_outcome_unknown", "note_attempted_at"])
    try:
        client.add_lead_notes(conn, [payload.note(d) for d in deliveries])
    except AmoError as error:
        if not error.outcome_unknown:  # refused outright: nothing was added
            _record_notes(deliveries, sent=False)
        raise
    _record_notes(deliveries, sent=True)


def find_unconfirmed(conn: Settings, unconfirmed: list[Delivery]) -> None:
    """Which of these deals got our note although no answer came; recorded once the notes are read.

    One list of every deal's common notes from around the attempt, or one request per deal, whichever takes
    fewer requests: our own notes from that time tell how many pages the list would be.
    """
    if not unconfirmed:
        return
    attempted = [d.note_attempted_at or timezone.now() for d in unconfirmed]
    window = (min(attempted) - LOOKUP_MARGIN, max(attempted) + LOOKUP_MARGIN)
    changed = (int(window[0].timestamp()), int(window[1].timestamp()))
    expected = {d.id: _comparable(payload.delivery_note_text(d)) for d in unconfirmed}
    if _pages_of_notes_around(window) < len(unconfirmed):
        _record_found(unconfirmed, list(_common_notes(conn, changed)), expected)
        return
    for delivery in unconfirmed:
        _record_found([delivery], list(_common_notes(conn, changed, lead_id=delivery.amocrm_lead_id)), expected)


def _record_found(deliveries: list[Delivery], notes: list[RemoteNote], expected: dict[int, str]) -> None:
    """Each delivery's note found at most once: two repeat requests may put notes on the same deal."""
    taken: dict[int, Delivery] = {}
    for delivery in deliveries:
        # Matched by text too: a note staff added to the deal meanwhile must not pass for ours.
        ours = [n for n in notes if n.entity_id == delivery.amocrm_lead_id and n.id not in taken]
        note = next((n for n in ours if _comparable(n.text) == expected[delivery.id]), None)
        if note is not None:
            taken[note.id] = delivery
    _record_notes(list(taken.values()), sent=True)
    _record_notes([d for d in deliveries if d not in taken.values()], sent=False)


def _pages_of_notes_around(window: tuple[datetime, datetime]) -> int:
    ours = Delivery.objects.filter(note_attempted_at__range=window).count()
    return max(1, ceil(ours / client.MAX_PAGE_SIZE))


def _common_notes(conn: Settings, changed: tuple[int, int], lead_id: int | None = None) -> Iterator[RemoteNote]:
    for page in range(1, client.MAX_PAGES + 1):
        listed = client.list_lead_notes(conn, "common", changed, lead_id=lead_id, page=page)
        yield from listed.notes
        if not listed.has_next:
            return


def _comparable(text: str) -> str:
    return " ".join(text.split())  # amoCRM may trim or re-wrap whitespace; the words are what identify a note


def _record_notes(deliveries: list[Delivery], sent: bool) -> None:
    for delivery in deliveries:
        delivery.note_sent, delivery.note_outcome_unknown = sent, False
    Delivery.objects.bulk_update(deliveries, ["note_sent", "note_outcome_unknown"])
