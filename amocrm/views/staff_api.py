"""Staff JSON endpoints: is the connection working, and the account's deals page by page."""

from dataclasses import asdict

from django.http import HttpRequest, JsonResponse, QueryDict
from django.views.decorators.http import require_GET

from amocrm.api import client
from amocrm.api.budget import interactive
from amocrm.api.client import MAX_PAGE_SIZE
from amocrm.api.errors import AmoError, ErrorKind
from amocrm.models import Settings
from amocrm.views.access import staff_only_json

# Our side must act (fill in keys, connect again) -> 409; amoCRM refuses or cannot be reached -> 503.
STATUS_BY_KIND = {
    ErrorKind.NOT_CONFIGURED: 409,
    ErrorKind.NOT_CONNECTED: 409,
    ErrorKind.REVOKED: 409,
    ErrorKind.BLOCKED: 503,
    ErrorKind.RATE_LIMITED: 503,
    ErrorKind.NETWORK: 503,
}


def _amo_error_json(error: AmoError) -> JsonResponse:
    response = JsonResponse({"ok": False, "error": error.message}, status=STATUS_BY_KIND.get(error.kind, 502))
    if error.retry_after:
        response["Retry-After"] = str(int(error.retry_after))
    return response


@require_GET
@staff_only_json
@interactive
def test(request: HttpRequest) -> JsonResponse:
    """GET /api/amocrm/test: one cheap call that proves the connection works."""
    try:
        account = client.get_account(Settings.load())
    except AmoError as error:
        return _amo_error_json(error)
    conn = Settings.load()  # re-read: the call may have refreshed the tokens
    resumed = bool(conn.sending_paused_reason)
    if resumed:
        conn.resume_sending()  # the account answers: as the admin's Test button does, the next lead decides
    expires_at = conn.token_expires_at
    return JsonResponse(
        {
            "ok": True,
            "account": asdict(account),
            "token_expires_at": expires_at.isoformat() if expires_at else None,
            "sending_resumed": resumed,
        }
    )


def _page_and_limit(query: QueryDict) -> tuple[int, int]:
    try:
        page, limit = int(query.get("page", 1)), int(query.get("limit", 50))
    except ValueError:
        raise ValueError("page and limit must be whole numbers.") from None
    if page < 1:
        raise ValueError("page must be 1 or more.")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}.")
    return page, limit


@require_GET
@staff_only_json
@interactive
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
