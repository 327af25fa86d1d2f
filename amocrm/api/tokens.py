"""Keeping the OAuth pair usable: refresh ahead of expiry and after a 401, once across every process and host.

A refresh token works once, so two processes refreshing together leave the loser with "Token has been revoked".
A Redis lock serialises refreshes; inside it the stored pair is re-read from the database and refreshed only if
it is still the one this process saw. The new pair is saved the moment the answer arrives, and only over the pair
the refresh began from (compare-and-set on Settings.token_version), so a refresher whose lock lapsed can neither
replace a newer pair nor call a healthy connection revoked.
Reference: https://www.amocrm.ru/developers/content/oauth/step-by-step
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import redis
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from redis.lock import Lock

from amocrm.api import budget, oauth, transport
from amocrm.api.errors import AmoError, ErrorKind, Fault
from amocrm.api.oauth import TokenPair
from amocrm.models import ConnectionState, Settings

logger = logging.getLogger(__name__)

PROACTIVE_MARGIN = timedelta(minutes=5)
# An unused refresh token dies after 3 months; refreshing monthly leaves two months of slack.
KEEP_ALIVE_AGE = timedelta(days=30)
LOCK_NAME = "acoustic:amocrm:token-refresh"
# The slowest refresh makes three requests (refresh, subdomain lookup, refresh again), each waiting for its slot
# and then for the network; the lock outlives that with a margin. Should it lapse anyway (a Redis restart drops
# it), the compare-and-set in Settings.store_refreshed_tokens keeps a late refresher from replacing a newer pair.
SLOWEST_REFRESH = 3 * (transport.SLOT_WAIT + sum(transport.TIMEOUT))
LOCK_TIMEOUT = int(SLOWEST_REFRESH) + 60
# How long a worker waits for another process's refresh (usually well under a second) before it retries later.
LOCK_WAIT = 60
# A "revoked" answer while the stored pair has not changed: wait this long for a process that spent the same
# refresh token a moment earlier to save its pair, before calling the connection lost.
REVOKED_GRACE_SECONDS = 1.0
# What another process may have changed while we waited for the lock.
_SHARED_FIELDS = (
    "access_token", "refresh_token", "access_token_expires_at", "refresh_token_expires_at", "tokens_refreshed_at",
    "token_version", "state", "domain", "client_id", "client_secret",
)  # fmt: skip


def bearer(conn: Settings) -> str:
    """A long-lived token is used as-is, instead of the OAuth access token.

    Reference: https://developers.kommo.com/docs/long-lived-token
    """
    return conn.long_lived_token or conn.access_token


def ensure_fresh(conn: Settings) -> None:
    """Refresh when under 5 minutes are left; while the current token still works, a failed try is not fatal."""
    if conn.uses_long_lived_token or not conn.access_token_expires_within(PROACTIVE_MARGIN):
        return
    try:
        refresh(conn, conn.refresh_token)
    except AmoError as error:
        if error.permanent or conn.access_token_expires_within(timedelta(0)):
            raise
        logger.warning("Early amoCRM token refresh failed (%s); the current token still works", error.kind)


def refresh(conn: Settings, seen_refresh_token: str) -> None:
    """Make `conn` hold a working pair: refresh once across all processes, or adopt one another process stored."""
    with _refresh_lock():
        stored = _adopt_stored(conn)
        if stored.refresh_token != seen_refresh_token:
            logger.info("amoCRM tokens were already refreshed by another process")
            return
        _check_may_refresh(stored)
        started_from = stored.token_version
        try:
            _refresh_following_domain(conn, lambda pair: _keep(conn, pair, started_from))
        except AmoError as error:
            if error.kind == ErrorKind.REVOKED and _spent_by_another(started_from):
                logger.warning("amoCRM refused a refresh token another process had already spent; using its pair")
                _adopt_stored(conn)
                return
            if error.needs_reconnect:  # revoked, or the token endpoint refuses our keys or the account's address
                conn.mark_needs_reconnect(error.message)  # the stored tokens stay: never deleted on failure
            raise
    logger.info("amoCRM tokens refreshed")


def _adopt_stored(conn: Settings) -> Settings:
    stored = Settings.load()
    for name in _SHARED_FIELDS:
        setattr(conn, name, getattr(stored, name))
    return stored


def _check_may_refresh(stored: Settings) -> None:
    # Once disconnected or revoked, only staff bring the connection back: a refresh must not (nor mark it again).
    if stored.state == ConnectionState.NEEDS_RECONNECT:
        raise AmoError(ErrorKind.REVOKED, _("amoCRM access was revoked. Reconnect in the admin."))
    if stored.state != ConnectionState.CONNECTED:
        raise AmoError(ErrorKind.NOT_CONNECTED, _("amoCRM is not connected: press Connect in the amoCRM settings."))


def _keep(conn: Settings, pair: TokenPair, started_from: int) -> None:
    """Runs the moment the token endpoint's answer arrives, before anything else (even the request log): the old
    refresh token is spent, so the new pair must be saved first. Saved only over the pair this refresh began from.
    """
    if not conn.store_refreshed_tokens(pair.access_token, pair.refresh_token, pair.expires_in, started_from):
        logger.warning("Another amoCRM pair was stored while this refresh was out; that one is kept and used")
        _adopt_stored(conn)


def _spent_by_another(started_from: int) -> bool:
    """Whether another pair was stored since this refresh began: then amoCRM's "revoked" is about a refresh token
    another process spent (this one's lock lapsed, or Redis restarted), not about the connection.
    """
    if _stored_version() != started_from:
        return True
    time.sleep(REVOKED_GRACE_SECONDS)  # the other process saves its pair the moment its answer arrives
    return _stored_version() != started_from


def _stored_version() -> int | None:
    return Settings.objects.filter(pk=1).values_list("token_version", flat=True).first()


def keep_alive(conn: Settings) -> bool:
    """Refresh a pair older than 30 days so a quiet quarter never lets the refresh token die."""
    if conn.uses_long_lived_token or not conn.is_connected:
        return False
    refreshed_at = conn.tokens_refreshed_at
    if refreshed_at is not None and timezone.now() - refreshed_at < KEEP_ALIVE_AGE:
        return False
    refresh(conn, conn.refresh_token)
    return True


def _refresh_following_domain(conn: Settings, keep: Callable[[TokenPair], None]) -> None:
    """As the official SDK does: a 401/404 may mean the account got a new subdomain; look it up, retry once.

    Reference: https://www.amocrm.ru/developers/content/oauth/account-subdomain-info
    """
    try:
        oauth.refresh_pair(conn, keep)
        return
    except AmoError as error:
        if error.status not in (401, 404):
            raise
        domain = oauth.lookup_account_domain(conn)
        if domain is None or domain == conn.domain:
            raise
    logger.warning("The amoCRM account moved from %s to %s", conn.domain, domain)
    conn.domain = domain
    conn.save(update_fields=["domain", "updated_at"])
    oauth.refresh_pair(conn, keep)


@contextmanager
def _refresh_lock() -> Iterator[None]:
    """Redis lock shared by every process and host; it expires on its own if its holder dies."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    left = budget.seconds_left()  # a page waits for another process's refresh only as long as it has left
    lock = client.lock(LOCK_NAME, timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT if left is None else left)
    try:
        acquired = lock.acquire()
    except redis.RedisError as error:
        # Refreshing without the lock could spend the refresh token twice and lose the connection.
        message = _("Redis is unavailable, so the amoCRM token cannot be refreshed safely; will retry.")
        raise AmoError(ErrorKind.NETWORK, message) from error
    if not acquired:
        message = _("Another process is still refreshing the amoCRM token; will retry.")
        raise AmoError(ErrorKind.TOKEN_REQUEST, message, permanent=False, retry_after=5, fault=Fault.PASSING)
    try:
        yield
    finally:
        _release(lock)


def _release(lock: Lock) -> None:
    try:
        lock.release()
    except redis.RedisError:
        logger.warning("The amoCRM token refresh lock expired or vanished before it was released")
