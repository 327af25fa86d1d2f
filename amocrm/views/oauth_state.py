"""The OAuth `state`: random, sent in a short-lived cookie, and bound to the staff user's session.

The cookie carries the state itself; the session keeps only its hash, the user id and the time it was
issued. A callback passes only if the query, the cookie and the session agree, within ten minutes, for
the same user, and only once: the session entry is popped before it is compared.
"""

import hashlib
import hmac
import secrets
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

COOKIE_NAME = "amocrm_oauth_state"
COOKIE_PATH = "/api/amocrm/"
SESSION_KEY = "amocrm_oauth_state"
LIFETIME_SECONDS = 10 * 60


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def issue(request: HttpRequest, response: HttpResponse, state: str) -> None:
    """Remember `state` for this user's session and put it in the cookie of `response`."""
    request.session[SESSION_KEY] = {"hash": _digest(state), "user_id": request.user.pk, "issued_at": time.time()}
    response.set_cookie(
        COOKIE_NAME,
        state,
        max_age=LIFETIME_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",  # Lax: the cookie still comes along on amoCRM's top-level redirect back to us
        secure=not settings.DEBUG,
    )


def new_state() -> str:
    return secrets.token_urlsafe(32)


def pop_and_check(request: HttpRequest) -> bool:
    """True if the callback's state is the one issued to this user's session; usable once only."""
    stored = request.session.pop(SESSION_KEY, None)
    given = request.GET.get("state", "")
    cookie = request.COOKIES.get(COOKIE_NAME, "")
    if not (isinstance(stored, dict) and given and cookie):
        return False
    fresh = 0 <= time.time() - stored.get("issued_at", 0) < LIFETIME_SECONDS
    same_user = stored.get("user_id") == request.user.pk
    return (
        fresh
        and same_user
        and hmac.compare_digest(given.encode(), cookie.encode())
        and hmac.compare_digest(_digest(given), str(stored.get("hash", "")))
    )


def clear(response: HttpResponse) -> None:
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, samesite="Lax")
