"""What amoCRM calls on its own: the deal webhooks and the "integration switched off" hook.

POST /api/amocrm/webhook/<secret>: amoCRM signs nothing, so the hook is trusted for what it is: the secret in the
URL must match, and the account must be the connected one. The answer comes at once (within amoCRM's 2 s); a task
applies the events. Reference: https://www.amocrm.ru/developers/content/crm_platform/webhooks-format
"""

import hashlib
import hmac
import logging

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from amocrm import tasks
from amocrm.models import Settings
from amocrm.sync import subscription, webhook_payload, webhooks
from amocrm.sync.webhook_payload import BadPayload, WebhookAccount

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


@csrf_exempt
def receive(request: HttpRequest, secret: str) -> JsonResponse:
    # The secret alone first (not encrypted): a wrong one learns nothing, even while the row's secrets are unreadable.
    stored = Settings.objects.filter(pk=1).values_list("webhook_secret", flat=True).first()
    if not (stored and hmac.compare_digest(secret.encode(), stored.encode())):
        raise Http404  # a wrong secret learns nothing, not even that the address exists
    conn = Settings.load()
    if request.method != "POST":
        return JsonResponse({"ok": False, "error": "Webhooks are POSTed."}, status=405)
    try:
        payload = webhook_payload.parse(_body(request))
    except BadPayload as error:
        logger.warning("amoCRM webhook refused: %s", error)
        return JsonResponse({"ok": False, "error": f"Not an amoCRM webhook: {error}"}, status=400)
    if not _from_connected_account(conn, payload.account):
        account = payload.account
        logger.warning("amoCRM webhook from another account (%s, %r) refused", account.id, account.subdomain)
        return JsonResponse({"ok": False, "error": "The webhook is not from the connected amoCRM account."}, status=403)
    return JsonResponse({"ok": True, "stored": _store(payload.events)})


def _body(request: HttpRequest) -> bytes:
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise BadPayload(f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return request.body
    except RequestDataTooBig as error:
        raise BadPayload(f"the body is larger than {MAX_BODY_BYTES} bytes") from error


def _from_connected_account(conn: Settings, account: WebhookAccount) -> bool:
    """The account id decides when we know it (a subdomain can be renamed); else the subdomain."""
    if conn.account_id:
        return account.id == conn.account_id
    return bool(account.subdomain) and account.subdomain == conn.domain.split(".")[0]


def _store(events: list[webhook_payload.LeadEvent]) -> int:
    with transaction.atomic():
        new_ids = webhooks.store(events)
        tasks.queue_webhook_events(new_ids)
    return len(new_ids)


def _signature_is_valid(conn: Settings, client_uuid: str, account_id: str, signature: str) -> bool:
    """HMAC-SHA256(key=client_secret, msg="{client_uuid}|{account_id}"), hex.

    Reference: https://www.amocrm.ru/developers/content/oauth/oauth (the disconnect webhook)
    """
    if not (conn.client_id and conn.client_secret and client_uuid and account_id and signature):
        return False
    if not hmac.compare_digest(client_uuid.encode(), conn.client_id.encode()):
        return False
    message = f"{client_uuid}|{account_id}".encode()
    expected = hmac.new(conn.client_secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.lower().encode())


@require_GET
def disconnect(request: HttpRequest) -> JsonResponse:
    """GET /api/amocrm/disconnect: amoCRM says an admin switched the integration off."""
    conn = Settings.load()
    # Before 2024-01-25 amoCRM named the parameter client_id.
    client_uuid = request.GET.get("client_uuid") or request.GET.get("client_id", "")
    account_id = request.GET.get("account_id", "")
    if not _signature_is_valid(conn, client_uuid, account_id, request.GET.get("signature", "")):
        logger.warning("Disconnect webhook with a missing or wrong signature (account %r)", account_id)
        return JsonResponse({"ok": False, "error": "Invalid signature."}, status=403)
    if conn.account_id and account_id != str(conn.account_id):
        # Signed, but for another account that installed the integration: ours stays connected.
        return JsonResponse({"ok": True, "ignored": "not the connected account"})
    subscription.unsubscribe_on_disconnect(conn)  # while the state still lets the call go out
    conn.mark_disconnected()
    logger.info("amoCRM switched the integration off for account %s", account_id)
    return JsonResponse({"ok": True})
