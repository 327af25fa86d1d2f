"""The site's subscription to amoCRM's deal webhooks: subscribe, unsubscribe, and its state.

Reference: https://www.amocrm.ru/developers/content/crm_platform/webhooks-api

The destination is SITE_URL + /api/amocrm/webhook/<secret>; amoCRM keys webhooks by destination, so
subscribing again updates the same webhook instead of adding a second one.
"""

import logging
from dataclasses import dataclass

from django.conf import settings as django_settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import RedisError

from amocrm.api import client
from amocrm.api.answers import Webhook
from amocrm.api.errors import AmoError
from amocrm.models import Settings

logger = logging.getLogger(__name__)

EVENTS = ["status_lead", "update_lead", "delete_lead"]
STATE_CACHE_SECONDS = 60
# Holds a pickled Subscription: the version in the key keeps a deploy from unpickling a moved class.
_STATE_KEY = "amocrm:webhook-subscription:v2"


@dataclass(frozen=True)
class Subscription:
    """What amoCRM says: is there a webhook for our destination with our events, and is it switched on."""

    destination: str
    exists: bool
    disabled: bool = False


def destination(conn: Settings) -> str:
    return django_settings.SITE_URL + reverse("amocrm:webhook", args=[conn.webhook_secret])


def subscribe(conn: Settings) -> Webhook:
    hook = client.subscribe_webhook(conn, destination(conn), EVENTS)
    Settings.objects.filter(pk=1).update(webhook_subscribed_at=timezone.now())
    _forget_state()
    return hook


def unsubscribe(conn: Settings) -> bool:
    """Remove our webhook; False when amoCRM had none for our destination."""
    found = bool(client.list_webhooks(conn, destination(conn)))
    removed = found and client.delete_webhook(conn, destination(conn))
    Settings.objects.filter(pk=1).update(webhook_subscribed_at=None)
    _forget_state()
    return removed


def unsubscribe_on_disconnect(conn: Settings) -> None:
    """Best effort: switching the integration off in amoCRM revokes our token, so this call may well be refused."""
    if conn.webhook_subscribed_at is None:
        return
    try:
        unsubscribe(conn)
    except AmoError as error:
        logger.info("Could not remove the amoCRM webhook on disconnect: %s", error.kind)
        Settings.objects.filter(pk=1).update(webhook_subscribed_at=None)
        _forget_state()


def state(conn: Settings) -> Subscription:
    """GET /api/v4/webhooks?filter[destination]= (cached for a minute); raises AmoError when amoCRM cannot say."""
    cached = _cached_state()
    if cached is not None and cached.destination == destination(conn):
        return cached
    hooks = [h for h in client.list_webhooks(conn, destination(conn)) if h.destination == destination(conn)]
    hook = hooks[0] if hooks else None
    found = Subscription(destination(conn), hook is not None and set(EVENTS) <= set(hook.settings),
                         bool(hook and hook.disabled))  # fmt: skip
    try:
        cache.set(_STATE_KEY, found, STATE_CACHE_SECONDS)
    except RedisError:
        logger.warning("Cache unavailable; webhook state not cached", exc_info=True)
    return found


def _cached_state() -> Subscription | None:
    try:
        return cache.get(_STATE_KEY)
    except RedisError:
        return None


def _forget_state() -> None:
    try:
        cache.delete(_STATE_KEY)
    except RedisError:
        logger.warning("Cache unavailable; webhook state may show for another minute", exc_info=True)
