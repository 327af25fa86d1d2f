import pytest
from django.test import override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_origin")]

SITE = "https://acoustic.uz"


@pytest.fixture
def site_origin():
    with override_settings(CORS_ALLOWED_ORIGINS=[SITE]):
        yield


def preflight(client, origin):
    return client.options(
        "/api/leads",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )


def test_it_answers_the_preflight_of_a_configured_origin(client):
    response = preflight(client, SITE)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "content-type" in response["Access-Control-Allow-Headers"]


def test_it_allows_the_configured_origin_to_read_the_answer(client):
    response = client.post("/api/leads", {"name": "A", "phone": "901234567"}, HTTP_ORIGIN=SITE)

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SITE


def test_it_gives_other_origins_no_cors_headers(client):
    response = preflight(client, "https://evil.example")

    assert "Access-Control-Allow-Origin" not in response


def test_it_keeps_cors_headers_off_the_admin(client):
    response = client.get("/admin/login/", HTTP_ORIGIN=SITE)

    assert "Access-Control-Allow-Origin" not in response
