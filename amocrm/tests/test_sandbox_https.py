"""The sandbox over HTTPS with a throwaway certificate, and the injected delay on each new connection's setup.

amoCRM's API is HTTPS only (https://www.amocrm.ru/developers/content/api/recommendations) and counts its 7 requests a
second as requests arrive, so the sandbox logs arrival after the handshake and can make handshakes slow.
"""

import argparse
import os
import time

import pytest
import requests

from amocrm.sandbox.cli import add_arguments, build_server, describe

DELAY_MS = 400


@pytest.fixture
def api(amocrm_sandbox_https):
    """A session trusting the sandbox's CA, with a token from its token endpoint (itself over HTTPS)."""
    amocrm_sandbox_https.set_faults(rate_limit=0)
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment override .verify
    session.verify = amocrm_sandbox_https.ca_cert_path
    session.headers["Authorization"] = f"Bearer {amocrm_sandbox_https.issue_tokens()['access_token']}"
    session.base = f"{amocrm_sandbox_https.url}/api/v4"
    return session


def _arrivals(sandbox, path="/api/v4/account"):
    return sandbox.received(path)


def test_it_serves_the_api_over_https_to_a_client_trusting_its_ca(api, amocrm_sandbox_https):
    response = api.get(f"{api.base}/account")

    assert amocrm_sandbox_https.url.startswith("https://127.0.0.1:")
    assert response.status_code == 200
    assert response.json()["_links"]["self"]["href"] == f"{amocrm_sandbox_https.url}/api/v4/account"


def test_it_is_not_trusted_without_its_ca(amocrm_sandbox_https):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{amocrm_sandbox_https.url}/api/v4/account")


def test_its_certificate_also_names_localhost(amocrm_sandbox_https):
    url = f"https://localhost:{amocrm_sandbox_https.port}/api/v4/account"

    response = requests.get(url, verify=amocrm_sandbox_https.ca_cert_path)

    assert response.status_code == 401  # the TLS part succeeded; no token was sent


def test_it_keeps_connections_alive_over_https(api, amocrm_sandbox_https):
    api.get(f"{api.base}/account")
    api.get(f"{api.base}/account")

    first, second = _arrivals(amocrm_sandbox_https)
    assert first.connection == second.connection


def test_it_counts_a_new_connection_for_a_new_client(api, amocrm_sandbox_https):
    api.get(f"{api.base}/account")
    other = requests.Session()
    other.trust_env, other.verify, other.headers = False, api.verify, api.headers
    other.get(f"{api.base}/account")

    first, second = _arrivals(amocrm_sandbox_https)
    assert first.connection != second.connection


def test_it_delays_the_setup_of_a_new_connection_and_logs_arrival_after_it(api, amocrm_sandbox_https):
    amocrm_sandbox_https.set_faults(connect_delay_ms=DELAY_MS)
    sent_at = amocrm_sandbox_https.clock.now()

    api.get(f"{api.base}/account")

    [record] = _arrivals(amocrm_sandbox_https)
    assert record.time - sent_at >= DELAY_MS / 1000


def test_it_does_not_delay_requests_on_a_kept_alive_connection(api, amocrm_sandbox_https):
    amocrm_sandbox_https.set_faults(connect_delay_ms=1_000)
    api.get(f"{api.base}/account")

    api.get(f"{api.base}/account")

    first, second = _arrivals(amocrm_sandbox_https)
    assert second.connection == first.connection
    assert second.time - first.time < 1.0  # the second request paid no setup delay


def test_it_delays_new_plain_http_connections_too(amocrm_sandbox):
    amocrm_sandbox.set_faults(connect_delay_ms=DELAY_MS)
    started = time.monotonic()

    requests.get(f"{amocrm_sandbox.url}/api/v4/account")

    assert time.monotonic() - started >= DELAY_MS / 1000


def test_it_takes_the_connect_delay_from_the_control_endpoint(amocrm_sandbox):
    accepted = requests.post(f"{amocrm_sandbox.url}/_sandbox/control", json={"connect_delay_ms": 250})
    refused = requests.post(f"{amocrm_sandbox.url}/_sandbox/control", json={"connect_delay_ms": -1})

    assert accepted.json()["faults"]["connect_delay_ms"] == 250
    assert refused.status_code == 400


def test_it_removes_its_certificates_when_stopped():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    server = build_server(vars(parser.parse_args(["--https", "--port", "0"])))
    path = server.ca_cert_path

    server.stop()

    assert not os.path.exists(path)


def test_its_command_line_serves_https_and_prints_the_ca_path():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    server = build_server(vars(parser.parse_args(["--https", "--port", "0", "--connect-delay-ms", "50"])))
    try:
        printed = describe(server)
        delay = server.app.faults.config.connect_delay_ms
    finally:
        server.stop()

    assert server.url.startswith("https://")
    assert f"CA certificate: {server.ca_cert_path}" in printed
    assert delay == 50
