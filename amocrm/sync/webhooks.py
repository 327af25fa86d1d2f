"""Webhook events about the site's deals: stored at once (amoCRM wants an answer within 2 s), applied by a task.

A retried or repeated webhook has the same key (deal, action, stage, time) and is stored once.
Reference: https://www.amocrm.ru/developers/content/crm_platform/webhooks-format
"""

import logging
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from django.db import DataError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from amocrm.api import catalog
from amocrm.models import Delivery, Settings, StageNews, StageSource, WebhookEvent
from amocrm.sync import stages
from amocrm.sync.webhook_payload import LeadEvent

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=30)  # far longer than amoCRM retries a webhook (about 1.5 h)
PENDING_GRACE = timedelta(minutes=1)  # a younger event still has its own task on the way
# What an event's own contents can raise while it is applied (a time no date holds, a value no column takes).
# Such an event is marked failed and skipped; anything else (the database is down) stops the run, to be retried.
BAD_EVENT_ERRORS = (ValueError, TypeError, KeyError, OverflowError, OSError, DataError)


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
    # A delete carries no time: the moment it arrived stands in.
    at = datetime.fromtimestamp(lead.modified_at, tz=UTC) if lead.modified_at else event.received_at
    return StageNews(
        lead_id=lead.lead_id, pipeline_id=lead.pipeline_id, status_id=lead.status_id, at=at,
        source=StageSource.WEBHOOK, moved=lead.action == "status", deleted=lead.action == "delete",
    )  # fmt: skip


def pending(older_than: timedelta, limit: int) -> list[int]:
    """Ids of events not applied yet and older than `older_than`, oldest first."""
    cutoff = timezone.now() - older_than
    rows = WebhookEvent.objects.filter(applied_at=None, failed_at=None, received_at__lt=cutoff)
    rows = rows.order_by("received_at", "id")
    return list(rows.values_list("id", flat=True)[:limit])


def prune(now: datetime | None = None) -> int:
    """Delete applied events older than the retention period; how many went."""
    cutoff = (now or timezone.now()) - RETENTION
    done = Q(applied_at__isnull=False) | Q(failed_at__isnull=False)
    deleted, _by_model = WebhookEvent.objects.filter(done, received_at__lt=cutoff).delete()
    return deleted


def apply_event(event_id: int) -> bool:
    """Take one stored webhook event into its deal's stage; True when a stage change was recorded."""
    event = WebhookEvent.objects.filter(id=event_id, applied_at=None, failed_at=None).first()
    if event is None:
        return False  # applied already (the task ran twice), set aside, or pruned
    conn = Settings.load()
    account = catalog.load_or_none(conn)
    try:
        with transaction.atomic():  # a savepoint: on PostgreSQL a failed statement would spoil the rest of the run
            changed = stages.record(news(event), account, account.initial_stage(conn) if account else None)
    except BAD_EVENT_ERRORS as error:
        logger.warning("amoCRM webhook event %s cannot be applied and is set aside: %r", event.id, error)
        event.mark_failed(f"{type(error).__name__}: {error}")
        return False
    event.mark_applied()
    return changed


def apply_pending_events(limit: int = 500) -> int:
    """Apply events whose task never ran (broker outage, lost message); how many there were."""
    event_ids = pending(PENDING_GRACE, limit)
    for event_id in event_ids:
        apply_event(event_id)
    return len(event_ids)
