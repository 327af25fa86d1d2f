"""Idempotency keys: a lead sent again with the same key (a retry after a lost answer, a double tap) is stored once.

The key comes in the Idempotency-Key header, or in the body's idempotency_key field for plain HTML forms.
Reference: https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/

Whose key is it ("per client")? The calling site: the key is scoped by the request's Origin, not by the client's IP.
A phone's IP changes between a lost answer and its retry (mobile networks, Wi-Fi to 4G), and a scope by IP would
turn that retry into a second lead. The Origin stays the same for every retry, since the site script keeps a waiting
lead in the site's own storage, which only pages of that origin read. So two sites (or a server-side caller, which
sends no Origin) never meet each other's keys, even if they pick keys like "order-17". Within one site, the script's
keys are 128-bit random values: no one can guess another visitor's key to learn its lead's id or block it.

Storage costs the happy path nothing but the INSERT it makes anyway: the lead row carries a digest of the scoped
key under a unique constraint, and a repeat is found when that INSERT fails (also how two concurrent requests with
one key end up as one lead). A key stops matching after KEEP_DAYS: the daily prune clears it, and a repeat that
finds an older holder before the prune has run releases it itself.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from leads.models import Lead

HEADER = "HTTP_IDEMPOTENCY_KEY"
FIELD = "idempotency_key"
KEEP_DAYS = 7
MAX_LENGTH = 128
# Printable ASCII without spaces or quotes: UUIDs, hex, base64url and the like. The draft's header value is a
# structured-field string, which arrives in double quotes; those are taken off first.
_KEY = re.compile(rf"[!#-~]{{8,{MAX_LENGTH}}}")
# A holder released between our failed INSERT and our look-up (the prune) means one more INSERT; a third is plenty.
_INSERT_TRIES = 3


class InvalidKey(ValueError):
    pass


class KeyConflict(Exception):
    """The key was used within KEEP_DAYS for a lead with other data."""


@dataclass(frozen=True)
class IdempotencyKey:
    digest: str

    @classmethod
    def of(cls, request: HttpRequest, data: dict[str, str]) -> "IdempotencyKey | None":
        """The request's key, scoped by its Origin; None without one, InvalidKey when malformed."""
        key = request.META.get(HEADER) or data.get(FIELD, "")
        key = key.strip().removeprefix('"').removesuffix('"')
        if not key:
            return None
        if not _KEY.fullmatch(key):
            raise InvalidKey(f"The idempotency key must be 8 to {MAX_LENGTH} printable ASCII characters.")
        scope = request.META.get("HTTP_ORIGIN", "").strip().lower()
        return cls(digest=hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest())


def body_digest(lead_data: dict) -> str:
    """A digest of the lead as sent, normalized: JSON or a form, in any order of fields, gives the same one."""
    text = json.dumps(lead_data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def save_once(lead: Lead) -> tuple[Lead, bool]:
    """Insert the lead, or find the one stored earlier with its key: (lead, created). KeyConflict if they differ."""
    for attempt in range(_INSERT_TRIES):
        try:
            _insert(lead)
            return lead, True
        except IntegrityError:
            holder = _live_holder(lead.idempotency_key)
            if holder is None and attempt < _INSERT_TRIES - 1:
                continue  # the key is free by now (expired, or pruned meanwhile): insert again
            if holder is None:
                raise
        if holder.idempotency_body != lead.idempotency_body:
            raise KeyConflict(f"This idempotency key was used for another lead in the last {KEEP_DAYS} days.")
        return holder, False


def expiry() -> datetime:
    """Keys of leads stored before this moment no longer match."""
    return timezone.now() - timedelta(days=KEEP_DAYS)


def forget_expired_keys() -> int:
    """Clear the keys of leads older than KEEP_DAYS (daily, from leads.tasks); how many were cleared."""
    expired = Lead.objects.exclude(idempotency_key="").filter(created_at__lt=expiry())
    return expired.update(idempotency_key="", idempotency_body="")


def _live_holder(digest: str) -> Lead | None:
    """The lead holding this key within KEEP_DAYS; an older holder (the prune has not run yet) is released."""
    holder = Lead.objects.filter(idempotency_key=digest).first()
    if holder is None or holder.created_at >= expiry():
        return holder
    Lead.objects.filter(id=holder.id).update(idempotency_key="", idempotency_body="")
    return None


def _insert(lead: Lead) -> None:
    # Outside a transaction the INSERT is its own statement, and a unique violation leaves the connection usable.
    # Inside one (tests, ATOMIC_REQUESTS), a savepoint keeps PostgreSQL from aborting the whole transaction; paying for
    # it only there keeps the request at one statement.
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            lead.save(force_insert=True)
    else:
        lead.save(force_insert=True)
