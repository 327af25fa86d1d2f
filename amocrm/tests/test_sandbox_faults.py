"""The sandbox's gateway (rate limit, block, injected faults), control endpoint and start-up options."""

import argparse
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from amocrm.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FaultConfig, SandboxConfig, SandboxServer
from amocrm.sandbox.cli import add_arguments, build_server
from amocrm.tests.conftest import sandbox_api_session

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def api(amocrm_sandbox):
    return sandbox_api_session(amocrm_sandbox)


def _control(sandbox, **changes):
    return requests.post(f"{sandbox.url}/_sandbox/control", json=changes)


def _burst(api, count):
    return [api.get(f"{api.base}/account").status_code for _ in range(count)]


def test_it_answers_429_with_gateway_html_beyond_seven_requests_a_second(api):
    statuses = _burst(api, 7)
    response = api.get(f"{api.base}/account")

    assert statuses == [200] * 7
    assert response.status_code == 429  # amoCRM docs: recommendations
    assert response.headers["Content-Type"].startswith("text/html")  # #526: HTML from the gateway
    assert "Retry-After" not in response.headers


def test_it_answers_429_as_problem_json_when_configured(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(rate_limit_body="json")
    _burst(api, 7)

    response = api.get(f"{api.base}/account")

    assert response.status_code == 429
    assert response.json()["retry_after"] == 300  # amoCRM docs: recommendations


def test_it_serves_again_once_the_second_has_passed(api, amocrm_sandbox):
    _burst(api, 8)
    amocrm_sandbox.clock.advance(1.01)

    assert api.get(f"{api.base}/account").status_code == 200


def test_it_blocks_everything_with_403_html_after_repeated_violations(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(block_after=2)
    _burst(api, 9)
    amocrm_sandbox.clock.advance(5)

    response = api.get(f"{api.base}/account")
    token = requests.post(f"{amocrm_sandbox.url}/oauth2/access_token", json={})

    assert response.status_code == 403  # 403 on every request, HTML (amocrm-api-php#434) (amoCRM docs: recommendations)
    assert response.headers["Content-Type"].startswith("text/html")
    assert token.status_code == 403


def test_it_lifts_the_block_through_the_control_endpoint(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(block_after=1)
    _burst(api, 8)
    amocrm_sandbox.clock.advance(5)

    _control(amocrm_sandbox, unblock=True)

    assert api.get(f"{api.base}/account").status_code == 200


def test_it_can_switch_the_rate_limit_off(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(rate_limit=0)

    assert set(_burst(api, 20)) == {200}


def test_it_injects_gateway_errors_without_processing_the_request(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(error_rate=1.0, error_statuses=[502])

    response = api.post(f"{api.base}/leads", json=[{"name": "A"}])

    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert amocrm_sandbox.state.leads == {}


def test_it_injects_500_as_problem_json_with_a_trace_id(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(error_next=1, error_statuses=[500])

    response = api.get(f"{api.base}/account")

    assert response.status_code == 500  # amoCRM docs: error-codes
    assert response.json()["title"] == "ErrInternalServer" and response.json()["trace_id"]


def test_it_repeats_the_same_faults_with_the_same_seed():
    def run():
        with SandboxServer(faults=FaultConfig(error_rate=0.5, rate_limit=0, seed=7)) as server:
            return [requests.get(f"{server.url}/api/v4/account").status_code for _ in range(12)]

    first, second = run(), run()

    assert first == second
    assert len(set(first)) > 1


def test_it_drops_the_connection_after_processing_the_request(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(drop_next=1)

    with pytest.raises(requests.ConnectionError):
        api.post(f"{api.base}/leads", json=[{"name": "Lost answer"}])

    assert [lead.name for lead in amocrm_sandbox.state.leads.values()] == ["Lost answer"]
    assert amocrm_sandbox.received("/api/v4/leads")[-1].dropped is True


def test_it_adds_latency(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(latency_ms=200)
    started = time.monotonic()

    api.get(f"{api.base}/account")

    assert time.monotonic() - started >= 0.2


def test_it_forces_429_on_the_next_requests(api, amocrm_sandbox):
    amocrm_sandbox.set_faults(force_429_next=2)

    assert _burst(api, 3) == [429, 429, 200]


def test_it_leaves_the_token_endpoint_alone_unless_asked(amocrm_sandbox):
    amocrm_sandbox.set_faults(error_rate=1.0)

    assert "access_token" in amocrm_sandbox.issue_tokens()


def test_it_faults_the_token_endpoint_when_asked(amocrm_sandbox):
    amocrm_sandbox.set_faults(error_rate=1.0, error_statuses=[504], faults_on_oauth=True)

    response = requests.post(f"{amocrm_sandbox.url}/oauth2/access_token", json={})

    assert response.status_code == 504


def test_it_changes_faults_through_the_control_endpoint(api, amocrm_sandbox):
    response = _control(amocrm_sandbox, error_next=1, error_statuses=[504])

    assert response.status_code == 200
    assert response.json()["faults"]["error_next"] == 1
    assert api.get(f"{api.base}/account").status_code == 504


def test_it_refuses_control_settings_it_does_not_know(amocrm_sandbox):
    response = _control(amocrm_sandbox, error_rate=2)

    assert response.status_code == 400
    assert _control(amocrm_sandbox, explode=True).status_code == 400


def test_it_revokes_every_token_through_the_control_endpoint(amocrm_sandbox):
    tokens = amocrm_sandbox.issue_tokens()

    _control(amocrm_sandbox, revoke_tokens=True)

    api = requests.get(
        f"{amocrm_sandbox.url}/api/v4/account", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    refresh = requests.post(
        f"{amocrm_sandbox.url}/oauth2/access_token",
        json={
            "client_id": amocrm_sandbox.client_id,
            "client_secret": amocrm_sandbox.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "redirect_uri": amocrm_sandbox.redirect_uri,
        },
    )
    assert api.status_code == 401  # disabled integration (amoCRM docs: oauth step-by-step)
    assert refresh.status_code == 401


def test_it_expires_access_tokens_now_through_the_control_endpoint(api, amocrm_sandbox):
    _control(amocrm_sandbox, expire_tokens=True)

    assert api.get(f"{api.base}/account").status_code == 401


def test_it_advances_the_clock_through_the_control_endpoint(amocrm_sandbox):
    code = amocrm_sandbox.authorization_code()

    _control(amocrm_sandbox, advance_clock=21 * 60)

    assert amocrm_sandbox.state.codes[code].created_at + 20 * 60 < amocrm_sandbox.clock.now()


def test_it_resets_data_tokens_and_faults(api, amocrm_sandbox):
    api.post(f"{api.base}/leads", json=[{"name": "A"}])
    _control(amocrm_sandbox, latency_ms=50)

    response = requests.post(f"{amocrm_sandbox.url}/_sandbox/reset")

    assert response.json()["faults"]["latency_ms"] == 0
    assert amocrm_sandbox.state.leads == {}
    assert api.get(f"{api.base}/account").status_code == 401


def test_it_neither_faults_nor_logs_its_own_control_requests(amocrm_sandbox):
    amocrm_sandbox.set_faults(error_rate=1.0, force_429_rate=1.0)

    response = requests.get(f"{amocrm_sandbox.url}/_sandbox/state")

    assert response.status_code == 200
    assert amocrm_sandbox.received("/_sandbox/state") == []


def test_it_keeps_its_data_in_the_state_file_across_restarts(tmp_path):
    config = SandboxConfig(state_file=str(tmp_path / "sandbox.json"))
    with SandboxServer(config, FaultConfig(rate_limit=0)) as first:
        token = first.issue_tokens()["access_token"]
        requests.post(
            f"{first.url}/api/v4/leads", json=[{"name": "Kept"}], headers={"Authorization": f"Bearer {token}"}
        )

    with SandboxServer(config) as second:
        assert [lead.name for lead in second.state.leads.values()] == ["Kept"]
        assert second.state.token_by_access(token) is not None


def _options(*argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return vars(parser.parse_args(["--port", "0", *argv]))


def test_it_builds_the_server_from_command_line_options():
    options = _options(
        "--client-id", "cid", "--redirect-uri", "http://x/cb", "--error-rate", "0.25", "--rate-limit", "0"
    )
    options.update(drop_rate=0.5, latency_ms=10, duplicate_control=True, token_lifetime=60)

    server = build_server(options)

    try:
        assert (server.client_id, server.redirect_uri) == ("cid", "http://x/cb")
        assert (server.config.duplicate_control, server.config.token_lifetime) == (True, 60)
        faults = server.app.faults.config
        assert (faults.error_rate, faults.drop_rate, faults.latency_ms, faults.rate_limit) == (0.25, 0.5, 10, 0)
    finally:
        server.stop()


def test_it_takes_default_credentials_from_the_environment(monkeypatch):
    monkeypatch.setenv("AMOCRM_SANDBOX_CLIENT_ID", "env-id")
    monkeypatch.setenv("AMOCRM_SANDBOX_CLIENT_SECRET", "env-secret")
    monkeypatch.setenv("SITE_URL", "https://leads.example/")

    server = build_server(_options())

    server.stop()
    assert (server.client_id, server.client_secret) == ("env-id", "env-secret")
    assert server.redirect_uri == "https://leads.example/api/amocrm/callback"


def test_it_falls_back_to_fixed_development_credentials(monkeypatch):
    for name in ("AMOCRM_SANDBOX_CLIENT_ID", "AMOCRM_SANDBOX_CLIENT_SECRET", "SITE_URL"):
        monkeypatch.delenv(name, raising=False)

    server = build_server(_options())

    server.stop()
    assert (server.client_id, server.client_secret) == (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    assert server.redirect_uri == "http://127.0.0.1:8000/api/amocrm/callback"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_it_serves_when_started_with_manage_py():
    port = _free_port()
    command = [sys.executable, "manage.py", "amocrm_sandbox", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "DEBUG": "1"}
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        first_line = process.stdout.readline() if ready else ""
        response = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert f"http://127.0.0.1:{port}" in first_line
    assert response.status_code == 200 and "amoCRM sandbox" in response.text
