import pytest
from django.core.cache import cache

from acoustic.redis_breaker import redis_breaker

pytest_plugins = ["amocrm.sandbox.fixtures"]


@pytest.fixture(autouse=True)
def _fresh_redis():
    """Rate-limit counters and locks live in Redis: every test starts with none, and with Redis trusted again."""
    redis_breaker.reset()
    cache.clear()
    yield
    redis_breaker.reset()
