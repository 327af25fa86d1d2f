"""Development logs stay quiet: no 404 for the favicon on every page, no beat line for every scheduled run."""

import logging

import pytest


@pytest.mark.django_db
def test_the_favicon_is_answered(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")


def test_beat_logs_warnings_only():
    assert logging.getLogger("celery.beat").getEffectiveLevel() == logging.WARNING
