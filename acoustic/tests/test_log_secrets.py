"""Everything logged while connecting to amoCRM and delivering a lead, read back for secrets, tokens and the phone."""

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from acoustic.logging import JsonFormatter
from amocrm.api import oauth
from amocrm.models import ConnectionState, Delivery, Settings
from amocrm.tasks import push_lead
from leads.models import Lead
from leads.tasks import dispatch_leads

pytestmark = pytest.mark.django_db

PHONE_TYPED = "+998 90 123 45 67"
PHONE_FORMS = ("998901234567", "901234567", "90 123 45 67")


@pytest.fixture
def sandbox(amocrm_sandbox, settings):
    settings.AMOCRM_SANDBOX_URL = amocrm_sandbox.url
    amocrm_sandbox.config.redirect_uri = oauth.redirect_uri()
    return amocrm_sandbox


@contextmanager
def everything_logged() -> Iterator[io.StringIO]:
    """What the configured console handler writes, as JSON (the production format, with every extra) and
    with every logger at DEBUG (urllib3 then logs each URL it requests)."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    loggers = [logging.getLogger(), logging.getLogger("urllib3"), logging.getLogger("django")]
    levels, formatter = [logger.level for logger in loggers], handler.formatter
    stream = io.StringIO()
    previous = handler.setStream(stream)
    handler.setFormatter(JsonFormatter())
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        handler.setStream(previous)
        handler.setFormatter(formatter)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def connect_through_views(admin_client: Client, sandbox) -> str:
    """Connect, Allow on the sandbox's consent page, back to our callback; the authorization code used."""
    consent = requests.get(admin_client.get("/api/amocrm/authorize")["Location"], timeout=5)
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', consent.text))
    allowed = requests.post(f"{sandbox.url}/oauth", data={**form, "decision": "allow"}, allow_redirects=False)
    callback = allowed.headers["Location"].removeprefix("http://127.0.0.1:8000")
    admin_client.get(callback)
    # Reloading the page replays the code: refused with a 400, which Django logs with the request's query string.
    assert admin_client.get(callback).status_code == 400
    return parse_qs(urlsplit(callback).query)["code"][0]


def deliver_a_lead(client: Client) -> None:
    body = {"name": "Dilnoza", "phone": PHONE_TYPED}
    lead_id = client.post("/api/leads", body, content_type="application/json").json()["id"]
    dispatch_leads()  # what a worker does with the task the intake queued
    push_lead(Delivery.objects.get(lead_id=lead_id).id)


def test_it_logs_no_secret_token_code_or_phone_through_oauth_and_delivery(admin_client, client, sandbox, settings):
    settings.LEAD_RATE_LIMIT = ""
    conn = Settings.load()
    conn.client_id, conn.client_secret = sandbox.client_id, sandbox.client_secret
    conn.search_contacts_by_phone = True  # the search sends the phone in a query string, which urllib3 logs
    conn.save()

    with everything_logged() as logs:
        code = connect_through_views(admin_client, sandbox)
        first = Settings.load()
        deliver_a_lead(client)
        requests.post(f"{sandbox.url}/_sandbox/control", json={"expire_tokens": True}, timeout=5).raise_for_status()
        deliver_a_lead(client)  # refreshes the pair first
        admin_client.get("/api/amocrm/test")
    last, text = Settings.load(), logs.getvalue()

    assert last.state == ConnectionState.CONNECTED and last.access_token != first.access_token
    assert Lead.objects.count() == 2 and Delivery.objects.filter(amocrm_lead_id__isnull=False).count() == 2
    assert "/oauth2/access_token" in text and "/api/v4/leads/complex" in text  # the round trip was logged
    secrets = [sandbox.client_secret, code, first.access_token, first.refresh_token, last.access_token]
    assert [s for s in [*secrets, last.refresh_token, *PHONE_FORMS] if s in text] == []


def log_request_line(path: str, status: int) -> None:
    """What the development server (django.server) and gunicorn's access log write for a request: its full URL."""
    logging.getLogger("django.server").info('"GET %s HTTP/1.1" %s 0', path, status)


def test_it_logs_no_webhook_secret_from_the_webhook_path(client):
    secret = Settings.load().webhook_secret

    with everything_logged() as logs:
        client.post(f"/api/amocrm/webhook/{secret}", "not a webhook", content_type="text/plain")
    text = logs.getvalue()

    assert "/api/amocrm/webhook/[REDACTED]" in text  # Django's "Bad Request: <path>" line
    assert secret not in text


def test_it_logs_no_signature_of_the_disconnect_hook(client):
    signature = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    path = f"/api/amocrm/disconnect?client_uuid=c0ffee&signature={signature}&account_id=31234567"

    with everything_logged() as logs:
        log_request_line(path, client.get(path).status_code)

    assert signature not in logs.getvalue()


def test_it_logs_no_code_carried_url_encoded_in_a_next_parameter(client):
    code = "def50200a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8"
    login = client.get(f"/api/amocrm/callback?code={code}&state=s1")["Location"]  # staff only: to the login page

    with everything_logged() as logs:
        log_request_line(login, client.get(login).status_code)

    assert "next=" in logs.getvalue()
    assert code not in logs.getvalue()
