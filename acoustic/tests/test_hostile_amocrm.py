"""Thousands of hostile requests to what amoCRM and staff call: the OAuth callback, the disconnect hook and
the deal webhook never answer 5xx, and the JSON endpoints answer every refusal in JSON."""

import hashlib
import hmac
import re
from urllib.parse import quote, urlencode

import pytest
import responses
from django.test import Client
from hypothesis import example, given, settings
from hypothesis import strategies as st

from acoustic.tests.hostile import (
    FORM,
    HOSTILE,
    assert_json_answer,
    big_body,
    content_type,
    header_text,
    huge_number,
    query_text,
)
from amocrm.api import transport
from amocrm.models import Delivery, DeliveryState, Settings
from leads.models import Lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_lead_rate_limit")]
CLIENT_UUID, CLIENT_SECRET = "6f1c0a52-3e0f-4d6b-9a55-0c9f5f0e1d2a", "sandbox-secret-key"


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
