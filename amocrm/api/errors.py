"""The one error type that leaves amoCRM's API room, and how an answer that is not a success becomes one.

Reference: https://www.amocrm.ru/developers/content/crm_platform/error-codes (problem+json bodies, what each
status means) and https://www.amocrm.ru/developers/content/api/recommendations (429, 403 blocks, 504).
"""

import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import requests
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from acoustic.http_session import json_object

# amoCRM's gateway answers 429 with an HTML page and no Retry-After: then wait a minute.
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


class Fault(StrEnum):
    """Whose fault a failure is, which decides what it means for the leads being sent."""

    LEAD = "lead"  # amoCRM refused this lead's data: a person must look at the lead
    CONNECTION = "connection"  # our access or the account: staff must act; every lead waits for them
    PASSING = "passing"  # the network, amoCRM's servers, its rate limit: it may pass, so try again later


_FAULT_BY_KIND = {
    ErrorKind.VALIDATION: Fault.LEAD,
    ErrorKind.RATE_LIMITED: Fault.PASSING,
    ErrorKind.SERVER: Fault.PASSING,
    ErrorKind.NETWORK: Fault.PASSING,
    # An answer we cannot read says nothing about the lead or the access; after a write it is looked up first.
    ErrorKind.UNEXPECTED: Fault.PASSING,
}
# The account refuses new deals (unpaid, or blocked after too many requests); our access itself still works.
_ACCOUNT_KINDS = frozenset({ErrorKind.PAYMENT_REQUIRED, ErrorKind.BLOCKED})
# Refused before anything was sent: the settings say why, and nothing about them changes.
_UNSET_KINDS = frozenset({ErrorKind.NOT_CONFIGURED, ErrorKind.NOT_CONNECTED})


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
        fault: Fault | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.permanent = kind not in RETRYABLE_KINDS if permanent is None else permanent
        self.fault = fault or _FAULT_BY_KIND.get(kind, Fault.CONNECTION)
        self.retry_after = retry_after
        self.status = status
        self.field_errors = field_errors or []
        # The request went out but no answer came back: amoCRM may have done the work (e.g. created the deal).
        self.outcome_unknown = outcome_unknown

    @property
    def pauses_sending(self) -> bool:
        """The account refuses new deals (402, 403): sending pauses until a lead goes through again."""
        return self.fault == Fault.CONNECTION and self.kind in _ACCOUNT_KINDS

    @property
    def needs_reconnect(self) -> bool:
        """Our access is gone for good (a 401 no refresh cures, a token endpoint refusal): staff must reconnect."""
        return self.fault == Fault.CONNECTION and self.kind not in _ACCOUNT_KINDS | _UNSET_KINDS


def unexpected_answer(method: str) -> AmoError:
    # A write that got a 2xx we cannot read was probably carried out.
    return AmoError(
        ErrorKind.UNEXPECTED, _("amoCRM gave an answer this site cannot read."), outcome_unknown=method != "GET"
    )


def error_from(response: requests.Response, method: str) -> AmoError:
    """The AmoError for a non-2xx answer."""
    status, problem = response.status_code, json_object(response)
    if status in (400, 422):
        return _validation_error(status, problem)
    if status == 429:
        return _rate_limited(response, problem)
    if status in _STATUS_ERRORS:
        kind, message = _STATUS_ERRORS[status]
        return AmoError(kind, with_amocrms_words(str(message), response, problem), status=status)
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


def with_amocrms_words(message: str, response: requests.Response, problem: dict[str, Any]) -> str:
    """Our explanation, then what amoCRM itself said (its problem+json, or the title of its gateway's page)."""
    words = problem.get("hint") or problem.get("detail") or problem.get("title") or _page_title(response)
    if not isinstance(words, str) or not words.strip():
        return message
    return _("%(message)s amoCRM says: %(words)s") % {"message": message, "words": " ".join(words.split())[:200]}


def _page_title(response: requests.Response) -> str:
    found = _TITLE.search(response.text[:2000]) if "html" in response.headers.get("Content-Type", "") else None
    return found[1] if found else ""


_TITLE = re.compile(r"<title>([^<]*)</title>", re.IGNORECASE)


def _validation_error(status: int, problem: dict[str, Any]) -> AmoError:
    """`validation-errors[].errors[]` name the element (request_id) and the field path."""
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
    message = _("amoCRM says too many requests; every process waits %(seconds)d s.") % {"seconds": retry_after}
    return AmoError(ErrorKind.RATE_LIMITED, message, status=429, retry_after=retry_after)


def _retry_after(header: str | None, body_value: Any) -> float:
    """Retry-After in seconds or as an HTTP date, else Kommo's body field, else a minute.

    Reference: https://developers.kommo.com/docs/http-codes (429 with `retry_after` in the body)
    """
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
        # An amocrm.com account moved to kommo.com; following would turn a POST into a GET.
        # Reference: https://www.amocrm.ru/developers/content/crm_platform/separate-platforms
        message = _("amoCRM redirected to %(location)s: check the account domain in the settings.") % {
            "location": response.headers.get("Location", "?")
        }
        return AmoError(ErrorKind.UNEXPECTED, message, status=response.status_code, fault=Fault.CONNECTION)
    detail = problem.get("detail") or problem.get("title") or response.reason
    message = _("amoCRM answered HTTP %(status)s: %(detail)s") % {"status": response.status_code, "detail": detail}
    return AmoError(ErrorKind.UNEXPECTED, message, status=response.status_code)
