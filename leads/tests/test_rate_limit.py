"""The per-visitor limit: a visitor's first post asks Redis nothing; from the second on, Redis counts every post."""

import json

import pytest
import redis.connection
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from django_ratelimit.core import get_usage

from leads import rate_limit
from leads.models import Lead
from leads.rate_limit import FirstPosts

pytestmark = pytest.mark.django_db


def post_lead(client, ip: str = "198.51.100.1"):
    body = json.dumps({"name": "Anvar", "phone": "901234567"})
    return client.post("/api/leads", data=body, content_type="application/json", REMOTE_ADDR=ip)


def counted_in_redis(ip: str, rate: str) -> int:
    request = RequestFactory().post("/api/leads", REMOTE_ADDR=ip)
    return get_usage(request, group="leads", key=lambda group, request: ip, rate=rate, increment=False)["count"]


def another_process(monkeypatch) -> None:
    """What the next post meets when another web process takes it: no posts seen there yet."""
    monkeypatch.setattr(rate_limit, "first_posts", FirstPosts())


@override_settings(LEAD_RATE_LIMIT="3/m")
def test_a_visitors_first_post_asks_redis_nothing(monkeypatch):
    cache.get("warm")  # the connection opened, so that only a command would show below
    commands = []
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_command", lambda conn, *a, **kw: commands.append(a))

    limited = rate_limit.is_over_limit(RequestFactory().post("/api/leads", REMOTE_ADDR="198.51.100.1"))

    assert limited is False
    assert commands == []


@override_settings(LEAD_RATE_LIMIT="3/m")
def test_the_second_post_is_counted_with_the_first(client):
    post_lead(client)

    post_lead(client)

    assert counted_in_redis("198.51.100.1", "3/m") == 2


@override_settings(LEAD_RATE_LIMIT="3/m")
def test_a_first_post_alone_is_not_counted(client):
    post_lead(client)

    assert counted_in_redis("198.51.100.1", "3/m") == 0


@override_settings(LEAD_RATE_LIMIT="1/m")
def test_a_limit_of_one_refuses_the_second_post(client):
    statuses = [post_lead(client).status_code for _ in range(2)]

    assert statuses == [201, 429]


@override_settings(LEAD_RATE_LIMIT="0/m")
def test_a_limit_of_zero_refuses_even_the_first_post(client):
    assert post_lead(client).status_code == 429


@override_settings(LEAD_RATE_LIMIT="2/m")
def test_a_flood_through_two_processes_gets_one_post_past_the_limit(client, monkeypatch):
    statuses = [post_lead(client).status_code for _ in range(3)]
    another_process(monkeypatch)

    statuses += [post_lead(client).status_code for _ in range(2)]

    assert statuses == [201, 201, 429, 201, 429]
    assert Lead.objects.count() == 3


@override_settings(LEAD_RATE_LIMIT="2/m")
def test_a_new_window_lets_a_visitors_first_post_through_again(client, monkeypatch):
    now = [1_000_020.0]
    monkeypatch.setattr("leads.rate_limit.time.time", lambda: now[0])
    rate_limit.first_posts.count("198.51.100.1", "2/m")

    now[0] += 60

    assert rate_limit.first_posts.count("198.51.100.1", "2/m") == 1
