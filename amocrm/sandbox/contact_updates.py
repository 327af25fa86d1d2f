"""Changing contacts: PATCH /api/v4/contacts (an array, each with `id`) and PATCH /api/v4/contacts/{id} (one object).

Each element is validated like a create; a field that is written gets exactly the values sent, so writing PHONE or
EMAIL replaces all of the contact's phones or emails (changes.replaced_fields).
Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api
"""

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import payloads
from .changes import TagChange, changed_tags, one_change, replaced_fields, tag_change, target_id
from .config import SandboxConfig
from .entities import links
from .field_values import parse_cf_values
from .payloads import CONTACT_KEYS, CONTACT_SCALARS, read_batch
from .rows import Contact
from .state import SandboxState
from .validation import Errors
from .wire import Reply, Request, hal, problem

UPDATE_KEYS = CONTACT_KEYS | {"id", "tags_to_delete"}


@dataclass
class ContactChange:
    contact_id: int
    attrs: dict[str, Any] = field(default_factory=dict)
    custom_fields_values: list[dict] | None = None
    tags: TagChange = field(default_factory=TagChange)
    request_id: str = "0"


def _visible(state: SandboxState) -> dict[int, Contact]:
    """A contact waiting in Unsorted is hidden until accepted, for changes too."""
    return {c.id: c for c in state.contacts.values() if not c.in_unsorted}


def _change(state: SandboxState, data: dict[str, Any], errors: Errors, contact_id: int | None = None) -> ContactChange:
    errors.check_keys(data, UPDATE_KEYS if contact_id is None else UPDATE_KEYS - {"id"}, "")
    found = target_id(data, _visible(state), errors) if contact_id is None else contact_id
    emb = payloads.embedded(data, {"tags"}, "", errors)
    cf = parse_cf_values(data.get("custom_fields_values"), state.fields("contacts"), "custom_fields_values", errors)
    return ContactChange(
        contact_id=found or 0,
        attrs=payloads.scalars(data, CONTACT_SCALARS, "", errors, state.users),
        custom_fields_values=cf,
        tags=tag_change(data, emb, "contacts", state, errors),
    )


def _apply(state: SandboxState, change: ContactChange) -> Contact:
    contact, now = state.contacts[change.contact_id], state.clock.timestamp()
    for key, value in change.attrs.items():
        setattr(contact, key, value)
    contact.custom_fields_values = replaced_fields(contact.custom_fields_values, change.custom_fields_values)
    contact.tag_ids = changed_tags(state, "contacts", contact.tag_ids, change.tags)
    contact.updated_at = change.attrs.get("updated_at", now)
    contact.updated_by = change.attrs.get("updated_by", state.connected_user_id)
    return contact


def _updated(contact: Contact, base_url: str) -> dict[str, Any]:
    href = links(base_url, f"/api/v4/contacts/{contact.id}")
    return {"id": contact.id, "name": contact.name, "updated_at": contact.updated_at, "_links": href}


def update_contacts(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """An array of changes, each with the contact's id; one bad element fails them all."""
    changes, reply = read_batch(req, partial(_change, state))
    if reply is not None:
        return reply
    rows = [{**_updated(_apply(state, c), req.base_url), "request_id": c.request_id} for c in changes]
    return hal({"_links": links(req.base_url, req.path), "_embedded": {"contacts": rows}})


def update_contact(state: SandboxState, config: SandboxConfig, req: Request, contact_id: str) -> Reply:
    """One object without the id; a contact that does not exist is 404, as PATCH /leads/{id} answers here."""
    if int(contact_id) not in _visible(state):
        return problem(404, f"Contact {contact_id} not found")
    change, reply = one_change(req, lambda data, errors: _change(state, data, errors, int(contact_id)))
    if change is None:
        return reply
    return hal(_updated(_apply(state, change), req.base_url))
