"""Two-way sync: amoCRM's news about the site's deals becomes their stage here (deal_stages.py).

Webhooks bring changes within seconds (apply_webhook_event, queued by webhook_views.py); every 10 minutes
`reconcile` asks amoCRM for the deals updated since its last run, so a missed or refused webhook, a broker
outage or a site that never subscribed still ends with the right stage.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from amocrm import client, deal_stages, stage_catalog, webhook_events
from amocrm.client import RemoteLead
from amocrm.deal_stages import StageNews, StageSource
from amocrm.models import Delivery, Settings
from amocrm.stage_catalog import StageCatalog
from amocrm.webhook_events import WebhookEvent

logger = logging.getLogger(__name__)

# amoCRM's clock and ours differ a little: each run looks back this much further (a deal seen twice is harmless).
RECONCILE_OVERLAP = timedelta(minutes=2)
FIRST_RECONCILE_LOOKBACK = timedelta(days=7)
PENDING_GRACE = timedelta(minutes=1)  # a younger event still has its own task on the way


def apply_webhook_event(event_id: int) -> bool:
    """Take one stored webhook event into its deal's stage; True when a stage change was recorded."""
    event = WebhookEvent.objects.filter(id=event_id, applied_at=None).first()
    if event is None:
        return False  # applied already (the task ran twice), or pruned
    conn = Settings.load()
    catalog = stage_catalog.load(conn)
    changed = deal_stages.record(webhook_events.news(event), catalog, _starting_stage(conn, catalog))
    event.mark_applied()
    return changed


def apply_pending_events(limit: int = 500) -> int:
    """Apply events whose task never ran (broker outage, lost message); how many there were."""
    event_ids = webhook_events.pending(PENDING_GRACE, limit)
    for event_id in event_ids:
        apply_webhook_event(event_id)
    return len(event_ids)


def reconcile() -> int:
    """Pull the stages of deals updated in amoCRM since the last run; how many stage changes were recorded.

    Raises AmoError when amoCRM cannot be read; the next run then starts from the same point.
    """
    conn = Settings.load()
    if not conn.is_connected:
        return 0
    started, since = timezone.now(), _since(conn)
    catalog = stage_catalog.load(conn)
    starting_stage, changed = _starting_stage(conn, catalog), 0
    for page in range(1, client.MAX_PAGES + 1):
        result = client.list_leads_updated_since(conn, since, page)
        changed += _record_page(result.leads, catalog, starting_stage)
        if not result.has_next:
            break
    else:
        logger.warning("Reconcile stopped after %d pages; the next run covers the same period", client.MAX_PAGES)
        return changed
    if catalog is not None:
        deal_stages.refresh_names(catalog)
    Settings.objects.filter(pk=1).update(deals_reconciled_at=started)
    return changed


def _since(conn: Settings) -> int:
    last = conn.deals_reconciled_at
    start = last - RECONCILE_OVERLAP if last else timezone.now() - FIRST_RECONCILE_LOOKBACK
    return int(start.timestamp())


def _record_page(leads: list[RemoteLead], catalog: StageCatalog | None, starting_stage: tuple[int, int] | None) -> int:
    """Only the site's own deals count; the account's other deals are skipped."""
    ours = set(
        Delivery.objects.filter(amocrm_lead_id__in=[lead.id for lead in leads]).values_list("amocrm_lead_id", flat=True)
    )
    changed = 0
    for lead in (lead for lead in leads if lead.id in ours):
        at = datetime.fromtimestamp(lead.updated_at, tz=UTC)
        news = StageNews(lead.id, lead.pipeline_id, lead.status_id, at, StageSource.RECONCILE)
        changed += deal_stages.record(news, catalog, starting_stage)
    return changed


def _starting_stage(conn: Settings, catalog: StageCatalog | None) -> tuple[int, int] | None:
    return catalog.initial_stage(conn) if catalog else None
