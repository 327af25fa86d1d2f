from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from acoustic.backoff import backoff_delay
from acoustic.encryption import EncryptedTextField
from acoustic.leased_work import LeasedWork
from acoustic.singleton import SingletonModel

# Transient failures are retried with backoff (5 s doubling to an hour): 20 attempts span about half a day.
MAX_ATTEMPTS = 20
_BACKOFF_BASE_SECONDS = 5


class TelegramSettings(SingletonModel):
    """The one Telegram bot: its token, where leads and alerts go, and whether they are sent at all."""

    bot_token = EncryptedTextField(_("bot token"), blank=True, help_text=_("From @BotFather, e.g. 123456:ABC-DEF…"))
    leads_chat_id = models.CharField(
        _("chat for new leads"), max_length=64, blank=True, help_text=_("A chat id such as -1001234567890, or @channel")
    )
    alerts_chat_id = models.CharField(
        _("chat for alerts"), max_length=64, blank=True, help_text=_("May be the same chat as for new leads")
    )
    leads_enabled = models.BooleanField(_("send new leads"), default=True)
    alerts_enabled = models.BooleanField(_("send alerts"), default=True)
    last_success_at = models.DateTimeField(_("last message sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Telegram settings")
        verbose_name_plural = _("Telegram settings")

    def __str__(self) -> str:
        return str(_("Telegram settings"))

    @classmethod
    def load(cls) -> "TelegramSettings":
        return super().load()

    @property
    def sends_leads(self) -> bool:
        return self.leads_enabled and bool(self.bot_token and self.leads_chat_id)

    @property
    def sends_alerts(self) -> bool:
        return self.alerts_enabled and bool(self.bot_token and self.alerts_chat_id)

    def record_success(self) -> None:
        # An update, never a full save: staff may be editing the row at the same moment.
        TelegramSettings.objects.filter(pk=1).update(last_success_at=timezone.now())

    def record_error(self, message: str) -> None:
        TelegramSettings.objects.filter(pk=1).update(last_error=message, last_error_at=timezone.now())


class MessageKind(models.TextChoices):
    LEAD = "lead", _("New lead")
    DEAL_LINK = "deal_link", _("Deal link added")
    ALERT = "alert", _("Alert")
    UNANSWERED = "unanswered", _("Lead not answered")
    ANSWERED = "answered", _("Lead answered")  # the edit of a "not answered" alert


# An edit and the kind of message it changes (the same lead's).
EDITED_KIND = {MessageKind.DEAL_LINK: MessageKind.LEAD, MessageKind.ANSWERED: MessageKind.UNANSWERED}
# Kinds that go to the alerts chat and follow the alerts switch.
ALERT_KINDS = (MessageKind.ALERT, MessageKind.UNANSWERED, MessageKind.ANSWERED)


class MessageState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Failed")


class TelegramMessage(LeasedWork, models.Model):
    """One message to Telegram (or one edit of it): every attempt is recorded here, so the admin shows it."""

    States = MessageState
    # Longer than one send can take (a 10 s read timeout): a worker that vanished lets the message go after this.
    CLAIM_LEASE = timedelta(minutes=2)

    kind = models.CharField(_("kind"), max_length=20, choices=MessageKind.choices)
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    alert = models.ForeignKey("Alert", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    chat_id = models.CharField(_("chat"), max_length=64)
    text = models.TextField(_("text"))
    state = models.CharField(
        _("state"), max_length=20, choices=MessageState.choices, default=MessageState.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    telegram_message_id = models.BigIntegerField(_("Telegram message id"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("Telegram message")
        verbose_name_plural = _("Telegram messages")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "kind"], condition=models.Q(lead__isnull=False), name="one_telegram_message_per_lead"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}: {self.get_state_display()}"

    @classmethod
    def claim(cls, message_id: int) -> "TelegramMessage | None":
        """The message, now ours to send; None if it is not due or another worker took it first."""
        now = timezone.now()
        # The conditional update is the claim: a message another worker took no longer matches.
        claimed = cls.objects.filter(cls.due_condition(now), id=message_id).update(**cls.claim_changes(now))
        return cls.objects.select_related("lead").get(id=message_id) if claimed else None

    def mark_sent(self, telegram_message_id: int | None) -> None:
        self.state, self.sent_at, self.last_error = MessageState.SENT, timezone.now(), ""
        self.telegram_message_id = telegram_message_id or self.telegram_message_id
        self._release("state", "sent_at", "last_error", "telegram_message_id")

    def mark_failed(self, message: str) -> None:
        """Retrying cannot help (or has not helped): shown in the admin, never tried again on its own."""
        self.state, self.last_error = MessageState.FAILED, message
        self._release("state", "last_error")


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    return backoff_delay(attempts, _BACKOFF_BASE_SECONDS, retry_after)


class AlertKind(models.TextChoices):
    RECONNECT = "reconnect", _("amoCRM needs reconnecting")
    SENDING_PAUSED = "sending_paused", _("amoCRM refuses new deals")
    NEEDS_ATTENTION = "needs_attention", _("Leads need attention")
    UNDELIVERED = "undelivered", _("Leads are not reaching amoCRM")
    TOKEN_EXPIRING = "token_expiring", _("amoCRM token ends soon")
    ERROR_RATE = "error_rate", _("Many amoCRM requests fail")
    UNREADABLE_SECRETS = "unreadable_secrets", _("Stored secrets cannot be decrypted")
    ROUTING_RULES = "routing_rules", _("Routing rules name what amoCRM no longer has")


class Alert(models.Model):
    """One condition that stops (or soon will stop) leads reaching amoCRM: whether it holds and what was said."""

    kind = models.CharField(_("alert"), max_length=30, choices=AlertKind.choices, unique=True)
    active = models.BooleanField(_("active"), default=False)
    first_seen = models.DateTimeField(_("since"), null=True, blank=True)
    last_sent = models.DateTimeField(_("last sent to Telegram"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    details = models.TextField(_("details"), blank=True)
    updated_at = models.DateTimeField(_("checked"), auto_now=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-active", "kind"]

    def __str__(self) -> str:
        return self.get_kind_display()

    def begin(self, since: datetime) -> None:
        self.active, self.first_seen, self.resolved_at, self.last_sent = True, since, None, None

    def end(self, now: datetime) -> None:
        self.active, self.resolved_at = False, now

    def is_due(self, now: datetime, repeat_after: timedelta) -> bool:
        """Active, and never sent since it began or last sent at least `repeat_after` ago."""
        return self.active and (self.last_sent is None or now - self.last_sent >= repeat_after)
