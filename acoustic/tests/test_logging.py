"""Log records are masked (tokens, secrets, phones) and can be written as one JSON object per line."""

import json
import logging
import sys

import pytest

from acoustic.logging import JsonFormatter, RedactFilter, RequestIdFilter, redact


def record(msg: str, *args: object, exc_info: object = None, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("acoustic.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    made.__dict__.update(extra)
    return made


def masked(made: logging.LogRecord) -> logging.LogRecord:
    RedactFilter().filter(made)
    return made


@pytest.mark.parametrize(
    "text, expected",
    [
        ("phone +998901234567", "phone +**********67"),
        ("phone +998 90 123 45 67.", "phone +*** ** *** ** 67."),
        ("GET /api/v4/contacts?query=998901234567", "GET /api/v4/contacts?query=**********67"),
        ("query=%2B998901234567&limit=1", "query=%2B**********67&limit=1"),
        ("GET /api/v4/contacts?query=901234567 200", "GET /api/v4/contacts?query=*******67 200"),
        ("GET /api/v4/contacts?query=dilnoza%40example.uz", "GET /api/v4/contacts?query=*******%40example.uz"),
        ("GET /api/v4/leads?query=3f9c2a7b11d0&limit=250", "GET /api/v4/leads?query=3f9c2a7b11d0&limit=250"),
    ],
)
def test_it_masks_phone_numbers_but_the_last_two_digits(text, expected):
    assert redact(text) == expected


def test_it_masks_bearer_tokens():
    assert redact("Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln") == "Authorization: Bearer [REDACTED]"


def test_it_masks_secret_parameters_in_urls_and_form_bodies():
    text = "/callback?code=def502&state=s grant_type=refresh_token&refresh_token=r1&client_secret=s3"

    assert redact(text) == (
        "/callback?code=[REDACTED]&state=s grant_type=refresh_token&refresh_token=[REDACTED]&client_secret=[REDACTED]"
    )


def test_it_masks_secret_values_in_json_and_python_reprs():
    text = """{"access_token": "a\\"b", "expires_in": 86400} {'client_secret': 's3', 'code': 'c'}"""

    assert redact(text) == (
        """{"access_token": "[REDACTED]", "expires_in": 86400} {'client_secret': '[REDACTED]', 'code': '[REDACTED]'}"""
    )


def test_it_masks_a_jwt_on_its_own():
    assert redact("token eyJ0eXAiOiJKV1QifQ.eyJleHAiOjF9.sig refused") == "token [REDACTED] refused"


def test_it_leaves_dates_ids_timestamps_and_status_codes_alone():
    text = "2024-01-25 10:11:12+05:00 deal 30000001 at 1732531234: HTTP 400, error_code=7"

    assert redact(text) == text


def test_it_masks_the_formatted_message_and_drops_the_arguments():
    made = masked(record("token refresh for %s failed: %s", "+998901234567", {"refresh_token": "r1"}))

    assert (made.msg, made.args) == ("token refresh for +**********67 failed: {'refresh_token': '[REDACTED]'}", ())


def test_it_masks_tracebacks():
    try:
        raise ValueError("https://x.amocrm.ru/oauth2/access_token?code=def502")
    except ValueError:
        made = masked(record("failed", exc_info=sys.exc_info()))

    assert "code=[REDACTED]" in made.exc_text and "def502" not in made.exc_text


def test_it_masks_extras_including_objects_and_nested_values():
    nested = {"code": "c2", "n": [1, "+998901234567"]}

    made = masked(record("Bad Request", request=ValueError("GET /cb?code=c1"), data=nested))

    assert made.request == "GET /cb?code=[REDACTED]"
    assert made.data == {"code": "[REDACTED]", "n": [1, "+**********67"]}


def test_it_survives_arguments_that_do_not_fit_the_format():
    made = masked(record("two %s %s", "one"))

    assert made.msg == "two %s %s (arguments did not fit the format)"


def test_it_writes_one_json_object_per_line():
    made = record("line one\nline two", request_id="r-1", status_code=400)
    RequestIdFilter().filter(made)

    line = JsonFormatter().format(made)

    assert "\n" not in line
    assert json.loads(line) | {"time": "t"} == {
        "time": "t", "level": "WARNING", "logger": "acoustic.test", "message": "line one\nline two",
        "request_id": "r-1", "status_code": 400,
    }  # fmt: skip


def test_it_adds_the_exception_to_the_json_line():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        line = json.loads(JsonFormatter().format(record("failed", exc_info=sys.exc_info())))

    assert line["exception"].startswith("Traceback") and "RuntimeError: boom" in line["exception"]


def test_it_tags_records_outside_a_request_with_no_id():
    made = record("from a task")

    RequestIdFilter().filter(made)

    assert made.request_id is None


def test_it_leaves_the_request_id_alone():
    made = masked(record("ok", request_id="7f3c9a10-2b44-4c1e-9d8a-123456789012"))

    assert made.request_id == "7f3c9a10-2b44-4c1e-9d8a-123456789012"


def test_it_masks_the_webhook_secret_in_its_path():
    masked = redact("POST /api/amocrm/webhook/Zx8_secret-Value HTTP/1.1")

    assert masked == "POST /api/amocrm/webhook/[REDACTED] HTTP/1.1"


def test_it_masks_the_disconnect_hooks_signature():
    assert redact("/api/amocrm/disconnect?client_uuid=u&signature=9f86d08&account_id=1") == (
        "/api/amocrm/disconnect?client_uuid=u&signature=[REDACTED]&account_id=1"
    )


def test_it_masks_a_code_url_encoded_inside_a_next_parameter():
    assert redact("/admin/login/?next=/api/amocrm/callback%3Fcode%3Ddef502%2Bsecret%26state%3Ds1") == (
        "/admin/login/?next=/api/amocrm/callback%3Fcode%3D[REDACTED]%26state%3Ds1"
    )
