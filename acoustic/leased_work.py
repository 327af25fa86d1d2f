"""Rows that are work to send (an amoCRM delivery, a Telegram message): due, claimed for a lease, retried.

A worker claims a due row with a conditional update that sets a lease; a worker that vanished lets the lease
lapse and the row is due again. Both queues share these rules; what "done" means stays with each model.
"""

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone


class LeasedWork:
    """Mixin for a model with state, attempts, next_attempt_at, claimed_until, last_attempt_at and last_error.

    `States` must have PENDING, SENDING and RETRYING; `CLAIM_LEASE` outlasts the longest send.
    """

    States: type[models.TextChoices]
    CLAIM_LEASE: timedelta
    # What "Retry" clears besides last_error (say, the field amoCRM named).
    ERROR_FIELDS: tuple[str, ...] = ("last_error",)

    @classmethod
    def due_condition(cls, now: datetime) -> models.Q:
        waiting = models.Q(state__in=[cls.States.PENDING, cls.States.RETRYING], next_attempt_at__lte=now)
        return waiting | models.Q(state=cls.States.SENDING, claimed_until__lt=now)  # its worker vanished

    @classmethod
    def being_sent_condition(cls, now: datetime) -> models.Q:
        """A worker holds the row's lease and is sending it right now: nobody else may touch it."""
        return models.Q(state=cls.States.SENDING, claimed_until__gte=now)

    @classmethod
    def due(cls) -> models.QuerySet:
        return cls.objects.filter(cls.due_condition(timezone.now()))

    @classmethod
    def claim_changes(cls, now: datetime) -> dict:
        """The UPDATE that claims due rows: sending, leased, one attempt more."""
        return {
            "state": cls.States.SENDING,
            "claimed_until": now + cls.CLAIM_LEASE,
            "last_attempt_at": now,
            "attempts": models.F("attempts") + 1,
        }

    def schedule_retry(self, message: str, delay: timedelta, counted: bool = True) -> None:
        """Try again after `delay`; counted=False takes back the attempt the claim counted (nothing was sent)."""
        self.state, self.last_error = self.States.RETRYING, message
        self.next_attempt_at = timezone.now() + delay
        if not counted:
            self.attempts = max(self.attempts - 1, 0)
        self._release("state", "last_error", "next_attempt_at", "attempts")

    def retry_now(self) -> None:
        """Staff asked to try again at once, keeping whatever is already known."""
        self.state, self.next_attempt_at = self.States.PENDING, timezone.now()
        for field in self.ERROR_FIELDS:
            setattr(self, field, "")
        self._release("state", "next_attempt_at", *self.ERROR_FIELDS)

    def _release(self, *fields: str) -> None:
        """Save `fields` and give the lease up."""
        self.claimed_until = None
        self.save(update_fields=[*fields, "claimed_until"])
