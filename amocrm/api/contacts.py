"""Contacts with their deals, the repeat tag on those deals, what a returning contact gains: for repeat requests.

Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api,
https://www.amocrm.ru/developers/content/crm_platform/leads-api
"""

from dataclasses import dataclass
from typing import Any

from amocrm.api.client import MAX_PAGE_SIZE, _call, _check_batch, update_leads
from amocrm.models import Settings


@dataclass(frozen=True)
class FieldValue:
    value: str
    enum_code: str | None  # WORK, MOB, PRIV, …: kept when the field is written again


@dataclass(frozen=True)
class ContactWithLeads:
    id: int
    phones: list[FieldValue]
    emails: list[FieldValue]
    lead_ids: list[int]


# Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api#contacts-list
def contacts_with_leads(conn: Settings, contact_ids: list[int]) -> list[ContactWithLeads]:
    """GET /api/v4/contacts?filter[id][]=…&with=leads, 250 a request; 204 is none (deleted or merged away)."""
    found: list[ContactWithLeads] = []
    for start in range(0, len(contact_ids), MAX_PAGE_SIZE):
        chunk = contact_ids[start : start + MAX_PAGE_SIZE]
        params = {"filter[id][]": chunk, "with": "leads", "limit": MAX_PAGE_SIZE}
        found += _call(conn, "GET", "/api/v4/contacts", _contacts_with_leads, params=params)
    return found


# Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api#leads-edit (tags_to_add)
def add_lead_tags(conn: Settings, tags_by_lead: dict[int, list[str]]) -> None:
    """PATCH /api/v4/leads with tags_to_add: the deals keep the tags they have (`_embedded.tags` would replace them)."""
    body = [{"id": lead_id, "tags_to_add": [{"name": t} for t in tags]} for lead_id, tags in tags_by_lead.items()]
    update_leads(conn, body)


# Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api#contacts-edit
def update_contacts(conn: Settings, changes: list[dict]) -> None:
    """PATCH /api/v4/contacts: up to 50 contacts. A PHONE or EMAIL written replaces all its values, so each change
    carries the contact's old values with the new."""
    _check_batch(changes)
    if changes:
        _call(conn, "PATCH", "/api/v4/contacts", lambda reply: None, json=changes)


def _contacts_with_leads(body: Any) -> list[ContactWithLeads]:
    rows = [] if body is None else body["_embedded"]["contacts"]
    return [
        ContactWithLeads(
            id=int(row["id"]),
            phones=_values(row, "PHONE"),
            emails=_values(row, "EMAIL"),
            lead_ids=[int(lead["id"]) for lead in (row.get("_embedded") or {}).get("leads") or []],
        )
        for row in rows
    ]


def _values(row: dict, code: str) -> list[FieldValue]:
    fields = [field for field in row.get("custom_fields_values") or [] if field.get("field_code") == code]
    return [
        FieldValue(value=str(value["value"]), enum_code=value.get("enum_code") or None)
        for field in fields
        for value in field.get("values") or []
        if value.get("value")
    ]
