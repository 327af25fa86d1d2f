"""Once the deal exists in amoCRM, the lead's Telegram message is edited to link to it."""

import json

import pytest
import responses

from amocrm.models import Delivery, DeliveryState
from amocrm.signals import deal_created
from amocrm.tasks import push_lead
from notifications.models import MessageKind, MessageState, TelegramMessage
from notifications.tasks import send_telegram_message
from notifications.tests.conftest import LEADS_CHAT, api_url, ok, refusal, store_lead

pytestmark = pytest.mark.django_db

DEAL_URL = "https://acoustic.amocrm.ru/leads/detail/555"


def _report_deal(lead, url: str = DEAL_URL) -> TelegramMessage | None:
    deal_created.send(sender=Delivery, delivery=lead.amocrm_delivery, deal_url=url)
    return TelegramMessage.objects.filter(lead=lead, kind=MessageKind.DEAL_LINK).first()


def _sent_lead_message(lead, telegram_message_id: int = 77) -> TelegramMessage:
    message = TelegramMessage.objects.get(lead=lead, kind=MessageKind.LEAD)
    message.mark_sent(telegram_message_id)
    return message


@responses.activate
def test_it_edits_the_lead_message_to_link_the_deal(telegram):
    responses.post(api_url("editMessageText"), json=ok(message_id=77))
    lead = store_lead()
    _sent_lead_message(lead, 77)

    send_telegram_message(_report_deal(lead).id)

    sent = json.loads(responses.calls[0].request.body)
    assert (sent["chat_id"], sent["message_id"], sent["parse_mode"]) == (LEADS_CHAT, 77, "HTML")
    assert sent["text"].endswith(f'<a href="{DEAL_URL}">open the deal</a>') and "<b>Name:</b> Dilnoza" in sent["text"]
    assert TelegramMessage.objects.get(lead=lead, kind=MessageKind.DEAL_LINK).state == MessageState.SENT


@responses.activate
def test_it_waits_for_the_lead_message_to_be_sent_first(telegram):
    lead = store_lead()
    link = _report_deal(lead)

    send_telegram_message(link.id)

    link.refresh_from_db()
    assert link.state == MessageState.RETRYING and "Waiting for the message it edits" in link.last_error
    assert not responses.calls


@responses.activate
def test_it_gives_up_when_the_lead_message_failed(telegram):
    lead = store_lead()
    TelegramMessage.objects.get(lead=lead, kind=MessageKind.LEAD).mark_failed("Forbidden: bot was blocked by the user")
    link = _report_deal(lead)

    send_telegram_message(link.id)

    link.refresh_from_db()
    assert link.state == MessageState.FAILED and not responses.calls


@responses.activate
def test_it_counts_an_edit_that_changes_nothing_as_done(telegram):
    responses.post(api_url("editMessageText"), status=400, json=refusal(400, "Bad Request: message is not modified: "
                   "specified new message content and reply markup are exactly the same"))  # fmt: skip
    lead = store_lead()
    _sent_lead_message(lead)
    link = _report_deal(lead)

    send_telegram_message(link.id)

    link.refresh_from_db()
    assert link.state == MessageState.SENT


def test_it_links_the_deal_once_however_often_it_is_reported(telegram):
    lead = store_lead()

    _report_deal(lead)
    _report_deal(lead)

    assert TelegramMessage.objects.filter(lead=lead, kind=MessageKind.DEAL_LINK).count() == 1


def test_it_links_nothing_for_a_lead_that_had_no_message(db):
    lead = store_lead()  # Telegram not configured: no lead message

    assert _report_deal(lead) is None


@responses.activate
def test_it_links_the_deal_amocrm_created_for_the_lead(telegram, sandbox_conn, sandbox):
    responses.add_passthru(sandbox.url)
    responses.post(api_url("sendMessage"), json=ok(message_id=31))
    responses.post(api_url("editMessageText"), json=ok(message_id=31))
    lead = store_lead()
    send_telegram_message(TelegramMessage.objects.get(lead=lead, kind=MessageKind.LEAD).id)

    push_lead(lead.amocrm_delivery.id)
    send_telegram_message(TelegramMessage.objects.get(lead=lead, kind=MessageKind.DEAL_LINK).id)

    delivery = Delivery.objects.get(lead=lead)
    assert delivery.state == DeliveryState.DELIVERED
    edit = json.loads([c for c in responses.calls if c.request.url.endswith("editMessageText")][0].request.body)
    assert edit["message_id"] == 31
    assert f'<a href="{sandbox.url}/leads/detail/{delivery.amocrm_lead_id}">' in edit["text"]


def test_a_broken_receiver_never_holds_up_amocrm_delivery(sandbox_conn):
    def broken(sender, **kwargs):
        raise RuntimeError("a bug in a receiver")

    deal_created.connect(broken)
    try:
        lead = store_lead()
        push_lead(lead.amocrm_delivery.id)
    finally:
        deal_created.disconnect(broken)

    assert Delivery.objects.get(lead=lead).state == DeliveryState.DELIVERED
