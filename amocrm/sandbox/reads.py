"""GET endpoints: account, pipelines, custom fields, leads, contacts and lead notes.

Reference: https://www.amocrm.ru/developers/content/crm_platform/account-info,
https://www.amocrm.ru/developers/content/crm_platform/leads-pipelines,
https://www.amocrm.ru/developers/content/crm_platform/filters-api,
https://www.amocrm.ru/developers/content/crm_platform/leads-api,
https://www.amocrm.ru/developers/content/crm_platform/unsorted-api,
https://www.amocrm.ru/developers/content/crm_platform/contacts-api,
https://www.amocrm.ru/developers/content/crm_platform/events-and-notes
"""

import re
import uuid
from typing import Any

from . import catalog
from .catalog import ACCOUNT_ID, Pipeline
from .config import SandboxConfig
from .entities import field_texts, links, render_contact, render_lead
from .listing import int_params, matches, order, page_args, paginate, with_values
from .rows import Contact, Lead, Note
from .state import SandboxState
from .wire import Reply, Request, hal, no_content

_ACCOUNT_UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"amocrm-sandbox-account-{ACCOUNT_ID}"))


def get_account(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """Base fields always; the rest only when asked for with `with=`."""
    extra = with_values(req)
    body: dict[str, Any] = {
        "id": ACCOUNT_ID,
        "name": f"{config.subdomain} (sandbox)",
        "subdomain": config.subdomain,
        "uuid": _ACCOUNT_UUID,
        "current_user_id": state.connected_user_id,
        "country": "UZ",
        "currency": "UZS",
        "customers_mode": "disabled",
        "is_unsorted_on": True,
        "is_loss_reason_enabled": True,
        "is_helpbot_enabled": False,
        "is_technical_account": True,
        "contact_name_display_order": 1,
        "_links": links(req.base_url, "/api/v4/account"),
    }
    optional = {
        "amojo_id": _ACCOUNT_UUID,
        "version": 1,
        "drive_url": f"{req.base_url}/drive",
        "is_api_filter_enabled": False,
    }
    body.update({key: value for key, value in optional.items() if key in extra})
    embedded = {
        "users_groups": [{"id": i, "name": name, "uuid": None} for i, name in catalog.USER_GROUPS.items()],
        "task_types": [vars(task_type) for task_type in catalog.TASK_TYPES],
        "datetime_settings": {"timezone": "Asia/Tashkent", "timezone_offset": "+05:00"},
        "amojo_rights": {"can_direct": True, "can_create_groups": True},
    }
    body["_embedded"] = {key: value for key, value in embedded.items() if key in extra}
    return hal(body)


def _status(pipe: Pipeline, status: catalog.Status, base_url: str) -> dict[str, Any]:
    return {
        **vars(status),
        "pipeline_id": pipe.id,
        "account_id": ACCOUNT_ID,
        "_links": links(base_url, f"/api/v4/leads/pipelines/{pipe.id}/statuses/{status.id}"),
    }


def _pipeline(pipe: Pipeline, base_url: str) -> dict[str, Any]:
    return {
        "id": pipe.id,
        "name": pipe.name,
        "sort": pipe.sort,
        "is_main": pipe.is_main,
        "is_unsorted_on": True,
        "is_archive": False,
        "account_id": ACCOUNT_ID,
        "_links": links(base_url, f"/api/v4/leads/pipelines/{pipe.id}"),
        "_embedded": {"statuses": [_status(pipe, s, base_url) for s in pipe.statuses]},
    }


def list_pipelines(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """Not paginated; every pipeline with its statuses."""
    pipelines = [_pipeline(p, req.base_url) for p in catalog.PIPELINES]
    return hal(
        {
            "_total_items": len(pipelines),
            "_links": links(req.base_url, req.path),
            "_embedded": {"pipelines": pipelines},
        }
    )


def get_pipeline(state: SandboxState, config: SandboxConfig, req: Request, pipeline_id: str) -> Reply:
    pipe = catalog.pipeline(int(pipeline_id))
    return hal(_pipeline(pipe, req.base_url)) if pipe else no_content()


def list_statuses(state: SandboxState, config: SandboxConfig, req: Request, pipeline_id: str) -> Reply:
    pipe = catalog.pipeline(int(pipeline_id))
    if pipe is None:
        return no_content()
    statuses = [_status(pipe, s, req.base_url) for s in pipe.statuses]
    return hal(
        {"_total_items": len(statuses), "_links": links(req.base_url, req.path), "_embedded": {"statuses": statuses}}
    )


_STATUS_FILTER = re.compile(r"filter\[statuses\]\[(\d+)\]\[(pipeline_id|status_id)\]")


def _stage_filter(req: Request) -> set[tuple[int, int]]:
    """filter[statuses][N][pipeline_id]=..&filter[statuses][N][status_id]=.."""
    pairs: dict[str, dict[str, int]] = {}
    for key, values in req.query.items():
        found = _STATUS_FILTER.fullmatch(key)
        if found and values[0].isdigit():
            pairs.setdefault(found[1], {})[found[2]] = int(values[0])
    return {(p["pipeline_id"], p["status_id"]) for p in pairs.values() if len(p) == 2}


def _range(req: Request, field: str, rows: list[Lead]) -> list[Lead]:
    low, high = req.param(f"filter[{field}][from]"), req.param(f"filter[{field}][to]")
    if low and low.isdigit():
        rows = [r for r in rows if getattr(r, field) >= int(low)]
    if high and high.isdigit():
        rows = [r for r in rows if getattr(r, field) <= int(high)]
    return rows


def _filter_leads(req: Request, rows: list[Lead]) -> list[Lead]:
    ids, pipeline_ids, stages = (
        int_params(req, "filter[id]"),
        int_params(req, "filter[pipeline_id]"),
        _stage_filter(req),
    )
    rows = [r for r in rows if not ids or r.id in ids]
    rows = [r for r in rows if not pipeline_ids or r.pipeline_id in pipeline_ids]
    rows = [r for r in rows if not stages or (r.pipeline_id, r.status_id) in stages]
    query = req.param("query")
    if query:
        rows = [r for r in rows if matches(query, [r.name, *field_texts(r.custom_fields_values)])]
    return _range(req, "updated_at", _range(req, "created_at", rows))


def list_leads(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """Filters, `query`, order, `with=contacts`; 204 when nothing is found."""
    args = page_args(req)
    if isinstance(args, Reply):
        return args
    rows = order(req, _filter_leads(req, list(state.leads.values())), ("created_at", "updated_at", "id"))
    with_contacts = "contacts" in with_values(req)
    return paginate(req, "leads", rows, lambda r: render_lead(state, r, req.base_url, with_contacts), *args)


def get_lead(state: SandboxState, config: SandboxConfig, req: Request, lead_id: str) -> Reply:
    """An unknown id answers 204, not 404."""
    lead = state.leads.get(int(lead_id))
    if lead is None:
        return no_content()
    return hal(render_lead(state, lead, req.base_url, "contacts" in with_values(req)))


def _visible_contacts(state: SandboxState) -> list[Contact]:
    """Contacts of an unsorted lead stay hidden until it is accepted."""
    return [c for c in state.contacts.values() if not c.in_unsorted]


def _contact_texts(contact: Contact) -> list[str]:
    return [contact.name, contact.first_name, contact.last_name, *field_texts(contact.custom_fields_values)]


def list_contacts(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """`query` is full-text over names and every field value; 204 when nothing matches."""
    args = page_args(req)
    if isinstance(args, Reply):
        return args
    rows = _visible_contacts(state)
    ids = int_params(req, "filter[id]")
    rows = [c for c in rows if not ids or c.id in ids]
    query = req.param("query")
    if query:
        rows = [c for c in rows if matches(query, _contact_texts(c))]
    rows = order(req, rows, ("updated_at", "id"))
    with_leads = "leads" in with_values(req)
    return paginate(req, "contacts", rows, lambda c: render_contact(state, c, req.base_url, with_leads), *args)


def get_contact(state: SandboxState, config: SandboxConfig, req: Request, contact_id: str) -> Reply:
    contact = state.contacts.get(int(contact_id))
    if contact is None or contact.in_unsorted:
        return no_content()
    return hal(render_contact(state, contact, req.base_url, "leads" in with_values(req)))


# Lead notes. The lists follow amoCRM's notes reference (RU-NOTES:
# GET /api/v4/{entity_type}/notes and /api/v4/{entity_type}/{entity_id}/notes) and the official SDK's NotesFilter
# (filter[id], filter[note_type], filter[updated_at] as a unix time or a from/to range; page, limit ≤ 250).


def _render_note(note: Note, base_url: str) -> dict[str, Any]:
    return {
        "id": note.id,
        "entity_id": note.entity_id,
        "created_by": note.created_by,
        "updated_by": note.created_by,
        "created_at": note.created_at,
        "updated_at": note.updated_at,
        "responsible_user_id": note.responsible_user_id,
        "group_id": 0,
        "note_type": note.note_type,
        "params": note.params,
        "account_id": ACCOUNT_ID,
        "_links": links(base_url, f"/api/v4/leads/{note.entity_id}/notes/{note.id}"),
    }


def _filter_notes(req: Request, rows: list[Note]) -> list[Note]:
    ids = int_params(req, "filter[id]")
    types = {v for key, values in req.query.items() if key.startswith("filter[note_type]") for v in values}
    rows = [n for n in rows if (not ids or n.id in ids) and (not types or n.note_type in types)]
    exact = req.param("filter[updated_at]")
    if exact is not None:
        rows = [n for n in rows if exact.isdigit() and n.updated_at == int(exact)]
    return _range(req, "updated_at", rows)


def list_notes(state: SandboxState, config: SandboxConfig, req: Request, lead_id: str | None = None) -> Reply:
    """Lead notes, all or one deal's: filters, order[updated_at|id]; 204 when nothing is found."""
    args = page_args(req)
    if isinstance(args, Reply):
        return args
    rows = [n for n in state.notes.values() if lead_id is None or n.entity_id == int(lead_id)]
    rows = order(req, _filter_notes(req, rows), ("updated_at", "id"))
    return paginate(req, "notes", rows, lambda n: _render_note(n, req.base_url), *args)
