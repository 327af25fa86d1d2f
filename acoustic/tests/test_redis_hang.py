"""A Redis that accepts connections and never answers holds no lead form up; the lead is dispatched once it answers.

A paused or overloaded Redis, or a half-open link, looks like this server: the TCP handshake succeeds, then nothing.
"""

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.test import Client

from acoustic.celery import app
from leads.models import Lead
from leads.tasks import dispatch_leads

pytestmark = pytest.mark.django_db

LEAD = {"name": "Dilnoza", "phone": "+998 90 123 45 67"}


class SilentServer:
    """Accepts every connection on a loopback port, reads what is sent, and never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _address = self.listener.accept()
            except OSError:
                return  # closed by stop()
            self.accepted.append(conn)

    def stop(self) -> None:
        self.listener.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def redis_hangs(settings) -> Iterator[SilentServer]:
    """The cache (rate limit) and the Celery broker (the dispatch's publish) both point at the silent server, with the
    project's own timeouts."""
    server = SilentServer()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    real_broker = app.conf.broker_url
    _use_broker(server.url)
    yield server
    _use_broker(real_broker)
    server.stop()


def _use_broker(url: str) -> None:
    # Celery keeps its connection and producer pools for the URL it first saw: forget them along with the URL.
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def post_lead(client: Client, django_capture_on_commit_callbacks) -> Callable[[], tuple[int, float]]:
    """Posts a lead as a visitor would, running what the intake queues after its commit; the status and seconds."""

    def post() -> tuple[int, float]:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/leads", LEAD, content_type="application/json")
        return response.status_code, time.monotonic() - started

    return post


def test_it_stores_the_lead_while_redis_hangs(post_lead, redis_hangs):
    status, _seconds = post_lead()

    assert status == 201
    assert Lead.objects.get().dispatch_pending is True


def test_it_answers_within_a_second_while_redis_hangs(post_lead, redis_hangs):
    _status, seconds = post_lead()

    assert seconds < 1.0


def test_it_answers_within_a_second_with_the_rate_limit_off(post_lead, redis_hangs, settings):
    settings.LEAD_RATE_LIMIT = ""  # the dispatch's publish is then the first call to wait on Redis

    _status, seconds = post_lead()

    assert seconds < 1.0


def test_it_leaves_a_silent_redis_alone_for_the_leads_that_follow(post_lead, redis_hangs):
    post_lead()
    connections_after_first = len(redis_hangs.accepted)

    for _ in range(5):
        post_lead()

    assert len(redis_hangs.accepted) == connections_after_first


def test_it_dispatches_the_lead_once_redis_answers_again(post_lead, settings):
    server = SilentServer()
    healthy_caches = settings.CACHES
    settings.CACHES = {"default": {**healthy_caches["default"], "LOCATION": server.url}}
    post_lead()
    server.stop()
    settings.CACHES = healthy_caches

    dispatch_leads()  # what beat runs every second

    assert Lead.objects.get().dispatch_pending is False
