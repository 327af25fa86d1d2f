"""amoCRM's pipelines and stages, cached for a few minutes: stage names, and where the site's new deals start."""

import logging
from dataclasses import dataclass

from django.core.cache import cache
from redis.exceptions import RedisError

from amocrm import client
from amocrm.client import AmoError, Pipeline
from amocrm.models import Settings

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300
UNSORTED_TYPE = 1  # §4.6: a status of type 1 is the pipeline's Unsorted


@dataclass(frozen=True)
class StageCatalog:
    pipelines: list[Pipeline]

    def names(self, pipeline_id: int, status_id: int) -> tuple[str, str]:
        """(pipeline name, stage name); empty strings for a stage amoCRM no longer lists."""
        pipeline = self._pipeline(pipeline_id)
        status = next((s for s in pipeline.statuses if s.id == status_id), None) if pipeline else None
        return (pipeline.name if pipeline else "", status.name if status else "")

    def initial_stage(self, conn: Settings) -> tuple[int, int] | None:
        """Where the site's new deals land: the stage chosen in the settings, Unsorted, or amoCRM's default."""
        pipeline = self._pipeline(conn.pipeline_id) if conn.pipeline_id else None
        pipeline = pipeline or next((p for p in self.pipelines if p.is_main), None)
        if pipeline is None:
            return None
        if conn.use_unsorted:
            statuses = [s for s in pipeline.statuses if s.type == UNSORTED_TYPE]
        else:
            statuses = [s for s in pipeline.statuses if s.id == conn.status_id and s.type != UNSORTED_TYPE]
        # §4.3: without a status_id a deal goes to the first stage of its pipeline.
        statuses = statuses or [s for s in pipeline.statuses if s.type != UNSORTED_TYPE]
        return (pipeline.id, statuses[0].id) if statuses else None

    def _pipeline(self, pipeline_id: int) -> Pipeline | None:
        return next((p for p in self.pipelines if p.id == pipeline_id), None)


def load(conn: Settings) -> StageCatalog | None:
    """The pipelines (from the cache, else GET /api/v4/leads/pipelines); None when amoCRM cannot be asked."""
    key = f"amocrm:stage-catalog:{conn.domain}"
    try:
        catalog = cache.get(key)
    except RedisError:
        catalog = None
    if catalog is not None:
        return catalog
    try:
        catalog = StageCatalog(client.list_pipelines(conn))
    except AmoError as error:
        logger.warning("Stage names unavailable: amoCRM pipelines could not be read (%s)", error.kind)
        return None
    try:
        cache.set(key, catalog, CACHE_SECONDS)
    except RedisError:
        logger.warning("Cache unavailable; amoCRM pipelines not cached", exc_info=True)
    return catalog
