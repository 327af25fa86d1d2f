"""What the hostile-input suites share: hypothesis settings and strategies, and how a good answer looks."""

import json

from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from acoustic.request_charset import readable_content_type
from leads.models import Lead

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
