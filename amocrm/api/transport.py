"""The one way a request leaves for amoCRM: one session, timeouts, the shared rate limit, one error type.

client.py (API calls) and oauth.py (token endpoint) both send through `send`; only AmoError comes back out.
"""

import logging
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import redis
import requests
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from urllib3.exceptions import MaxRetryError, NewConnectionError

from acoustic.http_session import process_session
from amocrm import ratelimit, request_log

logger = logging.getLogger(__name__)

# The official SDK's timeouts (amocrm-api.md §10): 5 s to connect, 20 s to answer.
TIMEOUT = (5.0, 20.0)
# §2: amoCRM's gateway answers 429 with HTML and no Retry-After (#526): then wait a minute.
DEFAULT_RETRY_AFTER = 60.0


class ErrorKind(models.TextChoices):
    NOT_CONFIGURED = "not_configured", gettext_lazy("Not configured")
    NOT_CONNECTED = "not_connected", gettext_lazy("Not connected")
    VALIDATION = "validation", gettext_lazy("Data rejected")
    UNAUTHORIZED = "unauthorized", gettext_lazy("Token not accepted")
    REVOKED = "revoked", gettext_lazy("Access revoked")
    PAYMENT_REQUIRED = "payment_required", gettext_lazy("Payment required")
    BLOCKED = "blocked", gettext_lazy("Blocked")
    RATE_LIMITED = "rate_limited", gettext_lazy("Too many requests")
    SERVER = "server", gettext_lazy("amoCRM server error")
    NETWORK = "network", gettext_lazy("Network error")
    TOKEN_REQUEST = "token_request", gettext_lazy("Token request refused")
    UNEXPECTED = "unexpected", gettext_lazy("Unexpected answer")


# Retrying later can help with these; everything else needs a person (or different data) first.
RETRYABLE_KINDS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.SERVER, ErrorKind.NETWORK})


@dataclass(frozen=True)
class FieldError:
    request_id: str
    path: str
    code: str
    detail: str


class AmoError(Exception):
    """What went wrong talking to amoCRM, whether retrying can help, and when; `message` is for staff."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        permanent: bool | None = None,
        retry_after: float | None = None,
        status: int | None = None,
        field_errors: list[FieldError] | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.permanent = kind not in RETRYABLE_KINDS if permanent is None else permanent
        self.retry_after = retry_after
        self.status = status
        self.field_errors = field_errors or []
        # The request went out but no answer came back: amoCRM may have done the work (e.g. created the deal).
        self.outcome_unknown = outcome_unknown


def send(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One request, sent once the shared rate limiter allows it; a network failure raises AmoError."""
    _wait_for_slot()
    started = time.monotonic()
    try:
        response = process_session().request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
    except requests.RequestException as error:
        failure = _network_error(error, url)
        request_log.record(method, url, time.monotonic() - started, error=failure.message)
        raise failure from error
    request_log.record(method, url, time.monotonic() - started, response)
    return response


def read(response: requests.Response, method: str) -> Any:
    """The JSON body of a 2xx answer (None for 204: nothing found, §3); AmoError for anything else."""
    if response.status_code == 204:
        return None
    if not 200 <= response.status_code < 300:
        raise error_from(response, method)
    try:
        return response.json()
    except ValueError as error:
        raise unexpected_answer(method) from error


def json_object(response: requests.Response) -> dict[str, Any]:
    """The body as a JSON object, or {}: 429/403 bodies are often HTML pages, never a crash (§2, §8.12)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def unexpected_answer(method: str) -> AmoError:
    # A write that got a 2xx we cannot read was probably carried out.
    return AmoError(
        ErrorKind.UNEXPECTED, _("amoCRM gave an answer this site cannot read."), outcome_unknown=method != "GET"
    )


def error_from(response: requests.Response, method: str) -> AmoError:
    """The AmoError for a non-2xx answer (§6); a 429 first pauses every process (§2)."""
    status, problem = response.status_code, json_object(response)
    if status in (400, 422):
        return _validation_error(status, problem)
    if status == 429:
        return _rate_limited(response, problem)
    if status in _STATUS_ERRORS:
        kind, message = _STATUS_ERRORS[status]
        return AmoError(kind, str(message), status=status)
    if status >= 500:
        # A gateway error on a write may come after amoCRM did the work.
        message = _("amoCRM had a server error (HTTP %(status)s); will retry.") % {"status": status}
        return AmoError(ErrorKind.SERVER, message, status=status, outcome_unknown=method != "GET")
    return _unexpected_status(response, problem)


_STATUS_ERRORS = {
    401: (ErrorKind.UNAUTHORIZED, gettext_lazy("amoCRM did not accept the access token.")),
    402: (
        ErrorKind.PAYMENT_REQUIRED,
        gettext_lazy("The amoCRM subscription has ended: amoCRM accepts no new deals until it is paid."),
    ),
    403: (
        ErrorKind.BLOCKED,
        gettext_lazy(
            "amoCRM refused access: the account or this server may be blocked after too many requests. "
            "Sending stops; contact amoCRM support if it persists."
        ),
    ),
}


def _validation_error(status: int, problem: dict[str, Any]) -> AmoError:
    """§6: `validation-errors[].errors[]` name the element (request_id) and the field path."""
    field_errors = [
        FieldError(
            str(group.get("request_id", "")), str(e.get("path", "")), str(e.get("code", "")), str(e.get("detail", ""))
        )
        for group in problem.get("validation-errors") or []
        if isinstance(group, dict)
        for e in group.get("errors") or []
        if isinstance(e, dict)
    ]
    details = "; ".join(f"{fe.path}: {fe.detail}" for fe in field_errors[:5]) or str(problem.get("detail", ""))
    message = _("amoCRM rejected the data: %(details)s") % {"details": details or status}
    return AmoError(ErrorKind.VALIDATION, message, status=status, field_errors=field_errors)


def _rate_limited(response: requests.Response, problem: dict[str, Any]) -> AmoError:
    retry_after = _retry_after(response.headers.get("Retry-After"), problem.get("retry_after"))
    try:
        ratelimit.pause(retry_after)
    except redis.RedisError:
        logger.warning("Could not pause the amoCRM rate limiter after a 429: Redis is unavailable")
    message = _("amoCRM says too many requests; every process waits %(seconds)d s.") % {"seconds": retry_after}
    return AmoError(ErrorKind.RATE_LIMITED, message, status=429, retry_after=retry_after)


def _retry_after(header: str | None, body_value: Any) -> float:
    """Retry-After in seconds or as an HTTP date, else Kommo's body field (§2), else a minute."""
    for value in (header, body_value):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = _seconds_until(value)
        if seconds is not None and seconds > 0:
            return seconds
    return DEFAULT_RETRY_AFTER


def _seconds_until(value: Any) -> float | None:
    try:
        return (parsedate_to_datetime(value) - timezone.now()).total_seconds()
    except (TypeError, ValueError):
        return None


def _unexpected_status(response: requests.Response, problem: dict[str, Any]) -> AmoError:
    if response.is_redirect:
        # §1.11: an amocrm.com account moved to kommo.com; following would turn a POST into a GET.
        message = _("amoCRM redirected to %(location)s: check the account domain in the settings.") % {
            "location": response.headers.get("Location", "?")
        }
    else:
        detail = problem.get("detail") or problem.get("title") or response.reason
        message = _("amoCRM answered HTTP %(status)s: %(detail)s") % {"status": response.status_code, "detail": detail}
    return AmoError(ErrorKind.UNEXPECTED, message, status=response.status_code)


def _wait_for_slot() -> None:
    """§2, §8.9: every process shares one budget of 7 requests per second."""
    try:
        ratelimit.acquire()
    except ratelimit.RateLimitTimeout as error:
        message = _("amoCRM's request budget is used up for now (or paused after a 429); will retry.")
        raise AmoError(ErrorKind.RATE_LIMITED, message, retry_after=_limiter_wait()) from error
    except redis.RedisError as error:
        message = _("Redis is unavailable, so requests to amoCRM cannot be paced; nothing was sent.")
        raise AmoError(ErrorKind.NETWORK, message) from error


def _limiter_wait() -> float | None:
    try:
        return ratelimit.state().next_slot_in_seconds
    except redis.RedisError:
        return None


def _network_error(error: requests.RequestException, url: str) -> AmoError:
    host = urlsplit(url).hostname or url
    if isinstance(error, requests.ReadTimeout):
        message = _("amoCRM did not answer within %(seconds)d s; it may have done the work.") % {"seconds": TIMEOUT[1]}
        return AmoError(ErrorKind.NETWORK, message, outcome_unknown=True)
    if not _was_sent(error):
        return AmoError(ErrorKind.NETWORK, _("amoCRM is unreachable: could not connect to %(host)s.") % {"host": host})
    message = _("The connection to amoCRM broke after the request was sent; it may have done the work.")
    return AmoError(ErrorKind.NETWORK, message, outcome_unknown=True)


def _was_sent(error: requests.RequestException) -> bool:
    """False only when the request provably never left: connecting (DNS, refused, TLS, proxy) failed."""
    if isinstance(error, requests.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return False
    if isinstance(error, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return False
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return not isinstance(reason, NewConnectionError)  # NameResolutionError is a NewConnectionError too
