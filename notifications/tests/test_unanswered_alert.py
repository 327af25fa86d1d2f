"""The unanswered-lead alert: one message per lead whose deal nobody moved within N working minutes, edited once
the deal moves."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import responses

from amocrm.models import Delivery
from amocrm.sandbox.catalog import MANAGER_IDS
from amocrm.tests.dashboard_helpers import answer, deliver, make_lead
from notifications import sending, unanswered
from notifications.models import ALERT_KINDS, MessageKind, MessageState, TelegramMessage
from notifications.tasks import check_alerts
from notifications.tests.conftest import ALERTS_CHAT, api_url, ok
from notifications.unanswered import check_unanswered

pytestmark = pytest.mark.django_db
MONDAY_NOON = datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("Asia/Tashkent"))


@pytest.fixture
def waiting(telegram):
    """Delivered at 11:40 on a Monday; nobody has moved the deal."""
    lead = make_lead(MONDAY_NOON - timedelta(minutes=20), name="Dilnoza")
    deliver(lead, 555)
    return lead


def alerts(kind: str = MessageKind.UNANSWERED) -> list[TelegramMessage]:
    return list(TelegramMessage.objects.filter(kind=kind))


def test_it_alerts_about_a_lead_nobody_answered_in_fifteen_working_minutes(waiting):
    check_unanswered(MONDAY_NOON)

    assert alerts()[0].chat_id == ALERTS_CHAT


def test_the_alert_names_the_lead_the_manager_and_the_deal(waiting, connected):
    connected.responsible_user_id = 4242
    connected.save()

    check_unanswered(MONDAY_NOON)

    text = alerts()[0].text
    assert "Dilnoza" in text
    assert "amoCRM user 4242" in text
    assert "/leads/detail/555" in text


def test_it_alerts_once_per_lead(waiting):
    check_unanswered(MONDAY_NOON)
    check_unanswered(MONDAY_NOON + timedelta(minutes=1))

    assert len(alerts()) == 1


def test_it_waits_the_set_minutes(waiting, settings):
    settings.UNANSWERED_ALERT_MINUTES = 30

    check_unanswered(MONDAY_NOON)

    assert alerts() == []


def test_it_counts_only_working_hours(telegram):
    deliver(make_lead(MONDAY_NOON.replace(hour=18, minute=55) - timedelta(days=2)), 556)  # Saturday 18:55

    check_unanswered(MONDAY_NOON.replace(hour=9, minute=5))  # Monday 9:05: ten working minutes

    assert alerts() == []


def test_an_answered_lead_is_not_alerted_about(waiting):
    answer(waiting.amocrm_delivery, timedelta(minutes=5))

    check_unanswered(MONDAY_NOON)

    assert alerts() == []


def test_it_says_resolved_once_the_deal_moves(waiting):
    check_unanswered(MONDAY_NOON)
    answer(waiting.amocrm_delivery, timedelta(minutes=25))

    check_unanswered(MONDAY_NOON + timedelta(minutes=10))

    assert "answered after 25\xa0minutes" in alerts(MessageKind.ANSWERED)[0].text


def test_it_says_resolved_once(waiting):
    check_unanswered(MONDAY_NOON)
    answer(waiting.amocrm_delivery, timedelta(minutes=25))

    check_unanswered(MONDAY_NOON + timedelta(minutes=10))
    check_unanswered(MONDAY_NOON + timedelta(minutes=11))

    assert len(alerts(MessageKind.ANSWERED)) == 1


def test_nothing_is_stored_while_alerts_are_off(waiting, telegram):
    telegram.alerts_enabled = False
    telegram.save()

    check_unanswered(MONDAY_NOON)

    assert alerts() == []


def send_due() -> None:
    for message_id in sending.due_ids(kinds=ALERT_KINDS):
        sending.deliver(message_id)


@responses.activate
def test_the_resolved_note_edits_the_alert_message(waiting):
    responses.post(api_url("sendMessage"), json=ok(91))
    responses.post(api_url("editMessageText"), json=ok(91))
    check_unanswered(MONDAY_NOON)
    send_due()
    answer(waiting.amocrm_delivery, timedelta(minutes=25))

    check_unanswered(MONDAY_NOON + timedelta(minutes=10))
    send_due()

    edit = responses.calls[-1].request
    assert edit.url == api_url("editMessageText")
    assert json.loads(edit.body)["message_id"] == 91
    assert TelegramMessage.objects.get(kind=MessageKind.ANSWERED).state == MessageState.SENT


def test_the_minutely_alert_check_looks_for_unanswered_leads(waiting, monkeypatch):
    monkeypatch.setattr(unanswered.timezone, "now", lambda: MONDAY_NOON)

    check_alerts()

    assert len(alerts()) == 1


def test_the_alert_names_the_manager_the_lead_was_routed_to(waiting, sandbox_conn):
    sandbox_conn.responsible_user_id = MANAGER_IDS[2]
    sandbox_conn.save()
    delivery = waiting.amocrm_delivery
    delivery.routed_at, delivery.responsible_user_id = MONDAY_NOON, MANAGER_IDS[0]
    delivery.save()

    check_unanswered(MONDAY_NOON)

    assert "Dilnoza Karimova" in alerts()[0].text


def test_a_repeat_request_joining_a_moved_deal_is_not_alerted_about(telegram):
    lead = make_lead(MONDAY_NOON - timedelta(minutes=20), name="Dilnoza")
    Delivery.objects.filter(id=deliver(lead, 555).id).update(repeat_of_deal_id=555)

    check_unanswered(MONDAY_NOON)

    assert alerts() == []
