"""Two-way sync's safety net: every 10 minutes, the stages of the deals amoCRM changed since the last run.

Webhooks (webhooks.py) bring changes within seconds; this catches up on a missed or refused webhook, a broker
outage, or a site that never subscribed, so the stage is right in the end either way.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from amocrm.api import catalog, client
from amocrm.api.answers import RemoteLead
from amocrm.api.catalog import AccountCatalog
from amocrm.models import Delivery, Settings, StageNews, StageSource
from amocrm.sync import stages

logger = logging.getLogger(__name__)

# amoCRM's clock and ours differ a little: each run looks back this much further (a deal seen twice is harmless).
RECONCILE_OVERLAP = timedelta(minutes=2)
FIRST_RECONCILE_LOOKBACK = timedelta(days=7)


def reconcile() -> int:
    """Pull the stages of deals updated in amoCRM since the last run; how many stage changes were recorded.

    Raises AmoError when amoCRM cannot be read; the next run then starts from the same point.
    """
    conn = Settings.load()
    if not conn.is_connected:
        return 0
    started, since = timezone.now(), _since(conn)
    account = catalog.load_or_none(conn)
    starting_stage, changed = account.initial_stage(conn) if account else None, 0
    for page in range(1, client.MAX_PAGES + 1):
        result = client.list_leads_updated_since(conn, since, page)
        changed += _record_page(result.leads, account, starting_stage)
        if not result.has_next:
            break
    else:
        logger.warning("Reconcile stopped after %d pages; the next run covers the same period", client.MAX_PAGES)
        return changed
    if account is not None:
        stages.refresh_names(account)
    Settings.objects.filter(pk=1).update(deals_reconciled_at=started)
    return changed


def _since(conn: Settings) -> int:
    last = conn.deals_reconciled_at
    start = last - RECONCILE_OVERLAP if last else timezone.now() - FIRST_RECONCILE_LOOKBACK
    return int(start.timestamp())


def _record_page(
    leads: list[RemoteLead], account: AccountCatalog | None, starting_stage: tuple[int, int] | None
) -> int:
    """Only the site's own deals count; the account's other deals are skipped."""
    ours = set(
        Delivery.objects.filter(amocrm_lead_id__in=[lead.id for lead in leads]).values_list("amocrm_lead_id", flat=True)
    )
    changed = 0
    for lead in (lead for lead in leads if lead.id in ours):
        at = datetime.fromtimestamp(lead.updated_at, tz=UTC)
        news = StageNews(lead.id, lead.pipeline_id, lead.status_id, at, StageSource.RECONCILE)
        changed += stages.record(news, account, starting_stage)
    return changed
