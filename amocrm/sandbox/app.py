"""One sandbox account: routes each request through the gateway (faults, rate limit) to its endpoint.

Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api,
https://www.amocrm.ru/developers/content/crm_platform/error-codes,
https://www.amocrm.ru/developers/content/oauth/step-by-step
"""

import time
import uuid
from dataclasses import replace
from typing import Any

from . import api, control, lead_updates, oauth, pages, staff, tokens
from .clock import Clock
from .config import SandboxConfig
from .faults import FaultConfig, Faults
from .rows import RequestRecord
from .state import SandboxState
from .wire import Reply, Request, html, problem

_OAUTH_ROUTES = {
    ("POST", "/oauth2/access_token"): oauth.access_token,
    ("GET", "/oauth2/account/current/subdomain"): oauth.current_subdomain,
}


def scope_of(path: str) -> str:
    """sandbox (control, never faulted), api, oauth (token endpoints) or page (consent, overview)."""
    for prefix, scope in (("/_sandbox/", "sandbox"), ("/api/v4/", "api"), ("/oauth2/", "oauth")):
        if path.startswith(prefix):
            return scope
    return "page"


class SandboxApp:
    def __init__(
        self, config: SandboxConfig | None = None, faults: FaultConfig | None = None, clock: Clock | None = None
    ) -> None:
        self.config = config or SandboxConfig()
        self._initial_config = replace(self.config)
        self.clock = clock or Clock()
        self.state = SandboxState(self.clock, self.config.state_file)
        self.faults = Faults(faults or FaultConfig(), self.clock)

    def handle(self, req: Request) -> Reply:
        # The log keeps arrival times: amoCRM counts its 7/s as requests arrive, after any connection setup.
        arrived = req.arrived if req.arrived is not None else self.clock.now()
        if self.config.public_host:
            req.host = self.config.public_host
        scope = scope_of(req.path)
        if scope in ("api", "oauth"):
            time.sleep(self.faults.latency(scope))
            reply = self._through_gateway(req, scope)
        elif scope == "sandbox":
            reply = control.handle(self, req)
        else:
            reply = self._page(req)
        reply.headers.setdefault("X-Request-Id", uuid.uuid4().hex)  # the SDK keeps it for support
        if scope != "sandbox":
            self._record(req, reply, scope, arrived)
        return reply

    def _through_gateway(self, req: Request, scope: str) -> Reply:
        reply = self.faults.before(scope, req.method)
        if reply is not None:
            return reply
        reply = self._api(req) if scope == "api" else self._oauth(req)
        reply.drop = self.faults.drop_now(scope)
        return reply

    def _api(self, req: Request) -> Reply:
        if not tokens.valid_access(self.state, req.header("authorization")):
            return problem(401, "Неверный логин или пароль")  # expired, revoked or unknown token
        return api.dispatch(self.state, self.config, req)

    def _oauth(self, req: Request) -> Reply:
        handler = _OAUTH_ROUTES.get((req.method, req.path))
        if handler is None:
            known = any(path == req.path for _, path in _OAUTH_ROUTES)
            return problem(405, f"Method {req.method} is not allowed") if known else api.not_found(req)
        with self.state.lock:
            return handler(self.state, self.config, req)

    def _page(self, req: Request) -> Reply:
        if req.path in ("/oauth", "/oauth/"):  # the SDK's URL ends with a slash
            with self.state.lock:
                return oauth.consent(self.state, self.config, req)
        if req.path == "/" and req.method == "GET":
            page = pages.index_page(self.state.dump(), req.base_url, self.config.as_dict(), self.faults.describe())
            return html(page)
        with self.state.lock:  # the overview's stage and delete forms
            reply = lead_updates.page_action(self.state, self.config, req)
        return reply or api.not_found(req)

    def _record(self, req: Request, reply: Reply, scope: str, arrived: float) -> None:
        body = None
        if scope == "api" and req.body:  # token-endpoint bodies carry the client secret: never kept
            try:
                body = req.json()
            except ValueError:
                body = req.body.decode("utf-8", "replace")
        query = req.raw_query
        record = RequestRecord(arrived, req.method, req.path, query, reply.status, reply.headers["X-Request-Id"])
        record.dropped, record.body, record.connection = reply.drop, body, req.connection
        self.state.log_request(record)
        if req.method != "GET":
            self.state.save()

    def settings(self) -> dict[str, Any]:
        return {
            "faults": self.faults.describe(),
            "duplicate_control": self.config.duplicate_control,
            "token_lifetime": self.config.token_lifetime,
            **staff.describe(self.state),
            "now": self.clock.now(),
        }

    def snapshot(self) -> dict[str, Any]:
        """Everything the sandbox holds, for tests: entities, tokens, codes, requests, settings."""
        return {**self.state.dump(), "config": self.config.as_dict(), **self.settings()}

    def reset(self) -> None:
        """Back to start-up: no data, no tokens, start-up settings and faults, not blocked."""
        self.state.clear()
        self.state.save()
        self.faults.reset()
        self.config.duplicate_control = self._initial_config.duplicate_control
        self.config.token_lifetime = self._initial_config.token_lifetime
