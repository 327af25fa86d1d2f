"""The request stores the lead and queues its dispatch (at most twice a second per process); nothing downstream runs
before the answer or can fail it."""

import json

import pytest
from celery import Celery
from django.test import override_settings

from leads import intake
from leads.models import IntakeSettings, Lead
from leads.tasks import dispatch_leads

pytestmark = pytest.mark.django_db

# A broker nobody listens on: every publish fails to connect. Not the current app, which the project's tasks
# (shared_task) would then publish through in every test that follows.
unreachable = Celery("unreachable", broker="redis://127.0.0.1:9/0", set_as_current=False)
unreachable.conf.broker_connection_retry = False
unreachable.conf.broker_connection_max_retries = 0
unreachable.conf.broker_transport_options = {"max_retries": 0}  # one try, as the project publishes (not kombu's 6 s)


@unreachable.task(name="tests.dispatch_somewhere")
def dispatch_somewhere() -> None:
    raise AssertionError("never runs")


@pytest.fixture
def published(monkeypatch) -> list[tuple]:
    """Each publish of dispatch_leads (the broker itself is not needed)."""
    calls = []
    monkeypatch.setattr(dispatch_leads, "apply_async", lambda args, retry: calls.append(args))
    return calls


def post_lead(client, phone: str = "901234567"):
    return client.post("/api/leads", {"name": "Anvar", "phone": phone})


def test_it_answers_before_any_receiver_runs(client, received, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_lead(client)

    assert response.status_code == 201 and received == []
    assert Lead.objects.get(id=response.json()["id"]).dispatch_pending
    assert published == [()]


def test_it_answers_after_a_single_insert(client, published, django_assert_num_queries):
    IntakeSettings.cached()  # the lead form settings: read by each process now and then, not per lead

    with django_assert_num_queries(1) as queries:
        response = post_lead(client)

    assert response.status_code == 201
    assert queries.captured_queries[0]["sql"].startswith('INSERT INTO "leads_lead"')


def test_it_queues_the_dispatch_only_after_the_lead_is_committed(client, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        post_lead(client)

        assert published == []

    assert len(callbacks) == 1


def test_the_queued_task_sends_lead_stored(client, received, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead_id = post_lead(client).json()["id"]

    dispatch_leads()

    assert received == [lead_id]
    assert not Lead.objects.get(id=lead_id).dispatch_pending


def test_leads_stored_within_the_interval_share_one_publish(
    client, received, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first, second = post_lead(client).json()["id"], post_lead(client, "901234568").json()["id"]

    dispatch_leads()

    assert published == [()]
    assert received == [first, second]


def test_a_lead_stored_after_the_interval_publishes_again(
    client, published, django_capture_on_commit_callbacks, monkeypatch
):
    now = [1000.0]
    monkeypatch.setattr("acoustic.celery.time.monotonic", lambda: now[0])
    with django_capture_on_commit_callbacks(execute=True):
        post_lead(client)

    now[0] += intake.DISPATCH_PUBLISH_SECONDS
    with django_capture_on_commit_callbacks(execute=True):
        post_lead(client, "901234568")

    assert published == [(), ()]


def test_a_lead_stored_after_the_published_task_ran_is_dispatched_by_the_next_run(
    client, received, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_lead(client)
    dispatch_leads()  # a worker ran the published task
    with django_capture_on_commit_callbacks(execute=True):
        lead_id = post_lead(client, "901234568").json()["id"]  # within the interval: nothing published

    dispatch_leads()  # beat's run, every second

    assert received[-1] == lead_id


def test_it_stores_the_lead_and_answers_201_while_the_broker_is_unreachable(
    client, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    monkeypatch.setattr(intake, "dispatch_leads", dispatch_somewhere)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_lead(client)

    assert response.status_code == 201
    assert Lead.objects.get(id=response.json()["id"]).dispatch_pending
    assert callbacks  # the dispatch was attempted and failed quietly
    assert "Could not queue tests.dispatch_somewhere" in caplog.text


def test_beats_run_dispatches_a_lead_whose_task_was_lost(client, received, published):
    lead_id = post_lead(client).json()["id"]  # its on-commit publish never even runs

    dispatch_leads()  # as beat runs it every second

    assert received == [lead_id]


REDIS_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 0.2},
    }
}


@override_settings(CACHES=REDIS_DOWN)
def test_it_accepts_leads_and_queues_the_dispatch_while_redis_is_down(
    client, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/leads", data=json.dumps({"name": "Anvar", "phone": "901234567"}), content_type="application/json"
        )

    assert response.status_code == 201
    assert Lead.objects.count() == 1
    assert published == [()]  # the publish never depended on the cache


def test_beats_dispatch_runs_expire_rather_than_pile_up_for_a_stopped_worker(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["leads-dispatch"]

    assert entry["task"] == dispatch_leads.name
    assert "expires" in entry["options"]
