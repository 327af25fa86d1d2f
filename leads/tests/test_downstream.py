"""The lead row is committed first; nothing downstream can make the request fail."""

import json

import pytest
from celery import Celery
from django.test import override_settings

from acoustic.celery import enqueue_on_commit
from leads.models import Lead
from leads.signals import lead_stored

pytestmark = pytest.mark.django_db

# A broker nobody listens on: every publish fails to connect.
unreachable = Celery("unreachable", broker="redis://127.0.0.1:9/0")
unreachable.conf.broker_connection_retry = False
unreachable.conf.broker_connection_max_retries = 0


@unreachable.task(name="tests.push_somewhere")
def push_somewhere(lead_id: int) -> None:
    raise AssertionError("never runs")


@pytest.fixture
def downstream_on_unreachable_broker():
    def queue_push(sender, lead, **kwargs):
        enqueue_on_commit(push_somewhere, lead.id)

    lead_stored.connect(queue_push)
    yield
    lead_stored.disconnect(queue_push)


@pytest.mark.usefixtures("downstream_on_unreachable_broker")
def test_it_stores_the_lead_and_answers_201_while_the_broker_is_unreachable(
    client, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/api/leads", {"name": "Anvar", "phone": "901234567"})

    assert response.status_code == 201
    assert Lead.objects.filter(id=response.json()["id"]).exists()
    assert callbacks  # every downstream push was attempted and failed quietly
    assert "Could not queue tests.push_somewhere" in caplog.text


def test_it_queues_downstream_work_only_after_the_lead_is_committed(client, django_capture_on_commit_callbacks):
    seen = []
    receiver = lambda sender, lead, **kwargs: seen.append(lead.id)  # noqa: E731
    lead_stored.connect(receiver)
    try:
        with django_capture_on_commit_callbacks():
            response = client.post("/api/leads", {"name": "Anvar", "phone": "901234567"})
    finally:
        lead_stored.disconnect(receiver)

    assert seen == [response.json()["id"]]  # the receiver ran inside the transaction that stored the lead


REDIS_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 0.2},
    }
}


@override_settings(CACHES=REDIS_DOWN)
def test_it_accepts_leads_while_redis_is_down(client):
    response = client.post(
        "/api/leads", data=json.dumps({"name": "Anvar", "phone": "901234567"}), content_type="application/json"
    )

    assert response.status_code == 201
    assert Lead.objects.count() == 1
