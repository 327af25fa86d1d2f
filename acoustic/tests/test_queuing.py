"""Queuing after commit: a broker outage never reaches the caller; a task doing all waiting work is published now and
then, without a network call for the commits in between."""

import pytest
import redis
import redis.connection
from celery import Celery, shared_task
from django.core.cache import cache
from kombu.exceptions import OperationalError

from acoustic.celery import enqueue_on_commit, enqueue_throttled_on_commit, publish_each_or_run


@shared_task(name="tests.sweep_everything")
def sweep_everything() -> None:
    pass


@pytest.fixture
def published(monkeypatch) -> list[tuple]:
    calls = []
    monkeypatch.setattr(sweep_everything, "apply_async", lambda args, retry: calls.append(args))
    return calls


def commit(django_capture_on_commit_callbacks, queue, *args) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        queue(sweep_everything, *args)


def test_it_queues_once_the_transaction_commits(db, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue_throttled_on_commit(sweep_everything, 0.5)

        assert published == []

    callbacks[0]()
    assert published == [()]


def test_it_publishes_once_for_the_commits_within_the_interval(db, published, django_capture_on_commit_callbacks):
    for _ in range(3):
        commit(django_capture_on_commit_callbacks, enqueue_throttled_on_commit, 0.5)

    assert published == [()]


def test_it_publishes_again_once_the_interval_has_passed(
    db, published, django_capture_on_commit_callbacks, monkeypatch
):
    now = [1000.0]
    monkeypatch.setattr("acoustic.celery.time.monotonic", lambda: now[0])
    commit(django_capture_on_commit_callbacks, enqueue_throttled_on_commit, 0.5)

    now[0] += 0.5
    commit(django_capture_on_commit_callbacks, enqueue_throttled_on_commit, 0.5)

    assert published == [(), ()]


def test_a_commit_within_the_interval_sends_redis_nothing(db, django_capture_on_commit_callbacks, monkeypatch):
    commit(django_capture_on_commit_callbacks, enqueue_throttled_on_commit, 0.5)  # published to the real broker
    cache.get("warm")  # the cache's connection opened too, so that only a command would show below
    commands = []
    monkeypatch.setattr(
        redis.connection.AbstractConnection, "send_command", lambda conn, *args, **kw: commands.append(args)
    )

    commit(django_capture_on_commit_callbacks, enqueue_throttled_on_commit, 0.5)

    assert commands == []


def test_a_throttled_publish_to_a_broker_that_is_down_is_logged_not_raised(
    db, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(args, retry):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(sweep_everything, "apply_async", broker_down)

    commit(django_capture_on_commit_callbacks, enqueue_throttled_on_commit, 0.5)

    assert "Could not queue tests.sweep_everything(); the sweeper will pick it up" in caplog.text


def test_a_publish_that_timed_out_keeps_the_next_ones_from_waiting_on_the_broker(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    attempts = []

    def broker_silent(args, retry):
        attempts.append(args)
        raise OperationalError("Timeout reading from socket") from redis.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(sweep_everything, "apply_async", broker_silent)

    for number in range(3):
        commit(django_capture_on_commit_callbacks, enqueue_on_commit, number)

    assert attempts == [(0,)]


def test_a_broker_outage_is_logged_not_raised(db, monkeypatch, django_capture_on_commit_callbacks, caplog):
    def broker_down(args, retry):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(sweep_everything, "apply_async", broker_down)

    commit(django_capture_on_commit_callbacks, enqueue_on_commit, 7)

    assert "Could not queue tests.sweep_everything(7,); the sweeper will pick it up" in caplog.text


def test_a_publish_to_a_broker_that_refuses_connections_tries_once(monkeypatch):
    project_app = Celery("project-settings", set_as_current=False)  # the project's tasks keep publishing through theirs
    project_app.config_from_object("django.conf:settings", namespace="CELERY")
    project_app.conf.broker_url = "redis://127.0.0.1:9/0"  # nobody listens there
    attempts, real_connect = [], redis.connection.Connection._connect
    monkeypatch.setattr(redis.connection.Connection, "_connect", lambda conn: attempts.append(1) or real_connect(conn))

    @project_app.task(name="tests.publish_nowhere")
    def publish_nowhere() -> None:
        raise AssertionError("never runs")

    with pytest.raises(OperationalError):
        publish_nowhere.apply_async(retry=False)

    assert len(attempts) == 1  # kombu's default is three, about 6 s, while the lead form waits


def test_a_sweep_does_the_rest_of_its_work_itself_once_the_broker_refuses(monkeypatch):
    published, ran_here = [], []

    def refuses_the_second(args, retry):
        if published:
            raise ConnectionError("Connection refused")
        published.append(args)

    monkeypatch.setattr(sweep_everything, "apply_async", refuses_the_second)

    queued = publish_each_or_run(sweep_everything, [(1,), (2,), (3,)], run_here=ran_here.append)

    assert queued == 1
    assert ran_here == [2, 3]


def test_a_sweep_after_a_publish_timed_out_does_its_work_without_waiting_on_the_broker(monkeypatch):
    attempts, ran_here = [], []

    def broker_silent(args, retry):
        attempts.append(args)
        raise OperationalError("Timeout reading from socket") from redis.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(sweep_everything, "apply_async", broker_silent)

    publish_each_or_run(sweep_everything, [(1,)], run_here=ran_here.append)
    publish_each_or_run(sweep_everything, [(2,), (3,)], run_here=ran_here.append)

    assert attempts == [(1,)]
    assert ran_here == [1, 2, 3]
