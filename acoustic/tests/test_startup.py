"""With DEBUG off, bad configuration stops start-up with one readable line per problem."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 50,
    "FERNET_KEYS": "a-fernet-key",
    "ALLOWED_HOSTS": "acoustic.uz",
    "SITE_URL": "https://acoustic.uz",
}


def start(**overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    env.update(PRODUCTION)
    env.update(overrides)
    env = {k: v for k, v in env.items() if v is not None and v != "<unset>"}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_it_starts_when_production_settings_are_complete():
    result = start()

    assert result.returncode == 0, result.stderr


def test_it_names_a_missing_secret_key_in_one_line():
    result = start(SECRET_KEY="<unset>")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Configuration error: SECRET_KEY is not set (required when DEBUG is off; see .env.example)"
    )


def test_it_lists_every_missing_variable():
    result = start(FERNET_KEYS="<unset>", ALLOWED_HOSTS="<unset>")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert [line.split(" is ")[0] for line in result.stderr.strip().splitlines()] == [
        "Configuration error: ALLOWED_HOSTS",
        "Configuration error: FERNET_KEYS",
    ]


def test_it_names_a_malformed_database_url():
    result = start(DATABASE_URL="nonsense://")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Configuration error: DATABASE_URL is malformed")


def test_it_names_a_malformed_site_url():
    result = start(SITE_URL="acoustic.uz")

    assert result.returncode == 1
    assert "SITE_URL is malformed" in result.stderr


def test_it_names_a_malformed_rate_limit():
    result = start(LEAD_RATE_LIMIT="ten per minute")

    assert result.returncode == 1
    assert "LEAD_RATE_LIMIT is malformed" in result.stderr


def test_it_names_a_malformed_trusted_proxy():
    result = start(TRUSTED_PROXIES="10.0.0.0/8,proxy.local")

    assert result.returncode == 1
    assert "TRUSTED_PROXIES is malformed: 'proxy.local'" in result.stderr


def test_development_needs_no_configuration_at_all():
    result = start(DEBUG="1", SECRET_KEY="<unset>", FERNET_KEYS="<unset>", ALLOWED_HOSTS="<unset>", SITE_URL="<unset>")

    assert result.returncode == 0, result.stderr


def test_it_names_a_malformed_unanswered_alert_wait():
    result = start(UNANSWERED_ALERT_MINUTES="soon")

    assert result.stderr.strip() == (
        "Configuration error: UNANSWERED_ALERT_MINUTES is malformed: expected whole minutes, at least 1, got 'soon'"
    )
