"""Thousands of hostile requests: the lead API, the form page, the OAuth callback and amoCRM's webhooks never
answer 5xx, and the JSON endpoints answer every refusal with a JSON error."""

import contextvars
import hashlib
import hmac
import io
import json
import re
from urllib.parse import quote, urlencode
from wsgiref.util import setup_testing_defaults

import pytest
import responses
from django.test import Client, override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from acoustic.request_charset import readable_content_type
from acoustic.wsgi import application
from amocrm.api import transport
from amocrm.models import Delivery, DeliveryState, Settings
from leads.models import Lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_lead_rate_limit")]

# Deterministic in CI: the same examples every run, no example database written into the tree.
HOSTILE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
LEAD_FIELDS = ["name", "phone", "email", "message", "source", "product_id", "page_url", "referrer", "utm_source",
               "utm_medium", "utm_campaign", "utm_content", "utm_term", "website", "landing_page", "first_referrer",
               "first_landing_page", "first_utm_source", "first_utm_medium", "first_utm_campaign", "first_utm_content",
               "first_utm_term", "gclid", "yclid", "fbclid", "ym_uid", "ga_client_id", "consent", "idempotency_key",
               "branch", "preferred_time"]  # fmt: skip
CLIENT_UUID, CLIENT_SECRET = "6f1c0a52-3e0f-4d6b-9a55-0c9f5f0e1d2a", "sandbox-secret-key"

# Any Unicode, lone surrogates and NUL included; header values are what a server hands over (latin-1, one line);
# query values any Unicode a URL can carry (no lone surrogates: they cannot be percent-encoded as UTF-8).
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
query_text = st.text(max_size=300)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=200)
huge_number = st.integers(1, 4500).map(lambda digits: "9" * digits)
json_scalar = st.none() | st.booleans() | st.integers() | st.floats() | any_text
json_value = st.recursive(
    json_scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4), max_leaves=12
)
phone_like = (
    st.sampled_from(["+998 90 123 45 67", "998901234567", "+99890123456789012345", "٩٩٨٩٠١٢٣٤٥٦٧", "+"]) | any_text
)
# Whitespace that str.strip() (and so Django's CharField) takes off, around values as long as a column or a little over:
# what is measured after stripping must be what is stored, or PostgreSQL refuses the row (a 500).
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u3000"
padding = st.text(st.sampled_from(WHITESPACE), min_size=1, max_size=120)
COLUMN_LENGTHS = [32, 50, 64, 100, 200, 254, 255, 500, 2000, 5000]
column_long = st.builds(
    lambda length, over, char: char * (length + over), st.sampled_from(COLUMN_LENGTHS), st.integers(-1, 2),
    st.sampled_from("x9ф"),
)  # fmt: skip
padded = st.builds(
    lambda left, core, right: left + core + right, padding,
    st.sampled_from(["+998 90 123 45 67", "90 123 45 67", "a@b.uz", "on"]) | column_long | any_text, padding,
)  # fmt: skip
lead_value = st.one_of(phone_like, json_value, st.integers(1, 4000).map(lambda digits: int("9" * digits)), padded)
lead_object = st.dictionaries(st.sampled_from(LEAD_FIELDS) | any_text, lead_value, max_size=len(LEAD_FIELDS))
VALID_LEAD = {"name": "Dilnoza", "phone": "+998 90 123 45 67"}
# A lead that passes validation but for one field: the hostile value gets as far as the database.
nearly_valid_lead = st.builds(
    lambda field, value: {**VALID_LEAD, field: value}, st.sampled_from(LEAD_FIELDS), lead_value
)
# A valid lead with every field padded: several long values at once, as a form with whitespace everywhere sends them.
padded_lead = st.dictionaries(st.sampled_from(LEAD_FIELDS), padded, max_size=6).map(
    lambda fields: {"name": "Dilnoza", "phone": "\t" * 60 + "+998 90 123 45 67" + "\n" * 70, **fields}
)
CHARSETS = ["utf-8", "utf-16", "utf-32", "latin-1", "cp1251", "ascii", "bogus", "rot13", "base64", "hex", "zlib", ""]
FORM = "application/x-www-form-urlencoded"
MEDIA_TYPES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain", ""]
content_type = st.one_of(
    st.sampled_from(MEDIA_TYPES),
    st.builds("{}; charset={}".format, st.sampled_from(MEDIA_TYPES), st.sampled_from(CHARSETS) | header_text),
    st.builds("multipart/form-data; boundary={}".format, header_text),
    header_text,
)
big_body = st.builds(lambda chunk, times: chunk * times, st.binary(min_size=1, max_size=64), st.integers(1, 600))
SPOOFED_IPS = ["fe80::1%eth0", "::ffff:127.0.0.1", "1.2.3.4:80", "[::1]", "001.002.003.004", "0x7f.1", "unknown"]
# No Host: Django refuses an unknown one itself, before any view, with its HTML 400 page.
HEADER_NAMES = "ORIGIN ACCEPT_LANGUAGE COOKIE USER_AGENT X_REQUEST_ID REFERER X_FORWARDED_PROTO IDEMPOTENCY_KEY"
HEADERS = [f"HTTP_{name}" for name in HEADER_NAMES.split()]
forwarded_for = st.lists(st.sampled_from(SPOOFED_IPS) | st.ip_addresses().map(str) | header_text, max_size=4).map(
    ", ".join
)


@pytest.fixture
def no_lead_rate_limit():
    with override_settings(LEAD_RATE_LIMIT="", TRUSTED_PROXIES=["127.0.0.1", "10.0.0.0/8"]):
        yield


@pytest.fixture
def web() -> Client:
    """A client that shows a crash as the 500 a visitor would get, instead of raising it into the test."""
    client = Client(raise_request_exception=False)
    django = client.handler
    # What acoustic/wsgi.py puts in front of Django in production; the test client calls Django directly.
    client.handler = lambda environ: django({**environ, **guarded(environ)})
    return client


def guarded(environ: dict) -> dict:
    return {"CONTENT_TYPE": readable_content_type(environ["CONTENT_TYPE"])} if "CONTENT_TYPE" in environ else {}


def multipart(header_boundary: str, body_boundary: str, name: str, value: bytes, cut: int) -> tuple[str, bytes]:
    head = f'--{body_boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode("utf-8", "replace")
    body = head + value + f"\r\n--{body_boundary}--\r\n".encode("utf-8", "replace")
    return f"multipart/form-data; boundary={header_boundary}", body[: cut or None]


multipart_request = st.builds(
    multipart, header_text, st.sampled_from(["b0undary", ""]) | header_text, any_text, st.binary(max_size=200),
    st.integers(0, 400),
)  # fmt: skip


def assert_json_answer(response) -> None:
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"] == "application/json", (response.status_code, response.content[:300])
    body = json.loads(response.content)
    assert 200 <= response.status_code < 300 or body.get("error") or body.get("errors"), body


def post_lead(web: Client, body: bytes, ctype: str, **extra):
    response = web.generic("POST", "/api/leads", body, content_type=ctype, **extra)
    if response.status_code in (200, 201) and response["Content-Type"] == "application/json":
        assert_fits_its_columns(json.loads(response.content).get("id"))
    return response


def assert_fits_its_columns(lead_id: int | None) -> None:
    """Every stored text within its column: SQLite takes a longer one, PostgreSQL answers it with a 500."""
    lead = Lead.objects.filter(id=lead_id).first()
    if lead is None:  # a bot's lead: answered, never stored
        return
    for field in Lead._meta.fields:
        if field.max_length and getattr(lead, field.attname) is not None:
            assert len(getattr(lead, field.attname)) <= field.max_length, (field.name, getattr(lead, field.attname))
    assert len(lead.extra) <= 30, lead.extra
    assert all(len(name) <= 64 and len(value) <= 2000 for name, value in lead.extra.items()), lead.extra


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


@pytest.fixture
def integration(db) -> Settings:
    conn = Settings.load()
    conn.client_id, conn.client_secret = CLIENT_UUID, CLIENT_SECRET
    conn.save()
    return conn


def signed(client_uuid: str, account_id: str) -> str:
    return hmac.new(CLIENT_SECRET.encode(), f"{client_uuid}|{account_id}".encode(), hashlib.sha256).hexdigest()


@settings(HOSTILE, max_examples=500)
@given(
    client_uuid=st.sampled_from([CLIENT_UUID, ""]) | header_text,
    account_id=st.sampled_from(["30000001", ""]) | query_text,
    signature=st.sampled_from(["valid", ""]) | st.text(max_size=80),
    extra=st.dictionaries(st.sampled_from(["client_id", "account_id", "x"]), query_text, max_size=2),
    ctype=st.none() | content_type,
)
def test_it_answers_any_disconnect_webhook_query_in_json(
    web, integration, client_uuid, account_id, signature, extra, ctype
):
    if signature == "valid":
        signature = signed(client_uuid, account_id)
    query = {"client_uuid": client_uuid, "account_id": account_id, "signature": signature, **extra}
    meta = {"CONTENT_TYPE": ctype} if ctype is not None else {}

    assert_json_answer(web.get("/api/amocrm/disconnect", query, **meta))


ACCOUNT_ID = "30000001"
HOOK_KEYS = ["account[id]", "account[subdomain]", "account[_links][self]", "leads[status][0][id]",
             "leads[status][0][status_id]", "leads[status][0][pipeline_id]", "leads[update][0][id]",
             "leads[update][0][updated_at]", "leads[delete][1][id]", "leads[add][0][id]", "leads", "leads[status]",
             "leads[status][0]", "leads[][][]", "account"]  # fmt: skip
hook_value = st.sampled_from([ACCOUNT_ID, "acoustic", "555", "0", "-1", "9" * 19, ""]) | huge_number | query_text
hook_pair = st.tuples(st.sampled_from(HOOK_KEYS) | query_text, hook_value)
VALID_HOOK = [("account[id]", ACCOUNT_ID), ("account[subdomain]", "acoustic"), ("leads[status][0][id]", "555"),
              ("leads[status][0][pipeline_id]", "7700001"), ("leads[status][0][status_id]", "142")]  # fmt: skip


def nearly_valid_hook(position: int, value: str | None, extra: list[tuple[str, str]]) -> bytes:
    """A status webhook of the connected account, one value perhaps replaced, more pairs perhaps added."""
    pairs = [(key, value if i == position and value is not None else v) for i, (key, v) in enumerate(VALID_HOOK)]
    return urlencode(pairs + extra).encode()


# Bodies shaped like amoCRM's (PHP-style keys, form-encoded), with any values and keys mixed in.
hook_body = st.one_of(
    st.lists(hook_pair, max_size=12).map(lambda pairs: urlencode(pairs).encode()),
    st.builds(nearly_valid_hook, st.integers(0, len(VALID_HOOK) - 1), st.none() | hook_value, st.lists(hook_pair)),
)


@pytest.fixture
def hook_url(integration) -> str:
    """The connected account's webhook address, so bodies get past the secret to the parser and the store."""
    integration.account_id, integration.domain = int(ACCOUNT_ID), "acoustic.amocrm.ru"
    integration.save()
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="90 123 45 67")
    Delivery.objects.create(lead=lead, amocrm_lead_id=555, state=DeliveryState.DELIVERED)  # deal 555 is ours
    return f"/api/amocrm/webhook/{integration.webhook_secret}"


@settings(HOSTILE, max_examples=400)
@given(body=hook_body | st.binary(max_size=2000) | big_body, ctype=st.just(FORM) | content_type)
@example(body=b"account[id]=30000001&leads[status][0][id]=" + b"9" * 5000, ctype=FORM)
def test_it_answers_any_deal_webhook_in_json(web, hook_url, body, ctype):
    assert_json_answer(web.generic("POST", hook_url, body, content_type=ctype))


@settings(HOSTILE, max_examples=150)
@given(secret=query_text, method=st.sampled_from(["GET", "POST", "PUT"]))
def test_it_never_fails_on_a_wrong_webhook_address(web, integration, secret, method):
    response = web.generic(method, f"/api/amocrm/webhook/{quote(secret, safe='')}", b"account[id]=1")

    assert response.status_code < 500


@pytest.fixture
def staff_web(web, integration, admin_user, monkeypatch) -> Client:
    """Staff logged in; amoCRM unreachable and unpaced (every request to it fails at once, as a network error)."""
    monkeypatch.setattr(transport, "_wait_for_slot", lambda: None)
    web.force_login(admin_user)
    return web


REFERERS = ["acoustic.amocrm.ru", "x.kommo.com", "evil.example.com", "acoustic.amocrm.ru:443", ""]


@settings(HOSTILE, max_examples=400)
@given(
    with_state=st.booleans(),
    params=st.fixed_dictionaries(
        {},
        optional={
            "state": query_text,
            "code": query_text,
            "error": st.sampled_from(["access_denied", ""]) | query_text,
            "referer": st.sampled_from(REFERERS) | query_text,
            "platform": st.sampled_from(["1", "2", ""]) | query_text,
            "client_id": query_text,
            "from_widget": query_text,
        },
    ),
    cookie=st.none() | header_text,
)
def test_it_never_fails_on_the_oauth_callback(staff_web, with_state, params, cookie):
    if with_state:  # a genuine state from Connect, so the code, referer and error are looked at too
        location = staff_web.get("/api/amocrm/authorize")["Location"]
        params = {**params, "state": re.search(r"state=([^&]+)", location)[1]}
    if cookie is not None:
        staff_web.cookies["amocrm_oauth_state"] = cookie

    with responses.RequestsMock(assert_all_requests_are_fired=False):  # nothing leaves for the real amoCRM
        response = staff_web.get("/api/amocrm/callback", params)

    assert 200 <= response.status_code < 500


def test_it_answers_a_non_ascii_disconnect_signature_in_json(web, integration):
    query = {"client_uuid": CLIENT_UUID, "account_id": "30000001", "signature": "\x80"}

    assert_json_answer(web.get("/api/amocrm/disconnect", query))


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
