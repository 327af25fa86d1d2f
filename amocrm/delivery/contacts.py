"""Which amoCRM contact a lead's deal is linked to: the one we know for that person, one amoCRM has, or a new one."""

import logging

import phonenumbers
from django.db.models import Q

from amocrm.api import client
from amocrm.api.errors import AmoError
from amocrm.models import Delivery, Settings
from leads.phones import InvalidPhone, normalize_phone

logger = logging.getLogger(__name__)

LINKED_CONTACT_PATH = "_embedded.contacts.0"  # the field amoCRM names when a contact we link by id is gone


def known_contacts(conn: Settings, deliveries: list[Delivery]) -> dict[int, int | None]:
    """Delivery id -> the amoCRM contact we already know for that person (same phone or email), if any."""
    by_phone, by_email = _contacts_we_know(deliveries)
    known, searched = {}, []
    for delivery in deliveries:
        lead = delivery.lead
        known[delivery.id] = by_phone.get(lead.phone) or (by_email.get(lead.email) if lead.email else None)
        if known[delivery.id] is None and conn.search_contacts_by_phone:
            known[delivery.id] = delivery.amocrm_contact_id = _search_contact(conn, lead.phone)
            searched += [delivery] if known[delivery.id] else []
    # Remembered on the row: the next look-up (repeat detection, then the deal's rounds) finds it without a search.
    Delivery.save_all(searched, "amocrm_contact_id")
    return known


def _contacts_we_know(deliveries: list[Delivery]) -> tuple[dict[str, int], dict[str, int]]:
    """One query: the newest amoCRM contact id per phone and per email of this batch."""
    phones = {d.lead.phone for d in deliveries}
    emails = {d.lead.email for d in deliveries if d.lead.email}
    rows = (
        Delivery.objects.filter(Q(lead__phone__in=phones) | Q(lead__email__in=emails), amocrm_contact_id__isnull=False)
        .order_by("id")
        .values_list("lead__phone", "lead__email", "amocrm_contact_id")
    )
    by_phone, by_email = {}, {}
    for phone, email, contact_id in rows:  # ascending ids: the newest contact wins
        by_phone[phone] = contact_id
        if email:
            by_email[email] = contact_id
    return by_phone, by_email


def _search_contact(conn: Settings, phone: str) -> int | None:
    # `query` is full-text and does not normalize phones: ask for the national number, which the usual ways
    # of writing it all contain (+998901234567, 998901234567, 8 901234567), and compare after normalizing ourselves.
    national_number = str(phonenumbers.parse(phone).national_number)
    for contact in client.find_contacts(conn, national_number):
        for candidate in contact.phones:
            try:
                if normalize_phone(candidate) == phone:
                    return contact.id
            except InvalidPhone:
                continue
    return None


def split_by_new_phone(pending: list[Delivery], contacts: dict[int, int | None]):
    this_round, later, new_phones = [], [], set()
    for delivery in pending:
        phone = delivery.lead.phone
        if contacts.get(delivery.id) is None and phone in new_phones:
            later.append(delivery)
            continue
        if contacts.get(delivery.id) is None:
            new_phones.add(phone)
        this_round.append(delivery)
    return this_round, later


def deleted_contacts(error: AmoError, deliveries: list[Delivery], contacts: dict[int, int | None]) -> set[int]:
    """Contacts we linked that amoCRM refused by id: deleted or merged away there since we learnt them.

    amoCRM refuses the whole request then (the linked contact's id is the field in error), so nothing was created.
    """
    if not error.permanent:
        return set()
    return {
        contacts[d.id]
        for d in deliveries
        for fe in error.field_errors
        if fe.request_id == str(d.id) and fe.path.startswith(LINKED_CONTACT_PATH) and contacts.get(d.id)
    }


def forget_contacts(gone: set[int]) -> None:
    logger.warning("amoCRM no longer has contacts %s; new deals get a new contact", sorted(gone))
    Delivery.objects.filter(amocrm_contact_id__in=gone).update(amocrm_contact_id=None)
