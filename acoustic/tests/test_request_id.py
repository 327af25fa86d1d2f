"""Every answer carries a request id, and every log line made while handling the request carries the same one."""

import io
import json
import logging
from collections.abc import Iterator

import pytest

from acoustic.logging import JsonFormatter
from acoustic.request_id import current_request_id


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The configured console handler's output, as JSON lines."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    formatter, stream = handler.formatter, io.StringIO()
    previous = handler.setStream(stream)
    handler.setFormatter(JsonFormatter())
    yield stream
    handler.setStream(previous)
    handler.setFormatter(formatter)


def test_it_makes_an_id_and_sends_it_back(client):
    response = client.get("/api/leads")

    assert len(response["X-Request-ID"]) == 32


def test_it_keeps_a_well_formed_id_from_the_proxy(client):
    response = client.get("/api/leads", HTTP_X_REQUEST_ID="7f3c9a10-2b44-4c1e-9d8a-55aa01b2c3d4")

    assert response["X-Request-ID"] == "7f3c9a10-2b44-4c1e-9d8a-55aa01b2c3d4"


@pytest.mark.parametrize("given", ["short", "x" * 129, "id with spaces", 'quote"injection', "line\nbreak-12345"])
def test_it_replaces_a_malformed_id_from_the_proxy(client, given):
    response = client.get("/api/leads", HTTP_X_REQUEST_ID=given)

    assert response["X-Request-ID"] != given and len(response["X-Request-ID"]) == 32


def test_it_tags_log_lines_made_while_answering_with_the_id(client, json_logs):
    response = client.get("/api/leads", HTTP_X_REQUEST_ID="proxy-id-0001")

    # Django logs "Method Not Allowed" after the middleware chain has returned: the id must still be there.
    (line,) = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert (line["message"], line["request_id"]) == ("Method Not Allowed: /api/leads", response["X-Request-ID"])


def test_it_forgets_the_id_when_the_request_is_finished(client):
    client.get("/api/leads")

    assert current_request_id() is None
