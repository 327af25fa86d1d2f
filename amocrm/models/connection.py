import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from fernet_fields import EncryptedTextField

from acoustic.leased_work import LeasedWork
from acoustic.singleton import SingletonModel

# amoCRM: refresh tokens live 3 months and are replaced at every refresh (amocrm-api.md §1.4).
REFRESH_TOKEN_LIFETIME = timedelta(days=90)


class Platform(models.TextChoices):
    AMOCRM = "amocrm.ru", "amocrm.ru"
    KOMMO = "kommo.com", "kommo.com"


class ConnectionState(models.TextChoices):
    NOT_CONNECTED = "not_connected", _("Not connected")
    CONNECTED = "connected", _("Connected")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnect")
    DISCONNECTED = "disconnected", _("Disconnected in amoCRM")


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Settings(SingletonModel):
    """The one amoCRM connection: credentials, encrypted tokens, and where leads go."""

    # The integration, as created in amoCRM (amoMarket -> Create integration)
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices, default=Platform.AMOCRM)
    domain = models.CharField(
        _("account domain"), max_length=255, blank=True, help_text=_("e.g. acoustic.amocrm.ru; filled in on connect")
    )
    client_id = models.CharField(_("integration ID"), max_length=64, blank=True)
    client_secret = EncryptedTextField(_("secret key"), blank=True)
    long_lived_token = EncryptedTextField(
        _("long-lived token"), blank=True, help_text=_("Instead of OAuth: a token from the integration's Keys tab")
    )

    # OAuth tokens (refresh tokens are single-use: the new pair replaces the old one at once)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    access_token_expires_at = models.DateTimeField(_("access token expires"), null=True, blank=True)
    refresh_token_expires_at = models.DateTimeField(_("refresh token expires"), null=True, blank=True)
    tokens_refreshed_at = models.DateTimeField(_("tokens refreshed"), null=True, blank=True)

    # Connection state, shown in the admin's connection panel
    state = models.CharField(
        _("connection"), max_length=20, choices=ConnectionState.choices, default=ConnectionState.NOT_CONNECTED
    )
    account_id = models.BigIntegerField(_("account ID"), null=True, blank=True)
    account_name = models.CharField(_("account name"), max_length=255, blank=True)
    connected_at = models.DateTimeField(_("connected since"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last successful call"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    # Set on 402/403: all sending stops until a test call succeeds again.
    sending_paused_reason = models.TextField(_("sending paused because"), blank=True)

    # Where leads go and how they look
    pipeline_id = models.PositiveBigIntegerField(_("pipeline"), null=True, blank=True)
    status_id = models.PositiveBigIntegerField(_("stage"), null=True, blank=True)
    lead_name_template = models.CharField(
        _("deal name template"),
        max_length=255,
        default="Yangi so'rov: {name}",
        help_text=_("Placeholders: {name}, {phone}, {source}, {product_id}"),
    )
    responsible_user_id = models.PositiveBigIntegerField(_("responsible user ID"), null=True, blank=True)
    tags = models.CharField(_("tags"), max_length=500, blank=True, help_text=_("Comma-separated"))
    source_field_id = models.PositiveBigIntegerField(
        _("deal field for the source"), null=True, blank=True, help_text=_("Which form or button the lead came from")
    )
    product_field_id = models.PositiveBigIntegerField(_("deal field for the product ID"), null=True, blank=True)
    marker_field_id = models.PositiveBigIntegerField(
        _("deal field for the site's lead number"),
        null=True,
        blank=True,
        help_text=_("A text field; lets a retry find a deal whose creation was not confirmed (else the deal name)"),
    )
    use_unsorted = models.BooleanField(
        _("send to Incoming leads"), default=False, help_text=_("Deals arrive in Unsorted with the web-form details")
    )
    search_contacts_by_phone = models.BooleanField(
        _("look up contacts in amoCRM"),
        default=False,
        help_text=_("Before creating a contact for a new phone, search amoCRM for it (one extra request)"),
    )

    # Two-way sync: amoCRM's webhooks come to an address carrying this secret (amoCRM signs nothing, §7)
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    webhook_subscribed_at = models.DateTimeField(_("subscribed to stage changes"), null=True, blank=True)
    deals_reconciled_at = models.DateTimeField(_("deal stages checked"), null=True, blank=True)

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("amoCRM settings")
        verbose_name_plural = _("amoCRM settings")

    def __str__(self) -> str:
        return str(_("amoCRM settings"))

    @classmethod
    def load(cls) -> "Settings":
        return super().load()

    @classmethod
    def load_for_update(cls) -> "Settings":
        """The row locked until the surrounding transaction ends (PostgreSQL; SQLite locks the database)."""
        cls.objects.get_or_create(pk=1)
        return cls.objects.select_for_update().get(pk=1)

    # What the row says about itself

    @property
    def base_url(self) -> str:
        """The account's API host; the local sandbox when AMOCRM_SANDBOX_URL is set."""
        if django_settings.AMOCRM_SANDBOX_URL:
            return django_settings.AMOCRM_SANDBOX_URL
        return f"https://{self.domain}"

    @property
    def has_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret) or bool(self.long_lived_token)

    @property
    def uses_long_lived_token(self) -> bool:
        return bool(self.long_lived_token)

    @property
    def is_connected(self) -> bool:
        has_token = self.uses_long_lived_token or bool(self.access_token and self.refresh_token)
        return has_token and bool(self.domain) and self.state == ConnectionState.CONNECTED

    def access_token_expires_within(self, margin: timedelta) -> bool:
        if self.uses_long_lived_token or self.access_token_expires_at is None:
            return False
        return self.access_token_expires_at - timezone.now() < margin

    def tag_names(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    # Changes to the row

    def store_tokens(self, access_token: str, refresh_token: str, expires_in: int, now: datetime | None = None) -> None:
        """Save a freshly issued pair at once: the old refresh token is already spent."""
        now = now or timezone.now()
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.access_token_expires_at = now + timedelta(seconds=expires_in)
        self.refresh_token_expires_at = now + REFRESH_TOKEN_LIFETIME
        self.tokens_refreshed_at = now
        self.state = ConnectionState.CONNECTED
        self.save(
            update_fields=[
                "access_token", "refresh_token", "access_token_expires_at", "refresh_token_expires_at",
                "tokens_refreshed_at", "state", "updated_at",
            ]
        )  # fmt: skip

    def mark_connected(self, account_id: int, account_name: str) -> None:
        self.account_id = account_id
        self.account_name = account_name
        self.connected_at = timezone.now()
        self.state = ConnectionState.CONNECTED
        self.last_error = ""
        self.save(update_fields=["account_id", "account_name", "connected_at", "state", "last_error", "updated_at"])

    def mark_needs_reconnect(self, reason: str) -> None:
        """Tokens stay stored (never deleted on failure); staff must press Connect again."""
        self._set_state(ConnectionState.NEEDS_RECONNECT, reason)

    def mark_disconnected(self) -> None:
        self._set_state(
            ConnectionState.DISCONNECTED, str(_("The integration was switched off in amoCRM. Connect again to resume."))
        )

    def _set_state(self, state: str, reason: str) -> None:
        self.state = state
        self.last_error, self.last_error_at = reason, timezone.now()
        self.save(update_fields=["state", "last_error", "last_error_at", "updated_at"])

    def record_success(self) -> None:
        # A call that works proves amoCRM no longer blocks us (402/403), so sending may resume.
        Settings.objects.filter(pk=1).update(last_success_at=timezone.now(), sending_paused_reason="")
        self.sending_paused_reason = ""

    def pause_sending(self, reason: str) -> None:
        self.sending_paused_reason = reason
        self.save(update_fields=["sending_paused_reason", "updated_at"])

    def record_error(self, message: str) -> None:
        self.last_error = message
        self.last_error_at = timezone.now()
        # Never a full save here: this instance may hold tokens or a state another process has already replaced.
        self.save(update_fields=["last_error", "last_error_at", "updated_at"])


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    RETRYING = "retrying", _("Retrying")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")


class Delivery(LeasedWork, models.Model):
    """One lead's way to amoCRM: every attempt is recorded here, so the admin shows what happened."""

    States = DeliveryState
    # Longer than one batch can take (its requests, quick retries, rate-limit waits, timeouts).
    CLAIM_LEASE = timedelta(minutes=5)
    ERROR_FIELDS = ("last_error", "last_error_path")

    lead = models.OneToOneField("leads.Lead", on_delete=models.CASCADE, related_name="amocrm_delivery")
    state = models.CharField(
        _("delivery"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now, db_index=True)
    # A claim is a lease: a worker that vanished mid-send lets it lapse and the sweeper takes the lead again.
    claim_token = models.CharField(max_length=32, blank=True, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The last attempt may have created the deal although no answer came back: look before sending again.
    outcome_unknown = models.BooleanField(default=False)
    marker = models.CharField(_("marker in amoCRM"), max_length=64, blank=True)
    amocrm_lead_id = models.BigIntegerField(_("amoCRM deal"), null=True, blank=True, db_index=True)
    amocrm_contact_id = models.BigIntegerField(_("amoCRM contact"), null=True, blank=True)
    note_sent = models.BooleanField(default=False)
    # Notes carry no marker: after a notes request with no answer, the deal's recent notes are looked up instead.
    note_outcome_unknown = models.BooleanField(default=False)
    note_attempted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_path = models.CharField(_("field in error"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("amoCRM delivery")
        verbose_name_plural = _("amoCRM deliveries")
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.get_state_display()}"

    @classmethod
    def claim_due(cls, limit: int, first_id: int | None = None) -> list["Delivery"]:
        """Take up to `limit` deliveries whose time has come (first_id first), safe against other workers."""
        now = timezone.now()
        due = cls.due_condition(now)
        # Each worker takes the run of ids starting at its own first_id, so concurrent pushes (the sweeper queues
        # one per batch) claim different leads instead of racing for the oldest ones and sending batches of one.
        ids = cls._due_ids(due, limit, first_id)
        token = uuid.uuid4().hex
        # The conditional update is the claim: a row another worker took in the meantime no longer matches.
        cls.objects.filter(due, id__in=ids).update(claim_token=token, **cls.claim_changes(now))
        return list(cls.objects.filter(claim_token=token).select_related("lead").order_by("id"))

    @classmethod
    def _due_ids(cls, due: models.Q, limit: int, first_id: int | None) -> list[int]:
        due_rows = cls.objects.filter(due).order_by("id").values_list("id", flat=True)
        if first_id is None:
            return list(due_rows[:limit])
        ids = list(due_rows.filter(id__gte=first_id)[:limit])
        if len(ids) < limit:
            ids += list(due_rows.filter(id__lt=first_id)[: limit - len(ids)])
        return ids

    @property
    def deal_created(self) -> bool:
        return self.amocrm_lead_id is not None

    @property
    def is_finished(self) -> bool:
        return self.state in (DeliveryState.DELIVERED, DeliveryState.NEEDS_ATTENTION)

    def deal_url(self, base_url: str) -> str:
        return f"{base_url}/leads/detail/{self.amocrm_lead_id}" if self.deal_created else ""

    def mark_about_to_send(self, marker: str) -> None:
        """Written before the request: if no answer comes, the next attempt looks for this marker first."""
        self.marker = marker
        self.outcome_unknown = True
        self._save("marker", "outcome_unknown")

    def mark_deal_created(self, amocrm_lead_id: int, amocrm_contact_id: int | None) -> None:
        self.amocrm_lead_id = amocrm_lead_id
        self.amocrm_contact_id = amocrm_contact_id
        self.outcome_unknown = False
        self._save("amocrm_lead_id", "amocrm_contact_id", "outcome_unknown")

    def mark_not_created(self) -> None:
        """A look-up found no deal for the marker: sending again cannot make a duplicate."""
        self.outcome_unknown = False
        self._save("outcome_unknown")

    def mark_needs_attention(self, message: str, path: str = "") -> None:
        self.state = DeliveryState.NEEDS_ATTENTION
        self.last_error, self.last_error_path = message, path
        self._release("state", "last_error", "last_error_path")

    def requeue(self) -> None:
        """Back in line at once, without blame (another lead of the batch was at fault)."""
        self.state = DeliveryState.PENDING
        self.next_attempt_at = timezone.now()
        self._release("state", "next_attempt_at")

    def _release(self, *fields: str) -> None:
        self.claim_token = ""
        super()._release(*fields, "claim_token")

    def _save(self, *fields: str) -> None:
        self.save(update_fields=list(fields))


# The request log's model lives beside the code that writes and reads it.
# So do the two-way sync's models: DealStage, DealStageChange (deal_stages.py), WebhookEvent (webhook_events.py).
from amocrm import deal_stages, webhook_events  # noqa: E402, F401
from amocrm.request_log import RequestLog  # noqa: E402, F401
