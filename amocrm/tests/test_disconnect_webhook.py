import hashlib
import hmac

import pytest

from amocrm.models import ConnectionState, Settings

pytestmark = pytest.mark.django_db

CLIENT_ID = "5f0c9a52-3f4e-4d6b-9c1e-8a7b6c5d4e3f"
SECRET = "integration-secret"
ACCOUNT_ID = "30000001"


@pytest.fixture
def connected() -> Settings:
    conn = Settings.load()
    conn.client_id, conn.client_secret, conn.domain = CLIENT_ID, SECRET, "acoustic.amocrm.ru"
    conn.access_token, conn.refresh_token, conn.account_id = "access", "refresh", int(ACCOUNT_ID)
    conn.state = ConnectionState.CONNECTED
    conn.save()
    return conn


def _signature(client_uuid: str = CLIENT_ID, account_id: str = ACCOUNT_ID, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), f"{client_uuid}|{account_id}".encode(), hashlib.sha256).hexdigest()


def _hook(client, **params):
    return client.get("/api/amocrm/disconnect", params)


def test_it_marks_the_connection_disconnected_on_a_valid_signature(client, connected):
    response = _hook(client, client_uuid=CLIENT_ID, account_id=ACCOUNT_ID, signature=_signature())

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    conn = Settings.load()
    assert conn.state == ConnectionState.DISCONNECTED
    assert "switched off in amoCRM" in conn.last_error


def test_it_accepts_the_legacy_client_id_parameter(client, connected):
    response = _hook(client, client_id=CLIENT_ID, account_id=ACCOUNT_ID, signature=_signature())

    assert response.status_code == 200
    assert Settings.load().state == ConnectionState.DISCONNECTED


def test_it_refuses_a_wrong_signature(client, connected):
    response = _hook(client, client_uuid=CLIENT_ID, account_id=ACCOUNT_ID, signature=_signature(secret="guess"))

    assert response.status_code == 403
    assert response.json()["ok"] is False
    assert Settings.load().state == ConnectionState.CONNECTED


def test_it_refuses_a_missing_signature(client, connected):
    response = _hook(client, client_uuid=CLIENT_ID, account_id=ACCOUNT_ID)

    assert response.status_code == 403
    assert Settings.load().state == ConnectionState.CONNECTED


def test_it_refuses_another_integrations_hook_even_if_signed_with_its_uuid(client, connected):
    other = "11111111-2222-4333-8444-555555555555"

    response = _hook(client, client_uuid=other, account_id=ACCOUNT_ID, signature=_signature(client_uuid=other))

    assert response.status_code == 403
    assert Settings.load().state == ConnectionState.CONNECTED


def test_it_refuses_everything_while_no_secret_is_stored(client, connected):
    Settings.objects.filter(pk=1).update(client_secret="")

    response = _hook(client, client_uuid=CLIENT_ID, account_id=ACCOUNT_ID, signature=_signature(secret=""))

    assert response.status_code == 403
    assert Settings.load().state == ConnectionState.CONNECTED


def test_it_ignores_a_valid_hook_for_another_account(client, connected):
    response = _hook(client, client_uuid=CLIENT_ID, account_id="999", signature=_signature(account_id="999"))

    assert response.status_code == 200
    assert Settings.load().state == ConnectionState.CONNECTED


def test_it_answers_post_with_405(client, connected):
    response = client.post(f"/api/amocrm/disconnect?client_uuid={CLIENT_ID}&account_id={ACCOUNT_ID}")

    assert response.status_code == 405
