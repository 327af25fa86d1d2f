import pytest
import responses
from django.test import Client

from amocrm.models import Settings
from amocrm.tests.conftest import BASE_URL

pytestmark = pytest.mark.django_db


def test_it_reports_the_account_and_token_expiry(admin_client, sandbox_conn):
    response = admin_client.get("/api/amocrm/test")

    body = response.json()
    assert response.status_code == 200
    assert body["ok"] is True
    assert body["account"] == {"id": 30_000_001, "name": body["account"]["name"], "subdomain": "sandbox"}
    assert body["token_expires_at"] == Settings.load().access_token_expires_at.isoformat()


def test_it_answers_409_while_nothing_is_configured(admin_client, db):
    response = admin_client.get("/api/amocrm/test")

    assert response.status_code == 409
    assert response.json() == {"ok": False, "error": response.json()["error"]}
    assert "not set up" in response.json()["error"]


def test_it_answers_409_when_access_was_revoked(admin_client, sandbox_conn):
    sandbox_conn.mark_needs_reconnect("revoked")

    response = admin_client.get("/api/amocrm/test")

    assert response.status_code == 409
    assert "Reconnect" in response.json()["error"]


def test_it_answers_502_on_an_amocrm_server_error(admin_client, sandbox_conn, sandbox):
    sandbox.set_faults(error_next=1, error_statuses=[500])

    response = admin_client.get("/api/amocrm/test")

    assert response.status_code == 502
    assert "server error" in response.json()["error"]


def test_it_answers_503_when_amocrm_is_unreachable(admin_client, sandbox_conn, settings):
    settings.AMOCRM_SANDBOX_URL = "http://127.0.0.1:9"  # discard port: nothing listens

    response = admin_client.get("/api/amocrm/test")

    assert response.status_code == 503
    assert "unreachable" in response.json()["error"]


@pytest.mark.parametrize("path", ["/api/amocrm/test", "/api/amocrm/leads"])
def test_it_forbids_everyone_but_staff_with_json(client, django_user_model, path):
    anonymous = client.get(path)
    client.force_login(django_user_model.objects.create_user("visitor", password="pw"))

    logged_in = client.get(path)

    assert (anonymous.status_code, logged_in.status_code) == (403, 403)
    assert anonymous.json()["ok"] is False and logged_in.json()["ok"] is False


def test_it_forbids_staff_without_the_amocrm_settings_permission(django_user_model, db):
    client = Client()
    client.force_login(django_user_model.objects.create_user("editor", password="pw", is_staff=True))

    response = client.get("/api/amocrm/test")

    assert response.status_code == 403


def test_it_answers_an_empty_page_when_amocrm_has_no_deals(admin_client, sandbox_conn):
    response = admin_client.get("/api/amocrm/leads")  # the sandbox answers 204 for an empty list

    assert response.status_code == 200
    assert response.json() == {"page": 1, "limit": 50, "next": None, "leads": []}


@responses.activate
def test_it_passes_page_and_limit_on_and_offers_the_next_page(admin_client, connected, limiter):
    lead = {"id": 7, "name": "Deal", "price": 0, "pipeline_id": 1, "status_id": 2, "created_at": 5, "updated_at": 6}
    body = {"_links": {"next": {"href": "..."}}, "_embedded": {"leads": [lead]}}
    responses.get(f"{BASE_URL}/api/v4/leads", json=body)

    response = admin_client.get("/api/amocrm/leads?page=2&limit=1")

    assert responses.calls[0].request.params == {"page": "2", "limit": "1", "with": "contacts"}
    assert response.json()["next"] == 3
    assert response.json()["leads"][0]["id"] == 7


@pytest.mark.parametrize("query", ["limit=0", "limit=251", "limit=ten", "page=0", "page=-1", "page=1.5"])
def test_it_refuses_a_bad_page_or_limit(admin_client, connected, query):
    response = admin_client.get(f"/api/amocrm/leads?{query}")

    assert response.status_code == 400
    assert response.json()["ok"] is False


def test_it_accepts_the_largest_page_amocrm_allows(admin_client, sandbox_conn, sandbox):
    response = admin_client.get("/api/amocrm/leads?limit=250")

    assert response.status_code == 200
    assert "limit=250" in sandbox.received("/api/v4/leads")[0].query


def test_a_successful_test_lifts_a_payment_pause(admin_client, sandbox_conn):
    sandbox_conn.pause_sending("402 Payment Required")

    admin_client.get("/api/amocrm/test")

    assert Settings.load().sending_paused_reason == ""


def test_it_says_that_sending_resumed(admin_client, sandbox_conn):
    sandbox_conn.pause_sending("402 Payment Required")

    response = admin_client.get("/api/amocrm/test")

    assert response.json()["sending_resumed"] is True
