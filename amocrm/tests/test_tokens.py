"""tokens.py: when the pair is refreshed, by whom, what is stored, and what happens when amoCRM says no."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import redis
import responses
from django.conf import settings as django_settings
from django.utils import timezone

from amocrm.api import client, request_log, tokens, transport
from amocrm.api.errors import AmoError, ErrorKind
from amocrm.models import ConnectionState, Settings
from amocrm.tasks import keep_tokens_alive
from amocrm.tests.conftest import BASE_URL, TOKEN_URL, make_jwt, token_reply

pytestmark = pytest.mark.usefixtures("limiter", "english")

ACCOUNT_URL = f"{BASE_URL}/api/v4/account"
ACCOUNT = {"id": 31, "name": "Acoustic", "subdomain": "acoustic"}
REVOKED = {"hint": "Token has been revoked", "title": "Некорректный запрос", "status": 401, "detail": "…"}
LOOKUP_URL = "https://api-a.amocrm.ru/oauth2/account/current/subdomain"


def _expiring_in(conn: Settings, delta: timedelta) -> Settings:
    Settings.objects.filter(pk=1).update(access_token_expires_at=timezone.now() + delta)
    conn.refresh_from_db()
    return conn


@responses.activate
def test_it_refreshes_before_the_call_when_under_5_minutes_are_left(connected):
    conn = _expiring_in(connected, timedelta(minutes=4))
    responses.post(TOKEN_URL, json=token_reply("access-2", "refresh-2"))
    responses.get(ACCOUNT_URL, json=ACCOUNT)

    client.get_account(conn)

    assert [call.request.url for call in responses.calls] == [TOKEN_URL, ACCOUNT_URL]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer access-2"
    assert Settings.load().refresh_token == "refresh-2"


@responses.activate
def test_it_keeps_a_token_with_more_than_5_minutes_left(connected):
    conn = _expiring_in(connected, timedelta(minutes=6))
    responses.get(ACCOUNT_URL, json=ACCOUNT)

    client.get_account(conn)

    assert [call.request.url for call in responses.calls] == [ACCOUNT_URL]


@responses.activate
def test_it_uses_the_current_token_when_an_early_refresh_fails_for_now(connected):
    conn = _expiring_in(connected, timedelta(minutes=4))
    responses.post(TOKEN_URL, status=503)
    responses.get(ACCOUNT_URL, json=ACCOUNT)

    client.get_account(conn)

    assert Settings.load().refresh_token == "refresh-1"


@responses.activate
def test_it_adopts_the_pair_another_process_already_refreshed(connected):
    stale = Settings.load()
    connected.store_tokens("access-other", "refresh-other", 86400)  # another worker won the race
    responses.get(ACCOUNT_URL, status=401)
    responses.get(ACCOUNT_URL, json=ACCOUNT)

    client.get_account(stale)

    assert TOKEN_URL not in [call.request.url for call in responses.calls]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer access-other"
    assert stale.refresh_token == "refresh-other"


@responses.activate
def test_it_marks_a_spent_refresh_token_revoked_and_keeps_the_tokens(connected):
    responses.get(ACCOUNT_URL, status=401)
    responses.post(TOKEN_URL, status=401, json=REVOKED)
    responses.get(LOOKUP_URL, status=401)

    with pytest.raises(AmoError) as caught:
        client.get_account(connected)

    stored = Settings.load()
    assert caught.value.kind == ErrorKind.REVOKED and caught.value.permanent
    assert stored.state == ConnectionState.NEEDS_RECONNECT and "Reconnect" in stored.last_error
    assert (stored.access_token, stored.refresh_token) == (connected.access_token, "refresh-1")


@responses.activate
def test_it_follows_the_account_to_its_new_subdomain_when_refresh_answers_404(connected):
    responses.post(TOKEN_URL, status=404, body="<html>404</html>")
    responses.get(LOOKUP_URL, json={"id": 31, "subdomain": "renamed", "domain": "renamed.amocrm.ru"})
    responses.post("https://renamed.amocrm.ru/oauth2/access_token", json=token_reply("access-2", "refresh-2"))

    tokens.refresh(connected, "refresh-1")

    assert responses.calls[1].request.headers["X-Refresh-Token"] == "refresh-1"
    assert "Authorization" not in responses.calls[1].request.headers
    stored = Settings.load()
    assert (stored.domain, stored.refresh_token) == ("renamed.amocrm.ru", "refresh-2")


@responses.activate
def test_it_does_not_retry_when_the_lookup_names_the_same_subdomain(connected):
    responses.post(TOKEN_URL, status=401, json={"hint": "Invalid account", "status": 401})
    responses.get(LOOKUP_URL, json={"id": 31, "subdomain": "acoustic", "domain": "acoustic.amocrm.ru"})

    with pytest.raises(AmoError):
        tokens.refresh(connected, "refresh-1")

    assert len(responses.calls) == 2


@responses.activate
def test_it_refuses_to_refresh_without_the_redis_lock(connected, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    with pytest.raises(AmoError) as caught:
        tokens.refresh(connected, "refresh-1")

    assert caught.value.kind == ErrorKind.NETWORK and not caught.value.permanent
    assert len(responses.calls) == 0


@responses.activate
def test_it_never_refreshes_a_long_lived_token(long_lived):
    responses.get(ACCOUNT_URL, status=401)

    with pytest.raises(AmoError) as caught:
        client.get_account(long_lived)

    assert caught.value.kind == ErrorKind.UNAUTHORIZED and "long-lived" in caught.value.message
    assert len(responses.calls) == 1
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {long_lived.long_lived_token}"


def test_it_reads_a_long_lived_tokens_expiry_from_its_exp_claim():
    token = make_jwt(exp=1_900_000_000)

    assert Settings(long_lived_token=token).long_lived_token_expires_at == datetime(2030, 3, 17, 17, 46, 40, tzinfo=UTC)


@pytest.mark.parametrize("token", ["", "not-a-jwt", make_jwt(sub="1"), make_jwt(exp="soon"), "a.!!!.c"])
def test_it_says_nothing_about_the_expiry_of_a_token_it_cannot_read(token):
    assert Settings(long_lived_token=token).long_lived_token_expires_at is None


@responses.activate
def test_keep_alive_refreshes_a_pair_older_than_30_days(connected):
    Settings.objects.filter(pk=1).update(tokens_refreshed_at=timezone.now() - timedelta(days=31))
    responses.post(TOKEN_URL, json=token_reply("access-2", "refresh-2"))

    refreshed = keep_tokens_alive()

    assert refreshed and Settings.load().refresh_token == "refresh-2"
    assert json.loads(responses.calls[0].request.body)["refresh_token"] == "refresh-1"


@responses.activate
def test_keep_alive_leaves_a_younger_pair_alone(connected):
    Settings.objects.filter(pk=1).update(tokens_refreshed_at=timezone.now() - timedelta(days=29))

    assert keep_tokens_alive() is False
    assert len(responses.calls) == 0


@responses.activate
def test_keep_alive_records_why_it_could_not_refresh(connected):
    Settings.objects.filter(pk=1).update(tokens_refreshed_at=timezone.now() - timedelta(days=31))
    responses.post(TOKEN_URL, status=400, json={"hint": "Check the `client_secret` parameter", "status": 400})

    assert keep_tokens_alive() is False
    assert "secret key" in Settings.load().last_error


def test_keep_alive_runs_daily_from_beat(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "amocrm.tasks.keep_tokens_alive")

    assert entry["schedule"] == 24 * 60 * 60


# Two refreshers at once: the stored pair changes only by compare-and-set, and a late "revoked" is not a disconnect


def _answer(status: int, body: dict, meanwhile=None):
    """A token endpoint answer; `meanwhile` runs while the request is out (what another process does then)."""

    def callback(request):
        if meanwhile is not None:
            meanwhile()
        return status, {}, json.dumps(body)

    return callback


def _another_process_stores(access: str, refresh: str):
    return lambda: Settings.load().store_tokens(access, refresh, 86400)


@responses.activate
def test_a_pair_stored_while_a_refresh_was_out_is_not_replaced(connected):
    meanwhile = _another_process_stores("access-other", "refresh-other")
    responses.add_callback(responses.POST, TOKEN_URL, callback=_answer(200, token_reply("late", "late"), meanwhile))

    tokens.refresh(connected, "refresh-1")

    assert Settings.load().refresh_token == "refresh-other"


@responses.activate
def test_a_refresher_that_lost_the_race_uses_the_pair_that_won(connected):
    meanwhile = _another_process_stores("access-other", "refresh-other")
    responses.add_callback(responses.POST, TOKEN_URL, callback=_answer(200, token_reply("late", "late"), meanwhile))

    tokens.refresh(connected, "refresh-1")

    assert connected.access_token == "access-other"


def test_of_two_refreshers_from_the_same_pair_only_the_first_is_stored(connected):
    first, second = Settings.load(), Settings.load()

    first.store_refreshed_tokens("access-a", "refresh-a", 86400, started_from=connected.token_version)
    stored = second.store_refreshed_tokens("access-b", "refresh-b", 86400, started_from=connected.token_version)

    assert stored is False
    assert Settings.load().refresh_token == "refresh-a"


@responses.activate
def test_a_revoked_answer_for_a_refresh_token_no_longer_stored_adopts_the_stored_pair(connected):
    meanwhile = _another_process_stores("access-other", "refresh-other")  # it spent refresh-1 a moment earlier
    responses.add_callback(responses.POST, TOKEN_URL, callback=_answer(401, REVOKED, meanwhile))

    tokens.refresh(connected, "refresh-1")

    assert Settings.load().state == ConnectionState.CONNECTED
    assert connected.refresh_token == "refresh-other"


@responses.activate
def test_a_lock_lost_mid_refresh_leaves_the_connection_healthy(connected):
    """Redis dropped the lock while A's refresh was out: B refreshed the same token first, A is told "revoked"."""
    requests_seen = []

    def b_refreshes_meanwhile():
        redis.Redis.from_url(django_settings.REDIS_URL).delete(tokens.LOCK_NAME)  # A's lock is gone
        tokens.refresh(Settings.load(), "refresh-1")  # B takes the lock, spends refresh-1 and stores its pair

    def token_endpoint(request):
        requests_seen.append(request)
        if len(requests_seen) == 1:  # A's request is out
            b_refreshes_meanwhile()  # B's request is the second; amoCRM answers it first
            return 401, {}, json.dumps(REVOKED)  # refresh-1 is spent by the time A's is processed
        return 200, {}, json.dumps(token_reply("access-b", "refresh-b"))

    responses.add_callback(responses.POST, TOKEN_URL, callback=token_endpoint)

    tokens.refresh(connected, "refresh-1")  # A

    stored = Settings.load()
    assert stored.state == ConnectionState.CONNECTED
    assert stored.refresh_token == "refresh-b"
    assert connected.refresh_token == "refresh-b"


@responses.activate
def test_the_new_pair_is_saved_before_the_token_request_is_even_logged(connected, monkeypatch):
    stored_when_logged = []
    log = request_log.record

    def record(method, url, *args, **kwargs):
        if url == TOKEN_URL:
            stored_when_logged.append(Settings.load().refresh_token)
        log(method, url, *args, **kwargs)

    monkeypatch.setattr(request_log, "record", record)
    responses.post(TOKEN_URL, json=token_reply("access-2", "refresh-2"))

    tokens.refresh(connected, "refresh-1")

    assert stored_when_logged == ["refresh-2"]


def test_the_refresh_lock_outlives_the_slowest_refresh():
    slowest = 3 * (transport.SLOT_WAIT + sum(transport.TIMEOUT))  # refresh, subdomain lookup, refresh again

    assert tokens.LOCK_TIMEOUT > slowest


@responses.activate
def test_it_never_refreshes_a_connection_switched_off_in_amocrm(connected):
    connected.mark_disconnected()

    with pytest.raises(AmoError):
        tokens.refresh(connected, "refresh-1")

    assert len(responses.calls) == 0
    assert Settings.load().state == ConnectionState.DISCONNECTED
