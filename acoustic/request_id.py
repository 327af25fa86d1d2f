"""One id per request: taken from the proxy's X-Request-ID when well-formed, else made here; echoed in the answer.

The id lives in a context variable from the middleware until Django's request_finished signal, so every log
record made meanwhile can carry it (acoustic.logging.RequestIdFilter) without passing the request around. It
outlives the middleware on purpose: Django logs 4xx/5xx answers ("Not Found: /x") after the middleware chain.
"""

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# Letters, digits and a few separators: enough for nginx's hex ids, UUIDs and AWS trace ids, and nothing that
# could break a log line (quotes, spaces, newlines) or bloat it.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:=+/-]{8,128}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled in this context, or None outside a request."""
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def from_proxy(request: HttpRequest) -> str | None:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    return given if _WELL_FORMED.fullmatch(given) else None


def request_id_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """First in MIDDLEWARE, so even a redirect or an error page made by later middleware carries the id."""

    def middleware(request: HttpRequest) -> HttpResponse:
        request.request_id = from_proxy(request) or new_request_id()
        _current.set(request.request_id)
        response = get_response(request)
        response[HEADER] = request.request_id
        return response

    return middleware


def _forget(**kwargs: object) -> None:
    _current.set(None)


# Sent when the server closes the response, after the last log line about this request.
request_finished.connect(_forget, dispatch_uid="acoustic.request_id.forget")
