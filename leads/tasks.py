"""Celery tasks of the intake: hand stored leads on to the rest of the project. Safe to run twice, or at once."""

from celery import shared_task

from leads import dispatch, idempotency


@shared_task(acks_late=True)
def dispatch_leads() -> int:
    """Send lead_stored for every lead still waiting; queued after an intake (at most twice a second per web process)
    and every second by beat."""
    return dispatch.dispatch_waiting()


@shared_task
def forget_idempotency_keys() -> int:
    """Daily: clear idempotency keys older than 7 days, so the unique index holds only a week of keys."""
    return idempotency.forget_expired_keys()
