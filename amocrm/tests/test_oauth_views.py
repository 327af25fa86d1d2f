import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.test import Client

from amocrm.models import ConnectionState, Settings
from amocrm.views import oauth_state

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/admin/amocrm/settings/1/change/"


@pytest.fixture
def configured(sandbox) -> Settings:
    """Integration keys saved, not connected yet: the state right before staff press Connect."""
    conn = Settings.load()
    conn.client_id, conn.client_secret = sandbox.client_id, sandbox.client_secret
    conn.save()
    return conn


def _press_connect(client: Client) -> str:
    """GET /api/amocrm/authorize; the state it sent to amoCRM."""
    response = client.get("/api/amocrm/authorize")
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def _callback(client: Client, **params):
    return client.get("/api/amocrm/callback", params)


def _nothing_stored() -> bool:
    conn = Settings.load()
    return not (conn.access_token or conn.refresh_token or conn.domain) and conn.state == ConnectionState.NOT_CONNECTED


def _page(client: Client, response) -> str:
    return client.get(response["Location"]).content.decode()


def test_it_sends_staff_to_the_consent_page_with_client_id_state_and_mode(admin_client, configured, sandbox):
    response = admin_client.get("/api/amocrm/authorize")

    url = urlsplit(response["Location"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{sandbox.url}/oauth"
    assert query["client_id"] == [sandbox.client_id]
    assert query["mode"] == ["post_message"]
    assert len(query["state"][0]) >= 40


def test_it_puts_the_state_in_a_short_lived_httponly_lax_secure_cookie(admin_client, configured):
    response = admin_client.get("/api/amocrm/authorize")

    cookie = response.cookies[oauth_state.COOKIE_NAME]
    assert cookie.value == parse_qs(urlsplit(response["Location"]).query)["state"][0]
    assert (cookie["max-age"], cookie["httponly"], cookie["samesite"]) == (600, True, "Lax")
    assert cookie["secure"] is True  # tests run with DEBUG off
    assert cookie.value not in str(dict(admin_client.session))  # the session keeps only a hash


def test_it_sends_staff_back_to_the_settings_when_the_keys_are_missing(admin_client, db):
    response = admin_client.get("/api/amocrm/authorize")

    assert response["Location"] == SETTINGS_URL
    assert "Enter the integration ID and the secret key" in _page(admin_client, response)
    assert oauth_state.COOKIE_NAME not in response.cookies


def test_it_connects_through_the_sandbox_consent_page(admin_client, configured, sandbox):
    consent = requests.get(admin_client.get("/api/amocrm/authorize")["Location"], timeout=5)
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', consent.text))
    allowed = requests.post(f"{sandbox.url}/oauth", data={**form, "decision": "allow"}, allow_redirects=False)

    response = admin_client.get(allowed.headers["Location"].removeprefix("http://127.0.0.1:8000"))

    conn = Settings.load()
    assert response["Location"] == SETTINGS_URL
    assert conn.access_token and conn.refresh_token and conn.access_token_expires_at
    assert (conn.domain, conn.state, conn.account_id) == (sandbox.host, ConnectionState.CONNECTED, 30_000_001)
    assert f"Connected to {conn.account_name}." in _page(admin_client, response)


def test_it_refuses_a_callback_without_a_state(admin_client, configured, sandbox):
    _press_connect(admin_client)

    response = _callback(admin_client, code=sandbox.authorization_code(), referer=sandbox.host)

    assert response.status_code == 400
    assert "invalid, expired or already used" in response.content.decode()
    assert _nothing_stored()
    assert sandbox.received("/oauth2/access_token") == []


def test_it_refuses_a_wrong_state(admin_client, configured, sandbox):
    _press_connect(admin_client)

    response = _callback(admin_client, state="forged", code=sandbox.authorization_code(), referer=sandbox.host)

    assert response.status_code == 400
    assert _nothing_stored()


def test_it_refuses_an_expired_state(admin_client, configured, sandbox):
    state = _press_connect(admin_client)
    session = admin_client.session
    session[oauth_state.SESSION_KEY]["issued_at"] -= oauth_state.LIFETIME_SECONDS + 1
    session.save()

    response = _callback(admin_client, state=state, code=sandbox.authorization_code(), referer=sandbox.host)

    assert response.status_code == 400
    assert _nothing_stored()


def test_it_refuses_a_reused_state(admin_client, configured, sandbox):
    state = _press_connect(admin_client)
    _callback(admin_client, state=state, error="access_denied")
    admin_client.cookies[oauth_state.COOKIE_NAME] = state  # even with the cookie put back

    response = _callback(admin_client, state=state, code=sandbox.authorization_code(), referer=sandbox.host)

    assert response.status_code == 400
    assert _nothing_stored()


def test_it_refuses_a_state_without_its_cookie(admin_client, configured, sandbox):
    state = _press_connect(admin_client)
    del admin_client.cookies[oauth_state.COOKIE_NAME]

    response = _callback(admin_client, state=state, code=sandbox.authorization_code(), referer=sandbox.host)

    assert response.status_code == 400
    assert _nothing_stored()


def test_it_refuses_a_state_issued_to_another_staff_members_session(
    admin_client, configured, sandbox, django_user_model
):
    state = _press_connect(admin_client)
    other = Client()
    other.force_login(django_user_model.objects.create_superuser("other", "other@example.uz", "pw"))
    other.cookies[oauth_state.COOKIE_NAME] = state

    response = _callback(other, state=state, code=sandbox.authorization_code(), referer=sandbox.host)

    assert response.status_code == 400
    assert _nothing_stored()


def test_it_clears_the_state_cookie_after_a_bad_state(admin_client, configured):
    _press_connect(admin_client)

    response = _callback(admin_client, state="forged", code="c", referer="x.amocrm.ru")

    cookie = response.cookies[oauth_state.COOKIE_NAME]
    assert (cookie.value, cookie["max-age"]) == ("", 0)


def test_it_treats_a_denial_as_a_cancel(admin_client, configured, sandbox):
    state = _press_connect(admin_client)
    denied = sandbox.authorize(state=state, allow=False)

    response = _callback(admin_client, **denied)

    assert response["Location"] == SETTINGS_URL
    assert "Connecting to amoCRM was cancelled" in _page(admin_client, response)
    assert _nothing_stored()


@responses.activate
def test_it_sends_nothing_to_a_referer_outside_amocrm(admin_client, configured):
    state = _press_connect(admin_client)

    response = _callback(admin_client, state=state, code="code", referer="evil.example.com")

    assert response.status_code == 400
    assert "evil.example.com" in response.content.decode()
    assert len(responses.calls) == 0
    assert _nothing_stored()


def test_it_explains_an_expired_code(admin_client, configured, sandbox):
    state = _press_connect(admin_client)
    redirect = sandbox.authorize(state=state)
    sandbox.clock.advance(21 * 60)  # authorization codes live 20 minutes

    response = _callback(admin_client, **redirect)

    assert "The authorization code expired" in _page(admin_client, response)
    assert _nothing_stored()


def test_it_explains_a_wrong_secret_key(admin_client, configured, sandbox):
    Settings.objects.filter(pk=1).update(client_secret="not-the-secret")
    state = _press_connect(admin_client)

    response = _callback(admin_client, **sandbox.authorize(state=state))

    assert "rejected the secret key" in _page(admin_client, response)
    assert _nothing_stored()


def test_it_explains_a_redirect_uri_mismatch(admin_client, configured, sandbox):
    sandbox.config.redirect_uri = "https://acoustic.uz/api/amocrm/callback"
    state = _press_connect(admin_client)

    response = _callback(admin_client, **sandbox.authorize(state=state))

    assert "does not accept the redirect URI" in _page(admin_client, response)
    assert _nothing_stored()


def test_it_keeps_nothing_if_the_account_cannot_be_read_after_the_exchange(admin_client, configured, sandbox):
    state = _press_connect(admin_client)
    redirect = sandbox.authorize(state=state)
    sandbox.set_faults(error_next=1, error_statuses=[502])  # the token call is not faulted; the account call is

    response = _callback(admin_client, **redirect)

    assert "server error" in _page(admin_client, response)
    assert _nothing_stored()


def test_it_sends_anonymous_visitors_to_the_admin_login(client, configured):
    response = client.get("/api/amocrm/authorize")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/api/amocrm/authorize")


@pytest.mark.parametrize("path", ["/api/amocrm/authorize", "/api/amocrm/callback?state=s&code=c"])
def test_it_forbids_logged_in_users_who_are_not_staff(client, configured, django_user_model, path):
    client.force_login(django_user_model.objects.create_user("visitor", password="pw"))

    response = client.get(path)

    assert response.status_code == 403


def test_connecting_finds_the_sites_marker_field(admin_client, configured, sandbox):
    consent = requests.get(admin_client.get("/api/amocrm/authorize")["Location"], timeout=5)
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', consent.text))
    allowed = requests.post(f"{sandbox.url}/oauth", data={**form, "decision": "allow"}, allow_redirects=False)

    admin_client.get(allowed.headers["Location"].removeprefix("http://127.0.0.1:8000"))

    assert Settings.load().marker_field_id == 900_203  # the sandbox account's "Site lead ID"
