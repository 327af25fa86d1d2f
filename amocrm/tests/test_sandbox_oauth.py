"""The sandbox's OAuth, checked against amoCRM's OAuth docs over real HTTP."""

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from amocrm.sandbox.tokens import jwt_claims

OAUTH_PROBLEM = "https://developers.amocrm.ru/v3/errors/OAuthProblemJson"


def _token_body(sandbox, **changes):
    body = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "grant_type": "authorization_code",
        "code": sandbox.authorization_code(),
        "redirect_uri": sandbox.redirect_uri,
    }
    return {**body, **changes}


def _refresh_body(sandbox, refresh_token):
    return _token_body(sandbox, grant_type="refresh_token", code=None, refresh_token=refresh_token)


def _exchange(sandbox, body):
    return requests.post(f"{sandbox.url}/oauth2/access_token", json={k: v for k, v in body.items() if v is not None})


def _decide(sandbox, decision, **fields):
    form = {"client_id": sandbox.client_id, "decision": decision, **fields}
    response = requests.post(f"{sandbox.url}/oauth", data=form, allow_redirects=False)
    return response, parse_qs(urlsplit(response.headers["Location"]).query)


def test_it_shows_a_consent_page_with_allow_and_deny_forms(amocrm_sandbox):
    response = requests.get(
        f"{amocrm_sandbox.url}/oauth", params={"client_id": amocrm_sandbox.client_id, "state": "s1"}
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert 'value="allow"' in response.text and 'value="deny"' in response.text
    assert 'name="state" value="s1"' in response.text


def test_it_accepts_the_sdk_consent_url_with_extra_params(amocrm_sandbox):
    # the SDK builds https://www.amocrm.ru/oauth/ plus League's own parameters. (amoCRM docs: oauth step-by-step)
    params = {"client_id": amocrm_sandbox.client_id, "state": "s", "mode": "post_message", "response_type": "code"}
    params.update(scope="", approval_prompt="auto", redirect_uri="https://elsewhere.example/cb")

    response = requests.get(f"{amocrm_sandbox.url}/oauth/", params=params)

    assert response.status_code == 200
    assert "redirect_uri" not in response.text


def test_it_redirects_allow_with_code_state_referer_platform_and_client_id(amocrm_sandbox):
    response, query = _decide(amocrm_sandbox, "allow", state="csrf-1")

    assert response.status_code == 302
    assert response.headers["Location"].startswith(amocrm_sandbox.redirect_uri + "?")
    assert set(query) == {"code", "state", "referer", "platform", "client_id"}  # amoCRM docs: oauth step-by-step
    assert query["state"] == ["csrf-1"]
    assert query["referer"] == [amocrm_sandbox.host]
    assert query["platform"] == ["1"]
    assert query["client_id"] == [amocrm_sandbox.client_id]


def test_it_leaves_state_out_of_the_redirect_when_none_was_sent(amocrm_sandbox):
    _, query = _decide(amocrm_sandbox, "allow")

    assert "state" not in query  # state only if sent (amoCRM docs: oauth step-by-step)


def test_it_redirects_deny_with_access_denied(amocrm_sandbox):
    _, query = _decide(amocrm_sandbox, "deny", state="csrf-2")

    assert query == {"error": ["access_denied"], "state": ["csrf-2"], "client_id": [amocrm_sandbox.client_id]}


def test_it_answers_an_unknown_client_id_with_an_html_error_page(amocrm_sandbox):
    response = requests.get(f"{amocrm_sandbox.url}/oauth", params={"client_id": "not-registered"})

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


def test_it_exchanges_a_code_sent_as_json(amocrm_sandbox):
    response = _exchange(amocrm_sandbox, _token_body(amocrm_sandbox))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    # amoCRM docs: oauth step-by-step
    assert set(body) == {"token_type", "expires_in", "access_token", "refresh_token", "server_time"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    assert body["refresh_token"].startswith("def50200")


def test_it_exchanges_a_code_sent_form_encoded(amocrm_sandbox):
    # the SDK (League) posts application/x-www-form-urlencoded. (amoCRM docs: oauth step-by-step)
    response = requests.post(f"{amocrm_sandbox.url}/oauth2/access_token", data=_token_body(amocrm_sandbox))

    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_it_issues_an_hs256_jwt_naming_the_account_and_api_domain(amocrm_sandbox):
    token = _exchange(amocrm_sandbox, _token_body(amocrm_sandbox)).json()["access_token"]

    header, payload, signature = token.split(".")
    claims = jwt_claims(token)
    assert claims["api_domain"] == amocrm_sandbox.host  # amoCRM docs: oauth account-subdomain-info
    assert claims["client_uuid"] == amocrm_sandbox.client_id
    assert claims["exp"] - claims["iat"] == 86400 and claims["account_id"] > 0
    expected = hmac.new(amocrm_sandbox.client_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    assert base64.urlsafe_b64encode(expected.digest()).rstrip(b"=").decode() == signature


def test_it_refuses_a_code_used_twice(amocrm_sandbox):
    body = _token_body(amocrm_sandbox)
    _exchange(amocrm_sandbox, body)

    response = _exchange(amocrm_sandbox, body)

    assert response.status_code == 400
    assert response.json()["hint"] == "Authorization code has been revoked"  # amoCRM docs: oauth step-by-step


def test_it_refuses_a_code_older_than_twenty_minutes(amocrm_sandbox):
    body = _token_body(amocrm_sandbox)
    amocrm_sandbox.clock.advance(20 * 60 + 1)

    response = _exchange(amocrm_sandbox, body)

    assert response.status_code == 400
    assert response.json()["hint"] == "Authorization code has expired"


def test_it_accepts_a_code_just_under_twenty_minutes_old(amocrm_sandbox):
    body = _token_body(amocrm_sandbox)
    amocrm_sandbox.clock.advance(20 * 60 - 5)

    response = _exchange(amocrm_sandbox, body)

    assert response.status_code == 200


def test_it_refuses_a_code_it_never_issued(amocrm_sandbox):
    response = _exchange(amocrm_sandbox, _token_body(amocrm_sandbox, code="def50200garbage"))

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "hint": "Cannot decrypt the authorization code",
        "title": "Некорректный запрос",
        "type": OAUTH_PROBLEM,
        "status": 400,
        "detail": "В запросе отсутствует ряд параметров или параметры невалидны",
    }


def test_it_refuses_a_redirect_uri_that_differs_even_by_a_slash(amocrm_sandbox):
    body = _token_body(amocrm_sandbox, redirect_uri=amocrm_sandbox.redirect_uri + "/")

    response = _exchange(amocrm_sandbox, body)

    assert response.status_code == 400
    assert response.json()["hint"] == "Redirect URI is not associated with client"  # amoCRM docs: oauth step-by-step


@pytest.mark.parametrize(
    ("field", "hint"),
    [("client_id", "Check the `client_id` parameter"), ("client_secret", "Check the `client_secret` parameter")],
)
def test_it_refuses_wrong_client_credentials(amocrm_sandbox, field, hint):
    response = _exchange(amocrm_sandbox, _token_body(amocrm_sandbox, **{field: "wrong"}))

    assert response.status_code == 400
    assert response.json()["hint"] == hint


def test_it_rotates_the_refresh_token(amocrm_sandbox):
    first = _exchange(amocrm_sandbox, _token_body(amocrm_sandbox)).json()

    response = _exchange(amocrm_sandbox, _refresh_body(amocrm_sandbox, first["refresh_token"]))

    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]


def test_it_answers_401_revoked_when_a_spent_refresh_token_is_reused(amocrm_sandbox):
    first = _exchange(amocrm_sandbox, _token_body(amocrm_sandbox)).json()
    _exchange(amocrm_sandbox, _refresh_body(amocrm_sandbox, first["refresh_token"]))

    response = _exchange(amocrm_sandbox, _refresh_body(amocrm_sandbox, first["refresh_token"]))

    assert response.status_code == 401  # amocrm-api-php#123 (amoCRM docs: oauth step-by-step)
    assert response.json()["hint"] == "Token has been revoked"
    assert response.json()["type"] == OAUTH_PROBLEM


def test_it_stops_the_old_access_token_after_a_refresh(amocrm_sandbox):
    first = _exchange(amocrm_sandbox, _token_body(amocrm_sandbox)).json()
    second = _exchange(amocrm_sandbox, _refresh_body(amocrm_sandbox, first["refresh_token"])).json()

    old = requests.get(
        f"{amocrm_sandbox.url}/api/v4/account", headers={"Authorization": f"Bearer {first['access_token']}"}
    )
    new = requests.get(
        f"{amocrm_sandbox.url}/api/v4/account", headers={"Authorization": f"Bearer {second['access_token']}"}
    )

    assert (old.status_code, new.status_code) == (401, 200)


def test_it_lets_an_access_token_expire_after_the_configured_lifetime(amocrm_sandbox):
    amocrm_sandbox.config.token_lifetime = 60
    token = _exchange(amocrm_sandbox, _token_body(amocrm_sandbox)).json()["access_token"]
    amocrm_sandbox.clock.advance(61)

    response = requests.get(f"{amocrm_sandbox.url}/api/v4/account", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


def test_it_looks_up_the_subdomain_with_the_refresh_token(amocrm_sandbox):
    tokens = _exchange(amocrm_sandbox, _token_body(amocrm_sandbox)).json()

    response = requests.get(
        f"{amocrm_sandbox.url}/oauth2/account/current/subdomain", headers={"X-Refresh-Token": tokens["refresh_token"]}
    )

    assert response.status_code == 200  # amoCRM docs: oauth account-subdomain-info
    assert response.json() == {
        "id": jwt_claims(tokens["access_token"])["account_id"],
        "subdomain": "sandbox",
        "domain": amocrm_sandbox.host,
        "top_level_domain": "ru",
    }


def test_it_refuses_the_subdomain_lookup_with_a_bearer_token_instead(amocrm_sandbox):
    tokens = _exchange(amocrm_sandbox, _token_body(amocrm_sandbox)).json()

    response = requests.get(
        f"{amocrm_sandbox.url}/oauth2/account/current/subdomain",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
