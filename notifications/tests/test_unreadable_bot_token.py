"""A bot token no key in FERNET_KEYS opens: leads still reach amoCRM; Telegram waits with one clear reason."""

import logging

import pytest
from cryptography.fernet import Fernet

from amocrm.models import Settings
from leads.dispatch import dispatch
from leads.models import Lead
from notifications import alerts, sending
from notifications.models import Alert, AlertKind, MessageKind, MessageState, TelegramMessage, TelegramSettings
from notifications.tests.conftest import LEADS_CHAT, TOKEN

pytestmark = pytest.mark.django_db

LOST, CURRENT = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def token_lost(settings) -> None:
    settings.FERNET_KEYS = [LOST]
    conf = TelegramSettings.load()
    conf.bot_token, conf.leads_chat_id = TOKEN, LEADS_CHAT
    conf.save()
    settings.FERNET_KEYS = [CURRENT]


def test_a_lead_is_dispatched_to_amocrm_although_the_bot_token_cannot_be_read(token_lost):
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="x", dispatch_pending=True)

    dispatch(lead.id)

    assert Lead.objects.get(id=lead.id).amocrm_delivery.state == "pending"


def test_the_dispatch_says_why_no_telegram_message_was_made(token_lost, caplog):
    lead = Lead.objects.create(name="Dilnoza", phone="+998901234567", phone_raw="x", dispatch_pending=True)

    with caplog.at_level(logging.ERROR):
        dispatch(lead.id)

    assert "no key in FERNET_KEYS opens notifications.TelegramSettings pk 1" in caplog.text


def test_a_message_waits_while_the_bot_token_cannot_be_read(token_lost):
    message = TelegramMessage.objects.create(kind=MessageKind.ALERT, chat_id=LEADS_CHAT, text="x")

    sending.deliver(message.id)

    message.refresh_from_db()
    assert message.state == MessageState.RETRYING
    assert "rotate_encryption_keys" in message.last_error


def test_an_alert_names_what_no_key_opens(settings):
    settings.FERNET_KEYS = [LOST]
    conn = Settings.load()
    conn.client_secret = "integration-secret"
    conn.save()
    settings.FERNET_KEYS = [CURRENT]

    active = alerts.evaluate_alerts()

    assert active == [AlertKind.UNREADABLE_SECRETS]
    assert "amocrm.Settings pk 1" in Alert.objects.get(kind=AlertKind.UNREADABLE_SECRETS).details
