"""OAuth with amoCRM: the consent URL, the token endpoint and the subdomain lookup.

Reference: https://www.amocrm.ru/developers/content/oauth/step-by-step
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from acoustic.http_session import json_object
from amocrm.api import transport
from amocrm.api.errors import AmoError, ErrorKind, unexpected_answer, with_amocrms_words
from amocrm.models import Platform, Settings

logger = logging.getLogger(__name__)

CONSENT_URLS = {Platform.AMOCRM: "https://www.amocrm.ru/oauth", Platform.KOMMO: "https://www.kommo.com/oauth"}
CONSENT_MODES = ("popup", "post_message")
# Any host under amoCRM's own domains: one or more DNS labels, nothing else (no port, userinfo or path).
# Reference: https://www.amocrm.ru/developers/content/crm_platform/separate-platforms
_ACCOUNT_HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:amocrm\.ru|amocrm\.com|kommo\.com)", re.ASCII | re.IGNORECASE
)

# What each token-endpoint `hint` means for the person pressing Connect (matched case-insensitively).
_HINT_MESSAGES = [
    (
        "authorization code has expired",
        gettext_lazy("The authorization code expired (it lives 20 min). Press Connect again."),
    ),
    (
        "authorization code has been revoked",
        gettext_lazy("This authorization code was already used. Press Connect again."),
    ),
    ("cannot decrypt the authorization code", gettext_lazy("amoCRM did not recognise the code. Press Connect again.")),
    (
        "client_id",
        gettext_lazy("amoCRM does not know this integration ID: copy it again from the integration's Keys tab."),
    ),
    ("client_secret", gettext_lazy("amoCRM rejected the secret key: copy it again from the integration's Keys tab.")),
    (
        "redirect uri",
        gettext_lazy("amoCRM does not accept the redirect URI; in the integration it must be %(redirect_uri)s"),
    ),
    (
        "invalid account",
        gettext_lazy("The integration is not installed in this amoCRM account, or the address is wrong."),
    ),
    ("token has expired", gettext_lazy("The refresh token has expired (unused for 3 months). Reconnect in the admin.")),
    (
        "revoked",
        gettext_lazy("amoCRM revoked access (integration off, or token already used). Reconnect in the admin."),
    ),
    ("refresh token", gettext_lazy("amoCRM no longer accepts the stored refresh token. Reconnect in the admin.")),
    ("refresh_token", gettext_lazy("amoCRM no longer accepts the stored refresh token. Reconnect in the admin.")),
]
_REVOKED_HINTS = ("token has been revoked", "token has expired", "refresh token", "refresh_token")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def redirect_uri() -> str:
    """Token requests must name exactly the redirect URI registered in the integration."""
    return settings.SITE_URL + "/api/amocrm/callback"


def authorize_url(conn: Settings, state: str, mode: str = "post_message") -> str:
    """The consent page of the platform (or the sandbox) with client_id, state and mode."""
    if mode not in CONSENT_MODES:
        raise ValueError(f"mode must be one of {CONSENT_MODES}, not {mode!r}")
    base = f"{settings.AMOCRM_SANDBOX_URL}/oauth" if settings.AMOCRM_SANDBOX_URL else CONSENT_URLS[conn.platform]
    return f"{base}?{urlencode({'client_id': conn.client_id, 'state': state, 'mode': mode})}"


def is_allowed_account_host(host: str) -> bool:
    """Whether we may send the client secret to this host: the callback's `referer` is attacker-controllable."""
    if not isinstance(host, str) or len(host) > 253:
        return False
    if settings.AMOCRM_SANDBOX_URL and host == urlsplit(settings.AMOCRM_SANDBOX_URL).netloc:
        return True
    return _ACCOUNT_HOST.fullmatch(host) is not None


def exchange_code(conn: Settings, code: str, referer: str) -> TokenPair:
    """Trade the callback's code for a pair at the account host named in `referer`. Stores nothing."""
    if not is_allowed_account_host(referer):
        message = _("%(host)s is not an amoCRM or Kommo account address; nothing was sent to it.")
        raise AmoError(ErrorKind.TOKEN_REQUEST, message % {"host": str(referer)[:100]})
    body = {"grant_type": "authorization_code", "code": code}
    return _token_request(conn, _host_url(referer), body)


def refresh_pair(conn: Settings, keep: Callable[[TokenPair], None] | None = None) -> TokenPair:
    """Spend the stored refresh token on a new pair; `keep` saves it before anything else happens (tokens.py)."""
    body = {"grant_type": "refresh_token", "refresh_token": conn.refresh_token}
    return _token_request(conn, conn.base_url, body, keep)


def lookup_account_domain(conn: Settings) -> str | None:
    """The host the account lives on now, asked with the refresh token; None when amoCRM cannot say.

    Reference: https://www.amocrm.ru/developers/content/oauth/account-subdomain-info
    """
    api_domain = conn.api_domain
    if not is_allowed_account_host(api_domain):
        return None
    url = f"{_host_url(api_domain)}/oauth2/account/current/subdomain"
    try:
        response = transport.send("GET", url, headers={"X-Refresh-Token": conn.refresh_token})
    except AmoError:
        return None
    domain = json_object(response).get("domain") if response.status_code == 200 else None
    return domain if isinstance(domain, str) and is_allowed_account_host(domain) else None


def _host_url(host: str) -> str:
    # The sandbox speaks plain HTTP; every amoCRM host is HTTPS only.
    if settings.AMOCRM_SANDBOX_URL and host == urlsplit(settings.AMOCRM_SANDBOX_URL).netloc:
        return f"{urlsplit(settings.AMOCRM_SANDBOX_URL).scheme}://{host}"
    return f"https://{host}"


def _token_request(
    conn: Settings, host_url: str, grant: dict[str, str], keep: Callable[[TokenPair], None] | None = None
) -> TokenPair:
    """POST /oauth2/access_token: a 200 is a pair; anything else an AmoError with a readable message."""
    credentials = {"client_id": conn.client_id, "client_secret": conn.client_secret, "redirect_uri": redirect_uri()}
    issued: list[TokenPair] = []

    def read_pair(response: Any) -> None:
        if response.status_code == 200:
            issued.append(_pair(response))
            if keep is not None:
                keep(issued[0])

    response = transport.send(
        "POST", f"{host_url}/oauth2/access_token", json={**credentials, **grant}, on_answer=read_pair
    )
    if response.status_code != 200:
        raise _token_error(response)
    return issued[0]


def _pair(response: Any) -> TokenPair:
    data = json_object(response)
    try:
        return TokenPair(str(data["access_token"]), str(data["refresh_token"]), int(data["expires_in"]))
    except (KeyError, TypeError, ValueError) as error:
        raise unexpected_answer("POST") from error


def _token_error(response: Any) -> AmoError:
    """Refusals carry a `hint`; a revoked refresh token is REVOKED; 429 and 5xx read as in the API.

    Whatever else the token endpoint refuses is about our credentials or the account's address, never a lead's data.
    """
    problem = json_object(response)
    hint = str(problem.get("hint") or "")
    if response.status_code in (400, 401) and hint:
        return _hinted_refusal(response, problem, hint)
    if response.status_code in (400, 401, 404):
        message = _("amoCRM refused the token request (HTTP %(status)s): check the integration's keys and the "
                    "account domain, then reconnect.") % {"status": response.status_code}  # fmt: skip
        return AmoError(ErrorKind.TOKEN_REQUEST, with_amocrms_words(message, response, problem),
                        status=response.status_code)  # fmt: skip
    return transport.refusal(response, "POST")


def _hinted_refusal(response: Any, problem: dict[str, Any], hint: str) -> AmoError:
    logger.warning("amoCRM token endpoint refused: HTTP %s, %s", response.status_code, hint)
    lowered = hint.lower()
    revoked = any(needle in lowered for needle in _REVOKED_HINTS) and "authorization code" not in lowered
    message = next((str(text) for needle, text in _HINT_MESSAGES if needle in lowered), None)
    if message is None:
        message = _("amoCRM refused the token request: %(hint)s") % {"hint": hint}
    else:
        message = with_amocrms_words(message % {"redirect_uri": redirect_uri()}, response, problem)
    kind = ErrorKind.REVOKED if revoked else ErrorKind.TOKEN_REQUEST
    return AmoError(kind, message, permanent=True, status=response.status_code)
