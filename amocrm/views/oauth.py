"""OAuth (authorize, callback), staff JSON endpoints (test, leads) and amoCRM's disconnect webhook."""

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from amocrm import client, oauth_state, webhook_subscription
from amocrm.client import Account, AmoError, ErrorKind
from amocrm.connection_panel import token_expires_at
from amocrm.models import Platform, Settings

logger = logging.getLogger(__name__)

MAX_LEADS_PER_PAGE = 250  # amocrm-api.md §4.9: limit ≤ 250
# Our side must act (fill in keys, connect again) -> 409; amoCRM refuses or cannot be reached -> 503.
STATUS_BY_KIND = {
    ErrorKind.NOT_CONFIGURED: 409,
    ErrorKind.NOT_CONNECTED: 409,
    ErrorKind.REVOKED: 409,
    ErrorKind.BLOCKED: 503,
    ErrorKind.RATE_LIMITED: 503,
    ErrorKind.NETWORK: 503,
}
# §1.3: `platform` in the redirect says which amoCRM the account lives on.
PLATFORM_BY_PARAM = {"1": Platform.AMOCRM, "2": Platform.KOMMO}


def _is_settings_staff(request: HttpRequest) -> bool:
    user = request.user
    return user.is_active and user.is_staff and user.has_perm("amocrm.change_settings")


def staff_only(view: Callable) -> Callable:
    """Pages: anonymous visitors go to the admin login, logged-in non-staff get 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not _is_settings_staff(request):
            return HttpResponse(_("Only staff who manage the amoCRM settings may do this."), status=403)
        return view(request, *args, **kwargs)

    return wrapped


def staff_only_json(view: Callable) -> Callable:
    """API endpoints: anyone but staff gets a JSON 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _is_settings_staff(request):
            return JsonResponse({"ok": False, "error": "Staff only: log in to the admin first."}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _to_settings() -> HttpResponseRedirect:
    return redirect("admin:amocrm_settings_change", 1)


def _oauth_error(request: HttpRequest, message: str) -> HttpResponse:
    context = {**admin.site.each_context(request), "title": _("amoCRM connection failed"), "message": message}
    return render(request, "amocrm/oauth_error.html", context, status=400)


@require_GET
@staff_only
def authorize(request: HttpRequest) -> HttpResponse:
    """GET /api/amocrm/authorize: off to amoCRM's consent page with a fresh state."""
    conn = Settings.load()
    if not (conn.client_id and conn.client_secret):
        messages.error(request, _("Enter the integration ID and the secret key and save, then press Connect."))
        return _to_settings()
    state = oauth_state.new_state()
    response = HttpResponseRedirect(client.authorize_url(conn, state))
    oauth_state.issue(request, response, state)
    return response


@require_GET
@staff_only
def callback(request: HttpRequest) -> HttpResponse:
    """GET /api/amocrm/callback: amoCRM sends the staff member back here with a code (or a refusal)."""
    state_ok = oauth_state.pop_and_check(request)  # popped first: a state works once, whatever follows
    response = _callback_response(request) if state_ok else _bad_state(request)
    oauth_state.clear(response)
    return response


def _bad_state(request: HttpRequest) -> HttpResponse:
    logger.warning("amoCRM callback with a missing, wrong, expired or reused state")
    return _oauth_error(request, _("This sign-in link is invalid, expired or already used. Press Connect again."))


def _callback_response(request: HttpRequest) -> HttpResponse:
    error = request.GET.get("error")
    if error == "access_denied":
        messages.warning(request, _("Connecting to amoCRM was cancelled: access was not allowed."))
        return _to_settings()
    if error:
        return _oauth_error(request, _("amoCRM refused the connection (%(error)s).") % {"error": error})
    code, referer = request.GET.get("code", ""), request.GET.get("referer", "")
    if not code:
        return _oauth_error(request, _("amoCRM sent no authorization code. Press Connect again."))
    if not client.is_allowed_account_host(referer):
        logger.warning("amoCRM callback with a disallowed referer %r", referer)
        message = _("%(host)s is not an amoCRM or Kommo account address; nothing was sent to it.")
        return _oauth_error(request, message % {"host": referer or "-"})
    try:
        account = _connect(code, referer, request.GET.get("platform", ""))
    except AmoError as error:
        messages.error(request, error.message)
        return _to_settings()
    messages.success(request, _("Connected to %(name)s.") % {"name": account.name})
    return _to_settings()


def _connect(code: str, referer: str, platform: str) -> Account:
    """Exchange the code, then store tokens, domain and account together or not at all."""
    pair = client.exchange_code(Settings.load(), code, referer)
    with transaction.atomic():
        conn = Settings.load_for_update()
        conn.store_tokens(pair.access_token, pair.refresh_token, pair.expires_in)
        conn.domain = referer
        conn.platform = PLATFORM_BY_PARAM.get(platform, conn.platform)
        conn.long_lived_token = ""  # connecting with OAuth replaces a pasted long-lived token
        conn.save(update_fields=["domain", "platform", "long_lived_token", "updated_at"])
        account = client.get_account(conn)
        conn.mark_connected(account.id, account.name)
    return account


def _amo_error_json(error: AmoError) -> JsonResponse:
    response = JsonResponse({"ok": False, "error": error.message}, status=STATUS_BY_KIND.get(error.kind, 502))
    if error.retry_after:
        response["Retry-After"] = str(int(error.retry_after))
    return response


@require_GET
@staff_only_json
def test(request: HttpRequest) -> JsonResponse:
    """GET /api/amocrm/test: one cheap call that proves the connection works."""
    try:
        account = client.get_account(Settings.load())
    except AmoError as error:
        return _amo_error_json(error)
    expires_at = token_expires_at(Settings.load())  # re-read: the call may have refreshed the tokens
    return JsonResponse(
        {"ok": True, "account": asdict(account), "token_expires_at": expires_at.isoformat() if expires_at else None}
    )


def _page_and_limit(query: QueryDict) -> tuple[int, int]:
    try:
        page, limit = int(query.get("page", 1)), int(query.get("limit", 50))
    except ValueError:
        raise ValueError("page and limit must be whole numbers.") from None
    if page < 1:
        raise ValueError("page must be 1 or more.")
    if not 1 <= limit <= MAX_LEADS_PER_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_LEADS_PER_PAGE}.")
    return page, limit


@require_GET
@staff_only_json
def leads(request: HttpRequest) -> JsonResponse:
    """GET /api/amocrm/leads?page=&limit=&query=: the account's deals, one page at a time."""
    try:
        page, limit = _page_and_limit(request.GET)
    except ValueError as error:
        return JsonResponse({"ok": False, "error": str(error)}, status=400)
    try:
        result = client.list_leads(Settings.load(), page=page, limit=limit, query=request.GET.get("query") or None)
    except AmoError as error:
        return _amo_error_json(error)
    body = {"page": page, "limit": limit, "next": page + 1 if result.has_next else None}
    return JsonResponse({**body, "leads": [asdict(lead) for lead in result.leads]})


def _signature_is_valid(conn: Settings, client_uuid: str, account_id: str, signature: str) -> bool:
    """§1.10: HMAC-SHA256(key=client_secret, msg="{client_uuid}|{account_id}"), hex."""
    if not (conn.client_id and conn.client_secret and client_uuid and account_id and signature):
        return False
    if not hmac.compare_digest(client_uuid.encode(), conn.client_id.encode()):
        return False
    message = f"{client_uuid}|{account_id}".encode()
    expected = hmac.new(conn.client_secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.lower().encode())


@require_GET
def disconnect(request: HttpRequest) -> JsonResponse:
    """GET /api/amocrm/disconnect: amoCRM says an admin switched the integration off (§1.10)."""
    conn = Settings.load()
    # Before 2024-01-25 amoCRM named the parameter client_id (§1.10 ⚠).
    client_uuid = request.GET.get("client_uuid") or request.GET.get("client_id", "")
    account_id = request.GET.get("account_id", "")
    if not _signature_is_valid(conn, client_uuid, account_id, request.GET.get("signature", "")):
        logger.warning("Disconnect webhook with a missing or wrong signature (account %r)", account_id)
        return JsonResponse({"ok": False, "error": "Invalid signature."}, status=403)
    if conn.account_id and account_id != str(conn.account_id):
        # Signed, but for another account that installed the integration: ours stays connected.
        return JsonResponse({"ok": True, "ignored": "not the connected account"})
    webhook_subscription.unsubscribe_on_disconnect(conn)  # while the state still lets the call go out
    conn.mark_disconnected()
    logger.info("amoCRM switched the integration off for account %s", account_id)
    return JsonResponse({"ok": True})
