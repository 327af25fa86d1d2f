"""Every request sent to amoCRM, as a row the admin shows."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RequestLog(models.Model):
    """One request to amoCRM: where it went, what came back and how long it took."""

    method = models.CharField(_("method"), max_length=8)
    endpoint = models.CharField(_("endpoint"), max_length=200)
    status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True, help_text=_("Empty: no answer"))
    error_kind = models.CharField(_("error"), max_length=20, blank=True)
    error = models.CharField(_("error message"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration, ms"))
    created_at = models.DateTimeField(_("sent"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("amoCRM request")
        verbose_name_plural = _("amoCRM requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} {self.status or '—'}"
