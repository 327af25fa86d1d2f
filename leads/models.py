from django.db import models
from django.utils.translation import gettext_lazy as _

from leads.phones import mask_phone


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
    referrer = models.CharField(_("referrer"), max_length=2000, blank=True)
    utm_source = models.CharField("utm_source", max_length=255, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=255, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=255, blank=True)
    utm_content = models.CharField("utm_content", max_length=255, blank=True)
    utm_term = models.CharField("utm_term", max_length=255, blank=True)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    # The lead is its own outbox: set by the intake, cleared by the worker that sends lead_stored (leads/dispatch.py).
    # The database default lets code from before this field insert leads while a deploy is rolling out.
    dispatch_pending = models.BooleanField(_("waiting for dispatch"), default=False, db_default=False, editable=False)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["id"], condition=models.Q(dispatch_pending=True), name="lead_dispatch_pending")]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked_phone})"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)
