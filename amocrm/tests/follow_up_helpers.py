"""Faults on one amoCRM request while everything else reaches the sandbox: an error first, or a lost answer."""

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import responses

VALIDATION_400 = {"title": "Bad Request", "type": "https://httpstatus.es/400", "status": 400,
                  "detail": "Request validation failed"}  # fmt: skip


def forward(sandbox, request) -> tuple[int, dict, str]:
    """Send a request that `responses` caught on to the sandbox for real (urllib is not patched)."""
    forwarded = urllib.request.Request(
        request.url, data=request.body if isinstance(request.body, bytes) else (request.body or "").encode(),
        method=request.method, headers={k: v for k, v in request.headers.items() if k.lower() != "content-length"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(forwarded, timeout=10) as reply:
            return reply.status, {}, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {}, error.read().decode()


@contextmanager
def faulty(sandbox, method: str, path: str, first: list) -> Iterator[responses.RequestsMock]:
    """`first` lists what the first calls of method+path get: a (status, body) pair, or "lost" (carried out by
    amoCRM, then the connection dropped); later calls and every other request reach the sandbox."""
    pending = list(first)

    def answer(request):
        fault = pending.pop(0) if pending else None
        if fault is None:
            return forward(sandbox, request)
        if fault == "lost":
            forward(sandbox, request)
            raise requests.ConnectionError("Connection aborted: the answer never came")
        status, body = fault
        return status, {"Content-Type": "application/problem+json"}, json.dumps(body)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_passthru(sandbox.url)
        mocked.add_callback(method, f"{sandbox.url}{path}", callback=answer)
        yield mocked


def validation_error(request_id: str, path: str) -> dict:
    error = {
        "request_id": request_id,
        "errors": [
            {"code": "NotSupportedChoice", "path": path, "detail": "The value you selected is not a valid choice."}
        ],
    }
    return {**VALIDATION_400, "validation-errors": [error]}
