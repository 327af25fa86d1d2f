"""Thousands of hostile requests to the lead API and the form page: never a 5xx, every refusal of the API
in JSON, every stored value within its column."""

import contextvars
import io
import json
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from acoustic.tests.hostile import (
    HEADERS,
    HOSTILE,
    LEAD_FIELDS,
    VALID_LEAD,
    any_text,
    assert_fits_its_columns,
    assert_json_answer,
    big_body,
    content_type,
    forwarded_for,
    header_text,
    huge_number,
    json_value,
    lead_object,
    multipart_request,
    nearly_valid_lead,
    padded_lead,
    post_lead,
    query_text,
)
from acoustic.wsgi import application
from leads.models import Lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_lead_rate_limit")]


@settings(HOSTILE, max_examples=700)
@given(
    value=json_value | lead_object | nearly_valid_lead | padded_lead,
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-32", "surrogates"]),
)
@example(value={**VALID_LEAD, "name": "Dilnoza \ud83d"}, encoding="utf-8")  # was a 500: half an emoji
@example(value={**VALID_LEAD, "phone": "+998 90 123 45 67" + "\t" * 60}, encoding="utf-8")  # was a 500 on PostgreSQL
def test_it_answers_any_json_lead_in_json(web, value, encoding):
    text = json.dumps(value, ensure_ascii=encoding == "utf-8")
    body = text.encode("utf-8", "surrogatepass") if encoding == "surrogates" else text.encode(encoding, "surrogatepass")

    assert_json_answer(post_lead(web, body, "application/json"))


@settings(HOSTILE, max_examples=300)
@given(
    text=st.one_of(
        st.integers(1, 8000).map(lambda depth: "[" * depth + "]" * depth),
        st.integers(1, 8000).map(lambda depth: '{"name":' * depth + "1" + "}" * depth),
        huge_number.map(lambda n: f'{{"name": "Dilnoza", "phone": {n}}}'),
        st.sampled_from(['{"phone": NaN}', '{"phone": -Infinity}', '{"name": "a"', "\ufeff{}", "{}" * 2, "null"]),
    )
)
@example(text="[" * 5000 + "]" * 5000)  # was a 500: RecursionError
def test_it_answers_pathological_json_in_json(web, text):
    assert_json_answer(post_lead(web, text.encode("utf-8", "surrogatepass"), "application/json"))


@settings(HOSTILE, max_examples=500)
@given(body=st.binary(max_size=2000) | big_body, ctype=content_type)
@example(body=b"a&" * 5000, ctype="application/x-www-form-urlencoded")  # these were Django's HTML 400 page
@example(body=b"name=D", ctype="application/x-www-form-urlencoded; charset=latin-1")
@example(body=b"\x00", ctype="multipart/form-data")
def test_it_answers_any_bytes_in_any_content_type_in_json(web, body, ctype):
    assert_json_answer(post_lead(web, body, ctype))


@settings(HOSTILE, max_examples=300)
@given(request=multipart_request)
def test_it_answers_broken_multipart_in_json(web, request):
    ctype, body = request

    assert_json_answer(post_lead(web, body, ctype))


@settings(HOSTILE, max_examples=400)
@given(
    remote=st.sampled_from(["127.0.0.1", "10.1.2.3", "203.0.113.9"]),
    forwarded=forwarded_for,
    length=st.none() | st.sampled_from(["-1", "0", "3", "abc", "99999999999999999999", " 12"]),
    headers=st.dictionaries(st.sampled_from(HEADERS), header_text),
)
@example(remote="127.0.0.1", forwarded="fe80::1%eth0", length=None, headers={})
def test_it_answers_garbage_headers_and_lying_lengths_in_json(web, remote, forwarded, length, headers):
    body = json.dumps(VALID_LEAD).encode()  # a valid lead, so the client IP is worked out and stored
    # A real server hands over a stream that simply ends; Django's test payload would assert on over-reading.
    lies = {"CONTENT_LENGTH": length, "wsgi.input": io.BytesIO(body)} if length is not None else {}
    meta = {"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded, **headers, **lies}

    assert_json_answer(post_lead(web, body, "application/json", **meta))


@settings(HOSTILE, max_examples=60)
@given(method=st.sampled_from(["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"]))
def test_it_answers_any_method_on_the_lead_api_in_json(web, method):
    response = web.generic(method, "/api/leads", b"{}", content_type="application/json")

    assert response.status_code < 500
    if method not in ("HEAD", "OPTIONS"):  # HEAD has no body; OPTIONS is CORS's preflight
        assert_json_answer(response)


@settings(HOSTILE, max_examples=250)
@given(
    fields=st.dictionaries(st.sampled_from([*LEAD_FIELDS, "csrfmiddlewaretoken"]) | any_text, any_text, max_size=8),
    query=st.dictionaries(st.sampled_from(LEAD_FIELDS + ["sent"]), query_text, max_size=4),
)
def test_it_never_fails_on_the_form_page(web, fields, query):
    encoded = "&".join(f"{k}={v}" for k, v in fields.items()).encode("utf-8", "surrogatepass")

    posted = web.generic("POST", "/", encoded, content_type="application/x-www-form-urlencoded")
    shown = web.get("/", query)

    assert posted.status_code < 500 and shown.status_code < 500


@settings(HOSTILE, max_examples=150)
@given(fields=padded_lead)
@example(fields={"name": "Anvar", "phone": "\n" * 70 + "90 123 45 67"})  # was a 500 on PostgreSQL
def test_it_stores_padded_values_from_the_form_page_within_their_columns(web, fields):
    encoded = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in fields.items()}).encode()

    posted = web.generic("POST", "/", encoded, content_type="application/x-www-form-urlencoded")

    assert posted.status_code < 500
    if posted.status_code == 302:
        assert_fits_its_columns(Lead.objects.order_by("-id").values_list("id", flat=True).first())


def call_wsgi(**environ: str) -> tuple[list[str], bytes]:
    """One request through acoustic/wsgi.py, as gunicorn makes it (in a copied context: the request id stays there)."""
    request = {"HTTP_HOST": "testserver", **environ}
    setup_testing_defaults(request)
    statuses: list[str] = []
    body = contextvars.copy_context().run(
        lambda: b"".join(application(request, lambda status, headers, exc_info=None: statuses.append(status)))
    )
    return statuses, body


@pytest.mark.parametrize("charset", ["rot13", "zlib", "punycode", "undefined"])
def test_it_reads_a_charset_django_cannot_decode_with_as_utf8(charset):
    # Django decodes the query string with the charset while it builds the request: a 500 before any middleware.
    ctype = f"text/plain; charset={charset}"

    statuses, body = call_wsgi(PATH_INFO="/api/leads", QUERY_STRING="utm_source=x", CONTENT_TYPE=ctype)

    assert statuses == ["405 Method Not Allowed"] and json.loads(body)["error"]
