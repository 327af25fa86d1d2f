"""The Telegram settings page: one row, the bot token never shown, only edited fields saved, a test button."""

import json

import pytest
import requests
import responses

from notifications.models import Alert, AlertKind, TelegramSettings
from notifications.tests.conftest import ALERTS_CHAT, LEADS_CHAT, TOKEN, api_url, ok, refusal

pytestmark = pytest.mark.django_db

URL = "/admin/notifications/telegramsettings/1/change/"
TEST_URL = "/admin/notifications/telegramsettings/test/"


def _form(**changes) -> dict:
    data = {"leads_enabled": "on", "leads_chat_id": LEADS_CHAT, "alerts_enabled": "on", "alerts_chat_id": ALERTS_CHAT}
    return {**data, **changes}


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_it_opens_the_one_row_from_the_list(admin_client):
    response = admin_client.get("/admin/notifications/telegramsettings/")

    assert response["Location"] == URL


def test_it_never_renders_the_bot_token(admin_client, telegram):
    page = admin_client.get(URL).content.decode()

    assert TOKEN not in page and TOKEN.split(":")[1] not in page
    assert "Set. Leave blank to keep it." in page


def test_it_keeps_the_stored_token_when_the_field_is_left_blank(admin_client, telegram):
    response = admin_client.post(URL, _form(leads_chat_id="@acoustic_leads"))

    assert response.status_code == 302
    conf = TelegramSettings.load()
    assert (conf.bot_token, conf.leads_chat_id) == (TOKEN, "@acoustic_leads")


def test_it_replaces_the_token_when_one_is_typed(admin_client, telegram):
    admin_client.post(URL, _form(bot_token="987654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"))

    assert TelegramSettings.load().bot_token == "987654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_it_saves_only_the_fields_it_edits(admin_client, telegram):
    TelegramSettings.objects.update(last_error="Forbidden: bot was blocked by the user")

    admin_client.post(URL, _form())

    assert TelegramSettings.load().last_error == "Forbidden: bot was blocked by the user"


def test_it_refuses_a_chat_id_telegram_would_not_know(admin_client, telegram):
    response = admin_client.post(URL, _form(alerts_chat_id="https://t.me/acoustic"))

    assert response.status_code == 200
    assert "Enter a chat id such as -1001234567890, or @channel." in response.content.decode()


@responses.activate
def test_it_sends_a_test_message_to_each_chat_and_says_what_telegram_answered(admin_client, telegram):
    responses.post(api_url("sendMessage"), json=ok(message_id=12))

    response = admin_client.post(TEST_URL, follow=True)

    assert [json.loads(call.request.body)["chat_id"] for call in responses.calls] == [LEADS_CHAT, ALERTS_CHAT]
    assert f"Telegram answered: sent to chat {LEADS_CHAT} (message 12)." in _messages(response)
    assert TelegramSettings.load().last_success_at is not None


@responses.activate
def test_it_shows_telegrams_description_when_the_test_fails(admin_client, telegram):
    responses.post(api_url("sendMessage"), status=400, json=refusal(400, "Bad Request: chat not found"))
    TelegramSettings.objects.update(alerts_chat_id=LEADS_CHAT)

    response = admin_client.post(TEST_URL, follow=True)

    (message,) = _messages(response)
    assert message.startswith(f"Telegram answered for chat {LEADS_CHAT}: Bad Request: chat not found.")


@responses.activate
def test_it_says_when_telegram_is_unreachable(admin_client, telegram):
    responses.post(api_url("sendMessage"), body=requests.ConnectionError("no route"))
    TelegramSettings.objects.update(alerts_chat_id="")

    response = admin_client.post(TEST_URL, follow=True)

    assert _messages(response) == [
        f"Telegram answered for chat {LEADS_CHAT}: Telegram is unreachable (ConnectionError)."
    ]


def test_the_alerts_list_warns_while_telegram_is_not_set_up(admin_client):
    response = admin_client.get("/admin/notifications/alert/")

    assert "Telegram is not set up" in response.content.decode()


def test_the_telegram_page_warns_while_telegram_is_not_set_up(admin_client):
    response = admin_client.get("/admin/notifications/telegramsettings/1/change/")

    assert "Telegram is not set up" in response.content.decode()


def test_no_warning_once_telegram_is_set_up(admin_client, telegram):
    response = admin_client.get("/admin/notifications/alert/")

    assert "Telegram is not set up" not in response.content.decode()


def test_a_quiet_alert_looks_quiet(admin_client, db):
    Alert.objects.create(kind=AlertKind.UNDELIVERED, active=False)

    response = admin_client.get("/admin/notifications/alert/")

    assert 'class="alert-quiet"' in response.content.decode()
    assert "icon-no" not in response.content.decode()
