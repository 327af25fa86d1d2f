"""Subscribing to amoCRM's stage changes against the sandbox: the API calls, the settings page, disconnect."""

import hashlib
import hmac

import pytest
import requests
import responses

from amocrm.api import client
from amocrm.models import ConnectionState, Settings
from amocrm.sync import subscription as webhook_subscription
from amocrm.sync.subscription import EVENTS

pytestmark = pytest.mark.django_db
SETTINGS_URL = "/admin/amocrm/settings/1/change/"


@pytest.fixture
def conn(sandbox_conn, settings) -> Settings:
    settings.SITE_URL = "https://acoustic.uz"
    account = client.get_account(sandbox_conn)
    sandbox_conn.mark_connected(account.id, account.name)
    return sandbox_conn


def hooks(sandbox) -> list:
    return list(sandbox.state.webhooks.values())


def test_it_subscribes_the_secret_address_to_our_events(conn, sandbox):
    webhook_subscription.subscribe(conn)

    (hook,) = hooks(sandbox)
    assert hook.destination == f"https://acoustic.uz/api/amocrm/webhook/{conn.webhook_secret}"
    assert hook.settings == EVENTS == ["status_lead", "update_lead", "delete_lead"]
    assert Settings.load().webhook_subscribed_at is not None


def test_subscribing_again_keeps_one_webhook(conn, sandbox):
    webhook_subscription.subscribe(conn)

    webhook_subscription.subscribe(conn)

    assert len(hooks(sandbox)) == 1


def test_it_asks_amocrm_whether_the_webhook_exists(conn, sandbox):
    before = webhook_subscription.state(conn)
    webhook_subscription.subscribe(conn)

    after = webhook_subscription.state(conn)

    assert (before.exists, after.exists) == (False, True)
    lookup = sandbox.received(path="/api/v4/webhooks", method="GET")[-1]
    assert "filter%5Bdestination%5D=https%3A%2F%2Facoustic.uz%2Fapi%2Famocrm%2Fwebhook%2F" in lookup.query


def test_it_unsubscribes(conn, sandbox):
    webhook_subscription.subscribe(conn)

    removed = webhook_subscription.unsubscribe(conn)

    assert removed and hooks(sandbox) == []
    assert Settings.load().webhook_subscribed_at is None
    assert webhook_subscription.state(conn).exists is False


def test_unsubscribing_without_a_webhook_is_harmless(conn, sandbox):
    assert webhook_subscription.unsubscribe(conn) is False


def test_the_settings_page_subscribes_from_its_button(admin_client, conn, sandbox):
    response = admin_client.post("/admin/amocrm/settings/webhook/subscribe/", follow=True)

    assert len(hooks(sandbox)) == 1
    assert "Subscribed: amoCRM now tells the site" in response.content.decode()
    assert 'id="amocrm-unsubscribe"' in response.content.decode()


def test_the_settings_page_shows_when_there_is_no_subscription(admin_client, conn, sandbox):
    page = admin_client.get(SETTINGS_URL).content.decode()

    assert "Not subscribed" in page and 'id="amocrm-subscribe"' in page


def test_the_settings_page_unsubscribes_from_its_button(admin_client, conn, sandbox):
    webhook_subscription.subscribe(conn)

    admin_client.post("/admin/amocrm/settings/webhook/unsubscribe/")

    assert hooks(sandbox) == []


def test_the_buttons_take_only_posts(admin_client, conn, sandbox):
    response = admin_client.get("/admin/amocrm/settings/webhook/subscribe/")

    assert response.status_code == 405 and hooks(sandbox) == []


def test_staff_without_the_settings_permission_cannot_subscribe(client, django_user_model, conn, sandbox):
    client.force_login(django_user_model.objects.create_user("viewer", password="x", is_staff=True))

    response = client.post("/admin/amocrm/settings/webhook/subscribe/")

    assert response.status_code == 403 and hooks(sandbox) == []


def _disconnect_hook(client, conn: Settings, sandbox):
    """amoCRM's signed "integration switched off" call."""
    account_id = str(conn.account_id)
    message = f"{sandbox.client_id}|{account_id}".encode()
    signature = hmac.new(sandbox.client_secret.encode(), message, hashlib.sha256).hexdigest()
    params = {"client_uuid": sandbox.client_id, "account_id": account_id, "signature": signature}
    return client.get("/api/amocrm/disconnect", params)


def test_it_removes_the_webhook_when_amocrm_reports_a_disconnect(client, conn, sandbox):
    webhook_subscription.subscribe(conn)

    response = _disconnect_hook(client, conn, sandbox)

    assert response.status_code == 200
    assert Settings.load().state == ConnectionState.DISCONNECTED
    assert hooks(sandbox) == []


def test_a_disconnect_is_recorded_before_the_webhook_removal_is_tried(client, conn, sandbox):
    webhook_subscription.subscribe(conn)
    state_while_unsubscribing = []

    def listing(request):
        state_while_unsubscribing.append(Settings.load().state)
        return 204, {}, ""

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_passthru(sandbox.url)
        mocked.add_callback(responses.GET, f"{sandbox.url}/api/v4/webhooks", callback=listing)
        _disconnect_hook(client, conn, sandbox)

    assert state_while_unsubscribing == [ConnectionState.DISCONNECTED]


def test_a_disconnect_completes_when_amocrm_already_refuses_the_token(client, conn, sandbox):
    webhook_subscription.subscribe(conn)
    requests.post(f"{sandbox.url}/_sandbox/control", json={"revoke_tokens": True})

    response = _disconnect_hook(client, conn, sandbox)

    assert response.status_code == 200
    conn = Settings.load()
    assert conn.state == ConnectionState.DISCONNECTED and conn.webhook_subscribed_at is None


def test_the_settings_page_asks_to_connect_first(admin_client, db):
    page = admin_client.get(SETTINGS_URL).content.decode()

    assert "Connect first." in page and 'id="amocrm-subscribe"' not in page
