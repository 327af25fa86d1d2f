"""Typed calls to amoCRM's API v4: one function per remote call, the reply typed where it arrives.

Every request leaves through transport.send (one session, timeouts, the shared rate limit); tokens are kept fresh
by tokens.py. Only AmoError comes out of here.
"""

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.utils.translation import gettext as _

from amocrm.api import answers, tokens, transport
from amocrm.api.answers import (
    Account,
    CreatedLead,
    CreatedUnsorted,
    CustomField,
    LeadsPage,
    NotesPage,
    Pipeline,
    RemoteContact,
    RemoteLead,
    Webhook,
)
from amocrm.api.errors import AmoError, ErrorKind, unexpected_answer
from amocrm.models import ConnectionState, Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Writes take at most 50 elements per request (complex leads, notes, tasks); 50 is also the recommended size.
# Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api#leads-complex-add
MAX_BATCH = 50
# Reference: https://www.amocrm.ru/developers/content/api/recommendations (list calls take limit <= 250)
MAX_PAGE_SIZE = 250
MAX_PAGES = 100  # a runaway _links.next must not loop forever
# These belong to one lead's data or to the settings page, not to the connection's health.
_NOT_RECORDED = {ErrorKind.VALIDATION, ErrorKind.NOT_CONFIGURED, ErrorKind.NOT_CONNECTED, ErrorKind.REVOKED}


# Reference: https://www.amocrm.ru/developers/content/crm_platform/account-info
def get_account(conn: Settings) -> Account:
    """GET /api/v4/account."""
    return _call(conn, "GET", "/api/v4/account", answers.account)


# Reference: https://www.amocrm.ru/developers/content/crm_platform/leads_pipelines
def list_pipelines(conn: Settings) -> list[Pipeline]:
    """GET /api/v4/leads/pipelines: not paginated; statuses come embedded."""
    return _call(conn, "GET", "/api/v4/leads/pipelines", answers.pipelines)


# Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields
def list_lead_custom_fields(conn: Settings) -> list[CustomField]:
    """GET /api/v4/leads/custom_fields page by page while _links.next is there (pages may stop at 50)."""
    fields: list[CustomField] = []
    for page in range(1, MAX_PAGES + 1):
        params = {"page": page, "limit": MAX_PAGE_SIZE}
        found, has_next = _call(conn, "GET", "/api/v4/leads/custom_fields", answers.custom_fields_page, params=params)
        fields += found
        if not has_next:
            break
    return fields


# Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api#leads-list
def list_leads(conn: Settings, page: int = 1, limit: int = 50, query: str | None = None) -> LeadsPage:
    """GET /api/v4/leads with their contacts; 204 is an empty page."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be from 1 to {MAX_PAGE_SIZE}")
    params: dict[str, Any] = {"page": page, "limit": limit, "with": "contacts"}
    if query:
        params["query"] = query
    leads, has_next = _call(conn, "GET", "/api/v4/leads", answers.leads_page, params=params)
    return LeadsPage(leads=leads, page=page, has_next=has_next)


# Reference: https://www.amocrm.ru/developers/content/crm_platform/filters-api
def list_leads_updated_since(conn: Settings, since: int, page: int = 1) -> LeadsPage:
    """GET /api/v4/leads?filter[updated_at][from]=: deals changed since a unix time, 250 a page."""
    params = {"page": page, "limit": MAX_PAGE_SIZE, "filter[updated_at][from]": since}
    leads, has_next = _call(conn, "GET", "/api/v4/leads", answers.leads_page, params=params)
    return LeadsPage(leads=leads, page=page, has_next=has_next)


# Reference: https://www.amocrm.ru/developers/content/crm_platform/webhooks-api
def subscribe_webhook(conn: Settings, destination: str, settings: list[str]) -> Webhook:
    """POST /api/v4/webhooks: 201; the same destination again updates its events."""
    body = {"destination": destination, "settings": settings}
    return _call(conn, "POST", "/api/v4/webhooks", answers.webhook, json=body)


# Reference: https://www.amocrm.ru/developers/content/crm_platform/webhooks-api
def list_webhooks(conn: Settings, destination: str | None = None) -> list[Webhook]:
    """GET /api/v4/webhooks[?filter[destination]=]; 204 is none."""
    params = {"filter[destination]": destination} if destination else {}
    return _call(conn, "GET", "/api/v4/webhooks", answers.webhooks, params=params)


# Reference: https://www.amocrm.ru/developers/content/crm_platform/webhooks-api
def delete_webhook(conn: Settings, destination: str) -> bool:
    """DELETE /api/v4/webhooks: True when removed (204), False when amoCRM had none there (404)."""
    try:
        _call(conn, "DELETE", "/api/v4/webhooks", lambda body: None, json={"destination": destination})
    except AmoError as error:
        if error.status == 404:
            return False
        raise
    return True


# Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api#leads-complex-add
def create_complex_leads(conn: Settings, leads: list[dict]) -> list[CreatedLead]:
    """POST /api/v4/leads/complex: up to 50 leads, each with its contact embedded."""
    _check_batch(leads)
    return _call(conn, "POST", "/api/v4/leads/complex", answers.created_leads, json=leads) if leads else []


# Reference: https://www.amocrm.ru/developers/content/crm_platform/events-and-notes#notes-add
def add_lead_notes(conn: Settings, notes: list[dict]) -> list[int]:
    """POST /api/v4/leads/notes; the new notes' ids, in order."""
    _check_batch(notes)
    return _call(conn, "POST", "/api/v4/leads/notes", answers.note_ids, json=notes) if notes else []


# Reference: https://www.amocrm.ru/developers/content/crm_platform/events-and-notes#notes-list
def list_lead_notes(
    conn: Settings, note_type: str, changed: tuple[int, int], lead_id: int | None = None, page: int = 1
) -> NotesPage:
    """Lead notes of one type changed within (from, to) unix times, all deals' or one deal's; 250 a page.

    GET /api/v4/leads/notes or /api/v4/leads/{id}/notes, as amoCRM's notes reference and the official SDK's
    NotesFilter give them; 204 is an empty page.
    """
    params = {
        "page": page,
        "limit": MAX_PAGE_SIZE,
        "filter[note_type]": note_type,
        "filter[updated_at][from]": changed[0],
        "filter[updated_at][to]": changed[1],
    }
    path = "/api/v4/leads/notes" if lead_id is None else f"/api/v4/leads/{lead_id}/notes"
    notes, has_next = _call(conn, "GET", path, answers.notes_page, params=params)
    return NotesPage(notes=notes, page=page, has_next=has_next)


# Reference: https://www.amocrm.ru/developers/content/crm_platform/filters-api
def list_leads_by_id(conn: Settings, ids: list[int]) -> list[RemoteLead]:
    """GET /api/v4/leads?filter[id][]=…, 250 ids a request: a deal deleted since is simply not listed."""
    found: list[RemoteLead] = []
    for start in range(0, len(ids), MAX_PAGE_SIZE):
        params: dict[str, Any] = {"filter[id][]": ids[start : start + MAX_PAGE_SIZE], "limit": MAX_PAGE_SIZE}
        found += _call(conn, "GET", "/api/v4/leads", answers.leads_page, params=params)[0]
    return found


# Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api#leads-edit
def update_leads(conn: Settings, changes: list[dict]) -> list[int]:
    """PATCH /api/v4/leads: up to 50 deals, each change with its deal's id; the ids amoCRM changed."""
    _check_batch(changes)
    if not changes:
        return []
    return _call(conn, "PATCH", "/api/v4/leads", _updated_ids, json=changes)


# Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api#contacts-list
def find_contacts(conn: Settings, query: str) -> list[RemoteContact]:
    """GET /api/v4/contacts?query=: full-text and fuzzy, so callers re-check the phone; 204 is none."""
    return _call(conn, "GET", "/api/v4/contacts", answers.contacts, params={"query": query})


# Reference: https://www.amocrm.ru/developers/content/crm_platform/unsorted-api#unsorted-add-form
def create_unsorted_forms(conn: Settings, items: list[dict]) -> list[CreatedUnsorted]:
    """POST /api/v4/leads/unsorted/forms: deals that land in Incoming leads."""
    _check_batch(items)
    return _call(conn, "POST", "/api/v4/leads/unsorted/forms", answers.created_unsorted, json=items) if items else []


# One authorized call


def _call(
    conn: Settings, method: str, path: str, parse: Callable[[Any], T], *, record_errors: bool = True, **kwargs: Any
) -> T:
    """Send, read and parse one call; connection-level failures are recorded on the settings row.

    `record_errors=False` is for a call the account may refuse without anything being wrong with the connection
    (the users list is for administrators only): its 403 must not read as "the account may be blocked".
    """
    try:
        body = _authorized(conn, method, path, **kwargs)
        result = _parsed(parse, body, method)
    except AmoError as error:
        logger.warning("amoCRM %s %s failed: %s (HTTP %s)", method, path, error.kind, error.status)
        if record_errors and error.kind not in _NOT_RECORDED:  # REVOKED is recorded where found (tokens.refresh)
            conn.record_error(error.message)
        raise
    conn.record_success()
    return result


def _authorized(conn: Settings, method: str, path: str, **kwargs: Any) -> Any:
    """The answer's body; on 401 the pair is refreshed once and the call retried (as the official SDK does)."""
    _check_connected(conn)
    tokens.ensure_fresh(conn)
    seen_refresh_token = conn.refresh_token
    response = _send(conn, method, path, **kwargs)
    if response.status_code == 401 and conn.uses_long_lived_token:
        # A long-lived token cannot be refreshed; it expired or was revoked.
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
    """Refuse before sending anything when no call can work; long-lived tokens need no Connect."""
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


def _updated_ids(body: Any) -> list[int]:
    return [int(row["id"]) for row in (body or {}).get("_embedded", {}).get("leads", [])]


def _check_batch(items: list[dict]) -> None:
    if len(items) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} items per request, got {len(items)}")


def _parsed(parse: Callable[[Any], T], body: Any, method: str) -> T:
    """Outside JSON becomes our dataclasses here; an answer of the wrong shape is an AmoError, not a KeyError."""
    try:
        return parse(body)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise unexpected_answer(method) from error
