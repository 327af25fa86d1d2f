import time

from django.db import models
from django.utils.translation import gettext_lazy as _

from acoustic.singleton import SingletonModel
from leads.phones import mask_phone


def _text(verbose_name: str, max_length: int, **options) -> models.CharField:
    # The database default lets code from before a field insert leads while a deploy is rolling out.
    return models.CharField(verbose_name, max_length=max_length, blank=True, default="", db_default="", **options)


class Lead(models.Model):
    """One submission of a site form, stored before anything is sent anywhere."""

    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=32, db_index=True, help_text=_("E.164, e.g. +998901234567"))
    phone_raw = models.CharField(_("phone as typed"), max_length=64)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=50, default="contact_form", db_index=True)
    message = models.TextField(_("message"), blank=True)
    product_id = models.CharField(_("product id"), max_length=100, blank=True)
    page_url = models.CharField(_("page URL"), max_length=2000, blank=True)
    # Attribution. The last touch (the visit from an ad, a link or a search that brought the visitor most recently) is
    # utm_*, referrer and landing_page; the first touch (the earliest such visit within 90 days, or the very first
    # visit) is first_*. Click ids are the latest the visitor arrived with. The site script fills them all.
    referrer = models.CharField(_("referrer"), max_length=2000, blank=True)
    utm_source = models.CharField(_("UTM source"), max_length=255, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=255, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=255, blank=True)
    utm_content = models.CharField(_("UTM content"), max_length=255, blank=True)
    utm_term = models.CharField(_("UTM term"), max_length=255, blank=True)
    landing_page = _text(_("landing page"), 2000)
    first_referrer = _text(_("first referrer"), 2000)
    first_landing_page = _text(_("first landing page"), 2000)
    first_utm_source = _text(_("first UTM source"), 255)
    first_utm_medium = _text(_("first UTM medium"), 255)
    first_utm_campaign = _text(_("first UTM campaign"), 255)
    first_utm_content = _text(_("first UTM content"), 255)
    first_utm_term = _text(_("first UTM term"), 255)
    gclid = _text("gclid", 255, help_text=_("Google Ads click id"))
    yclid = _text("yclid", 255, help_text=_("Yandex Direct click id"))
    fbclid = _text("fbclid", 255, help_text=_("Facebook click id"))
    ym_uid = _text("_ym_uid", 100, help_text=_("Yandex Metrica visitor id"))
    ga_client_id = _text(_("GA client id"), 100, help_text=_("Google Analytics client id"))
    # Any other fields of the site's form, {name: text}; bounded by leads/extra_fields.py (30 names, 64 + 2000 chars).
    extra = models.JSONField(
        _("other fields"), default=dict, blank=True, db_default=models.Value({}, models.JSONField())
    )
    consent_given_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    consent_version = _text(_("consent text version"), 50)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    # The lead is its own outbox: set by the intake, cleared by the worker that sends lead_stored (leads/dispatch.py).
    # The database default lets code from before this field insert leads while a deploy is rolling out.
    dispatch_pending = models.BooleanField(_("waiting for dispatch"), default=False, db_default=False, editable=False)
    # Idempotency (leads/idempotency.py): a digest of the client's key, unique while set, cleared after 7 days; and a
    # digest of the lead as sent, which a repeat of the key must match. Blank for leads sent without a key.
    idempotency_key = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)
    idempotency_body = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["id"], condition=models.Q(dispatch_pending=True), name="lead_dispatch_pending")]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="lead_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked_phone})"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def consent_given(self) -> bool:
        return self.consent_given_at is not None


class IntakeSettings(SingletonModel):
    """How the public intake treats consent: business configuration, edited in the admin."""

    consent_required = models.BooleanField(
        _("consent required"),
        default=False,
        help_text=_(
            "Refuse a lead unless the visitor ticked the consent box (field 'consent'). Changes reach the site "
            "within 30 seconds."
        ),
    )
    consent_version = models.CharField(
        _("consent text version"),
        max_length=50,
        blank=True,
        help_text=_("Stored with each consent, e.g. 2025-03: the version of the text the site shows next to the box."),
    )

    class Meta:
        verbose_name = _("lead form settings")
        verbose_name_plural = _("lead form settings")

    def __str__(self) -> str:
        return str(_("lead form settings"))

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget_cached_settings()

    @classmethod
    def cached(cls) -> "IntakeSettings":
        """The settings as this process last read them, at most SETTINGS_TTL seconds ago."""
        global _cached
        now = time.monotonic()
        if _cached is None or _cached[0] < now:
            # A read that never writes: until staff first save the settings, their defaults apply.
            _cached = (now + SETTINGS_TTL, cls.objects.filter(pk=1).first() or cls(pk=1))
        return _cached[1]


# Every lead needs these settings; a query per request would double the intake's database work (one INSERT today).
# Each process keeps them for this long instead: a change in the admin reaches every web worker within it.
SETTINGS_TTL = 30
_cached: tuple[float, IntakeSettings] | None = None


def forget_cached_settings() -> None:
    global _cached
    _cached = None
