"""Raising, repeating and resolving alerts: said when a condition starts, at most every 30 minutes while it
lasts, and once more when it clears. The Alert rows show the state in the admin; messages go the durable way.
"""

import html
from datetime import datetime, timedelta

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from amocrm.models import Settings
from notifications import sending
from notifications.alert_checks import CHECKS, Finding, secrets_unreadable
from notifications.models import Alert, AlertKind, MessageKind, TelegramSettings

REPEAT_AFTER = timedelta(minutes=30)


def evaluate_alerts(now: datetime | None = None) -> list[str]:
    """Check every condition once; returns the kinds of the alerts now active."""
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        update_alert(AlertKind.UNREADABLE_SECRETS, secrets_unreadable(now), now)
        try:
            conn = Settings.load()
        except InvalidToken:
            conn = None  # the connection's own conditions cannot be judged: they keep their last state
        for kind, check in CHECKS.items() if conn is not None else ():
            update_alert(kind, check(conn, now), now)
    return list(Alert.objects.filter(active=True).values_list("kind", flat=True))


def update_alert(kind: str, finding: Finding | None, now: datetime) -> Alert:
    """Bring one alert up to date with its condition; the row lock keeps overlapping checks from saying it twice."""
    with transaction.atomic():
        alert, _created = Alert.objects.select_for_update().get_or_create(kind=kind)
        if finding is not None:
            _hold(alert, finding, now)
        elif alert.active:
            _resolve(alert, now)
        alert.save()
    return alert


def _hold(alert: Alert, finding: Finding, now: datetime) -> None:
    if not alert.active:
        alert.begin(since=finding.since or now)
    alert.details = f"{finding.what}\n{finding.todo}"
    if alert.is_due(now, REPEAT_AFTER) and _announce(alert, _alert_text(alert, finding)):
        alert.last_sent = now


def _resolve(alert: Alert, now: datetime) -> None:
    told = alert.last_sent is not None  # nobody needs to hear that something they never heard of is over
    alert.end(now)
    if told:
        _announce(alert, _resolved_text(alert, now))


def _announce(alert: Alert, text: str) -> bool:
    """Store the message to the alerts chat (check_alerts sends it); False when alerts are off or go nowhere."""
    try:
        conf = TelegramSettings.load()
    except InvalidToken:
        return False  # the bot token itself cannot be read: the Alerts list in the admin still shows it
    if not conf.sends_alerts:
        return False
    sending.store(MessageKind.ALERT, conf.alerts_chat_id, text, alert=alert)
    return True


def _alert_text(alert: Alert, finding: Finding) -> str:
    title = alert.get_kind_display()
    if alert.last_sent is not None:  # a reminder: it is still going on
        title = _("Still: %(alert)s") % {"alert": title}
    since = formats.date_format(timezone.localtime(alert.first_seen), "DATETIME_FORMAT")
    since_label, todo_label = _("Since"), _("What to do")  # outside the f-strings, where makemessages finds them
    return "\n".join([
        f"⚠️ <b>{_escape(title)}</b>",
        _escape(finding.what),
        f"<b>{since_label}:</b> {since}",
        f"<b>{todo_label}:</b> {_escape(finding.todo)}",
    ])  # fmt: skip


def _resolved_text(alert: Alert, now: datetime) -> str:
    title = _("Resolved: %(alert)s") % {"alert": alert.get_kind_display()}
    lasted = _("It lasted %(duration)s.") % {"duration": timesince(alert.first_seen, now)}
    return f"✅ <b>{_escape(title)}</b>\n{lasted}"


def _escape(text: str) -> str:
    return html.escape(str(text), quote=False)
