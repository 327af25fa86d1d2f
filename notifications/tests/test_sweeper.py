"""The sweeper: every message whose time has come, or whose worker vanished, is queued again."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from notifications.models import MessageState, TelegramMessage
from notifications.tasks import send_telegram_message, sweep_telegram_messages
from notifications.tests.conftest import api_url, ok, store_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr(send_telegram_message, "apply_async", lambda args, retry: ids.append(args[0]))
    return ids


def _message(**changes) -> TelegramMessage:
    message = TelegramMessage.objects.get(lead=store_lead())
    TelegramMessage.objects.filter(id=message.id).update(**changes)
    return message


def test_it_queues_due_and_lapsed_messages_only(telegram, queued):
    now = timezone.now()
    due = _message(state=MessageState.RETRYING, next_attempt_at=now - timedelta(seconds=1))
    lapsed = _message(state=MessageState.SENDING, claimed_until=now - timedelta(seconds=1))
    _message(state=MessageState.RETRYING, next_attempt_at=now + timedelta(minutes=5))
    _message(state=MessageState.SENDING, claimed_until=now + timedelta(minutes=1))
    _message(state=MessageState.SENT)
    _message(state=MessageState.FAILED)

    count = sweep_telegram_messages()

    assert count == 2 and sorted(queued) == sorted([due.id, lapsed.id])


@responses.activate
def test_it_sends_a_lapsed_message_again(telegram):
    responses.post(api_url("sendMessage"), json=ok(message_id=5))
    message = _message(state=MessageState.SENDING, claimed_until=timezone.now() - timedelta(seconds=1), attempts=1)

    send_telegram_message(message.id)

    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.SENT, 2)


@responses.activate
def test_it_sends_itself_when_the_broker_is_down(telegram, monkeypatch):
    def broker_down(**kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(send_telegram_message, "apply_async", broker_down)
    responses.post(api_url("sendMessage"), json=ok())
    message = _message()

    sweep_telegram_messages()

    message.refresh_from_db()
    assert message.state == MessageState.SENT
