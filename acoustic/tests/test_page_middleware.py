"""The lead API goes around the pages' sessions, users and messages, and keeps everything it relies on."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

LEAD = {"name": "Dilnoza", "phone": "+998 90 123 45 67"}
SITE = "https://acoustic.uz"


def post_lead(client: Client, **headers: str):
    return client.post("/api/leads", LEAD, content_type="application/json", **headers)


@pytest.mark.parametrize("attribute", ["session", "user", "_messages"])
def test_the_lead_api_makes_no_session_user_or_messages(client, attribute):
    response = post_lead(client)

    assert not hasattr(response.wsgi_request, attribute)


@pytest.mark.parametrize("attribute", ["session", "user", "_messages"])
def test_the_pages_keep_their_session_user_and_messages(client, attribute):
    response = client.get("/")

    assert hasattr(response.wsgi_request, attribute)


def test_the_lead_api_still_answers_its_site_with_cors(client):
    with override_settings(CORS_ALLOWED_ORIGINS=[SITE]):
        response = post_lead(client, HTTP_ORIGIN=SITE)

    assert response["Access-Control-Allow-Origin"] == SITE


def test_the_lead_api_still_tags_its_answer_with_the_request_id(client):
    response = post_lead(client, HTTP_X_REQUEST_ID="req-7f3c9a10")

    assert response["X-Request-ID"] == "req-7f3c9a10"


@override_settings(LEAD_RATE_LIMIT="1/m")
def test_the_lead_api_still_limits_the_rate(client):
    post_lead(client)

    assert post_lead(client).status_code == 429


def test_the_lead_api_still_caps_the_body(client):
    response = client.post("/api/leads", {"name": "x" * 17_000}, content_type="application/json")

    assert response.status_code == 413


def test_the_lead_api_still_drops_a_bot_silently(client):
    response = client.post("/api/leads", {**LEAD, "website": "spam"}, content_type="application/json")

    assert response.json() == {"id": None}
