"""Connecting to amoCRM with OAuth: off to the consent page, and back with a code (or a refusal).

Reference: https://www.amocrm.ru/developers/content/oauth/step-by-step
"""

import copy
import logging
from datetime import timedelta

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from amocrm.api import client, oauth
from amocrm.api.answers import Account
from amocrm.api.budget import interactive
from amocrm.api.errors import AmoError
from amocrm.delivery import marker_field
from amocrm.models import ConnectionState, Platform, Settings
from amocrm.views import oauth_state
from amocrm.views.access import staff_only

logger = logging.getLogger(__name__)

# `platform` in the redirect says which amoCRM the account lives on.
PLATFORM_BY_PARAM = {"1": Platform.AMOCRM, "2": Platform.KOMMO}


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
    response = HttpResponseRedirect(oauth.authorize_url(conn, state))
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
    if not oauth.is_allowed_account_host(referer):
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


@interactive
def _connect(code: str, referer: str, platform: str) -> Account:
    """Exchange the code and read the account, then store tokens, domain and account together or not at all.

    amoCRM is asked with an unsaved copy of the row, so no row lock is held across a network call (on SQLite a
    write transaction would hold up every lead insert meanwhile).
    """
    pair = oauth.exchange_code(Settings.load(), code, referer)
    trial = copy.copy(Settings.load())
    trial.long_lived_token, trial.domain, trial.state = "", referer, ConnectionState.CONNECTED
    trial.access_token, trial.refresh_token = pair.access_token, pair.refresh_token
    trial.access_token_expires_at = timezone.now() + timedelta(seconds=pair.expires_in)
    account = client.get_account(trial)
    with transaction.atomic():
        conn = Settings.load_for_update()
        conn.store_tokens(pair.access_token, pair.refresh_token, pair.expires_in)
        conn.domain = referer
        conn.platform = PLATFORM_BY_PARAM.get(platform, conn.platform)
        conn.long_lived_token = ""  # connecting with OAuth replaces a pasted long-lived token
        conn.save(update_fields=["domain", "platform", "long_lived_token", "updated_at"])
        conn.mark_connected(account.id, account.name)
    marker_field.ensure(conn, now=True)  # a refusal is kept for the settings page and never stops the connection
    return account
