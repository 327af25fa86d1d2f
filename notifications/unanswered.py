"""The unanswered-lead alert: one message to the alerts chat per lead whose deal nobody has moved after N minutes
of working hours, naming the lead, the manager and the deal; edited to say "answered" once the deal moves.

Unlike the alerts of alerts.py (one row per kind of trouble), this one is per lead: the lead's own Telegram
messages (kind UNANSWERED, then its edit ANSWERED; one of each per lead) are the record of what was said.
"Unanswered" is the two-way sync's: delivered, and amoCRM has reported no stage change (amocrm/sync/outcomes.py).
"""

import html
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone, translation
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from amocrm.api import catalog
from amocrm.models import Delivery, Settings
from amocrm.sync import outcomes
from leads.models import Lead
from notifications import sending, working_hours
from notifications.models import MessageKind, TelegramMessage, TelegramSettings

# Leads older than this are not alerted about (a weekend is the longest gap in working hours): turning the alert
# on, or a first deploy, must not flood the chat with last month's leads.
LOOK_BACK = timedelta(days=3)


def check_unanswered(now: datetime | None = None) -> int:
    """Store the alerts and "answered" edits now due (check_alerts sends them); how many were stored."""
    now = now or timezone.now()
    conf = TelegramSettings.load()
    if not conf.sends_alerts:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        stored = [_alert(conf, lead, now) for lead in overdue_leads(now)]
        stored += [_resolve(alert, now) for alert in answered_alerts()]
    return len(stored)


def overdue_leads(now: datetime) -> list[Lead]:
    """Unanswered leads, not yet alerted about, that have waited the set working minutes."""
    limit = settings.UNANSWERED_ALERT_MINUTES * 60
    alerted = TelegramMessage.objects.filter(kind=MessageKind.UNANSWERED, lead=OuterRef("pk"))
    waiting = Lead.objects.filter(outcomes.UNANSWERED, created_at__gte=now - LOOK_BACK).exclude(Exists(alerted))
    hours = working_hours.current()
    leads = waiting.select_related("amocrm_delivery").order_by("created_at")
    return [lead for lead in leads if hours.seconds_between(lead.created_at, now) >= limit]


def answered_alerts() -> QuerySet[TelegramMessage]:
    """Alerts whose lead is no longer unanswered and that were not edited to say so yet."""
    still_waiting = Lead.objects.filter(outcomes.UNANSWERED, pk=OuterRef("lead_id"))
    edited = TelegramMessage.objects.filter(kind=MessageKind.ANSWERED, lead=OuterRef("lead_id"))
    alerts = TelegramMessage.objects.filter(kind=MessageKind.UNANSWERED).exclude(Exists(still_waiting))
    return alerts.exclude(Exists(edited)).select_related("lead__amocrm_delivery__deal_stage")


def _alert(conf: TelegramSettings, lead: Lead, now: datetime) -> int:
    title = _("Lead #%(id)s is not answered after %(waited)s") % {
        "id": lead.pk,
        "waited": timesince(lead.created_at, now),
    }
    return sending.store(MessageKind.UNANSWERED, conf.alerts_chat_id, _text("⏰", title, lead), lead_id=lead.pk)


def _resolve(alert: TelegramMessage, now: datetime) -> int:
    lead = alert.lead
    stage = getattr(lead.amocrm_delivery, "deal_stage", None)
    moved = stage.first_changed_at if stage and stage.first_changed_at else now
    title = _("Lead #%(id)s answered after %(waited)s") % {"id": lead.pk, "waited": timesince(lead.created_at, moved)}
    return sending.store(MessageKind.ANSWERED, alert.chat_id, _text("✅", title, lead), lead_id=lead.pk)


def _text(mark: str, title: str, lead: Lead) -> str:
    deal_url = lead.amocrm_delivery.deal_url(Settings.load().base_url)
    name_label, phone_label, manager_label, open_deal = _("Name"), _("Phone"), _("Manager"), _("open the deal")
    return "\n".join([
        f"{mark} <b>{_escape(title)}</b>",
        f"<b>{name_label}:</b> {_escape(lead.name)}",
        f"<b>{phone_label}:</b> {_escape(lead.phone)}",
        f"<b>{manager_label}:</b> {_escape(manager(lead.amocrm_delivery))}",
        f'<b>amoCRM:</b> <a href="{html.escape(deal_url)}">{open_deal}</a>',
    ])  # fmt: skip


def manager(delivery: Delivery) -> str:
    """The manager the deal was given to (recorded when it was routed), by their name in amoCRM when it can be read."""
    conn = Settings.load()
    user_id = delivery.responsible_user_id if delivery.is_routed else conn.responsible_user_id
    if user_id is None:
        return _("the deal's responsible user in amoCRM")
    account = catalog.load_or_none(conn) if conn.is_connected else None
    user = account.user(user_id) if account is not None else None
    return user.name if user is not None else _("amoCRM user %(id)s") % {"id": user_id}


def _escape(text: str) -> str:
    return html.escape(str(text), quote=False)
