"""The real client against the sandbox over HTTP: code exchange, refresh rotation, reuse, faults."""

import pytest

from amocrm.api import client, oauth, ratelimit, tokens
from amocrm.api.errors import AmoError, ErrorKind
from amocrm.models import ConnectionState, Settings
from amocrm.sandbox import tokens as sandbox_tokens

pytestmark = pytest.mark.usefixtures("english")

TOKEN_PATH = "/oauth2/access_token"


def test_it_exchanges_a_code_from_the_consent_page_and_reads_the_account(sandbox_conn, sandbox):
    account = client.get_account(sandbox_conn)

    assert account.subdomain == sandbox.config.subdomain
    assert [r.status for r in sandbox.received(TOKEN_PATH)] == [200]


def test_it_rotates_the_refresh_token(sandbox_conn, sandbox):
    first = sandbox_conn.refresh_token

    tokens.refresh(sandbox_conn, first)

    stored = Settings.load()
    assert stored.refresh_token not in ("", first) and sandbox_conn.refresh_token == stored.refresh_token
    assert sandbox.state.token_by_refresh(first).refresh_spent


def test_it_reports_a_reused_refresh_token_as_revoked_and_keeps_the_pair(sandbox_conn, sandbox):
    spent = sandbox_conn.refresh_token
    oauth.refresh_pair(sandbox_conn)  # someone spent it without storing the new pair

    with pytest.raises(AmoError) as caught:
        tokens.refresh(sandbox_conn, spent)

    stored = Settings.load()
    assert caught.value.kind == ErrorKind.REVOKED
    assert stored.state == ConnectionState.NEEDS_RECONNECT and stored.refresh_token == spent


def test_it_reports_a_reused_code(db, sandbox):
    conn = Settings(client_id=sandbox.client_id, client_secret=sandbox.client_secret)
    redirect = sandbox.authorize()
    oauth.exchange_code(conn, redirect["code"], redirect["referer"])

    with pytest.raises(AmoError) as caught:
        oauth.exchange_code(conn, redirect["code"], redirect["referer"])

    assert caught.value.kind == ErrorKind.TOKEN_REQUEST and "already used" in caught.value.message


def test_it_refreshes_once_when_the_access_token_expired_on_the_server(sandbox_conn, sandbox):
    sandbox_tokens.expire_access_tokens(sandbox.state)

    client.get_account(sandbox_conn)

    assert [r.status for r in sandbox.received("/api/v4/account")] == [401, 200]
    assert [r.status for r in sandbox.received(TOKEN_PATH)] == [200, 200]


def test_it_pauses_every_process_when_the_gateway_answers_429(sandbox_conn, sandbox):
    sandbox.set_faults(force_429_next=1)

    with pytest.raises(AmoError) as caught:
        client.get_account(sandbox_conn)

    assert caught.value.kind == ErrorKind.RATE_LIMITED and caught.value.retry_after == 60
    assert ratelimit.state().paused_for_seconds > 50


def test_it_flags_a_deal_whose_answer_was_lost_as_outcome_unknown(sandbox_conn, sandbox):
    sandbox.set_faults(drop_next=1)

    with pytest.raises(AmoError) as caught:
        client.create_complex_leads(sandbox_conn, [{"name": "Lost answer"}])

    assert caught.value.outcome_unknown
    assert [lead.name for lead in sandbox.state.leads.values()] == ["Lost answer"]
