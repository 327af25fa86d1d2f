"""POST endpoints creating contacts, leads and lead notes.

Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api,
https://www.amocrm.ru/developers/content/crm_platform/leads-api,
https://www.amocrm.ru/developers/content/crm_platform/events-and-notes,
https://www.amocrm.ru/developers/content/crm_platform/duplication-control
"""

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import payloads
from .config import SandboxConfig
from .entities import add_contact, add_lead, created_row, links
from .payloads import LeadDraft, objects, read_batch
from .rows import Note
from .state import SandboxState
from .validation import Errors, is_int, join
from .wire import Reply, Request, hal

NOTE_TYPES = {
    "common",
    "call_in",
    "call_out",
    "service_message",
    "extended_service_message",
    "message_cashier",
    "geolocation",
    "sms_in",
    "sms_out",
    "attachment",
}
NOTE_KEYS = {
    "entity_id",
    "note_type",
    "params",
    "created_by",
    "responsible_user_id",
    "request_id",
    "is_need_to_trigger_digital_pipeline",
    "created_at",
    "updated_at",
}
_NOTE_SCALARS = {"created_by": "int", "responsible_user_id": "int", "created_at": "int", "updated_at": "int"}
# The text-only params of the note types whose shape the docs spell out.
_TEXT_PARAMS = {"common": ("text",), "service_message": ("service", "text")}


def _created(req: Request, key: str, rows: list[dict[str, Any]]) -> Reply:
    return hal({"_links": links(req.base_url, req.path), "_embedded": {key: rows}})


def create_contacts(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """Array of contact models, no required fields."""
    drafts, reply = read_batch(req, lambda data, errors: payloads.entity(data, "contacts", state, "", errors))
    if reply is not None:
        return reply
    rows = []
    for draft in drafts:
        rows.append(created_row(req.base_url, "contacts", add_contact(state, draft).id, draft.request_id))
    return _created(req, "contacts", rows)


def _plain_lead(state: SandboxState, data: dict[str, Any], errors: Errors) -> LeadDraft:
    """Existing contacts/companies are linked by id; no duplicate control here."""
    draft, emb = payloads.lead(data, state, errors, {"tags", "contacts", "companies", "source"})
    for path, item in objects(emb.get("contacts"), "_embedded.contacts", errors):
        draft.contacts.append(payloads.link(item, "contacts", state, path, errors))
    for path, item in objects(emb.get("companies"), "_embedded.companies", errors):
        draft.companies.append(payloads.link(item, "companies", state, path, errors))
    payloads.source(emb, "", errors)
    return draft


def create_leads(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    drafts, reply = read_batch(req, partial(_plain_lead, state))
    if reply is not None:
        return reply
    rows = []
    for draft in drafts:
        contacts = [state.contacts[d.link_id] for d in draft.contacts if d.link_id is not None]
        companies = [state.companies[d.link_id] for d in draft.companies if d.link_id is not None]
        lead = add_lead(state, draft, contacts, companies)
        rows.append(created_row(req.base_url, "leads", lead.id, draft.request_id))
    return _created(req, "leads", rows)


@dataclass
class NoteDraft:
    entity_id: int
    note_type: str
    params: dict[str, Any]
    attrs: dict[str, Any] = field(default_factory=dict)
    request_id: str = "0"


def _note_target(state: SandboxState, data: dict[str, Any], path_id: int | None, errors: Errors) -> int:
    """entity_id comes from the body on /leads/notes and from the path on /leads/{id}/notes."""
    if path_id is None and "entity_id" not in data:
        errors.missing("entity_id")
        return 0
    target = data.get("entity_id", path_id)
    if not is_int(target):
        errors.wrong_type("entity_id", "int")
    elif target not in state.leads or (path_id is not None and target != path_id):
        errors.bad_choice("entity_id")
    return target


def _note_params(data: dict[str, Any], note_type: Any, errors: Errors) -> dict[str, Any]:
    params = data.get("params")
    if params is None:
        errors.missing("params")
        return {}
    if not isinstance(params, dict):
        errors.wrong_type("params", "array")
        return {}
    keys = _TEXT_PARAMS.get(note_type, ())
    if keys:
        errors.check_keys(params, set(keys), "params")
    for key in keys:
        if key not in params:
            errors.missing(join("params", key))
        elif not isinstance(params[key], str):
            errors.wrong_type(join("params", key), "string")
    return params


def _note(state: SandboxState, path_id: int | None, data: dict[str, Any], errors: Errors) -> NoteDraft:
    errors.check_keys(data, NOTE_KEYS, "")
    entity_id = _note_target(state, data, path_id, errors)
    note_type = data.get("note_type")
    if note_type is None:
        errors.missing("note_type")
    elif note_type not in NOTE_TYPES:
        errors.bad_choice("note_type")
    params = _note_params(data, note_type, errors)
    attrs = payloads.scalars(data, _NOTE_SCALARS, "", errors, state.users)
    if not isinstance(data.get("is_need_to_trigger_digital_pipeline", True), bool):
        errors.wrong_type("is_need_to_trigger_digital_pipeline", "bool")
    return NoteDraft(entity_id, str(note_type), params, attrs)


def create_notes(state: SandboxState, config: SandboxConfig, req: Request, lead_id: str | None = None) -> Reply:
    """POST /api/v4/leads/notes or /api/v4/leads/{id}/notes."""
    path_id = int(lead_id) if lead_id is not None else None
    drafts, reply = read_batch(req, partial(_note, state, path_id))
    if reply is not None:
        return reply
    rows = []
    for draft in drafts:
        now = state.clock.timestamp()
        user_id = state.connected_user_id
        stamps = {"created_by": user_id, "responsible_user_id": user_id, "created_at": now}
        attrs = {**stamps, "updated_at": draft.attrs.get("created_at", now), **draft.attrs}
        note = Note(state.next_id("notes"), "leads", draft.entity_id, draft.note_type, draft.params, **attrs)
        state.notes[note.id] = note
        href = links(req.base_url, f"/api/v4/leads/{note.entity_id}/notes/{note.id}")
        rows.append({"id": note.id, "entity_id": note.entity_id, "request_id": draft.request_id, "_links": href})
    return _created(req, "notes", rows)
