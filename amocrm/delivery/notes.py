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
    """Which of these deals got our note although no answer came; each answer is recorded as soon as it is known.

    One list of every deal's common notes from around the attempt, or one request per deal, whichever takes
    fewer requests: our own notes from that time tell how many pages the list would be.
    """
    if not unconfirmed:
        return
    attempted = [d.note_attempted_at or timezone.now() for d in unconfirmed]
    window = (min(attempted) - LOOKUP_MARGIN, max(attempted) + LOOKUP_MARGIN)
    changed = (int(window[0].timestamp()), int(window[1].timestamp()))
    expected = {d.amocrm_lead_id: _comparable(payload.note_text(d.lead)) for d in unconfirmed}
    if _pages_of_notes_around(window) < len(unconfirmed):
        found = set()
        for note in _common_notes(conn, changed):
            # Matched by text too: a note staff added to the fresh deal meanwhile must not pass for ours.
            if expected.get(note.entity_id) == _comparable(note.text) and note.entity_id not in found:
                found.add(note.entity_id)
                _record_notes([d for d in unconfirmed if d.amocrm_lead_id == note.entity_id], sent=True)
        _record_notes([d for d in unconfirmed if d.amocrm_lead_id not in found], sent=False)
        return
    for delivery in unconfirmed:
        notes = _common_notes(conn, changed, lead_id=delivery.amocrm_lead_id)
        _record_notes([delivery], sent=any(_comparable(n.text) == expected[delivery.amocrm_lead_id] for n in notes))


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
