"""One deal per lead, never two: a marker travels in each deal, and an attempt without an answer is looked up.

Leads that share a new phone go in separate rounds, so they share one contact instead of making one each.
Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api#leads-complex-add
"""

import logging
import uuid

from amocrm.api import catalog, client
from amocrm.api.answers import RemoteLead
from amocrm.api.errors import AmoError
from amocrm.delivery import contacts, deal_fields, marker_field, payload
from amocrm.delivery.deal_fields import FieldPlan
from amocrm.models import Delivery, Settings

logger = logging.getLogger(__name__)


def find_unconfirmed(conn: Settings, unconfirmed: list[Delivery]) -> None:
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
    # In the marker field, or at the end of the name where it went while the account had no such field.
    in_field = bool(conn.marker_field_id) and marker in deal.custom_fields.get(conn.marker_field_id, [])
    return in_field or deal.name.endswith(f"[{marker}]")


def create(conn: Settings, pending: list[Delivery]) -> None:
    if pending:
        marker_field.ensure(conn)  # set up on connect; here for long-lived tokens, and to retry after a refusal
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
    fields = deal_fields.plan(conn, catalog.load(conn))
    token = uuid.uuid4().hex[:12]
    # Written before the request: if no answer comes, the next attempt looks for this marker first.
    for delivery in deliveries:
        delivery.marker, delivery.outcome_unknown = payload.marker_for(delivery, token), True
    Delivery.save_all(deliveries, "marker", "outcome_unknown")
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
            Delivery.save_all(deliveries, "outcome_unknown")
        raise


def _send_unsorted(conn: Settings, deliveries: list[Delivery], fields: FieldPlan) -> None:
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
    Delivery.save_all(created, "amocrm_lead_id", "amocrm_contact_id", "outcome_unknown")
