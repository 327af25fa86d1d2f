"""Stored secrets that no key in FERNET_KEYS opens, told in one line wherever they show up, never as a crash.

Views (the admin, the webhook, every other page) answer 503 with the reason through UnreadableSecretsMiddleware; a
Celery task that meets one logs it, and so does each worker as it starts; /healthz names them (monitoring/health.py).
"""

import logging

from cryptography.fernet import InvalidToken
from django.contrib import admin
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from acoustic.encryption import UnreadableRow, explain, list_rows, unreadable_rows

logger = logging.getLogger(__name__)


class UnreadableSecretsMiddleware:
    """Turns InvalidToken from a view into 503 with the rows no key opens: a page in the admin, JSON elsewhere."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, InvalidToken):
            return None
        rows = unreadable_rows()
        view = getattr(request.resolver_match, "view_name", "a view")  # the path may carry the webhook's secret
        logger.error("%s failed: %s", view, explain(rows))
        if request.path.startswith(reverse("admin:index")):
            return _admin_page(request, rows)
        return JsonResponse({"ok": False, "error": explain(rows)}, status=503)


def log_task_failure(sender=None, exception: BaseException | None = None, **kwargs) -> None:
    """task_failure receiver: one clear line beside Celery's traceback."""
    if isinstance(exception, InvalidToken):
        logger.error("%s failed: %s", getattr(sender, "name", sender), explain(unreadable_rows()))


def report_at_worker_start(**kwargs) -> None:
    """worker_ready receiver: says so at once, before the first task meets it."""
    try:
        rows = unreadable_rows()
    except DatabaseError:
        return  # no tables yet (before the first migrate): nothing stored, nothing to tell
    if rows:
        logger.error("Worker started, but %s", explain(rows))


def _admin_page(request: HttpRequest, rows: list[UnreadableRow]) -> TemplateResponse:
    message = _(
        "Stored secrets cannot be decrypted: no key in FERNET_KEYS opens %(rows)s. Put the old key back in "
        "FERNET_KEYS and run `python manage.py rotate_encryption_keys`, or run it with --clear-unreadable and enter "
        "those secrets again."
    ) % {"rows": list_rows(rows)}
    context = {**admin.site.each_context(request), "title": _("Stored secrets cannot be decrypted"), "message": message}
    return TemplateResponse(request, "acoustic/unreadable_secrets.html", context, status=503)
