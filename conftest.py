import pytest
from django.core.cache import cache

pytest_plugins = ["amocrm.sandbox.fixtures"]


@pytest.fixture(autouse=True)
def _fresh_redis():
    """Rate-limit counters and locks live in Redis: every test starts with none."""
    cache.clear()
    yield


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
