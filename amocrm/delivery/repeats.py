"""Repeat requests: a lead whose contact already has an open deal in the pipeline it would go to joins that deal.

Instead of a second deal it becomes a note on the open deal, the tag `repeat` there and a follow-up task for that
deal's manager. Decided once, before routing, and recorded with the route; only leads whose contact we already
know (or search for, when that setting is on) cost a look-up: their contacts with deals, then those deals' stages.
Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api,
https://www.amocrm.ru/developers/content/crm_platform/leads-api
"""

import logging
from dataclasses import dataclass

from amocrm.api import catalog, client
from amocrm.api import contacts as remote_contacts
from amocrm.api.answers import RemoteLead
from amocrm.api.contacts import ContactWithLeads
from amocrm.api.errors import AmoError, Fault
from amocrm.delivery import contact_gains, contacts, routing
from amocrm.models import CLOSED_STATUS_IDS, Delivery, Settings

logger = logging.getLogger(__name__)

REPEAT_TAG = "repeat"


@dataclass(frozen=True)
class OpenDeal:
    deal: RemoteLead
    contact: ContactWithLeads


def join_open_deals(conn: Settings, unrouted: list[Delivery]) -> dict[int, int]:
    """Record on each repeat request the open deal it joins; the owners (delivery id → that deal's manager)."""
    if not conn.repeat_joins_open_deal or not unrouted:
        return {}
    owners = {}
    for delivery, found in _open_deals(conn, unrouted).items():
        delivery.repeat_of_deal_id = found.deal.id
        delivery.contact_update = contact_gains.gains(delivery.lead, found.contact)
        if found.deal.responsible_user_id:
            owners[delivery.id] = found.deal.responsible_user_id
    return owners


def _open_deals(conn: Settings, deliveries: list[Delivery]) -> dict[Delivery, OpenDeal]:
    known = contacts.known_contacts(conn, deliveries)
    contact_ids = sorted({contact_id for contact_id in known.values() if contact_id})
    if not contact_ids:
        return {}  # nobody we know: no look-up at all
    by_id = {c.id: c for c in remote_contacts.contacts_with_leads(conn, contact_ids)}
    lead_ids = sorted({lead_id for c in by_id.values() for lead_id in c.lead_ids})
    deals = {d.id: d for d in client.list_leads_by_id(conn, lead_ids)} if lead_ids else {}
    found = {}
    for delivery in deliveries:
        contact = by_id.get(known.get(delivery.id))
        deal = _open_deal_of(contact, deals, _pipeline_of(conn, delivery)) if contact else None
        if deal is not None:
            found[delivery] = OpenDeal(deal, contact)
    return found


def _pipeline_of(conn: Settings, delivery: Delivery) -> int | None:
    """The pipeline its deal would go to: the matched route's (no rotation advances), else the account's main."""
    pipeline_id = routing.match(conn, delivery.lead).pipeline_id
    if pipeline_id:
        return pipeline_id
    main = next((p for p in catalog.load(conn).pipelines if p.is_main), None)
    return main.id if main else None


def _open_deal_of(
    contact: ContactWithLeads, deals: dict[int, RemoteLead], pipeline_id: int | None
) -> RemoteLead | None:
    """Won (142) and lost (143) deals are closed; of several open ones, the one changed last."""
    candidates = [deals[lead_id] for lead_id in contact.lead_ids if lead_id in deals]
    open_deals = [d for d in candidates if d.pipeline_id == pipeline_id and d.status_id not in CLOSED_STATUS_IDS]
    return max(open_deals, key=lambda deal: (deal.updated_at, deal.id), default=None)


def attach(batch: list[Delivery]) -> None:
    """A routed repeat request's deal is the open one (amocrm_lead_id), so notes and tasks go there."""
    joining = [d for d in batch if d.is_repeat and not d.deal_created]
    for delivery in joining:
        delivery.amocrm_lead_id = delivery.repeat_of_deal_id
        delivery.amocrm_contact_id = delivery.contact_update.get("contact_id")
    Delivery.save_all(joining, "amocrm_lead_id", "amocrm_contact_id")


def tag(conn: Settings, deliveries: list[Delivery]) -> None:
    """The tag `repeat` on each joined deal, added to its tags (adding it twice changes nothing)."""
    if not deliveries:
        return
    try:
        remote_contacts.add_lead_tags(conn, {d.amocrm_lead_id: [REPEAT_TAG] for d in deliveries})
    except AmoError as error:
        if error.fault != Fault.LEAD:
            raise
        logger.warning("amoCRM refused the tag %r on deals %s: %s", REPEAT_TAG, [d.amocrm_lead_id for d in deliveries],
                       error.message)  # fmt: skip
    for delivery in deliveries:
        delivery.repeat_tagged = True
    Delivery.save_all(deliveries, "repeat_tagged")
