"""The webhook registry: POST/GET/DELETE /api/v4/webhooks.

Reference: https://www.amocrm.ru/developers/content/crm_platform/webhooks-api,
https://www.amocrm.ru/developers/content/crm_platform/webhooks-format
"""

from typing import Any
from urllib.parse import urlsplit

from .catalog import ACCOUNT_ID, ADMIN_USER_ID
from .config import SandboxConfig
from .entities import links
from .rows import Webhook
from .staff import admin_only
from .state import SandboxState
from .validation import Errors, is_int, read_object, validation_failed
from .wire import Reply, Request, hal, no_content, problem

# Managing webhooks through the API is for administrators only (403 otherwise):
# https://www.amocrm.ru/developers/content/crm_platform/webhooks-api

# The events an account webhook can carry.
_ENTITIES = ("lead", "contact", "company", "customer", "task")
EVENTS = frozenset(
    [f"{action}_{entity}" for action in ("add", "update", "delete", "responsible") for entity in _ENTITIES]
    + [f"restore_{entity}" for entity in ("lead", "contact", "company")]
    + [f"note_{entity}" for entity in ("lead", "contact", "company", "customer")]
    + ["add_talk", "update_talk", "status_lead", "add_chat_template_review"]
)
MAX_WEBHOOKS = 100  # at most 100 webhooks per account


def _check_destination(value: Any, errors: Errors) -> None:
    """An absolute http(s) URL; no Cyrillic (non-ASCII) domains."""
    if value is None:
        errors.missing("destination")
        return
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None:
        errors.wrong_type("destination", "string")
    elif parts.scheme not in ("http", "https") or not parts.hostname or not parts.hostname.isascii():
        errors.add("destination", "InvalidUrl", "This value is not a valid URL.")


def _check_settings(value: Any, errors: Errors) -> None:
    if value is None:
        errors.missing("settings")
    elif not isinstance(value, list) or not value:
        errors.wrong_type("settings", "array")
    else:
        for index, event in enumerate(value):
            if event not in EVENTS:
                errors.bad_choice(f"settings.{index}")


def _render(hook: Webhook) -> dict[str, Any]:
    """The documented fields of a webhook."""
    fields = ("id", "destination", "created_at", "updated_at", "created_by", "sort", "disabled", "settings")
    return {**{key: getattr(hook, key) for key in fields}, "account_id": ACCOUNT_ID}


def find(state: SandboxState, destination: str) -> Webhook | None:
    return next((hook for hook in state.webhooks.values() if hook.destination == destination), None)


def subscribe(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """POST {destination, settings, sort?} -> 201; the same destination again updates that webhook."""
    if (refused := admin_only(state)) is not None:
        return refused
    data, reply = read_object(req)
    if reply is not None:
        return reply
    errors = Errors()
    errors.check_keys(data, {"destination", "settings", "sort"}, "")
    _check_destination(data.get("destination"), errors)
    _check_settings(data.get("settings"), errors)
    if "sort" in data and not is_int(data["sort"]):
        errors.wrong_type("sort", "int")
    hook = find(state, data.get("destination"))
    if hook is None and len(state.webhooks) >= MAX_WEBHOOKS:
        errors.add("destination", "TooManyItems", f"An account has at most {MAX_WEBHOOKS} webhooks.")
    if errors:
        return validation_failed([("0", errors)])
    now = state.clock.timestamp()
    if hook is None:
        hook = Webhook(state.next_id("webhooks"), data["destination"], [], created_at=now, created_by=ADMIN_USER_ID)
        state.webhooks[hook.id] = hook
    hook.settings, hook.sort, hook.updated_at = list(dict.fromkeys(data["settings"])), data.get("sort", 10), now
    hook.disabled = False
    return hal(_render(hook), 201)


def list_webhooks(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """GET, optionally ?filter[destination]=<url> (exact); 204 when there is none."""
    if (refused := admin_only(state)) is not None:
        return refused
    destination = req.param("filter[destination]")
    hooks = [h for h in state.webhooks.values() if destination is None or h.destination == destination]
    if not hooks:
        return no_content()
    body = {
        "_total_items": len(hooks),
        "_links": links(req.base_url, req.path),
        "_embedded": {"webhooks": [_render(h) for h in sorted(hooks, key=lambda h: h.id)]},
    }
    return hal(body)


def unsubscribe(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """DELETE {destination} -> 204; 404 for a destination that has no webhook."""
    if (refused := admin_only(state)) is not None:
        return refused
    data, reply = read_object(req)
    if reply is not None:
        return reply
    errors = Errors()
    errors.check_keys(data, {"destination"}, "")
    if data.get("destination") is None:
        errors.missing("destination")
    elif not isinstance(data["destination"], str):
        errors.wrong_type("destination", "string")
    if errors:
        return validation_failed([("0", errors)])
    hook = find(state, data["destination"])
    if hook is None:
        return problem(404, f"Webhook for {data['destination']} not found")
    del state.webhooks[hook.id]
    return no_content()
