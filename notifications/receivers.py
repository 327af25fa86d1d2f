"""A Telegram message for every lead, in the transaction that dispatches it; an edit adding the deal link later.

Both run in a worker (the lead's dispatch, the delivery's push), never in the request that stored the lead.
"""

import logging

from cryptography.fernet import InvalidToken
from django.db import transaction

from acoustic.encryption import explain, unreadable_rows
from amocrm.models import Delivery
from leads.models import Lead
from notifications import sending, tasks
from notifications.lead_message import lead_text
from notifications.models import MessageKind, TelegramMessage, TelegramSettings

logger = logging.getLogger(__name__)


def queue_lead_message(sender, lead: Lead, **kwargs) -> None:
    try:
        conf = TelegramSettings.objects.filter(pk=1).first()  # a plain read on every lead: no row, no Telegram
    except InvalidToken:  # a notification must never cost a lead: amoCRM still gets it
        logger.error("No Telegram message for lead %s: %s", lead.pk, explain(unreadable_rows()))
        return
    if conf is None or not conf.sends_leads:
        return
    try:
        with transaction.atomic():  # a savepoint: whatever goes wrong here, the lead itself is stored
            tasks.queue_message(sending.store(MessageKind.LEAD, conf.leads_chat_id, lead_text(lead), lead_id=lead.pk))
    except Exception:  # noqa: BLE001 - a notification must never cost a lead
        logger.exception("Could not queue the Telegram message for lead %s", lead.pk)


def queue_deal_link(sender, delivery: Delivery, deal_url: str, **kwargs) -> None:
    """Once per lead, and only if its lead message was queued (notifications may have been off then)."""
    sent_for_lead = TelegramMessage.objects.filter(lead_id=delivery.lead_id)
    original = sent_for_lead.filter(kind=MessageKind.LEAD).first()
    if not deal_url or original is None or sent_for_lead.filter(kind=MessageKind.DEAL_LINK).exists():
        return
    text = lead_text(delivery.lead, deal_url)
    tasks.queue_message(sending.store(MessageKind.DEAL_LINK, original.chat_id, text, lead_id=delivery.lead_id))
