"""Task names are part of the running installation: beat's schedule and messages already queued name them."""

from django.conf import settings

from acoustic.celery import app

# Renaming or moving any of these strands queued messages and beat entries of a running installation.
PUBLISHED_TASKS = {
    "leads.tasks.dispatch_leads",
    "amocrm.tasks.push_lead",
    "amocrm.tasks.sweep_deliveries",
    "amocrm.tasks.keep_tokens_alive",
    "amocrm.tasks.prune_request_log",
    "amocrm.tasks.apply_webhook_event",
    "amocrm.tasks.reconcile_deal_stages",
    "notifications.tasks.send_telegram_message",
    "notifications.tasks.sweep_telegram_messages",
    "notifications.tasks.check_alerts",
}


def _registered() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_published_task_name_is_still_registered():
    assert PUBLISHED_TASKS <= _registered()


def test_every_task_beat_runs_is_registered():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled <= _registered()
