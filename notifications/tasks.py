"""Celery tasks of the Telegram notifications. Tasks take ids, are safe to run twice, and call plain functions.

They are separate from amoCRM's tasks: a Telegram outage leaves amoCRM delivery alone, and the other way round.
"""

from celery import shared_task

from notifications import alerts, sending


@shared_task(acks_late=True)
def send_telegram_message(message_id: int) -> None:
    """Send this message now, unless it is not due or another worker has it."""
    sending.deliver(message_id)


@shared_task(acks_late=True)
def sweep_telegram_messages() -> int:
    """Queue a send for every due message (retries, lost tasks, dead workers); runs every 30 s from beat."""
    return sending.queue_due()


@shared_task
def check_alerts() -> list[str]:
    """Raise, repeat or resolve each alert; runs every minute from beat. Returns the alerts now active."""
    return alerts.evaluate_alerts()
