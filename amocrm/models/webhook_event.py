"""amoCRM webhook events about the site's deals, stored as received and applied later."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.Model):
    """One lead event of an amoCRM webhook, as parsed; applied_at is set once the deal's stage took it in."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    action = models.CharField(_("event"), max_length=20)
    lead_id = models.BigIntegerField(_("amoCRM deal"), db_index=True)
    payload = models.JSONField(_("event"))
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    # An event whose contents cannot be applied is set aside, so the events after it (and every later run) go on.
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("amoCRM webhook event")
        verbose_name_plural = _("amoCRM webhook events")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.lead_id}"

    def mark_applied(self) -> None:
        self.applied_at = timezone.now()
        WebhookEvent.objects.filter(pk=self.pk, applied_at=None).update(applied_at=self.applied_at)

    def mark_failed(self, error: str) -> None:
        self.failed_at, self.error = timezone.now(), error[:300]
        WebhookEvent.objects.filter(pk=self.pk, applied_at=None).update(failed_at=self.failed_at, error=self.error)
