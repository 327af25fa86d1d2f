"""oauth.py against amoCRM mocked at the HTTP boundary: consent URL, referer allow-list, code exchange."""

import json

import pytest
import responses

from amocrm.api import oauth
from amocrm.api.errors import AmoError, ErrorKind
from amocrm.models import Settings
from amocrm.tests.conftest import TOKEN_URL, token_reply

pytestmark = pytest.mark.usefixtures("limiter", "english")


def _fail(call, *args):
    with pytest.raises(AmoError) as caught:
        call(*args)
    return caught.value


@pytest.mark.parametrize(
    "host", ["acoustic.amocrm.ru", "x.amocrm.com", "shop-1.kommo.com", "api-a.amocrm.ru", "ACOUSTIC.AMOCRM.RU"]
)
def test_it_allows_amocrm_account_hosts(host):
    assert oauth.is_allowed_account_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.com", "amocrm.ru", "acoustic.amocrm.ru.evil.com", "acoustic.amocrm.ru:443", "user@acoustic.amocrm.ru",
        "evil.com/acoustic.amocrm.ru", "evil.com#.amocrm.ru", "evil.com?.amocrm.ru", "acoustic.amocrm.ru.",
        "acoustic.amocrm.ru\n", "xamocrm.ru", "127.0.0.1:8001", "", "a b.amocrm.ru", "\u212a.amocrm.ru",
    ],
)  # fmt: skip
def test_it_refuses_every_other_referer(host):
    assert not oauth.is_allowed_account_host(host)


def test_it_allows_exactly_the_sandbox_host_when_one_is_configured(settings):
    settings.AMOCRM_SANDBOX_URL = "http://127.0.0.1:8001"

    assert oauth.is_allowed_account_host("127.0.0.1:8001")
    assert not oauth.is_allowed_account_host("127.0.0.1:8002")


def test_it_builds_the_consent_url_of_the_platform(db, settings):
    settings.AMOCRM_SANDBOX_URL = ""
    conn = Settings(client_id="client-uuid", platform="kommo.com")

    url = oauth.authorize_url(conn, "state-1")

    assert url == "https://www.kommo.com/oauth?client_id=client-uuid&state=state-1&mode=post_message"


def test_it_sends_staff_to_the_sandbox_consent_page_when_configured(settings):
    settings.AMOCRM_SANDBOX_URL = "http://127.0.0.1:8001"

    url = oauth.authorize_url(Settings(client_id="c"), "s", mode="popup")

    assert url == "http://127.0.0.1:8001/oauth?client_id=c&state=s&mode=popup"


@responses.activate
def test_it_exchanges_the_code_at_the_referer_host_with_the_exact_redirect_uri(db, settings):
    settings.SITE_URL = "https://acoustic.uz"
    responses.post("https://shop.kommo.com/oauth2/access_token", json=token_reply("a", "r", 86400))
    conn = Settings(client_id="client-uuid", client_secret="secret")

    pair = oauth.exchange_code(conn, "code-1", "shop.kommo.com")

    assert pair == oauth.TokenPair(access_token="a", refresh_token="r", expires_in=86400)
    assert json.loads(responses.calls[0].request.body) == {
        "client_id": "client-uuid", "client_secret": "secret", "redirect_uri": "https://acoustic.uz/api/amocrm/callback",
        "grant_type": "authorization_code", "code": "code-1",
    }  # fmt: skip


@responses.activate
def test_it_never_sends_the_secret_to_a_foreign_referer(db):
    error = _fail(oauth.exchange_code, Settings(client_id="c", client_secret="s"), "code", "evil.com")

    assert error.kind == ErrorKind.TOKEN_REQUEST and len(responses.calls) == 0


@pytest.mark.parametrize(
    ("hint", "says"),
    [
        ("Authorization code has expired", "expired"),
        ("Authorization code has been revoked", "already used"),
        ("Check the `client_secret` parameter", "secret key"),
        ("Redirect URI is not associated with client", "/api/amocrm/callback"),
        ("Invalid account", "not installed"),
    ],
)
@responses.activate
def test_it_explains_token_endpoint_refusals(db, hint, says):
    body = {"hint": hint, "title": "Некорректный запрос", "status": 400, "detail": "…"}
    responses.post(TOKEN_URL, json=body, status=400)

    error = _fail(oauth.exchange_code, Settings(client_id="c", client_secret="s"), "code", "acoustic.amocrm.ru")

    assert error.kind == ErrorKind.TOKEN_REQUEST and error.permanent and says in error.message


@responses.activate
def test_it_blames_our_access_when_the_token_endpoint_refuses_without_a_hint(db):
    responses.post(TOKEN_URL, json={"title": "Bad Request", "status": 400}, status=400)

    error = _fail(oauth.exchange_code, Settings(client_id="c", client_secret="s"), "code", "acoustic.amocrm.ru")

    assert error.needs_reconnect


@responses.activate
def test_it_blames_our_access_when_the_token_endpoint_knows_no_such_account(db):
    responses.post(TOKEN_URL, status=404, body="<html><title>404 Not Found</title></html>", content_type="text/html")

    error = _fail(oauth.exchange_code, Settings(client_id="c", client_secret="s"), "code", "acoustic.amocrm.ru")

    assert error.needs_reconnect


@responses.activate
def test_it_quotes_the_token_endpoints_hint(db):
    body = {"hint": "Check the `client_secret` parameter", "title": "Некорректный запрос", "status": 400}
    responses.post(TOKEN_URL, json=body, status=400)

    error = _fail(oauth.exchange_code, Settings(client_id="c", client_secret="s"), "code", "acoustic.amocrm.ru")

    assert error.message.endswith("amoCRM says: Check the `client_secret` parameter")
