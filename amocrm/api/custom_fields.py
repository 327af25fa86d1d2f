"""Deal custom fields this site writes itself: creating its own field, and rewriting delivered deals in batches.

Each call goes through client.py's one authorized path (tokens, the shared rate limit, the request log).
"""

import logging
from typing import Any

from amocrm.api import answers, client
from amocrm.api.answers import CustomField, RemoteLead
from amocrm.api.errors import AmoError
from amocrm.models import Settings

logger = logging.getLogger(__name__)


# Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields
def create_lead_custom_fields(conn: Settings, fields: list[dict]) -> list[CustomField]:
    """POST /api/v4/leads/custom_fields: administrators only.

    A refusal (403 for a user who is not an administrator) is about this call, not the connection, so unlike
    client._call it is not written on the settings row as the connection's last error.
    """
    client._check_batch(fields)
    try:
        body = client._authorized(conn, "POST", "/api/v4/leads/custom_fields", json=fields)
        return client._parsed(_created_fields, body, "POST")
    except AmoError as error:
        logger.warning("amoCRM POST /api/v4/leads/custom_fields failed: %s (HTTP %s)", error.kind, error.status)
        raise


# Reference: https://www.amocrm.ru/developers/content/crm_platform/filters-api
def list_leads_by_id(conn: Settings, ids: list[int]) -> list[RemoteLead]:
    """GET /api/v4/leads?filter[id][]=…: up to 250 deals by id (a deal deleted since is simply not listed)."""
    if not 1 <= len(ids) <= client.MAX_PAGE_SIZE:
        raise ValueError(f"from 1 to {client.MAX_PAGE_SIZE} ids, got {len(ids)}")
    params: dict[str, Any] = {"filter[id][]": ids, "limit": client.MAX_PAGE_SIZE}
    leads, _has_next = client._call(conn, "GET", "/api/v4/leads", answers.leads_page, params=params)
    return leads


# Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api#leads-edit
def update_leads(conn: Settings, changes: list[dict]) -> list[int]:
    """PATCH /api/v4/leads: up to 50 deals, each change with its deal's id; the ids amoCRM changed."""
    client._check_batch(changes)
    if not changes:
        return []
    return client._call(conn, "PATCH", "/api/v4/leads", _updated_ids, json=changes)


def _created_fields(body: Any) -> list[CustomField]:
    if body is None:
        raise ValueError("a 204 answer to a create")
    return [answers.custom_field(row) for row in body["_embedded"]["custom_fields"]]


def _updated_ids(body: Any) -> list[int]:
    return [int(row["id"]) for row in (body or {}).get("_embedded", {}).get("leads", [])]
