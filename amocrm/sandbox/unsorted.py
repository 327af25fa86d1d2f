"""POST /api/v4/leads/unsorted/forms: a web-form lead waiting in Unsorted.

Reference: https://www.amocrm.ru/developers/content/crm_platform/unsorted-api
"""

import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import catalog, payloads
from .catalog import ACCOUNT_ID
from .config import SandboxConfig
from .entities import add_company, add_contact, add_lead, links
from .payloads import LEAD_KEYS, EntityDraft, LeadDraft, objects, read_batch
from .rows import Lead, UnsortedItem
from .state import SandboxState
from .validation import Errors, join
from .wire import Reply, Request, hal

UNSORTED_KEYS = {"source_uid", "source_name", "metadata", "pipeline_id", "created_at", "request_id", "_embedded"}
# The embedded lead takes the lead model plus visitor_uid; its stage is always the pipeline's Unsorted.
_FORM_LEAD_KEYS = (LEAD_KEYS - {"status_id", "pipeline_id"}) | {"visitor_uid"}


@dataclass
class FormDraft:
    source_uid: str
    source_name: str
    lead: LeadDraft
    request_id: str = "0"


def add_unsorted(state: SandboxState, lead: Lead, source_uid: str, source_name: str, metadata: dict) -> UnsortedItem:
    item = UnsortedItem(
        uid=secrets.token_hex(20),
        source_uid=source_uid,
        source_name=source_name,
        category=metadata.get("category", "forms"),
        pipeline_id=lead.pipeline_id,
        created_at=state.clock.timestamp(),
        metadata=metadata,
        lead_id=lead.id,
        contact_id=lead.main_contact_id,
        company_id=lead.company_ids[0] if lead.company_ids else None,
    )
    state.unsorted[item.uid] = item
    return item


def _required_text(data: dict[str, Any], key: str, errors: Errors) -> str:
    value = errors.expect_str(data, key, "")
    if key not in data or value == "":
        errors.missing(key)
    return value or ""


def _pipeline_id(data: dict[str, Any], errors: Errors) -> int:
    pipeline_id = errors.expect_int(data, "pipeline_id", "")
    if pipeline_id is None:
        return catalog.MAIN_PIPELINE.id
    if catalog.pipeline(pipeline_id) is None:
        errors.bad_choice("pipeline_id")
        return catalog.MAIN_PIPELINE.id
    return pipeline_id


def _attached(state: SandboxState, kind: str, path: str, item: dict, errors: Errors) -> EntityDraft:
    """The same entity cannot wait in Unsorted twice."""
    draft = payloads.contact_or_link(item, kind, state, path, errors)
    key = "contact_id" if kind == "contacts" else "company_id"
    if draft.link_id is not None and any(getattr(u, key) == draft.link_id for u in state.unsorted.values()):
        errors.bad_choice(join(path, "id"))
    return draft


def _form(state: SandboxState, data: dict[str, Any], errors: Errors) -> FormDraft:
    """source_uid, source_name and metadata are required; ≤1 lead, contact and company."""
    errors.check_keys(data, UNSORTED_KEYS, "")
    source_uid, source_name = _required_text(data, "source_uid", errors), _required_text(data, "source_name", errors)
    metadata = payloads.forms_metadata(data.get("metadata"), "metadata", errors, categorised=False)
    errors.expect_int(data, "created_at", "")
    pipe = catalog.pipeline(_pipeline_id(data, errors))
    emb = payloads.embedded(data, {"leads", "contacts", "companies"}, "", errors)
    leads = objects(emb.get("leads"), "_embedded.leads", errors, most=1)
    lead = LeadDraft({}, pipe.id, pipe.unsorted.id)
    if leads:
        lead, _ = payloads.lead(leads[0][1], state, errors, {"tags"}, prefix=leads[0][0], keys=_FORM_LEAD_KEYS)
        lead.pipeline_id, lead.status_id = pipe.id, pipe.unsorted.id
    for kind in ("contacts", "companies"):
        for path, item in objects(emb.get(kind), f"_embedded.{kind}", errors, most=1):
            getattr(lead, kind).append(_attached(state, kind, path, item, errors))
    lead.metadata = metadata
    return FormDraft(source_uid, source_name, lead)


def _item_json(item: UnsortedItem, request_id: str, base_url: str) -> dict[str, Any]:
    return {
        "uid": item.uid,
        "account_id": ACCOUNT_ID,
        "request_id": request_id,
        "_links": links(base_url, f"/api/v4/leads/unsorted/{item.uid}"),
        "_embedded": {
            "contacts": [{"id": item.contact_id}] if item.contact_id else [],
            "leads": [{"id": item.lead_id}],
            "companies": [{"id": item.company_id}] if item.company_id else [],
        },
    }


def create_forms(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    drafts, reply = read_batch(req, partial(_form, state))
    if reply is not None:
        return reply
    rows = []
    for draft in drafts:
        lead_draft = draft.lead
        contacts = [add_contact(state, d, in_unsorted=True) for d in lead_draft.contacts]
        companies = [add_company(state, d) for d in lead_draft.companies]
        lead = add_lead(state, lead_draft, contacts, companies)
        item = add_unsorted(state, lead, draft.source_uid, draft.source_name, lead_draft.metadata or {})
        rows.append(_item_json(item, draft.request_id, req.base_url))
    return hal({"_total_items": len(rows), "_embedded": {"unsorted": rows}})
