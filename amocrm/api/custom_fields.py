"""Deal custom fields this site writes itself: creating its own field (the deals are read and rewritten by client.py).

Each call goes through client.py's one authorized path (tokens, the shared rate limit, the request log).
"""

from typing import Any

from amocrm.api import answers, client
from amocrm.api.answers import CustomField
from amocrm.models import Settings


# Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields
def create_lead_custom_fields(conn: Settings, fields: list[dict]) -> list[CustomField]:
    """POST /api/v4/leads/custom_fields: administrators only.

    A refusal (403 for a user who is not an administrator) is about this call, not the connection, so it is not
    written on the settings row as the connection's last error.
    """
    client._check_batch(fields)
    path = "/api/v4/leads/custom_fields"
    return client._call(conn, "POST", path, _created_fields, json=fields, record_errors=False)


def _created_fields(body: Any) -> list[CustomField]:
    if body is None:
        raise ValueError("a 204 answer to a create")
    return [answers.custom_field(row) for row in body["_embedded"]["custom_fields"]]
