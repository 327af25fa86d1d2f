"""The Telegram messages list: "Send again" is for staff who may change messages, never for viewers."""

import pytest

from notifications.models import MessageKind, MessageState, TelegramMessage
from notifications.tests.conftest import LEADS_CHAT

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed() -> TelegramMessage:
    return TelegramMessage.objects.create(kind=MessageKind.ALERT, chat_id=LEADS_CHAT, text="…",
                                          state=MessageState.FAILED, last_error="chat not found")  # fmt: skip


def _send_again(client, message: TelegramMessage):
    data = {"action": "send_again", "_selected_action": [message.id]}
    return client.post("/admin/notifications/telegrammessage/", data, follow=True)


def test_send_again_queues_a_failed_message(admin_client, failed):
    _send_again(admin_client, failed)

    assert TelegramMessage.objects.get(id=failed.id).state == MessageState.PENDING


def test_staff_who_may_only_view_messages_cannot_send_again(viewer_client, failed):
    _send_again(viewer_client("view_telegrammessage"), failed)

    assert TelegramMessage.objects.get(id=failed.id).state == MessageState.FAILED
