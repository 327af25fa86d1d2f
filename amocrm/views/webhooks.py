"""POST /api/amocrm/webhook/<secret>: amoCRM's account webhooks about the site's deals (amocrm-api.md §7).

amoCRM signs nothing (§7), so the hook is trusted for what it is: the secret in the URL must match, and the
account must be the connected one. The answer comes at once (within amoCRM's 2 s); a task applies the events.
"""

import hmac
import logging

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from acoustic.celery import enqueue_on_commit
from amocrm import webhook_events, webhook_payload
from amocrm.models import Settings
from amocrm.webhook_payload import BadPayload, WebhookAccount

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


@csrf_exempt
def receive(request: HttpRequest, secret: str) -> JsonResponse:
    conn = Settings.load()
    if not (conn.webhook_secret and hmac.compare_digest(secret.encode(), conn.webhook_secret.encode())):
        raise Http404  # a wrong secret learns nothing, not even that the address exists
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
    """The account id decides when we know it (a subdomain can be renamed, §1.6); else the subdomain."""
    if conn.account_id:
        return account.id == conn.account_id
    return bool(account.subdomain) and account.subdomain == conn.domain.split(".")[0]


def _store(events: list[webhook_payload.LeadEvent]) -> int:
    from amocrm.tasks import apply_webhook_event

    with transaction.atomic():
        new_ids = webhook_events.store(events)
        for event_id in new_ids:
            enqueue_on_commit(apply_webhook_event, event_id)
    return len(new_ids)
