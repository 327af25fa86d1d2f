"""Typed calls to amoCRM's API v4 (amocrm-api.md §4): the only module the rest of the site talks to amoCRM through.

Every request leaves through transport.send (one session, timeouts, the shared rate limit); tokens are kept fresh
by tokens.py and the OAuth flow lives in oauth.py. Only AmoError comes out of here.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.utils.translation import gettext as _

from amocrm import tokens, transport
from amocrm.models import ConnectionState, Settings
from amocrm.oauth import TokenPair, authorize_url, exchange_code, is_allowed_account_host, redirect_uri
from amocrm.tokens import long_lived_token_expiry
from amocrm.transport import AmoError, ErrorKind, FieldError

__all__ = [
    "Account", "AmoError", "CreatedLead", "CreatedUnsorted", "CustomField", "ErrorKind", "FieldError", "LeadsPage",
    "NotesPage", "Pipeline", "RemoteContact", "RemoteLead", "RemoteNote", "Status", "TokenPair", "Webhook",
    "add_lead_notes", "authorize_url", "create_complex_leads", "create_unsorted_forms", "delete_webhook",
    "exchange_code", "find_contacts", "get_account", "is_allowed_account_host", "list_lead_custom_fields",
    "list_lead_notes", "list_leads", "list_leads_updated_since", "list_pipelines", "list_webhooks",
    "long_lived_token_expiry", "redirect_uri", "subscribe_webhook",
]  # fmt: skip

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BATCH = 50  # §2, §4.4: complex requests take at most 50 leads; 50 is also the recommended size for writes
MAX_PAGE_SIZE = 250  # §3: list calls take limit ≤ 250
MAX_PAGES = 100  # a runaway _links.next must not loop forever
# These belong to one lead's data or to the settings page, not to the connection's health.
_NOT_RECORDED = {ErrorKind.VALIDATION, ErrorKind.NOT_CONFIGURED, ErrorKind.NOT_CONNECTED, ErrorKind.REVOKED}


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    subdomain: str


@dataclass(frozen=True)
class Status:
    id: int
    name: str
    pipeline_id: int
    type: int  # §4.6: 1 = Unsorted, 0 = a normal stage


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str
    is_main: bool
    statuses: list[Status]


@dataclass(frozen=True)
class CustomField:
    id: int
    name: str
    code: str | None
    type: str


@dataclass(frozen=True)
class RemoteLead:
    id: int
    name: str
    price: int
    pipeline_id: int
    status_id: int
    created_at: int
    updated_at: int
    custom_fields: dict[int, list[str]]
    contact_ids: list[int]


@dataclass(frozen=True)
class LeadsPage:
    leads: list[RemoteLead]
    page: int
    has_next: bool


@dataclass(frozen=True)
class CreatedLead:
    id: int
    contact_id: int | None
    request_ids: list[str]
    merged: bool  # §4.4: duplicate control merged it into an existing deal


@dataclass(frozen=True)
class RemoteContact:
    id: int
    name: str
    phones: list[str]
    emails: list[str]


@dataclass(frozen=True)
class RemoteNote:
    id: int
    entity_id: int
    note_type: str
    text: str  # params.text of a common note; "" for types without one
    updated_at: int


@dataclass(frozen=True)
class NotesPage:
    notes: list[RemoteNote]
    page: int
    has_next: bool


@dataclass(frozen=True)
class Webhook:
    id: int
    destination: str
    settings: list[str]  # the events it carries, e.g. status_lead
    disabled: bool  # §7: amoCRM switches off a hook after 100 bad answers in 2 hours


@dataclass(frozen=True)
class CreatedUnsorted:
    uid: str
    request_id: str
    lead_ids: list[int]
    contact_ids: list[int]


def get_account(conn: Settings) -> Account:
    """GET /api/v4/account (§4.1)."""
    return _call(conn, "GET", "/api/v4/account", _account)


def list_pipelines(conn: Settings) -> list[Pipeline]:
    """GET /api/v4/leads/pipelines (§4.6): not paginated; statuses come embedded."""
    return _call(conn, "GET", "/api/v4/leads/pipelines", _pipelines)


def list_lead_custom_fields(conn: Settings) -> list[CustomField]:
    """GET /api/v4/leads/custom_fields page by page while _links.next is there (§4.7: pages may stop at 50)."""
    fields: list[CustomField] = []
    for page in range(1, MAX_PAGES + 1):
        params = {"page": page, "limit": MAX_PAGE_SIZE}
        found, has_next = _call(conn, "GET", "/api/v4/leads/custom_fields", _custom_fields_page, params=params)
        fields += found
        if not has_next:
            break
    return fields


def list_leads(conn: Settings, page: int = 1, limit: int = 50, query: str | None = None) -> LeadsPage:
    """GET /api/v4/leads with their contacts (§4.9); 204 is an empty page (§3)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be from 1 to {MAX_PAGE_SIZE}")
    params: dict[str, Any] = {"page": page, "limit": limit, "with": "contacts"}
    if query:
        params["query"] = query
    leads, has_next = _call(conn, "GET", "/api/v4/leads", _leads_page, params=params)
    return LeadsPage(leads=leads, page=page, has_next=has_next)


def list_leads_updated_since(conn: Settings, since: int, page: int = 1) -> LeadsPage:
    """GET /api/v4/leads?filter[updated_at][from]= (§4.9): deals changed since a unix time, 250 a page."""
    params = {"page": page, "limit": MAX_PAGE_SIZE, "filter[updated_at][from]": since}
    leads, has_next = _call(conn, "GET", "/api/v4/leads", _leads_page, params=params)
    return LeadsPage(leads=leads, page=page, has_next=has_next)


def subscribe_webhook(conn: Settings, destination: str, settings: list[str]) -> Webhook:
    """POST /api/v4/webhooks (§7): 201; the same destination again updates its events."""
    body = {"destination": destination, "settings": settings}
    return _call(conn, "POST", "/api/v4/webhooks", _webhook, json=body)


def list_webhooks(conn: Settings, destination: str | None = None) -> list[Webhook]:
    """GET /api/v4/webhooks[?filter[destination]=] (§7); 204 is none."""
    params = {"filter[destination]": destination} if destination else {}
    return _call(conn, "GET", "/api/v4/webhooks", _webhooks, params=params)


def delete_webhook(conn: Settings, destination: str) -> bool:
    """DELETE /api/v4/webhooks (§7): True when removed (204), False when amoCRM had none there (404)."""
    try:
        _call(conn, "DELETE", "/api/v4/webhooks", lambda body: None, json={"destination": destination})
    except AmoError as error:
        if error.status == 404:
            return False
        raise
    return True


def create_complex_leads(conn: Settings, leads: list[dict]) -> list[CreatedLead]:
    """POST /api/v4/leads/complex: up to 50 leads, each with its contact embedded (§4.4)."""
    _check_batch(leads)
    return _call(conn, "POST", "/api/v4/leads/complex", _created_leads, json=leads) if leads else []


def add_lead_notes(conn: Settings, notes: list[dict]) -> list[int]:
    """POST /api/v4/leads/notes (§4.5); the new notes' ids, in order."""
    _check_batch(notes)
    return _call(conn, "POST", "/api/v4/leads/notes", _note_ids, json=notes) if notes else []


def list_lead_notes(
    conn: Settings, note_type: str, changed: tuple[int, int], lead_id: int | None = None, page: int = 1
) -> NotesPage:
    """Lead notes of one type changed within (from, to) unix times, all deals' or one deal's; 250 a page.

    GET /api/v4/leads/notes or /api/v4/leads/{id}/notes, as amoCRM's notes reference and the official SDK's
    NotesFilter give them (amocrm-api.md §4.5 covers only creating notes); 204 is an empty page (§3).
    """
    params = {
        "page": page,
        "limit": MAX_PAGE_SIZE,
        "filter[note_type]": note_type,
        "filter[updated_at][from]": changed[0],
        "filter[updated_at][to]": changed[1],
    }
    path = "/api/v4/leads/notes" if lead_id is None else f"/api/v4/leads/{lead_id}/notes"
    notes, has_next = _call(conn, "GET", path, _notes_page, params=params)
    return NotesPage(notes=notes, page=page, has_next=has_next)


def find_contacts(conn: Settings, query: str) -> list[RemoteContact]:
    """GET /api/v4/contacts?query= (§4.2): full-text and fuzzy, so callers re-check the phone; 204 is none."""
    return _call(conn, "GET", "/api/v4/contacts", _contacts, params={"query": query})


def create_unsorted_forms(conn: Settings, items: list[dict]) -> list[CreatedUnsorted]:
    """POST /api/v4/leads/unsorted/forms (§4.8): deals that land in Incoming leads."""
    _check_batch(items)
    return _call(conn, "POST", "/api/v4/leads/unsorted/forms", _created_unsorted, json=items) if items else []


# One authorized call


def _call(conn: Settings, method: str, path: str, parse: Callable[[Any], T], **kwargs: Any) -> T:
    """Send, read and parse one call; connection-level failures are recorded on the settings row."""
    try:
        body = _authorized(conn, method, path, **kwargs)
        result = _parsed(parse, body, method)
    except AmoError as error:
        logger.warning("amoCRM %s %s failed: %s (HTTP %s)", method, path, error.kind, error.status)
        if error.kind not in _NOT_RECORDED:  # REVOKED is recorded where it is found (tokens.refresh)
            conn.record_error(error.message)
        raise
    conn.record_success()
    return result


def _authorized(conn: Settings, method: str, path: str, **kwargs: Any) -> Any:
    """The answer's body; on 401 the pair is refreshed once and the call retried (§6, SDK behaviour)."""
    _check_connected(conn)
    tokens.ensure_fresh(conn)
    seen_refresh_token = conn.refresh_token
    response = _send(conn, method, path, **kwargs)
    if response.status_code == 401 and conn.uses_long_lived_token:
        # §1.7: a long-lived token cannot be refreshed; it expired or was revoked.
        message = _("amoCRM did not accept the long-lived token (expired or revoked). Paste a new one in the admin.")
        raise AmoError(ErrorKind.UNAUTHORIZED, message, status=401)
    if response.status_code == 401:
        tokens.refresh(conn, seen_refresh_token)
        response = _send(conn, method, path, **kwargs)
    return transport.read(response, method)


def _send(conn: Settings, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {tokens.bearer(conn)}"}
    return transport.send(method, conn.base_url + path, headers=headers, **kwargs)


def _check_connected(conn: Settings) -> None:
    """Refuse before sending anything when no call can work; long-lived tokens need no Connect (§1.7)."""
    if not conn.has_credentials:
        message = _("amoCRM is not set up: enter the integration ID and secret key, or a long-lived token.")
        raise AmoError(ErrorKind.NOT_CONFIGURED, message)
    if conn.uses_long_lived_token and not conn.domain:
        raise AmoError(ErrorKind.NOT_CONFIGURED, _("A long-lived token needs the amoCRM account domain."))
    if conn.uses_long_lived_token:
        return
    if conn.state == ConnectionState.NEEDS_RECONNECT:
        raise AmoError(ErrorKind.REVOKED, _("amoCRM access was revoked. Reconnect in the admin."))
    if not conn.is_connected:
        raise AmoError(ErrorKind.NOT_CONNECTED, _("amoCRM is not connected: press Connect in the amoCRM settings."))


def _check_batch(items: list[dict]) -> None:
    if len(items) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} items per request, got {len(items)}")


def _parsed(parse: Callable[[Any], T], body: Any, method: str) -> T:
    """Outside JSON becomes our dataclasses here; an answer of the wrong shape is an AmoError, not a KeyError."""
    try:
        return parse(body)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise transport.unexpected_answer(method) from error


# Parsing answers (a None body is 204: nothing found)


def _embedded(body: Any, key: str) -> list[dict]:
    return [] if body is None else body["_embedded"][key]


def _has_next(body: Any) -> bool:
    return body is not None and "next" in (body.get("_links") or {})


def _account(body: dict) -> Account:
    return Account(id=int(body["id"]), name=str(body["name"]), subdomain=str(body["subdomain"]))


def _pipelines(body: Any) -> list[Pipeline]:
    return [
        Pipeline(
            id=int(row["id"]),
            name=str(row["name"]),
            is_main=bool(row.get("is_main")),
            statuses=[
                Status(id=int(s["id"]), name=str(s["name"]), pipeline_id=int(row["id"]), type=int(s.get("type") or 0))
                for s in row.get("_embedded", {}).get("statuses", [])
            ],
        )
        for row in _embedded(body, "pipelines")
    ]


def _custom_fields_page(body: Any) -> tuple[list[CustomField], bool]:
    fields = [
        CustomField(id=int(row["id"]), name=str(row["name"]), code=row.get("code") or None, type=str(row["type"]))
        for row in _embedded(body, "custom_fields")
    ]
    return fields, _has_next(body)


def _leads_page(body: Any) -> tuple[list[RemoteLead], bool]:
    return [_remote_lead(row) for row in _embedded(body, "leads")], _has_next(body)


def _remote_lead(row: dict) -> RemoteLead:
    return RemoteLead(
        id=int(row["id"]),
        name=str(row.get("name") or ""),
        price=int(row.get("price") or 0),
        pipeline_id=int(row["pipeline_id"]),
        status_id=int(row["status_id"]),
        created_at=int(row.get("created_at") or 0),
        updated_at=int(row.get("updated_at") or 0),
        custom_fields={
            int(field["field_id"]): [str(value.get("value", "")) for value in field.get("values") or []]
            for field in row.get("custom_fields_values") or []
        },
        contact_ids=[int(contact["id"]) for contact in (row.get("_embedded") or {}).get("contacts", [])],
    )


def _created_leads(body: list) -> list[CreatedLead]:
    # §4.4: a bare array; request_id is a list of strings (several when duplicates were merged).
    return [
        CreatedLead(
            id=int(row["id"]),
            contact_id=int(row["contact_id"]) if row.get("contact_id") else None,
            request_ids=_request_ids(row.get("request_id")),
            merged=bool(row.get("merged")),
        )
        for row in body
    ]


def _request_ids(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v is not None]


def _note_ids(body: Any) -> list[int]:
    return [int(row["id"]) for row in _embedded(body, "notes")]


def _notes_page(body: Any) -> tuple[list[RemoteNote], bool]:
    notes = [
        RemoteNote(
            id=int(row["id"]),
            entity_id=int(row["entity_id"]),
            note_type=str(row.get("note_type") or ""),
            text=str((row.get("params") or {}).get("text") or ""),
            updated_at=int(row.get("updated_at") or 0),
        )
        for row in _embedded(body, "notes")
    ]
    return notes, _has_next(body)


def _contacts(body: Any) -> list[RemoteContact]:
    return [
        RemoteContact(
            id=int(row["id"]),
            name=str(row.get("name") or ""),
            phones=_field_values(row, "PHONE"),
            emails=_field_values(row, "EMAIL"),
        )
        for row in _embedded(body, "contacts")
    ]


def _field_values(row: dict, code: str) -> list[str]:
    fields = [field for field in row.get("custom_fields_values") or [] if field.get("field_code") == code]
    return [str(value["value"]) for field in fields for value in field.get("values") or [] if value.get("value")]


def _webhook(row: dict) -> Webhook:
    return Webhook(
        id=int(row["id"]),
        destination=str(row["destination"]),
        settings=[str(event) for event in row.get("settings") or []],
        disabled=bool(row.get("disabled")),
    )


def _webhooks(body: Any) -> list[Webhook]:
    return [_webhook(row) for row in _embedded(body, "webhooks")]


def _created_unsorted(body: Any) -> list[CreatedUnsorted]:
    return [
        CreatedUnsorted(
            uid=str(row["uid"]),
            request_id=str(row.get("request_id", "")),
            lead_ids=[int(lead["id"]) for lead in row.get("_embedded", {}).get("leads", [])],
            contact_ids=[int(contact["id"]) for contact in row.get("_embedded", {}).get("contacts", [])],
        )
        for row in _embedded(body, "unsorted")
    ]
