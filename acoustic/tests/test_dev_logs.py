"""Development logs stay quiet: no 404 for the favicon on every page, no beat line for every scheduled run, no worker
line for each run of the lead dispatch."""

import logging

import pytest


@pytest.mark.django_db
def test_the_favicon_is_answered(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")


def test_beat_logs_warnings_only():
    assert logging.getLogger("celery.beat").getEffectiveLevel() == logging.WARNING


def log_task_succeeded(name: str) -> None:
    logging.getLogger("celery.app.trace").info("Task %(name)s[%(id)s] succeeded", {"name": name, "id": "1"})


def test_the_worker_logs_no_line_for_each_run_of_the_lead_dispatch(caplog):
    with caplog.at_level(logging.INFO):
        log_task_succeeded("leads.tasks.dispatch_leads")

    assert caplog.records == []


def test_the_worker_still_logs_other_tasks(caplog):
    with caplog.at_level(logging.INFO):
        log_task_succeeded("amocrm.tasks.push_lead")

    assert len(caplog.records) == 1
