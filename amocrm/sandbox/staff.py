"""The account's people as the integration sees them: whose rights it runs with, the administrator-only methods,
and the control actions that simulate staff changes (a manager leaves, comes back, is hired).

Reference: https://www.amocrm.ru/developers/content/oauth/scopes (a non-admin's token inherits that user's rights)
and https://www.amocrm.ru/developers/content/crm_platform/users-api ("available only with administrator rights").
"""

from typing import Any

from . import catalog
from .rows import User
from .state import SandboxState
from .validation import is_int
from .wire import Reply, problem

KEYS = ("connected_by_admin", "deactivate_user", "activate_user", "add_user")
_NEW_USER_KEYS = {"name", "email", "lang", "is_admin", "group_id"}
_DONE = {"deactivate_user": "deactivated_user", "activate_user": "activated_user"}
LANGS = ("ru", "en", "es", "pt")  # users-api: the user's language is one of these


def admin_only(state: SandboxState) -> Reply | None:
    """403 problem+json unless the integration was connected by an administrator."""
    if state.current_user().is_admin:
        return None
    return problem(403, "Не хватает прав для вызова данного метода")


def check(state: SandboxState, changes: dict[str, Any]) -> None:
    """ValueError naming the first bad staff change; nothing is applied here."""
    if "connected_by_admin" in changes:
        _check_connection(state, changes["connected_by_admin"])
    for key in ("deactivate_user", "activate_user"):
        if key in changes and not (is_int(changes[key]) and changes[key] in state.users):
            raise ValueError(f"{key} must be the id of a user of the account")
    if "add_user" in changes:
        _check_new_user(state, changes["add_user"])


def _check_connection(state: SandboxState, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError("connected_by_admin must be true or false")
    if not value and _first_active(state, admin=False) is None:
        raise ValueError("connected_by_admin=false needs an active user who is not an administrator")


def _check_new_user(state: SandboxState, data: Any) -> None:
    if not isinstance(data, dict) or set(data) - _NEW_USER_KEYS:
        raise ValueError(f"add_user must be an object with keys among {sorted(_NEW_USER_KEYS)}")
    for key in ("name", "email"):
        if not (isinstance(data.get(key), str) and data[key].strip()):
            raise ValueError(f"add_user.{key} must be a non-empty string")
    if any(user.email.lower() == data["email"].strip().lower() for user in state.users.values()):
        raise ValueError("add_user.email is already a user of the account")
    if data.get("lang", "ru") not in LANGS:
        raise ValueError(f"add_user.lang must be one of {', '.join(LANGS)}")
    if not isinstance(data.get("is_admin", False), bool):
        raise ValueError("add_user.is_admin must be true or false")
    if data.get("group_id", 0) not in catalog.USER_GROUPS:
        raise ValueError(f"add_user.group_id must be one of {sorted(catalog.USER_GROUPS)}")


def apply(state: SandboxState, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply checked changes; what was done, for the control endpoint's answer."""
    done: dict[str, Any] = {}
    if "add_user" in changes:
        done["added_user"] = _add_user(state, changes["add_user"]).id
    for key, active in (("deactivate_user", False), ("activate_user", True)):
        if key in changes:
            state.users[changes[key]].is_active = active
            done[_DONE[key]] = changes[key]
    if "connected_by_admin" in changes:
        user = _first_active(state, admin=changes["connected_by_admin"])
        state.connected_user_id = user.id if user else catalog.ADMIN_USER_ID
        done["connected_user_id"] = state.connected_user_id
    return done


def _add_user(state: SandboxState, data: dict[str, Any]) -> User:
    is_admin = data.get("is_admin", False)
    user = User(
        state.next_id("users"),
        data["name"].strip(),
        data["email"].strip(),
        lang=data.get("lang", "ru"),
        is_admin=is_admin,
        group_id=data.get("group_id", 0),
        role_id=None if is_admin else catalog.MANAGER_ROLE[0],
    )
    state.users[user.id] = user
    return user


def _first_active(state: SandboxState, admin: bool) -> User | None:
    return next((u for u in state.users.values() if u.is_active and u.is_admin == admin), None)


def describe(state: SandboxState) -> dict[str, Any]:
    user = state.current_user()
    return {"connected_by_admin": user.is_admin, "connected_user_id": user.id}
