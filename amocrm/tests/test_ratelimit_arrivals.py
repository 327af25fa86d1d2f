"""What amoCRM counts: requests as they arrive, each new connection's TLS handshake included.

The limiter spaces the turns of requests; a request whose connection is set up after its turn would arrive that
much later, squeezed against the requests behind it. Against the sandbox over HTTPS with a slow handshake on every
new connection, from several threads (each with its own connection), no second at arrival may hold eight.
Reference: https://www.amocrm.ru/developers/content/api/recommendations
"""

import threading
from bisect import bisect_left

import pytest

from amocrm.api import connections, ratelimit, transport

CONNECT_DELAY_MS = 600  # well above the 157 ms between turns: an old-style late arrival lands among later ones
THREADS, EACH = 4, 4
AMOCRM_LIMIT = 7


@pytest.fixture
def slow_handshakes(amocrm_sandbox_https, settings, monkeypatch):
    """The HTTPS sandbox as amoCRM, trusted through its own CA; counting arrivals, not refusing them."""
    settings.AMOCRM_SANDBOX_URL = amocrm_sandbox_https.url
    settings.AMOCRM_SANDBOX_CA_BUNDLE = amocrm_sandbox_https.ca_cert_path
    amocrm_sandbox_https.set_faults(rate_limit=0, connect_delay_ms=CONNECT_DELAY_MS)
    monkeypatch.setattr(transport.request_log, "record", lambda *args, **kwargs: None)  # no database in threads
    monkeypatch.setattr(connections, "_sessions", {})  # no connection left from an earlier test
    ratelimit.reset()
    return amocrm_sandbox_https


def _send_from_threads(sandbox) -> list[Exception]:
    """THREADS threads, each sending EACH requests through transport.send; what went wrong in them."""
    headers, failures = {"Authorization": f"Bearer {sandbox.issue_tokens()['access_token']}"}, []

    def worker() -> None:
        try:
            for _ in range(EACH):
                transport.send("GET", f"{sandbox.url}/api/v4/account", headers=headers).raise_for_status()
        except Exception as error:  # noqa: BLE001 - reported by the test, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


def _busiest_second(times: list[float]) -> int:
    """The most arrivals in any window [t, t + 1 s), t being each arrival in turn."""
    times = sorted(times)
    return max(bisect_left(times, start + 1.0) - i for i, start in enumerate(times))


def test_it_sends_amocrm_over_https_trusting_the_sandboxs_certificate(slow_handshakes):
    assert _send_from_threads(slow_handshakes) == []


def test_a_slow_handshake_never_puts_eight_arrivals_into_one_second(slow_handshakes):
    _send_from_threads(slow_handshakes)

    arrivals = [record.time for record in slow_handshakes.received(path="/api/v4/account")]
    assert len(arrivals) == THREADS * EACH
    assert _busiest_second(arrivals) <= AMOCRM_LIMIT


def test_each_thread_keeps_its_connection_alive(slow_handshakes):
    _send_from_threads(slow_handshakes)

    assert len({record.connection for record in slow_handshakes.received(path="/api/v4/account")}) == THREADS
