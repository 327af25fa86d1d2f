import pytest
from django.core.cache import cache

pytest_plugins = ["amocrm.sandbox.fixtures"]


@pytest.fixture(autouse=True)
def _fresh_redis():
    """Rate-limit counters and locks live in Redis: every test starts with none."""
    cache.clear()
    yield
