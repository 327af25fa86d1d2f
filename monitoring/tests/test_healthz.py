"""GET /healthz: 200 while the database, Redis and the broker answer, 503 naming the part that does not."""

import pytest
from cryptography.fernet import Fernet

from amocrm.models import Settings

pytestmark = pytest.mark.django_db

UNREACHABLE = "redis://127.0.0.1:9/0"  # nobody listens on port 9


def test_it_answers_200_when_every_part_works(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "checks": {"database": "ok", "redis": "ok", "broker": "ok", "secrets": "ok", "amocrm": "not_connected"},
    }
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_503_naming_redis_and_the_broker_when_redis_is_down(client, settings):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = UNREACHABLE
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": UNREACHABLE}}

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "error: ConnectionError"
    assert body["checks"]["broker"].startswith("error: ")


def test_it_reports_an_amocrm_connection_that_needs_reconnecting_without_failing(client, connected):
    connected.mark_needs_reconnect("revoked")

    response = client.get("/healthz")

    assert response.status_code == 200 and response.json()["checks"]["amocrm"] == "needs_reconnect"


def test_it_reports_paused_sending(client, connected):
    Settings.load().pause_sending("The amoCRM subscription has ended.")

    assert client.get("/healthz").json()["checks"]["amocrm"] == "paused"


def test_it_answers_only_get(client):
    assert client.post("/healthz").status_code == 405


@pytest.fixture
def key_lost(settings) -> None:
    """The amoCRM settings row, saved under a key that FERNET_KEYS no longer has."""
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    Settings.load()
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]


def test_it_answers_503_when_no_key_opens_the_amocrm_settings(client, key_lost):
    response = client.get("/healthz")

    assert response.status_code == 503


def test_it_names_the_row_no_key_opens(client, key_lost):
    body = client.get("/healthz").json()

    assert body["checks"]["secrets"] == (
        "error: no key in FERNET_KEYS opens amocrm.Settings pk 1 "
        "(client_secret, long_lived_token, access_token, refresh_token)"
    )


def test_it_leaves_the_amocrm_state_unknown_while_its_row_cannot_be_read(client, key_lost):
    assert client.get("/healthz").json()["checks"]["amocrm"] == "unknown"
