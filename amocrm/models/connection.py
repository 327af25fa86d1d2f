"""The one amoCRM connection: credentials, encrypted tokens, its state, and where leads go."""

import base64
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from acoustic.encryption import EncryptedTextField
from acoustic.singleton import SingletonModel
from amocrm.models.deal_marker import DealMarkerSettings
from amocrm.models.manager_work import ManagerWorkSettings

# Refresh tokens live 3 months and are replaced at every refresh.
# Reference: https://www.amocrm.ru/developers/content/oauth/step-by-step
REFRESH_TOKEN_LIFETIME = timedelta(days=90)


def sending_probe_every() -> timedelta:
    """While sending is paused (402/403), one due lead is tried this often (AMOCRM_PAUSED_TRY_MINUTES, 10), across
    all processes, to find out whether amoCRM takes deals again: a read cannot tell, as amoCRM keeps reads open for
    30 days after a 402. Reference: https://www.amocrm.ru/developers/content/api/recommendations
    """
    return timedelta(minutes=django_settings.AMOCRM_PAUSED_TRY_MINUTES)


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


class Settings(DealMarkerSettings, ManagerWorkSettings, SingletonModel):
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
    # Which stored pair this is, raised by every store: a refresh saves its new pair only over the pair it started
    # from (the encrypted tokens themselves cannot be compared in SQL: each encryption of a value differs).
    token_version = models.PositiveBigIntegerField(default=0, editable=False)

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
    # Set on 402/403 (amoCRM's words): sending stops until a lead goes through again, or staff press Test.
    sending_paused_reason = models.TextField(_("sending paused because"), blank=True)
    sending_probe_at = models.DateTimeField(_("last lead tried while paused"), null=True, blank=True)

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
    use_unsorted = models.BooleanField(
        _("send to Incoming leads"), default=False, help_text=_("Deals arrive in Unsorted with the web-form details")
    )
    search_contacts_by_phone = models.BooleanField(
        _("look up contacts in amoCRM"),
        default=False,
        help_text=_("Before creating a contact for a new phone, search amoCRM for it (one extra request)"),
    )

    # Two-way sync: amoCRM's webhooks come to an address carrying this secret (amoCRM signs webhooks with nothing)
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    webhook_subscribed_at = models.DateTimeField(_("subscribed to stage changes"), null=True, blank=True)
    deals_reconciled_at = models.DateTimeField(_("deal stages checked"), null=True, blank=True)

    updated_at = models.DateTimeField(auto_now=True)

    # Warn this long before the credentials end, so staff reconnect on a quiet day rather than after leads stop.
    EXPIRY_WARNING = timedelta(days=14)

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

    @property
    def long_lived_token_expires_at(self) -> datetime | None:
        """When a long-lived token ends, from its JWT `exp` claim; None if it does not say."""
        exp = jwt_claims(self.long_lived_token).get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            return None
        try:
            return datetime.fromtimestamp(exp, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None

    @property
    def token_expires_at(self) -> datetime | None:
        """When the token in use ends: read from a long-lived token itself, else the stored OAuth expiry."""
        return self.long_lived_token_expires_at if self.uses_long_lived_token else self.access_token_expires_at

    @property
    def credentials_end_at(self) -> datetime | None:
        """When no lead can reach amoCRM any more unless staff act: the long-lived or the refresh token's end."""
        if self.uses_long_lived_token:
            return self.long_lived_token_expires_at
        return self.refresh_token_expires_at if self.refresh_token else None

    def credentials_end_soon(self, now: datetime) -> bool:
        ends = self.credentials_end_at
        return ends is not None and ends - now <= self.EXPIRY_WARNING

    @property
    def api_domain(self) -> str:
        """The API host amoCRM names in the access token (used to find an account whose subdomain changed)."""
        return str(jwt_claims(self.access_token).get("api_domain") or "")

    def access_token_expires_within(self, margin: timedelta) -> bool:
        if self.uses_long_lived_token or self.access_token_expires_at is None:
            return False
        return self.access_token_expires_at - timezone.now() < margin

    def tag_names(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    # Changes to the row

    def store_tokens(self, access_token: str, refresh_token: str, expires_in: int, now: datetime | None = None) -> None:
        """Save a pair just issued by the code exchange: it replaces whatever pair is stored."""
        self._take_pair(access_token, refresh_token, expires_in, now or timezone.now())
        self.state = ConnectionState.CONNECTED
        self.token_version = models.F("token_version") + 1
        self.save(update_fields=[*self._PAIR_FIELDS, "state", "updated_at"])
        self.refresh_from_db(fields=["token_version"])

    def store_refreshed_tokens(self, access_token: str, refresh_token: str, expires_in: int, started_from: int) -> bool:
        """Compare-and-set: save a refreshed pair only if the stored pair is still version `started_from`.

        False when another pair was stored meanwhile (a refresh whose lock lapsed, or a reconnect): that one stays.
        """
        pair = Settings(pk=1, token_version=started_from + 1)
        pair._take_pair(access_token, refresh_token, expires_in, timezone.now())
        values = {name: getattr(pair, name) for name in self._PAIR_FIELDS}
        if not Settings.objects.filter(pk=1, token_version=started_from).update(**values, updated_at=timezone.now()):
            return False
        for name, value in values.items():
            setattr(self, name, value)
        return True

    _PAIR_FIELDS = (
        "access_token", "refresh_token", "access_token_expires_at", "refresh_token_expires_at", "tokens_refreshed_at",
        "token_version",
    )  # fmt: skip

    def _take_pair(self, access_token: str, refresh_token: str, expires_in: int, now: datetime) -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.access_token_expires_at = now + timedelta(seconds=expires_in)
        self.refresh_token_expires_at = now + REFRESH_TOKEN_LIFETIME
        self.tokens_refreshed_at = now

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
        # Not a reason to resume sending: a read works for 30 days after a 402 (see sending_probe_every).
        Settings.objects.filter(pk=1).update(last_success_at=timezone.now())

    def pause_sending(self, reason: str) -> None:
        """amoCRM refuses new deals: stop sending; the first lead is tried sending_probe_every() from now."""
        self.sending_paused_reason, self.sending_probe_at = reason, timezone.now()
        Settings.objects.filter(pk=1).update(sending_paused_reason=reason, sending_probe_at=self.sending_probe_at)

    def resume_sending(self) -> None:
        self.sending_paused_reason, self.sending_probe_at = "", None
        Settings.objects.filter(pk=1).update(sending_paused_reason="", sending_probe_at=None)

    def sending_probe_due(self, now: datetime) -> bool:
        return self.sending_probe_at is None or now - self.sending_probe_at >= sending_probe_every()

    @classmethod
    def claim_sending_probe(cls) -> bool:
        """While paused, True for one caller per sending_probe_every() across all processes: it may try one lead."""
        now = timezone.now()
        due = models.Q(sending_probe_at__isnull=True) | models.Q(sending_probe_at__lte=now - sending_probe_every())
        return cls.objects.filter(due, pk=1).exclude(sending_paused_reason="").update(sending_probe_at=now) == 1

    def record_error(self, message: str) -> None:
        self.last_error = message
        self.last_error_at = timezone.now()
        # Never a full save here: this instance may hold tokens or a state another process has already replaced.
        self.save(update_fields=["last_error", "last_error_at", "updated_at"])


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (only read for our own bookkeeping); {} if it is not one."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, TypeError, AttributeError):
        return {}
    return claims if isinstance(claims, dict) else {}
