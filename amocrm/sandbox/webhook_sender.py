"""Sending account webhooks as amoCRM does: form-encoded PHP-style keys, from a background thread.

Every POST is recorded in the state's `webhook_deliveries` (destination, event, status or error, body). amoCRM's
retries (5 min, 15 min, ...) are not emulated: one attempt per event and destination.

Reference: https://www.amocrm.ru/developers/content/crm_platform/webhooks-format
"""

import logging
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .catalog import ACCOUNT_ID
from .rows import Lead, WebhookDelivery
from .state import SandboxState

logger = logging.getLogger(__name__)

# The event a webhook subscribes to, and the action key its body carries (leads[<action>][0][...]).
LEAD_ACTIONS = {
    "add_lead": "add",
    "update_lead": "update",
    "status_lead": "status",
    "delete_lead": "delete",
    "responsible_lead": "responsible",
    "restore_lead": "restore",
}
TIMEOUT = 2.0  # amoCRM counts an answer after 2 s as a failure
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class LeadEvent:
    event: str  # e.g. status_lead
    lead_id: int
    fields: list[tuple[FieldPath, str]]  # under leads[<action>][0]


def lead_event(event: str, lead: Lead, state: SandboxState, old: tuple[int, int] | None = None) -> LeadEvent:
    """The event with the lead's fields amoCRM's webhooks carry; `old` (pipeline, status) only for status_lead."""
    if event == "delete_lead":  # a delete carries only the id
        return LeadEvent(event, lead.id, [(("id",), str(lead.id))])
    plain = {
        "id": lead.id, "name": lead.name, "status_id": lead.status_id, "price": lead.price,
        "responsible_user_id": lead.responsible_user_id, "last_modified": lead.updated_at,
        "modified_user_id": lead.updated_by, "created_user_id": lead.created_by, "date_create": lead.created_at,
        "pipeline_id": lead.pipeline_id, "account_id": ACCOUNT_ID, "created_at": lead.created_at,
        "updated_at": lead.updated_at,
    }  # fmt: skip
    if old is not None:
        plain["old_pipeline_id"], plain["old_status_id"] = old
    fields: list[tuple[FieldPath, str]] = [((key,), str(value)) for key, value in plain.items()]
    return LeadEvent(event, lead.id, fields + _tags(lead, state) + _custom_fields(lead))


def _tags(lead: Lead, state: SandboxState) -> list[tuple[FieldPath, str]]:
    tags = [state.tags[t] for t in lead.tag_ids if t in state.tags]
    return [(("tags", i, key), str(getattr(tag, key))) for i, tag in enumerate(tags) for key in ("id", "name")]


def _custom_fields(lead: Lead) -> list[tuple[FieldPath, str]]:
    pairs: list[tuple[FieldPath, str]] = []
    for i, field in enumerate(lead.custom_fields_values or []):
        pairs.append((("custom_fields", i, "id"), str(field["field_id"])))
        pairs.append((("custom_fields", i, "name"), field["field_name"]))
        if field.get("field_code"):
            pairs.append((("custom_fields", i, "code"), field["field_code"]))
        for j, value in enumerate(field["values"]):
            pairs.append((("custom_fields", i, "values", j, "value"), str(value["value"])))
            if "enum_id" in value:
                pairs.append((("custom_fields", i, "values", j, "enum"), str(value["enum_id"])))
    return pairs


def form_body(event: LeadEvent, subdomain: str, base_url: str) -> str:
    """leads[status][0][id]=…&…&account[subdomain]=…&account[id]=…&account[_links][self]=…."""
    prefix = f"leads[{LEAD_ACTIONS[event.event]}][0]"
    pairs = [(prefix + "".join(f"[{part}]" for part in path), value) for path, value in event.fields]
    pairs += [("account[subdomain]", subdomain), ("account[id]", str(ACCOUNT_ID)), ("account[_links][self]", base_url)]
    return urlencode(pairs)


def notify(state: SandboxState, subdomain: str, base_url: str, events: list[LeadEvent]) -> threading.Thread | None:
    """POST each event to every enabled webhook subscribed to it, on a background thread (never under the lock)."""
    with state.lock:
        hooks = sorted((h for h in state.webhooks.values() if not h.disabled), key=lambda h: (h.sort, h.id))
        jobs = [
            (hook.destination, event, form_body(event, subdomain, base_url))
            for event in events
            for hook in hooks
            if event.event in hook.settings
        ]
    if not jobs:
        return None
    thread = threading.Thread(target=_send_all, args=(state, jobs), name="sandbox-webhooks", daemon=True)
    thread.start()
    return thread


def _send_all(state: SandboxState, jobs: list[tuple[str, LeadEvent, str]]) -> None:
    for destination, event, body in jobs:
        status, error = _post(destination, body)
        record = WebhookDelivery(state.clock.now(), destination, event.event, event.lead_id, status, error, body)
        state.log_webhook_delivery(record)
        if status is None or not 100 <= status < 300:
            logger.info("sandbox webhook %s to %s: %s", event.event, destination, error or status)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an invalid answer, not a place to go


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def _post(destination: str, body: str) -> tuple[int | None, str]:
    """The answer's status, or None and why when none came within the timeout."""
    request = urllib.request.Request(
        destination, data=body.encode("utf-8"), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "amoCRM sandbox webhooks"},
    )  # fmt: skip
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            response.read()
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, ""
    except (urllib.error.URLError, OSError) as error:
        return None, str(getattr(error, "reason", error))
