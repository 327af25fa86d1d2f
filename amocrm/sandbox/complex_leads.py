"""POST /api/v4/leads/complex: leads with their contact and company, and duplicate control.

Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api,
https://www.amocrm.ru/developers/content/crm_platform/duplication-control
"""

import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import payloads
from .catalog import LOST_STATUS_ID, WON_STATUS_ID, pipeline
from .config import SandboxConfig
from .entities import add_company, add_contact, add_lead, field_values
from .payloads import LeadDraft, objects, read_batch
from .rows import Contact, Lead
from .state import SandboxState
from .unsorted import add_unsorted
from .validation import Errors
from .wire import Reply, Request, hal, problem

COMPLEX_LIMIT = 50
MAX_DUPLICATES = 3  # with more than 3 duplicates nothing is merged


def _complex_lead(state: SandboxState, data: dict[str, Any], errors: Errors) -> LeadDraft:
    """≤1 contact and ≤1 company, each {id} or a full model; metadata makes it an unsorted lead."""
    draft, emb = payloads.lead(data, state, errors, {"tags", "contacts", "companies", "source", "metadata"})
    for path, item in objects(emb.get("contacts"), "_embedded.contacts", errors, most=1):
        draft.contacts.append(payloads.contact_or_link(item, "contacts", state, path, errors))
    for path, item in objects(emb.get("companies"), "_embedded.companies", errors, most=1):
        draft.companies.append(payloads.contact_or_link(item, "companies", state, path, errors))
    if "metadata" in emb:
        draft.metadata = payloads.forms_metadata(emb["metadata"], "_embedded.metadata", errors, categorised=True)
        draft.status_id = pipeline(draft.pipeline_id).unsorted.id  # any other status is ignored
    payloads.source(emb, "", errors)
    return draft


def create_complex(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """The answer is a bare JSON array; request_id is a list (merged duplicates share one row)."""
    too_many = problem(400, f"Maximum {COMPLEX_LIMIT} leads per request")  # complex >50 is an error
    drafts, reply = read_batch(req, partial(_complex_lead, state), COMPLEX_LIMIT, too_many)
    if reply is not None:
        return reply
    # Duplicates are looked for in data that existed before this call, never within the batch.
    duplicates = [_find_duplicate(state, d) if config.duplicate_control else None for d in drafts]
    rows: dict[int, dict[str, Any]] = {}
    for draft, duplicate in zip(drafts, duplicates, strict=True):
        row = _merge(state, draft, duplicate) if duplicate else _create(state, draft)
        if row["id"] in rows:
            rows[row["id"]]["request_id"].append(draft.request_id)
        else:
            rows[row["id"]] = row
    return hal(list(rows.values()))


def _create(state: SandboxState, draft: LeadDraft, contact: Contact | None = None) -> dict[str, Any]:
    unsorted = draft.metadata is not None
    if contact is None and draft.contacts:
        contact = add_contact(state, draft.contacts[0], in_unsorted=unsorted)
    company = add_company(state, draft.companies[0]) if draft.companies else None
    if contact and company and company.id not in contact.company_ids:
        contact.company_ids.append(company.id)  # the created contact and company are linked
    lead = add_lead(state, draft, [contact] if contact else [], [company] if company else [])
    if draft.metadata is not None:
        add_unsorted(
            state, lead, draft.metadata.get("form_id", ""), draft.metadata.get("form_name", ""), draft.metadata
        )
    return _row(lead, contact, company.id if company else None, draft.request_id, merged=False)


def _row(lead: Lead, contact: Contact | None, company_id: int | None, request_id: str, merged: bool) -> dict:
    return {
        "id": lead.id,
        "contact_id": contact.id if contact else None,
        "company_id": company_id,
        "request_id": [request_id],
        "merged": merged,
    }


@dataclass
class Duplicate:
    contact: Contact
    lead: Lead | None  # the contact's open lead in the same pipeline, if any


def _digits(phone: str) -> str:
    """amoCRM normalizes phones before comparing; the sandbox compares digits only."""
    return re.sub(r"\D", "", phone)


def _keys(values: list[dict] | None) -> set[str]:
    phones = {"tel:" + _digits(p) for p in field_values(values, "PHONE")}
    emails = {"mail:" + e.strip().lower() for e in field_values(values, "EMAIL")}
    return (phones | emails) - {"tel:", "mail:"}


def _find_duplicate(state: SandboxState, draft: LeadDraft) -> Duplicate | None:
    """Match a new contact by phone or email against existing contacts."""
    if not draft.contacts or draft.contacts[0].link_id is not None:
        return None
    wanted = _keys(draft.contacts[0].custom_fields_values)
    found = [c for c in state.contacts.values() if not c.in_unsorted and wanted & _keys(c.custom_fields_values)]
    if not found or len(found) > MAX_DUPLICATES:
        return None
    contact = min(found, key=lambda c: c.id)
    open_leads = [
        lead
        for lead in state.leads.values()
        if contact.id in lead.contact_ids
        and lead.pipeline_id == draft.pipeline_id
        and lead.status_id not in (WON_STATUS_ID, LOST_STATUS_ID)
    ]
    return Duplicate(contact, max(open_leads, key=lambda lead: lead.id) if open_leads else None)


def _merge(state: SandboxState, draft: LeadDraft, duplicate: Duplicate) -> dict[str, Any]:
    """Existing values win; new fields and new phone/email values are added (merged=true only onto a lead)."""
    contact, lead = duplicate.contact, duplicate.lead
    contact.custom_fields_values = _merge_values(contact.custom_fields_values, draft.contacts[0].custom_fields_values)
    contact.updated_at = state.clock.timestamp()
    if lead is None:
        return _create(state, draft, contact)
    lead.custom_fields_values = _merge_values(lead.custom_fields_values, draft.custom_fields_values)
    lead.updated_at = state.clock.timestamp()
    return _row(lead, contact, lead.company_ids[0] if lead.company_ids else None, draft.request_id, merged=True)


def _merge_values(old: list[dict] | None, new: list[dict] | None) -> list[dict] | None:
    merged = [dict(f, values=list(f["values"])) for f in old or []]
    by_id = {f["field_id"]: f for f in merged}
    for field in new or []:
        if field["field_id"] not in by_id:
            merged.append(field)
        elif field["field_type"] == "multitext":
            known = {v["value"] for v in by_id[field["field_id"]]["values"]}
            by_id[field["field_id"]]["values"] += [v for v in field["values"] if v["value"] not in known]
    return merged or None
