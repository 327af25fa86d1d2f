"""Sending Telegram messages durably: a row first, then the send, then the outcome on the row.

Lead messages, deal-link edits and alerts all go this way. Each attempt claims its row, so a message queued twice
or picked up by the sweeper while a worker still has it is sent once.
"""

import logging
from datetime import timedelta

from cryptography.fernet import InvalidToken
from django.utils import timezone
from django.utils.translation import gettext as _

from acoustic.encryption import explain, unreadable_rows
from notifications import transport
from notifications.models import (
    ALERT_KINDS,
    EDITED_KIND,
    MAX_ATTEMPTS,
    Alert,
    MessageState,
    TelegramMessage,
    TelegramSettings,
    retry_delay,
)
from notifications.transport import TelegramError

logger = logging.getLogger(__name__)

# A deal link waits for its lead message to be sent; it looks again after this long at the least.
WAIT_FOR_LEAD_MESSAGE = timedelta(seconds=15)
# A bot token no key opens needs staff (rotate_encryption_keys); look again now and then, without counting attempts.
WAIT_FOR_READABLE_TOKEN = timedelta(minutes=10)


def store(kind: str, chat_id: str, text: str, *, lead_id: int | None = None, alert: Alert | None = None) -> int:
    """Store the message to send (the caller queues its send; the sweeper is the safety net); its id."""
    return TelegramMessage.objects.create(kind=kind, chat_id=chat_id, text=text, lead_id=lead_id, alert=alert).id


def deliver(message_id: int) -> None:
    """Send one message if it is due and nobody else has it; record what Telegram said."""
    message = TelegramMessage.claim(message_id)
    if message is None:
        return
    if message.kind in EDITED_KIND and (wait := _wait_for_original(message)):
        message.schedule_retry(_("Waiting for the message it edits to be sent first."), wait)
        return
    try:
        conf = TelegramSettings.load()
    except InvalidToken:
        reason = explain(unreadable_rows())
        logger.error("Telegram message %s waits: %s", message.id, reason)
        message.schedule_retry(reason, WAIT_FOR_READABLE_TOKEN, counted=False)
        return
    if not _switched_on(conf, message):
        message.mark_failed(_("Not sent: switched off in the Telegram settings."))
        return
    try:
        telegram_message_id = _send(conf, message)
    except TelegramError as error:
        _record_failure(conf, message, error)
        return
    message.mark_sent(telegram_message_id)
    conf.record_success()


def due_ids(limit: int = 100, kinds: tuple[str, ...] = ()) -> list[int]:
    """Messages whose time has come (new, retry time come, or left by a dead worker), oldest first."""
    due = TelegramMessage.due().filter(kind__in=kinds) if kinds else TelegramMessage.due()
    return list(due.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])


def _switched_on(conf: TelegramSettings, message: TelegramMessage) -> bool:
    return conf.alerts_enabled if message.kind in ALERT_KINDS else conf.leads_enabled


def _wait_for_original(message: TelegramMessage) -> timedelta | None:
    """How long an edit waits for the message it edits, still on its way; None once that is sent or given up."""
    original = _original(message)
    if original is None or original.state in (MessageState.SENT, MessageState.FAILED):
        return None
    return max(original.next_attempt_at - timezone.now(), WAIT_FOR_LEAD_MESSAGE)


def _original(message: TelegramMessage) -> TelegramMessage | None:
    """The message an edit changes: the same lead's message of the edited kind."""
    return TelegramMessage.objects.filter(lead_id=message.lead_id, kind=EDITED_KIND[message.kind]).first()


def _send(conf: TelegramSettings, message: TelegramMessage) -> int | None:
    """Send the message, or for an edit change the message it edits; the new Telegram message id, if any."""
    if message.kind not in EDITED_KIND:
        return transport.send_message(conf.bot_token, message.chat_id, message.text)
    original = _original(message)
    if original is None or original.state != MessageState.SENT:
        raise TelegramError(_("The message to edit was never sent, so there is nothing to change."),
                            permanent=True)  # fmt: skip
    transport.edit_message_text(conf.bot_token, original.chat_id, original.telegram_message_id, message.text)
    return None


def _record_failure(conf: TelegramSettings, message: TelegramMessage, error: TelegramError) -> None:
    logger.warning("Telegram message %s failed (attempt %s): %s", message.id, message.attempts, error.message)
    conf.record_error(error.message)
    if error.permanent:
        message.mark_failed(error.message)
    elif message.attempts >= MAX_ATTEMPTS:
        message.mark_failed(_("Gave up after %(attempts)d attempts: %(error)s")
                            % {"attempts": message.attempts, "error": error.message})  # fmt: skip
    else:
        message.schedule_retry(error.message, retry_delay(message.attempts, error.retry_after))


def send_test_messages(conf: TelegramSettings) -> list[tuple[bool, str]]:
    """The settings page's "Send test message": one message to each chat, Telegram's answer for each."""
    chats = list(dict.fromkeys(chat for chat in (conf.leads_chat_id, conf.alerts_chat_id) if chat))
    if not chats:
        return [(False, _("Enter a chat for new leads or for alerts first."))]
    return [_send_test_message(conf, chat) for chat in chats]


def _send_test_message(conf: TelegramSettings, chat_id: str) -> tuple[bool, str]:
    text = _("✅ Test message from the Acoustic.uz site: new leads and alerts will arrive here.")
    try:
        message_id = transport.send_message(conf.bot_token, chat_id, text)
    except TelegramError as error:
        conf.record_error(error.message)
        return False, _("Telegram answered for chat %(chat)s: %(error)s") % {"chat": chat_id, "error": error.message}
    conf.record_success()
    return True, _("Telegram answered: sent to chat %(chat)s (message %(id)s).") % {"chat": chat_id, "id": message_id}
