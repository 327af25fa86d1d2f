"""pytest plugin: `pytest_plugins = ["amocrm.sandbox.fixtures"]` gives tests a running sandbox."""

from collections.abc import Iterator

import pytest

from .config import SandboxConfig
from .server import SandboxServer


@pytest.fixture
def amocrm_sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox on a free port, stopped after the test.

    Attributes: url, host (the `referer`), client_id, client_secret, redirect_uri, state, config, clock, app.
    Helpers: authorize(state=, allow=), authorization_code(), issue_tokens(), received(path=, method=),
    set_faults(**FaultConfig fields), webhooks_sent(count=, timeout=), reset(). Move time with clock.advance(seconds).
    """
    server = SandboxServer(SandboxConfig()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def amocrm_sandbox_https() -> Iterator[SandboxServer]:
    """The same sandbox over HTTPS with a throwaway certificate; trust `ca_cert_path` (requests' verify=<path>)."""
    server = SandboxServer(SandboxConfig(), https=True).start()
    try:
        yield server
    finally:
        server.stop()
