"""The sandbox's own endpoints under /_sandbox/: state dump, settings and faults, reset. Never faulted."""

from typing import Any, Protocol

from . import staff, tokens
from .clock import Clock
from .config import SandboxConfig
from .faults import Faults
from .state import SandboxState
from .validation import is_int
from .wire import Reply, Request, json_reply

ACTIONS = ("reset", "revoke_tokens", "expire_tokens", "unblock", "advance_clock")


class Sandbox(Protocol):
    """What the control endpoints need of the running sandbox (the app provides it; nothing here imports the app)."""

    state: SandboxState
    config: SandboxConfig
    faults: Faults
    clock: Clock

    def settings(self) -> dict[str, Any]: ...

    def snapshot(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...


def handle(app: Sandbox, req: Request) -> Reply:
    routes = {
        ("GET", "/_sandbox/state"): lambda: json_reply(app.snapshot()),
        ("GET", "/_sandbox/control"): lambda: json_reply(app.settings()),
        ("POST", "/_sandbox/control"): lambda: _control(app, req),
        ("POST", "/_sandbox/reset"): lambda: _reset(app),
    }
    route = routes.get((req.method, req.path))
    if route is not None:
        return route()
    known = any(path == req.path for _, path in routes)
    return json_reply({"error": "method not allowed" if known else "not found"}, 405 if known else 404)


def _reset(app: Sandbox) -> Reply:
    app.reset()
    return json_reply({"reset": True, **app.settings()})


def _control(app: Sandbox, req: Request) -> Reply:
    """Validate everything first, then apply: reset, settings and faults, then the one-off actions."""
    try:
        data = req.json() if req.body.strip() else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return json_reply({"error": "body must be a JSON object"}, 400)
    actions = {key: data.pop(key) for key in ACTIONS if key in data}
    settings = {key: data.pop(key) for key in ("duplicate_control", "token_lifetime") if key in data}
    people = {key: data.pop(key) for key in staff.KEYS if key in data}
    try:
        _check(actions, settings)
        app.faults.config.updated(data)
        with app.state.lock:  # a reset comes first, so the staff changes are checked against the seeded users
            staff.check(SandboxState(app.clock) if actions.get("reset") else app.state, people)
    except ValueError as error:
        return json_reply({"error": str(error)}, 400)
    done = _apply(app, actions, settings, data)
    with app.state.lock:
        done.update(staff.apply(app.state, people))
    return json_reply({**app.settings(), "done": done})


def _check(actions: dict[str, Any], settings: dict[str, Any]) -> None:
    for key, value in actions.items():
        if key == "advance_clock":
            if not (isinstance(value, int | float) and not isinstance(value, bool) and value >= 0):
                raise ValueError("advance_clock must be a non-negative number of seconds")
        elif value is not True:
            raise ValueError(f"{key} must be true")
    if not isinstance(settings.get("duplicate_control", False), bool):
        raise ValueError("duplicate_control must be true or false")
    if "token_lifetime" in settings and not (is_int(settings["token_lifetime"]) and settings["token_lifetime"] > 0):
        raise ValueError("token_lifetime must be a positive integer (seconds)")


def _apply(app: Sandbox, actions: dict[str, Any], settings: dict[str, Any], faults: dict[str, Any]) -> dict:
    done: dict[str, Any] = {}
    if actions.get("reset"):
        app.reset()
        done["reset"] = True
    for key, value in settings.items():
        setattr(app.config, key, value)
    app.faults.configure(faults)
    if actions.get("revoke_tokens"):
        done["revoked_tokens"] = tokens.revoke_all(app.state)
    if actions.get("expire_tokens"):
        done["expired_tokens"] = tokens.expire_access_tokens(app.state)
    if actions.get("unblock"):
        app.faults.unblock()
        done["unblocked"] = True
    if "advance_clock" in actions:
        app.clock.advance(actions["advance_clock"])
        done["advanced_clock"] = actions["advance_clock"]
    return done
