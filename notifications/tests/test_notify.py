"""Lead messages through Telegram mocked at the HTTP boundary: what is sent, what is stored, every kind of answer."""

import json
from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from leads.dispatch import dispatch
from leads.models import IntakeSettings
from notifications import sending
from notifications.models import MAX_ATTEMPTS, MessageKind, MessageState, TelegramMessage, TelegramSettings
from notifications.tasks import send_telegram_message, sweep_telegram_messages
from notifications.tests.conftest import LEADS_CHAT, TOKEN, api_url, ok, refusal, store_lead

pytestmark = pytest.mark.django_db


def _sent(call_index: int = 0) -> dict:
    return json.loads(responses.calls[call_index].request.body)


def test_it_queues_the_message_when_the_lead_is_dispatched(telegram, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        lead = store_lead()

    message = TelegramMessage.objects.get(lead=lead)
    assert (message.kind, message.state, message.chat_id) == (MessageKind.LEAD, MessageState.PENDING, LEADS_CHAT)
    assert len(callbacks) == 2  # the amoCRM push and the Telegram send, each queued after the commit


def test_the_request_leaves_the_message_to_the_leads_dispatch(telegram, client, django_assert_num_queries):
    IntakeSettings.cached()  # each process reads the lead form settings now and then (leads/models.py), not per lead
    with django_assert_num_queries(1):  # the lead's INSERT: no settings read, no message row
        lead_id = client.post("/api/leads", {"name": "Anvar", "phone": "901234567"}).json()["id"]

    dispatch(lead_id)

    assert TelegramMessage.objects.get(lead_id=lead_id).kind == MessageKind.LEAD


@responses.activate
def test_it_sends_the_lead_to_the_leads_chat_as_html(telegram):
    responses.post(api_url("sendMessage"), json=ok(message_id=901))
    message = TelegramMessage.objects.get(lead=store_lead(message="<i>hi</i>"))

    send_telegram_message(message.id)

    sent = _sent()
    assert (sent["chat_id"], sent["parse_mode"]) == (LEADS_CHAT, "HTML")
    assert "<b>Phone:</b> +998901234567" in sent["text"] and "&lt;i&gt;hi&lt;/i&gt;" in sent["text"]
    message.refresh_from_db()
    assert (message.state, message.telegram_message_id, message.attempts) == (MessageState.SENT, 901, 1)
    assert TelegramSettings.load().last_success_at is not None


def test_it_queues_nothing_while_lead_notifications_are_off(telegram):
    telegram.leads_enabled = False
    telegram.save()

    store_lead()

    assert not TelegramMessage.objects.exists()


def test_it_queues_nothing_until_a_bot_and_chat_are_set(db):
    store_lead()

    assert not TelegramMessage.objects.exists()


@responses.activate
def test_it_honours_telegrams_retry_after(telegram):
    responses.post(api_url("sendMessage"), status=429, json=refusal(429, "Too Many Requests: retry after 40",
                                                                     retry_after=40))  # fmt: skip
    message = TelegramMessage.objects.get(lead=store_lead())

    send_telegram_message(message.id)

    message.refresh_from_db()
    assert message.state == MessageState.RETRYING
    assert message.next_attempt_at >= timezone.now() + timedelta(seconds=39)
    assert "retry after 40" in message.last_error


@responses.activate
def test_it_backs_off_after_a_server_error(telegram):
    responses.post(api_url("sendMessage"), status=502, body="Bad Gateway")
    message = TelegramMessage.objects.get(lead=store_lead())

    send_telegram_message(message.id)

    message.refresh_from_db()
    assert message.state == MessageState.RETRYING
    assert timezone.now() < message.next_attempt_at <= timezone.now() + timedelta(seconds=5)


@responses.activate
def test_it_backs_off_longer_with_every_attempt_up_to_an_hour(telegram):
    responses.post(api_url("sendMessage"), body=requests.ConnectionError("refused"))
    message = TelegramMessage.objects.get(lead=store_lead())
    TelegramMessage.objects.filter(id=message.id).update(attempts=15)

    send_telegram_message(message.id)

    message.refresh_from_db()
    delay = message.next_attempt_at - timezone.now()
    assert timedelta(minutes=29) < delay <= timedelta(hours=1)


@responses.activate
def test_it_never_shows_the_bot_token_in_an_error(telegram):
    responses.post(
        api_url("sendMessage"), body=requests.ConnectionError(f"Max retries exceeded with url: /bot{TOKEN}/")
    )
    message = TelegramMessage.objects.get(lead=store_lead())

    send_telegram_message(message.id)

    message.refresh_from_db()
    assert message.last_error == "Telegram is unreachable (ConnectionError)."
    assert TOKEN not in TelegramSettings.load().last_error


@responses.activate
def test_it_stops_for_good_when_the_bot_is_blocked(telegram):
    responses.post(api_url("sendMessage"), status=403, json=refusal(403, "Forbidden: bot was blocked by the user"))
    message = TelegramMessage.objects.get(lead=store_lead())

    send_telegram_message(message.id)
    sweep_telegram_messages()

    message.refresh_from_db()
    assert message.state == MessageState.FAILED and len(responses.calls) == 1
    assert message.last_error.startswith("Forbidden: bot was blocked by the user.")
    assert TelegramSettings.load().last_error == message.last_error


@responses.activate
def test_it_stops_for_good_when_the_chat_is_not_found(telegram):
    responses.post(api_url("sendMessage"), status=400, json=refusal(400, "Bad Request: chat not found"))
    message = TelegramMessage.objects.get(lead=store_lead())

    send_telegram_message(message.id)

    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert "chat not found" in message.last_error and "Check the chat id" in message.last_error


@responses.activate
def test_it_names_the_new_chat_id_of_an_upgraded_group(telegram):
    upgraded = refusal(400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=-100987)
    responses.post(api_url("sendMessage"), status=400, json=upgraded)
    message = TelegramMessage.objects.get(lead=store_lead())

    send_telegram_message(message.id)

    message.refresh_from_db()
    assert message.state == MessageState.FAILED and "-100987" in message.last_error


@responses.activate
def test_it_gives_up_after_the_last_attempt(telegram):
    responses.post(api_url("sendMessage"), status=500, json=refusal(500, "Internal Server Error"))
    message = TelegramMessage.objects.get(lead=store_lead())
    TelegramMessage.objects.filter(id=message.id).update(attempts=MAX_ATTEMPTS - 1)

    send_telegram_message(message.id)

    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.last_error.startswith(f"Gave up after {MAX_ATTEMPTS} attempts")


@responses.activate
def test_it_sends_a_message_queued_twice_once(telegram):
    responses.post(api_url("sendMessage"), json=ok())
    message = TelegramMessage.objects.get(lead=store_lead())

    send_telegram_message(message.id)
    send_telegram_message(message.id)

    assert len(responses.calls) == 1


@responses.activate
def test_it_does_not_send_what_was_queued_before_notifications_were_switched_off(telegram):
    message = TelegramMessage.objects.get(lead=store_lead())
    TelegramSettings.objects.update(leads_enabled=False)

    send_telegram_message(message.id)

    message.refresh_from_db()
    assert message.state == MessageState.FAILED and not responses.calls
    assert "switched off" in message.last_error


def test_it_stores_the_lead_even_if_its_message_cannot_be_queued(telegram, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in queuing")

    monkeypatch.setattr(sending, "store", broken)

    lead = store_lead()

    assert lead.amocrm_delivery.state == "pending" and not TelegramMessage.objects.exists()
    assert f"Could not queue the Telegram message for lead {lead.pk}" in caplog.text
