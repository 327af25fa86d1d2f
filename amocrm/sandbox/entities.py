"""Turning validated drafts into stored entities, and stored entities into API JSON.

Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api,
https://www.amocrm.ru/developers/content/crm_platform/leads-api
"""

from typing import Any

from .catalog import ACCOUNT_ID
from .payloads import EntityDraft, LeadDraft, TagRef
from .rows import Company, Contact, Lead
from .state import SandboxState


def links(base_url: str, path: str) -> dict[str, Any]:
    """Every item carries _links.self.href on the account's base URL."""
    return {"self": {"href": f"{base_url}{path}"}}


def created_row(base_url: str, collection: str, entity_id: int, request_id: str) -> dict[str, Any]:
    """One created entity in a create call's answer: its id, the request_id sent (or the index), _links.self."""
    return {"id": entity_id, "request_id": request_id, "_links": links(base_url, f"/api/v4/{collection}/{entity_id}")}


def _stamps(state: SandboxState, attrs: dict[str, Any]) -> dict[str, Any]:
    """Defaults: the connected user is responsible and the author; created now."""
    now, user_id = state.clock.timestamp(), state.connected_user_id
    created_at = attrs.get("created_at", now)
    return {
        "responsible_user_id": user_id,
        "created_by": user_id,
        "updated_by": user_id,
        **attrs,
        "created_at": created_at,
        "updated_at": attrs.get("updated_at", created_at),
    }


def _tag_ids(state: SandboxState, entity_type: str, refs: list[TagRef]) -> list[int]:
    ids = [ref if isinstance(ref, int) else state.tag_id(entity_type, ref) for ref in refs]
    return list(dict.fromkeys(ids))


def add_contact(state: SandboxState, draft: EntityDraft, in_unsorted: bool = False) -> Contact:
    if draft.link_id is not None:
        return state.contacts[draft.link_id]
    attrs = _stamps(state, draft.attrs)
    if "name" not in attrs:
        attrs["name"] = " ".join(filter(None, [attrs.get("first_name"), attrs.get("last_name")]))
    contact = Contact(id=state.next_id("contacts"), **attrs, in_unsorted=in_unsorted)
    contact.custom_fields_values = draft.custom_fields_values
    contact.tag_ids = _tag_ids(state, "contacts", draft.tags)
    state.contacts[contact.id] = contact
    return contact


def add_company(state: SandboxState, draft: EntityDraft) -> Company:
    if draft.link_id is not None:
        return state.companies[draft.link_id]
    attrs = {"name": "", **_stamps(state, draft.attrs)}
    company = Company(id=state.next_id("companies"), **attrs)
    company.custom_fields_values = draft.custom_fields_values
    company.tag_ids = _tag_ids(state, "companies", draft.tags)
    state.companies[company.id] = company
    return company


def add_lead(state: SandboxState, draft: LeadDraft, contacts: list[Contact], companies: list[Company]) -> Lead:
    attrs = {"name": "", **_stamps(state, draft.attrs)}
    lead = Lead(id=state.next_id("leads"), pipeline_id=draft.pipeline_id, status_id=draft.status_id, **attrs)
    lead.name = lead.name or f"Сделка #{lead.id}"
    lead.custom_fields_values = draft.custom_fields_values
    lead.tag_ids = _tag_ids(state, "leads", draft.tags)
    lead.contact_ids = [c.id for c in contacts]
    mains = [c.id for c, d in zip(contacts, draft.contacts, strict=False) if d.is_main]
    lead.main_contact_id = (mains or lead.contact_ids or [None])[0]
    lead.company_ids = [c.id for c in companies]
    state.leads[lead.id] = lead
    return lead


def closest_task_at(state: SandboxState, entity_type: str, entity_id: int) -> int | None:
    """The due time of the entity's nearest open task, None without one.

    Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api (closest_task_at)
    """
    due = [
        task.complete_till
        for task in state.tasks.values()
        if not task.is_completed and task.entity_type == entity_type and task.entity_id == entity_id
    ]
    return min(due, default=None)


def _tags(state: SandboxState, tag_ids: list[int]) -> list[dict[str, Any]]:
    return [{"id": t, "name": state.tags[t].name, "color": None} for t in tag_ids if t in state.tags]


def render_lead(state: SandboxState, lead: Lead, base_url: str, with_contacts: bool = False) -> dict[str, Any]:
    """Lead model; contacts only with `with=contacts`."""
    embedded: dict[str, Any] = {
        "tags": _tags(state, lead.tag_ids),
        "companies": [{"id": c, "_links": links(base_url, f"/api/v4/companies/{c}")} for c in lead.company_ids],
    }
    if with_contacts:
        embedded["contacts"] = [
            {"id": c, "is_main": c == lead.main_contact_id, "_links": links(base_url, f"/api/v4/contacts/{c}")}
            for c in lead.contact_ids
        ]
    fields = ("id", "name", "price", "responsible_user_id", "status_id", "pipeline_id", "loss_reason_id")
    return {
        **{key: getattr(lead, key) for key in fields},
        "group_id": 0,
        "created_by": lead.created_by,
        "updated_by": lead.updated_by,
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
        "closed_at": lead.closed_at,
        "closest_task_at": closest_task_at(state, "leads", lead.id),
        "is_deleted": False,
        "custom_fields_values": lead.custom_fields_values,
        "score": None,
        "account_id": ACCOUNT_ID,
        "labor_cost": None,
        "_links": links(base_url, f"/api/v4/leads/{lead.id}"),
        "_embedded": embedded,
    }


def render_contact(state: SandboxState, contact: Contact, base_url: str, with_leads: bool = False) -> dict[str, Any]:
    """Contact model; leads only with `with=leads`."""
    embedded: dict[str, Any] = {
        "tags": _tags(state, contact.tag_ids),
        "companies": [{"id": c, "_links": links(base_url, f"/api/v4/companies/{c}")} for c in contact.company_ids],
    }
    if with_leads:
        lead_ids = [lead.id for lead in state.leads.values() if contact.id in lead.contact_ids]
        embedded["leads"] = [{"id": i, "_links": links(base_url, f"/api/v4/leads/{i}")} for i in lead_ids]
    fields = ("id", "name", "first_name", "last_name", "responsible_user_id", "created_by", "updated_by")
    return {
        **{key: getattr(contact, key) for key in fields},
        "group_id": 0,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
        "closest_task_at": closest_task_at(state, "contacts", contact.id),
        "is_deleted": False,
        "is_unsorted": contact.in_unsorted,
        "custom_fields_values": contact.custom_fields_values,
        "account_id": ACCOUNT_ID,
        "_links": links(base_url, f"/api/v4/contacts/{contact.id}"),
        "_embedded": embedded,
    }


def field_texts(values: list[dict[str, Any]] | None) -> list[str]:
    """Every stored custom-field value as text, for `query` search and duplicate control."""
    return [str(v.get("value", "")) for f in values or [] for v in f["values"]]


def field_values(values: list[dict[str, Any]] | None, code: str) -> list[str]:
    return [str(v["value"]) for f in values or [] if f.get("field_code") == code for v in f["values"]]
