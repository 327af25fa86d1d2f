"""Celery tasks of the Telegram notifications. Tasks take ids, are safe to run twice, and call plain functions.

They are separate from amoCRM's tasks: a Telegram outage leaves amoCRM delivery alone, and the other way round.
"""

from celery import shared_task

from acoustic.celery import enqueue_on_commit, publish_each_or_run
from notifications import alerts, sending, unanswered
from notifications.models import ALERT_KINDS


def queue_message(message_id: int) -> None:
    """Send a stored message once the current transaction commits (the sweeper is the safety net)."""
    enqueue_on_commit(send_telegram_message, message_id)


@shared_task(acks_late=True)
def send_telegram_message(message_id: int) -> None:
    """Send this message now, unless it is not due or another worker has it."""
    sending.deliver(message_id)


@shared_task(acks_late=True)
def sweep_telegram_messages() -> int:
    """Queue a send for every due message (retries, lost tasks, dead workers); runs every 30 s from beat."""
    due = sending.due_ids()
    _send_each(due)
    return len(due)


@shared_task
def check_alerts() -> list[str]:
    """Raise, repeat or resolve each alert and the unanswered-lead alerts, then send what that said; every minute."""
    active = alerts.evaluate_alerts()
    unanswered.check_unanswered()
    _send_each(sending.due_ids(kinds=ALERT_KINDS))
    return active


def _send_each(message_ids: list[int]) -> None:
    publish_each_or_run(send_telegram_message, [(message_id,) for message_id in message_ids], run_here=sending.deliver)
