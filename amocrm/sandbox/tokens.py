"""Authorization codes and token pairs: issuing, checking, revoking.

Reference: https://www.amocrm.ru/developers/content/oauth/step-by-step,
https://www.amocrm.ru/developers/content/oauth/account-subdomain-info,
https://www.amocrm.ru/developers/content/crm_platform/error-codes
"""

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from typing import Any

from .catalog import ACCOUNT_ID, ADMIN_USER_ID
from .config import REFRESH_TOKEN_LIFETIME, SandboxConfig
from .rows import AuthCode, Token
from .state import SandboxState


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(claims: dict[str, Any], secret: str) -> str:
    """HS256 JWT; real access tokens are JWTs carrying account_id and api_domain."""
    header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (what an integrator reads, e.g. api_domain)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _opaque() -> str:
    """Codes and refresh tokens are long opaque strings starting "def50200"."""
    return "def50200" + secrets.token_hex(240)


def new_code(state: SandboxState, config: SandboxConfig) -> str:
    code = AuthCode(_opaque(), config.client_id, config.redirect_uri, state.clock.now())
    with state.lock:
        state.codes[code.code] = code
    return code.code


def issue(state: SandboxState, config: SandboxConfig, api_host: str) -> Token:
    """A new access/refresh pair; api_host is the sandbox host:port, as `api_domain`."""
    now = state.clock.now()
    claims = {
        "aud": config.client_id,
        "jti": str(uuid.uuid4()),
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now + config.token_lifetime),
        "sub": str(ADMIN_USER_ID),
        "grant_type": "",
        "account_id": ACCOUNT_ID,
        "base_domain": "amocrm.ru",
        "version": 2,
        "scopes": ["crm", "notifications"],
        "user_flags": 0,
        "hash_uuid": str(uuid.uuid4()),
        "api_domain": api_host,
        "client_uuid": config.client_id,
    }
    token = Token(
        access_token=make_jwt(claims, config.client_secret),
        refresh_token=_opaque(),
        client_id=config.client_id,
        issued_at=now,
        expires_at=now + config.token_lifetime,
        refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
    )
    with state.lock:
        state.tokens.append(token)
    return token


def valid_access(state: SandboxState, authorization: str | None) -> bool:
    """The API needs `Authorization: Bearer <token>` with a known, unrevoked, unexpired token."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return False
    token = state.token_by_access(value.strip())
    return token is not None and not token.access_revoked and state.clock.now() < token.expires_at


def revoke_all(state: SandboxState) -> int:
    """Like an admin disabling the integration: every access and refresh token stops working."""
    with state.lock:
        for token in state.tokens:
            token.access_revoked = token.refresh_spent = True
        return len(state.tokens)


def expire_access_tokens(state: SandboxState) -> int:
    """Access tokens expire now; refresh tokens keep working."""
    with state.lock:
        now = state.clock.now()
        for token in state.tokens:
            token.expires_at = min(token.expires_at, now)
        return len(state.tokens)
