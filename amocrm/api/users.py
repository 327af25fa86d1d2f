"""The account's users: who a deal or a task can be given to, by name, and who amoCRM says has left.

Reference: https://www.amocrm.ru/developers/content/crm_platform/users-api
"""

from dataclasses import dataclass
from typing import Any

from amocrm.api.client import MAX_PAGE_SIZE, MAX_PAGES, _call
from amocrm.models import Settings


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str
    is_active: bool  # rights.is_active: false for a deactivated user, who must not be given deals or tasks
    is_admin: bool


# Reference: https://www.amocrm.ru/developers/content/crm_platform/users-api
def list_users(conn: Settings) -> list[User]:
    """GET /api/v4/users page by page while _links.next is there; deactivated users are listed too.

    Only an account administrator may list users: a 403 comes back as an AmoError, not recorded as the
    connection's last error (nothing is wrong with the connection; users are then taken on trust).
    """
    users: list[User] = []
    for page in range(1, MAX_PAGES + 1):
        params = {"page": page, "limit": MAX_PAGE_SIZE}
        found, has_next = _call(conn, "GET", "/api/v4/users", users_page, params=params, record_errors=False)
        users += found
        if not has_next:
            break
    return users


def users_page(body: Any) -> tuple[list[User], bool]:
    """One page of users; None (204) is an empty page."""
    if body is None:
        return [], False
    users = [_user(row) for row in body["_embedded"]["users"]]
    return users, "next" in (body.get("_links") or {})


def _user(row: dict) -> User:
    rights = row.get("rights") or {}
    return User(
        id=int(row["id"]),
        name=str(row.get("name") or row["id"]),
        email=str(row.get("email") or ""),
        is_active=bool(rights.get("is_active", True)),
        is_admin=bool(rights.get("is_admin", False)),
    )
