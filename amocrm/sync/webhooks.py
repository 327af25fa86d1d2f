"""Webhook events as received: stored at once (amoCRM wants an answer within 2 s, §7), applied later by a task
(deal_sync.apply_webhook_event). A retried or repeated webhook has the same key (deal, action, stage, time)
and is stored once.
"""

import logging
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from amocrm.deal_stages import StageNews, StageSource
from amocrm.models import Delivery
from amocrm.webhook_payload import LeadEvent

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=30)  # far longer than amoCRM retries a webhook (about 1.5 h, §7)


class WebhookEvent(models.Model):
    """One lead event of an amoCRM webhook, as parsed; applied_at is set once the deal's stage took it in."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    action = models.CharField(_("event"), max_length=20)
    lead_id = models.BigIntegerField(_("amoCRM deal"), db_index=True)
    payload = models.JSONField(_("event"))
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        app_label = "amocrm"
        verbose_name = _("amoCRM webhook event")
        verbose_name_plural = _("amoCRM webhook events")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.lead_id}"

    def mark_applied(self) -> None:
        self.applied_at = timezone.now()
        WebhookEvent.objects.filter(pk=self.pk, applied_at=None).update(applied_at=self.applied_at)


def store(events: list[LeadEvent]) -> list[int]:
    """Keep the events about the site's own deals; the ids of those not seen before (to be applied)."""
    deals = Delivery.objects.filter(amocrm_lead_id__in={event.lead_id for event in events})
    ours = set(deals.values_list("amocrm_lead_id", flat=True))
    return [event_id for event in events if event.lead_id in ours and (event_id := _store_once(event))]


def _store_once(event: LeadEvent) -> int | None:
    try:
        with transaction.atomic():  # a savepoint: a duplicate must not spoil the rest of the webhook
            row = WebhookEvent.objects.create(
                key=event.key, action=event.action, lead_id=event.lead_id, payload=asdict(event)
            )
    except IntegrityError:
        return None  # the same webhook again (amoCRM retried, or sent it twice)
    return row.id


def news(event: WebhookEvent) -> StageNews:
    """What the event says about the deal's stage."""
    lead = LeadEvent(**event.payload)
    # A delete carries no time (§7): the moment it arrived stands in.
    at = datetime.fromtimestamp(lead.modified_at, tz=UTC) if lead.modified_at else event.received_at
    return StageNews(
        lead_id=lead.lead_id, pipeline_id=lead.pipeline_id, status_id=lead.status_id, at=at,
        source=StageSource.WEBHOOK, moved=lead.action == "status", deleted=lead.action == "delete",
    )  # fmt: skip


def pending(older_than: timedelta, limit: int) -> list[int]:
    """Ids of events not applied yet and older than `older_than`, oldest first."""
    cutoff = timezone.now() - older_than
    rows = WebhookEvent.objects.filter(applied_at=None, received_at__lt=cutoff).order_by("received_at", "id")
    return list(rows.values_list("id", flat=True)[:limit])


def prune(now: datetime | None = None) -> int:
    """Delete applied events older than the retention period; how many went."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _by_model = WebhookEvent.objects.filter(applied_at__isnull=False, received_at__lt=cutoff).delete()
    return deleted
