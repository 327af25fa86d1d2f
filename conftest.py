"""Fixtures every app's tests share, and the test session's own Redis.

Tests flush the Redis they use, so without REDIS_URL the session starts an embedded redis-server of its own (never
the one `make run` uses) and stops it at the end. This runs as pytest imports this file, before any other conftest
or test module can read the settings; DJANGO_SETTINGS_MODULE is set here rather than in pyproject.toml for the
same reason. Subprocesses of the tests inherit REDIS_URL too.
"""

import os
import shutil
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.core.cache import cache

from acoustic import embedded_redis
from acoustic.celery import publish_throttle
from acoustic.redis_breaker import redis_breaker

pytest_plugins = ["amocrm.sandbox.fixtures"]

SESSION_REDIS_DIR = Path(__file__).resolve().parent / "var" / f"test-redis-{os.getpid()}"


def _start_session_redis() -> bool:
    """True if this session started a Redis of its own (and must stop it)."""
    if os.environ.get("REDIS_URL"):
        return False
    if settings.configured:
        # DJANGO_SETTINGS_MODULE came from the shell: pytest-django read the settings before this file, and they
        # picked `make run`'s Redis, which the tests would flush.
        raise pytest.UsageError("Unset DJANGO_SETTINGS_MODULE (conftest.py sets it) or set REDIS_URL for the tests.")
    os.environ["REDIS_URL"] = f"unix://{embedded_redis.ensure_running(SESSION_REDIS_DIR)}"
    return True


_started_redis = _start_session_redis()
os.environ["DJANGO_SETTINGS_MODULE"] = "acoustic.settings"
django.setup()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _started_redis:
        embedded_redis.stop(SESSION_REDIS_DIR)
        shutil.rmtree(SESSION_REDIS_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_redis():
    """Rate-limit counters and locks live in Redis: every test starts with none, with Redis trusted again, with no
    visitor's first post let through by this process, and no task published by it a moment ago."""
    from leads.rate_limit import first_posts

    redis_breaker.reset()
    first_posts.reset()
    publish_throttle.reset()
    cache.clear()
    yield
    redis_breaker.reset()


@pytest.fixture
def viewer_client(client, django_user_model):
    """A logged-in staff member who holds only the given permissions (codenames), e.g. only to view."""

    def log_in(*codenames: str):
        from django.contrib.auth.models import Permission

        viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
        viewer.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        client.force_login(viewer)
        return client

    return log_in
