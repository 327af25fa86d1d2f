"""Recording amoCRM's news about the site's deals: the current stage, and a history row for each real change.

Webhooks (webhooks.py) and the periodic reconcile (reconcile.py) both report what they saw as StageNews through
`record`; it keeps the current stage, adds a history row for each real change, and ignores stale news.
"""

import logging

from django.db import transaction

from amocrm.api.catalog import AccountCatalog
from amocrm.models import DealStage, DealStageChange, Delivery, StageNews

logger = logging.getLogger(__name__)


def record(news: StageNews, catalog: AccountCatalog | None, starting_stage: tuple[int, int] | None) -> bool:
    """Apply one piece of news to the deal's stage; True when it recorded a stage change.

    News about deals the site did not create is ignored. Duplicate control may have merged several of our
    leads into one deal, so every delivery of that deal gets the news.
    """
    if news.status_id is None and not news.deleted:
        return False
    delivery_ids = list(Delivery.objects.filter(amocrm_lead_id=news.lead_id).values_list("id", flat=True))
    return any([_record_one(delivery_id, news, catalog, starting_stage) for delivery_id in delivery_ids])


def _record_one(
    delivery_id: int, news: StageNews, catalog: AccountCatalog | None, starting_stage: tuple[int, int] | None
) -> bool:
    with transaction.atomic():
        stage, _created = DealStage.objects.select_for_update().get_or_create(delivery_id=delivery_id)
        if stage.is_stale(news):
            logger.info("Stale stage news for deal %s ignored", news.lead_id)
            return False
        if news.deleted:
            stage.mark_deleted(news.at)
            return False
        moved = news.moved or stage.differs(news, starting_stage)
        names = catalog.names(news.pipeline_id, news.status_id) if catalog else ("", "")
        added = moved and _add_change(delivery_id, news, names)
        stage.set_current(news, names, moved)
    return added


def _add_change(delivery_id: int, news: StageNews, names: tuple[str, str]) -> bool:
    _row, created = DealStageChange.objects.get_or_create(
        delivery_id=delivery_id, pipeline_id=news.pipeline_id, status_id=news.status_id, changed_at=news.at,
        defaults={"pipeline_name": names[0], "status_name": names[1], "source": news.source},
    )  # fmt: skip
    return created


def refresh_names(catalog: AccountCatalog) -> int:
    """Keep stage names current after renames in amoCRM: one update per stage in use; how many rows changed."""
    updated = 0
    pairs = DealStage.objects.exclude(status_id=None).values_list("pipeline_id", "status_id").distinct()
    for pipeline_id, status_id in list(pairs):
        pipeline_name, status_name = catalog.names(pipeline_id, status_id)
        if status_name:
            rows = DealStage.objects.filter(pipeline_id=pipeline_id, status_id=status_id)
            rows = rows.exclude(pipeline_name=pipeline_name, status_name=status_name)
            updated += rows.update(pipeline_name=pipeline_name, status_name=status_name)
    return updated
