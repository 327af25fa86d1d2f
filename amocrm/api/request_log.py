"""Every request sent to amoCRM, as a row the admin shows and as counters /metrics serves.

transport.send calls `record` once per request, answered or not. Rows are kept for 14 days (`prune`, daily).
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from acoustic.http_session import json_object
from amocrm.api import request_metrics
from amocrm.models import RequestLog

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=14)
# How far back the settings page's health panel and the error-rate alert look.
ERROR_RATE_WINDOW = timedelta(minutes=15)
# Ids and uids in a path become {id}; the query string is dropped (a contact search carries a phone number).
_ID_SEGMENT = re.compile(r"^(?:\d+|[0-9a-f]{8}-[0-9a-f-]{27,}|[0-9a-f]{32,})$", re.IGNORECASE)
_ERROR_KINDS = {401: "unauthorized", 402: "payment_required", 403: "blocked", 429: "rate_limited"}
# Refused data is about one lead, not the connection's health: left out of the error rate.
_NOT_HEALTH = ("validation",)


@dataclass(frozen=True)
class ErrorRate:
    failed: int
    total: int

    @property
    def share(self) -> float:
        return self.failed / self.total if self.total else 0.0


def record(method: str, url: str, seconds: float, response: requests.Response | None = None, error: str = "") -> None:
    """Count one request (a response, or `error` when none came) in the metrics and the log; never raises."""
    endpoint, status = endpoint_template(url), response.status_code if response is not None else None
    request_metrics.count(method, endpoint, status, seconds)
    kind = error_kind(status, endpoint)
    try:
        with transaction.atomic():  # a savepoint: a failed insert must not spoil the caller's transaction
            RequestLog.objects.create(
                method=method, endpoint=endpoint, status=status, error_kind=kind, duration_ms=round(seconds * 1000),
                error=(error or (_problem(response) if kind and response is not None else ""))[:300],
            )  # fmt: skip
    except DatabaseError:
        logger.warning("Could not log the amoCRM request %s %s", method, endpoint, exc_info=True)


def endpoint_template(url: str) -> str:
    """'https://x.amocrm.ru/api/v4/leads/123/notes?x=1' -> '/api/v4/leads/{id}/notes'."""
    segments = urlsplit(url).path.split("/")
    return "/".join("{id}" if _ID_SEGMENT.match(segment) else segment for segment in segments)[:200]


def error_kind(status: int | None, endpoint: str = "") -> str:
    """The kind of failure a status stands for (as in errors.ErrorKind); '' for an answer that is not one."""
    if status is None:
        return "network"
    if status < 300:
        return ""
    if status in (400, 401) and endpoint.startswith("/oauth2/"):
        return "token_request"  # the token endpoint refuses with 400/401 and a hint, not lead data
    if status in (400, 422):
        return "validation"
    return _ERROR_KINDS.get(status) or ("server" if status >= 500 else "unexpected")


def _problem(response: requests.Response) -> str:
    """amoCRM's own words for a refusal (problem+json, or the token endpoint's hint); HTML bodies are not read."""
    body = json_object(response)
    detail = body.get("hint") or body.get("detail") or body.get("title") or response.reason or ""
    return f"HTTP {response.status_code}: {detail}"


def recent_errors(limit: int = 20) -> list[RequestLog]:
    return list(RequestLog.objects.exclude(error_kind="")[:limit])


def error_rate(window: timedelta = ERROR_RATE_WINDOW, now: datetime | None = None) -> ErrorRate:
    """How many requests of the last `window` failed, leaving out refused lead data."""
    since = (now or timezone.now()) - window
    rows = RequestLog.objects.filter(created_at__gte=since).exclude(error_kind__in=_NOT_HEALTH)
    counts = rows.aggregate(total=models.Count("id"), failed=models.Count("id", filter=~models.Q(error_kind="")))
    return ErrorRate(failed=counts["failed"], total=counts["total"])


def prune(now: datetime | None = None) -> int:
    """Delete rows older than the retention period; how many went."""
    deleted, _by_model = RequestLog.objects.filter(created_at__lt=(now or timezone.now()) - RETENTION).delete()
    return deleted
