"""GET /api/v4/users and /api/v4/users/{id}: the account's users, with their rights; administrators only.

Reference: https://www.amocrm.ru/developers/content/crm_platform/users-api (fields, `with`, 403 without admin rights)
and the Kommo example of the same list (https://developers.kommo.com/reference/users-list: totals, _embedded.roles).
"""

import uuid
from typing import Any

from . import catalog
from .config import SandboxConfig
from .entities import links
from .listing import page_args, paginate, with_values
from .rows import User
from .staff import admin_only
from .state import SandboxState
from .wire import Reply, Request, hal, no_content

# Rights objects map an action to A (all), G (group), M (only own) or D (denied).
_ALL = {"view": "A", "edit": "A", "add": "A", "delete": "A", "export": "A"}
_MANAGER = {"view": "A", "edit": "A", "add": "A", "delete": "D", "export": "D"}


def _status_rights(user: User) -> list[dict[str, Any]]:
    """Per-stage rights; the sandbox gives managers their pipelines' Unsorted stages."""
    if user.is_admin:
        return []
    rights = {"view": "A", "edit": "A", "delete": "D"}
    return [
        {"entity_type": "leads", "pipeline_id": p.id, "status_id": p.unsorted.id, "rights": dict(rights)}
        for p in catalog.PIPELINES
    ]


def _rights(user: User) -> dict[str, Any]:
    entity = _ALL if user.is_admin else _MANAGER
    return {
        **{kind: dict(entity) for kind in ("leads", "contacts", "companies")},
        "tasks": {"edit": "A", "delete": "A" if user.is_admin else "D"},
        "mail_access": True,
        "catalog_access": user.is_admin,
        "status_rights": _status_rights(user),
        "is_admin": user.is_admin,
        "is_free": user.is_free,
        "is_active": user.is_active,
        "group_id": user.group_id,
        "role_id": user.role_id,
    }


def _embedded(user: User, extra: set[str], base_url: str) -> dict[str, Any]:
    """`with=role` and `with=group` add the user's role and group under _embedded."""
    embedded: dict[str, Any] = {}
    if "role" in extra:
        role_id, role_name = catalog.MANAGER_ROLE
        roles = [{"id": role_id, "name": role_name, "_links": links(base_url, f"/api/v4/roles/{role_id}")}]
        embedded["roles"] = roles if user.role_id == role_id else []
    if "group" in extra:
        group = catalog.USER_GROUPS.get(user.group_id) if user.group_id is not None else None
        embedded["groups"] = [] if group is None else [{"id": user.group_id, "name": group}]
    return embedded


def render_user(user: User, base_url: str, extra: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"id": user.id, "name": user.name, "email": user.email, "lang": user.lang}
    body["rights"] = _rights(user)
    optional = {
        "uuid": None,  # users-api: may be null; not used for third-party integrations
        "amojo_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"amocrm-sandbox-user-{user.id}")),
        "user_rank": user.user_rank,
    }
    body.update({key: value for key, value in optional.items() if key in extra})
    body["_links"] = links(base_url, f"/api/v4/users/{user.id}")
    embedded = _embedded(user, extra, base_url)
    if embedded:
        body["_embedded"] = embedded
    return body


def list_users(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """Every user, deactivated ones too (rights.is_active=false); page, limit ≤ 250, with totals."""
    if (refused := admin_only(state)) is not None:
        return refused
    args = page_args(req)
    if isinstance(args, Reply):
        return args
    users, extra = sorted(state.users.values(), key=lambda u: u.id), with_values(req)
    return paginate(req, "users", users, lambda u: render_user(u, req.base_url, extra), *args, with_totals=True)


def get_user(state: SandboxState, config: SandboxConfig, req: Request, user_id: str) -> Reply:
    """One user; an id that is no user of the account answers 204, as every GET by id does (see README)."""
    if (refused := admin_only(state)) is not None:
        return refused
    user = state.users.get(int(user_id))
    if user is None:
        return no_content()
    return hal(render_user(user, req.base_url, with_values(req)))
