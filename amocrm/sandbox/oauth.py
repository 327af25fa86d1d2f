"""OAuth as amoCRM does it: consent page, token endpoint, subdomain lookup.

Reference: https://www.amocrm.ru/developers/content/oauth/step-by-step,
https://www.amocrm.ru/developers/content/oauth/account-subdomain-info
"""

import hmac
from urllib.parse import urlencode

from . import pages, tokens
from .catalog import ACCOUNT_ID
from .config import CODE_LIFETIME, SandboxConfig
from .state import SandboxState
from .wire import PROBLEM_JSON, Reply, Request, html, json_reply, problem, redirect

PLATFORM_AMOCRM_RU = 1  # 1 = amocrm.ru, 2 = amocrm.com/kommo.com


def _fields(req: Request) -> dict[str, str]:
    """Query (GET) or form (POST) fields; extra League params (scope, response_type...) are ignored."""
    data = req.form_or_json() if req.method == "POST" else {k: v[0] for k, v in req.query.items()}
    return {key: str(value) for key, value in data.items()}


def consent(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """GET /oauth shows Allow/Deny; POST /oauth (the form) redirects to the registered redirect URI."""
    if req.method not in ("GET", "POST"):
        return html(pages.error_page("Method not allowed", "Use GET or POST."), 405)
    fields = _fields(req)
    client_id = fields.get("client_id", "")
    if not client_id:
        return html(pages.error_page("Bad request", "client_id is required."), 400)
    if client_id != config.client_id:
        return html(pages.error_page("Integration not found", f"No integration with id {client_id}."), 404)
    if req.method == "GET":
        kept = {key: fields[key] for key in ("client_id", "state", "mode") if key in fields}
        return html(pages.consent_page(config.integration_name, config.subdomain, kept))
    return redirect(_callback(state, config, req, fields))


def _callback(state: SandboxState, config: SandboxConfig, req: Request, fields: dict[str, str]) -> str:
    """Approve -> code, referer, state (only if sent), platform, client_id; deny -> error=access_denied."""
    allowed = fields.get("decision") == "allow"
    params = {"code": tokens.new_code(state, config), "referer": req.host} if allowed else {"error": "access_denied"}
    if "state" in fields:
        params["state"] = fields["state"]
    if allowed:
        params["platform"] = str(PLATFORM_AMOCRM_RU)
    params["client_id"] = config.client_id
    separator = "&" if "?" in config.redirect_uri else "?"
    return f"{config.redirect_uri}{separator}{urlencode(params)}"


def oauth_error(status: int, hint: str) -> Reply:
    """Token-endpoint errors use the OAuthProblemJson shape with a `hint`."""
    body = {
        "hint": hint,
        "title": "Некорректный запрос",
        "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
        "status": status,
        "detail": "В запросе отсутствует ряд параметров или параметры невалидны",
    }
    return json_reply(body, status, PROBLEM_JSON)


def _same(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def access_token(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """POST /oauth2/access_token, JSON or form-encoded."""
    body = req.form_or_json()
    grant = body.get("grant_type")
    if grant not in ("authorization_code", "refresh_token"):
        return oauth_error(400, "Check the `grant_type` parameter")
    if not _same(body.get("client_id"), config.client_id):
        return oauth_error(400, "Check the `client_id` parameter")
    if not _same(body.get("client_secret"), config.client_secret):
        return oauth_error(400, "Check the `client_secret` parameter")
    if not body.get("redirect_uri"):
        return oauth_error(400, "Check the `redirect_uri` parameter")
    if body["redirect_uri"] != config.redirect_uri:  # must match the registered one exactly
        return oauth_error(400, "Redirect URI is not associated with client")
    if grant == "authorization_code":
        return _exchange_code(state, config, req, body.get("code"))
    return _refresh(state, config, req, body.get("refresh_token"))


def _exchange_code(state: SandboxState, config: SandboxConfig, req: Request, code: object) -> Reply:
    """A code is single-use and lives 20 minutes."""
    if not isinstance(code, str) or not code:
        return oauth_error(400, "Check the `code` parameter")
    stored = state.codes.get(code)
    if stored is None:
        return oauth_error(400, "Cannot decrypt the authorization code")
    if stored.used:
        return oauth_error(400, "Authorization code has been revoked")
    if state.clock.now() > stored.created_at + CODE_LIFETIME:
        return oauth_error(400, "Authorization code has expired")
    stored.used = True
    return _token_reply(state, config, req)


def _refresh(state: SandboxState, config: SandboxConfig, req: Request, refresh_token: object) -> Reply:
    """A refresh token works once; reusing a spent one answers 401 "Token has been revoked"."""
    if not isinstance(refresh_token, str) or not refresh_token:
        return oauth_error(400, "Check the `refresh_token` parameter")
    token = state.token_by_refresh(refresh_token)
    if token is None:
        return oauth_error(401, "Cannot decrypt the refresh token")
    if token.refresh_spent:
        return oauth_error(401, "Token has been revoked")
    if state.clock.now() > token.refresh_expires_at:
        return oauth_error(401, "Token has expired")
    # The old pair dies with the refresh: the documented hints are those of the League OAuth server, which also
    # revokes the access token issued with the spent refresh token.
    token.refresh_spent = token.access_revoked = True
    return _token_reply(state, config, req)


def _token_reply(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """Success body, plus Kommo's server_time."""
    token = tokens.issue(state, config, req.host)
    body = {
        "token_type": "Bearer",
        "expires_in": config.token_lifetime,
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "server_time": int(token.issued_at),
    }
    return json_reply(body)


def current_subdomain(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """GET /oauth2/account/current/subdomain with X-Refresh-Token (no Bearer); 401 otherwise."""
    token = state.token_by_refresh(req.header("x-refresh-token") or "")
    if token is None or token.refresh_spent or state.clock.now() > token.refresh_expires_at:
        return problem(401, "Неверный логин или пароль")
    body = {"id": ACCOUNT_ID, "subdomain": config.subdomain, "domain": req.host, "top_level_domain": "ru"}
    return json_reply(body)
