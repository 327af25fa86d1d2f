"""Everything this site reads about the amoCRM account, in ONE cache: pipelines and their stages, deal fields, users,
task types.

The settings page's dropdowns, stage names in the lead list, where new deals start and the tracking (UTM) field
ids all come from here. One key per account, one lifetime; a caller that needs fresher data (the settings page)
asks for a maximum age instead of keeping its own copy.
"""

import logging
import time
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils.translation import gettext
from redis.exceptions import RedisError

from amocrm.api import client, manager_tasks, users
from amocrm.api.answers import CustomField, Pipeline
from amocrm.api.errors import AmoError
from amocrm.api.manager_tasks import TaskType
from amocrm.api.users import User
from amocrm.models import Settings

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300
# The version is part of the key: a deploy that moves or reshapes these classes never unpickles an old one.
_KEY = "amocrm:account-catalog:v5:{domain}"
# A stage of type 1 is the pipeline's Unsorted.
# Reference: https://www.amocrm.ru/developers/content/crm_platform/leads_pipelines
UNSORTED_TYPE = 1
TRACKING_FIELD_TYPE = "tracking_data"


@dataclass(frozen=True)
class AccountCatalog:
    pipelines: list[Pipeline]
    fields: list[CustomField]  # the deals' custom fields
    loaded_at: float  # time.time() when amoCRM was asked
    # None when amoCRM would not list them (only an administrator may): users are then taken on trust.
    users: list[User] | None = None
    task_types: list[TaskType] = field(default_factory=list)  # call, meeting and the account's own

    def names(self, pipeline_id: int, status_id: int) -> tuple[str, str]:
        """(pipeline name, stage name); empty strings for a stage amoCRM no longer lists."""
        pipeline = self.pipeline(pipeline_id)
        status = next((s for s in pipeline.statuses if s.id == status_id), None) if pipeline else None
        return (pipeline.name if pipeline else "", status.name if status else "")

    def pipeline(self, pipeline_id: int | None) -> Pipeline | None:
        return next((p for p in self.pipelines if p.id == pipeline_id), None)

    def pipeline_of(self, status_id: int) -> int | None:
        """The pipeline a stage belongs to (won and lost aside, a stage id names exactly one)."""
        return next((p.id for p in self.pipelines for s in p.statuses if s.id == status_id), None)

    def initial_stage(self, conn: Settings) -> tuple[int, int] | None:
        """Where the site's new deals land: the stage chosen in the settings, Unsorted, or amoCRM's default."""
        pipeline = self.pipeline(conn.pipeline_id) or next((p for p in self.pipelines if p.is_main), None)
        if pipeline is None:
            return None
        if conn.use_unsorted:
            statuses = [s for s in pipeline.statuses if s.type == UNSORTED_TYPE]
        else:
            statuses = [s for s in pipeline.statuses if s.id == conn.status_id and s.type != UNSORTED_TYPE]
        # Without a status_id a deal goes to the first stage of its pipeline.
        statuses = statuses or [s for s in pipeline.statuses if s.type != UNSORTED_TYPE]
        return (pipeline.id, statuses[0].id) if statuses else None

    def has_stage(self, pipeline_id: int | None, status_id: int) -> bool:
        """True if the stage is in that pipeline (in any pipeline when none is named)."""
        pipelines = [self.pipeline(pipeline_id)] if pipeline_id else self.pipelines
        return any(s.id == status_id for p in pipelines if p for s in p.statuses)

    def user(self, user_id: int | None) -> User | None:
        return next((u for u in self.users or [] if u.id == user_id), None)

    def user_unavailable(self, user_id: int) -> str:
        """Why this user cannot be given leads ("" if they can, or if amoCRM's users are unknown)."""
        if self.users is None:
            return ""
        user = self.user(user_id)
        if user is None:
            return gettext("amoCRM no longer has user #%(id)s") % {"id": user_id}
        return "" if user.is_active else gettext("%(name)s is deactivated in amoCRM") % {"name": user.name}

    def field(self, field_id: int | None) -> CustomField | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def tracking_field_ids(self) -> dict[str, int]:
        """The account's tracking_data field ids by code (UTM_SOURCE, GCLID, ...): which exist differs by account.

        Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields
        """
        return {f.code: f.id for f in self.fields if f.type == TRACKING_FIELD_TYPE and f.code}


def load(conn: Settings, max_age: float = CACHE_SECONDS) -> AccountCatalog:
    """From the cache if at most `max_age` seconds old, else from amoCRM; AmoError when amoCRM cannot say."""
    catalog = _cached(conn)
    if catalog is not None and time.time() - catalog.loaded_at <= max_age:
        return catalog
    pipelines, fields = client.list_pipelines(conn), client.list_lead_custom_fields(conn)
    catalog = AccountCatalog(pipelines, fields, time.time(), _users_or_none(conn), task_types=_task_types_or_none(conn))
    try:
        cache.set(_key(conn), catalog, CACHE_SECONDS)
    except RedisError:
        logger.warning("Cache unavailable; the amoCRM account catalog is not cached", exc_info=True)
    return catalog


def forget(conn: Settings) -> None:
    """After this site changed the account's fields: the next load asks amoCRM."""
    try:
        cache.delete(_key(conn))
    except RedisError:
        logger.warning("Cache unavailable; the amoCRM account catalog could not be forgotten", exc_info=True)


def load_or_none(conn: Settings) -> AccountCatalog | None:
    """For callers that can do without names (stage sync): None when amoCRM cannot be asked."""
    try:
        return load(conn)
    except AmoError as error:
        logger.warning("amoCRM account catalog unavailable (%s)", error.kind)
        return None


def _users_or_none(conn: Settings) -> list[User] | None:
    """Users need an administrator's access (users-api): without it the rest of the catalog still serves."""
    try:
        return users.list_users(conn)
    except AmoError as error:
        logger.warning("amoCRM users unavailable (%s, HTTP %s)", error.kind, error.status)
        return None


def _task_types_or_none(conn: Settings) -> list[TaskType]:
    """The settings page can offer amoCRM's built-in types without them: no reason to fail the catalog."""
    try:
        return manager_tasks.list_task_types(conn)
    except AmoError as error:
        logger.warning("amoCRM task types unavailable (%s, HTTP %s)", error.kind, error.status)
        return []


def _cached(conn: Settings) -> AccountCatalog | None:
    try:
        return cache.get(_key(conn))
    except RedisError:
        return None  # slower without the cache, never broken


def _key(conn: Settings) -> str:
    return _KEY.format(domain=conn.domain)
