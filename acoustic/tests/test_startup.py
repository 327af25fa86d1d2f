"""With DEBUG off, bad configuration stops start-up with one readable line per problem."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 50,
    "FERNET_KEYS": "Vq3w8n0yKQbUu0W1Zb6nq7mVw3v1oQ0bq0dM6Yx2LkA=,1dH0x0bq9wWc0qvJZ7zA8Zr0rY9q0sWk0y0aB6c3d9E=",
    "ALLOWED_HOSTS": "acoustic.uz",
    "SITE_URL": "https://acoustic.uz",
    "REDIS_URL": "redis://127.0.0.1:6379/0",  # never connected to: `check` only loads the settings
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


def test_it_refuses_fernet_keys_that_are_not_fernet_keys_naming_only_their_place():
    result = start(FERNET_KEYS="Vq3w8n0yKQbUu0W1Zb6nq7mVw3v1oQ0bq0dM6Yx2LkA=,my-secret-passphrase")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Configuration error: FERNET_KEYS is malformed: key 2 of 2 is not a Fernet key (32 url-safe base64 bytes; "
        'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
    )


def test_it_refuses_a_site_url_that_is_not_https():
    result = start(SITE_URL="http://acoustic.uz")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Configuration error: SITE_URL is malformed: it must start with https:// when DEBUG is off "
        "(amoCRM's OAuth redirect and webhooks), got 'http://acoustic.uz'"
    )


def test_it_requires_a_redis_url_in_production():
    result = start(REDIS_URL="<unset>")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Configuration error: REDIS_URL is not set (required when DEBUG is off; see .env.example)"
    )


def test_development_needs_no_configuration_at_all():
    # REDIS_URL stays set: without it this process would start (and leave running) the checkout's embedded Redis.
    result = start(DEBUG="1", SECRET_KEY="<unset>", FERNET_KEYS="<unset>", ALLOWED_HOSTS="<unset>", SITE_URL="<unset>")

    assert result.returncode == 0, result.stderr


def test_it_names_a_malformed_unanswered_alert_wait():
    result = start(UNANSWERED_ALERT_MINUTES="soon")

    assert result.stderr.strip() == (
        "Configuration error: UNANSWERED_ALERT_MINUTES is malformed: expected whole minutes, at least 1, got 'soon'"
    )
