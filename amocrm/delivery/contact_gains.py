"""What a returning contact gains: the phone or email amoCRM does not have yet, in one update per batch.

Writing PHONE or EMAIL replaces all of its values, so each change carries the contact's old values with the new.
Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api#contacts-edit
A refused update never holds the deal back: it is marked failed with amoCRM's words and shown on the lead's page.
"""

import logging

from amocrm.api import contacts as remote_contacts
from amocrm.api.contacts import ContactWithLeads, FieldValue
from amocrm.api.errors import AmoError, Fault
from amocrm.models import Delivery, Settings
from leads.models import Lead
from leads.phones import InvalidPhone, normalize_phone

logger = logging.getLogger(__name__)

FIELD_CODES = {"phones": "PHONE", "emails": "EMAIL"}


def gains(lead: Lead, contact: ContactWithLeads) -> dict:
    """{"contact_id"} and, for each field that gains a value, its whole new list of [value, enum_code]."""
    change: dict = {"contact_id": contact.id}
    if lead.phone and lead.phone not in {_phone(v.value) for v in contact.phones}:
        change["phones"] = [*_pairs(contact.phones), [lead.phone, "WORK"]]
    if lead.email and lead.email.lower() not in {v.value.strip().lower() for v in contact.emails}:
        change["emails"] = [*_pairs(contact.emails), [lead.email, "WORK"]]
    return change


def write(conn: Settings, deliveries: list[Delivery]) -> None:
    """One PATCH for the batch; two requests of one contact merge into one change."""
    if not deliveries:
        return
    try:
        remote_contacts.update_contacts(conn, _changes(deliveries))
    except AmoError as error:
        if error.fault != Fault.LEAD:
            raise
        logger.warning("amoCRM refused the contact update of deliveries %s", [d.id for d in deliveries])
        for delivery in deliveries:
            delivery.contact_update_error = error.message
        Delivery.save_all(deliveries, "contact_update_error")
        return
    for delivery in deliveries:
        delivery.contact_update = {"contact_id": delivery.contact_update["contact_id"]}  # written
    Delivery.save_all(deliveries, "contact_update")


def _changes(deliveries: list[Delivery]) -> list[dict]:
    merged: dict[int, dict[str, list]] = {}
    for delivery in deliveries:
        fields = merged.setdefault(delivery.contact_update["contact_id"], {})
        for key in FIELD_CODES:
            for pair in delivery.contact_update.get(key, []):
                if pair not in fields.setdefault(key, []):
                    fields[key].append(pair)
    return [
        {"id": contact_id, "custom_fields_values": [_field(FIELD_CODES[key], pairs) for key, pairs in fields.items()]}
        for contact_id, fields in merged.items()
    ]


def _field(code: str, pairs: list) -> dict:
    values = [{"value": value, **({"enum_code": enum} if enum else {})} for value, enum in pairs]
    return {"field_code": code, "values": values}


def _pairs(values: list[FieldValue]) -> list[list]:
    return [[v.value, v.enum_code] for v in values]


def _phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return raw
