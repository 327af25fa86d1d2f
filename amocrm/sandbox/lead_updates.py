"""Changing deals: PATCH /api/v4/leads and /api/v4/leads/{id}, and the overview page's
stage and delete forms. Every change sends the account's webhooks: status_lead when the stage moved,
update_lead for any change, delete_lead when a deal is deleted.

Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api,
https://www.amocrm.ru/developers/content/crm_platform/webhooks-format
"""

import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import catalog, payloads, webhook_sender
from .catalog import LOST_STATUS_ID, UNSORTED_TYPE, WON_STATUS_ID
from .changes import TagChange, changed_tags, one_change, replaced_fields, tag_change, target_id
from .config import SandboxConfig
from .entities import links
from .field_values import parse_cf_values
from .payloads import LEAD_KEYS, LEAD_SCALARS, read_batch
from .rows import Lead
from .state import SandboxState
from .validation import Errors
from .wire import Reply, Request, hal, problem, redirect

UPDATE_KEYS = LEAD_KEYS | {"id", "tags_to_delete"}
_PAGE_ACTION = re.compile(r"/leads/(\d+)/(stage|delete)")


@dataclass
class LeadChange:
    lead_id: int
    attrs: dict[str, Any] = field(default_factory=dict)
    stage: tuple[int, int] | None = None
    custom_fields_values: list[dict] | None = None
    tags: TagChange = field(default_factory=TagChange)
    request_id: str = "0"


def _stage(data: dict[str, Any], lead: Lead | None, errors: Errors) -> tuple[int, int] | None:
    """Moving stages = status_id (+ pipeline_id); the status must belong to the (new) pipeline."""
    if lead is None or ("pipeline_id" not in data and "status_id" not in data):
        return None
    pipeline_id, status_id = errors.expect_int(data, "pipeline_id", ""), errors.expect_int(data, "status_id", "")
    pipe = catalog.pipeline(lead.pipeline_id if pipeline_id is None else pipeline_id)
    if pipe is None:
        errors.bad_choice("pipeline_id")
        return None
    if status_id is None:  # another pipeline without a status: its first stage
        return (pipe.id, pipe.first_stage.id) if pipe.id != lead.pipeline_id else None
    status = pipe.status(status_id)
    if status is None or status.type == UNSORTED_TYPE:
        errors.bad_choice("status_id")
        return None
    return pipe.id, status_id


def _change(state: SandboxState, data: dict[str, Any], errors: Errors, lead_id: int | None = None) -> LeadChange:
    """One element: validated like a create, plus the id of an existing deal."""
    errors.check_keys(data, UPDATE_KEYS if lead_id is None else UPDATE_KEYS - {"id"}, "")
    lead = state.leads.get(target_id(data, state.leads, errors) if lead_id is None else lead_id)
    emb = payloads.embedded(data, {"tags"}, "", errors)
    return LeadChange(
        lead_id=lead.id if lead else 0,
        attrs=payloads.scalars(data, LEAD_SCALARS, "", errors, state.users),
        stage=_stage(data, lead, errors),
        custom_fields_values=parse_cf_values(data.get("custom_fields_values"), state.fields("leads"),
                                             "custom_fields_values", errors),
        tags=tag_change(data, emb, "leads", state, errors),
    )  # fmt: skip


def apply_change(state: SandboxState, change: LeadChange) -> list[webhook_sender.LeadEvent]:
    """Change the deal; the webhook events the change fires."""
    lead, now = state.leads[change.lead_id], state.clock.timestamp()
    old = (lead.pipeline_id, lead.status_id)
    for key, value in change.attrs.items():
        setattr(lead, key, value)
    lead.custom_fields_values = replaced_fields(lead.custom_fields_values, change.custom_fields_values)
    lead.tag_ids = changed_tags(state, "leads", lead.tag_ids, change.tags)
    moved = change.stage is not None and change.stage != old
    if moved:
        lead.pipeline_id, lead.status_id = change.stage
        if lead.status_id in (WON_STATUS_ID, LOST_STATUS_ID) and "closed_at" not in change.attrs:
            lead.closed_at = now
    lead.updated_at = change.attrs.get("updated_at", now)
    lead.updated_by = change.attrs.get("updated_by", state.connected_user_id)
    events = [webhook_sender.lead_event("status_lead", lead, state, old)] if moved else []
    return [*events, webhook_sender.lead_event("update_lead", lead, state)]


def _updated(lead: Lead, base_url: str) -> dict[str, Any]:
    return {"id": lead.id, "updated_at": lead.updated_at, "_links": links(base_url, f"/api/v4/leads/{lead.id}")}


def update_leads(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """PATCH /api/v4/leads: an array of changes, each with the deal's id; one bad element fails them all."""
    changes, reply = read_batch(req, partial(_change, state))
    if reply is not None:
        return reply
    events, rows = [], []
    for change in changes:
        events += apply_change(state, change)
        rows.append({**_updated(state.leads[change.lead_id], req.base_url), "request_id": change.request_id})
    webhook_sender.notify(state, config.subdomain, req.base_url, events)
    return hal({"_links": links(req.base_url, req.path), "_embedded": {"leads": rows}})


def update_lead(state: SandboxState, config: SandboxConfig, req: Request, lead_id: str) -> Reply:
    """PATCH /api/v4/leads/{id}: one object without the id."""
    if int(lead_id) not in state.leads:
        return problem(404, f"Lead {lead_id} not found")
    change, reply = one_change(req, lambda data, errors: _change(state, data, errors, int(lead_id)))
    if change is None:
        return reply
    webhook_sender.notify(state, config.subdomain, req.base_url, apply_change(state, change))
    return hal(_updated(state.leads[change.lead_id], req.base_url))


def page_action(state: SandboxState, config: SandboxConfig, req: Request) -> Reply | None:
    """POST /leads/{id}/stage (stage=<pipeline_id>:<status_id>) or /leads/{id}/delete from the overview page."""
    found = _PAGE_ACTION.fullmatch(req.path)
    if found is None or req.method != "POST":
        return None
    lead = state.leads.get(int(found[1]))
    events: list[webhook_sender.LeadEvent] = []
    if lead is not None and found[2] == "delete":
        del state.leads[lead.id]
        events = [webhook_sender.lead_event("delete_lead", lead, state)]
    elif lead is not None:
        events = _page_stage(state, lead, str(req.form_or_json().get("stage", "")))
    webhook_sender.notify(state, config.subdomain, req.base_url, events)
    return redirect("/")


def _page_stage(state: SandboxState, lead: Lead, choice: str) -> list[webhook_sender.LeadEvent]:
    pipeline_id, _, status_id = choice.partition(":")
    if not (pipeline_id.isdigit() and status_id.isdigit()):
        return []
    errors = Errors()
    stage = _stage({"pipeline_id": int(pipeline_id), "status_id": int(status_id)}, lead, errors)
    if errors or stage is None or stage == (lead.pipeline_id, lead.status_id):
        return []
    return apply_change(state, LeadChange(lead.id, stage=stage))
