"""Fixtures of the acoustic tests: clients for the hostile-input suites."""

import pytest
from django.test import Client, override_settings

from acoustic.tests.hostile import guarded


@pytest.fixture
def no_lead_rate_limit():
    with override_settings(LEAD_RATE_LIMIT="", TRUSTED_PROXIES=["127.0.0.1", "10.0.0.0/8"]):
        yield


@pytest.fixture
def web() -> Client:
    """A client that shows a crash as the 500 a visitor would get, instead of raising it into the test."""
    client = Client(raise_request_exception=False)
    django = client.handler
    # What acoustic/wsgi.py puts in front of Django in production; the test client calls Django directly.
    client.handler = lambda environ: django({**environ, **guarded(environ)})
    return client
