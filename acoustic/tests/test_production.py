"""With DEBUG off: deployment checks pass, HTTPS is enforced behind the proxy, logs (gunicorn's too) are JSON."""

import io
import json
import os
import runpy
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k7Qp2-vX9sLr4TzN8wYb1cEh6GuJ0fMa3dKi5oWq-Rn7SjHt2Vy",  # check --deploy wants a varied key
    "FERNET_KEYS": "Vq3w8n0yKQbUu0W1Zb6nq7mVw3v1oQ0bq0dM6Yx2LkA=",
    "ALLOWED_HOSTS": "acoustic.uz",
    "SITE_URL": "https://acoustic.uz",
    "REDIS_URL": "redis://127.0.0.1:6379/0",  # never connected to by these checks
}
# Runs inside the production-configured process; prints what the tests look at as one JSON object.
PROBE = """
import json, logging, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="acoustic.uz")
plain, proxied = client.get("/api/leads"), client.get("/api/leads", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "proxied": [proxied.status_code, proxied.get("Strict-Transport-Security")],
    "cookies_secure": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "static_storage": settings.STORAGES["staticfiles"]["BACKEND"],
}))
logging.getLogger("acoustic.probe").warning("probe line")
"""


def run(*args: str, **overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION and not k.startswith("SECURE_")}
    env.update(PRODUCTION, **overrides)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def probe(**overrides: str) -> tuple[dict, str]:
    # PYTHONWARNINGS: WhiteNoise warns that collectstatic has not run; only log lines should reach stderr here.
    result = run("-c", PROBE, DJANGO_SETTINGS_MODULE="acoustic.settings", PYTHONWARNINGS="ignore", **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


@pytest.fixture(scope="module")
def production() -> tuple[dict, str]:
    """One production-configured process for the tests that need no overrides."""
    return probe()


def test_it_passes_the_deployment_checks():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_redirects_plain_http_to_https(production):
    seen, _ = production

    assert seen["plain"] == [301, "https://acoustic.uz/api/leads"]


def test_it_believes_the_proxys_https_header_and_sends_hsts(production):
    seen, _ = production

    assert seen["proxied"] == [405, "max-age=31536000; includeSubDomains; preload"]


@pytest.mark.parametrize("path, status", [("/healthz", 200), ("/api/leads", 301)])
def test_it_lets_health_probes_use_plain_http(settings, path, status):
    settings.SECURE_SSL_REDIRECT = True
    security = SecurityMiddleware(lambda request: HttpResponse("ok"))

    response = security(RequestFactory().get(path))

    assert response.status_code == status


def test_it_follows_the_hsts_settings_from_the_environment():
    seen, _ = probe(SECURE_HSTS_SECONDS="300", SECURE_HSTS_PRELOAD="0", SECURE_HSTS_INCLUDE_SUBDOMAINS="0")

    assert seen["proxied"] == [405, "max-age=300"]


def test_it_ignores_forwarded_proto_when_the_proxy_header_is_switched_off():
    seen, _ = probe(SECURE_PROXY_SSL_HEADER="")

    assert seen["proxied"][0] == 301


def test_it_marks_session_and_csrf_cookies_secure(production):
    seen, _ = production

    assert seen["cookies_secure"] == [True, True]


def test_it_serves_static_files_from_whitenoises_compressed_manifest(production):
    seen, _ = production

    assert seen["static_storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_it_logs_one_json_object_per_line(production):
    _, stderr = production

    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert {"level": "WARNING", "logger": "acoustic.probe", "message": "probe line"}.items() <= lines[-1].items()


def test_it_keeps_plain_logs_when_asked():
    _, stderr = probe(LOG_FORMAT="plain")

    assert stderr.strip().endswith("WARNING acoustic.probe: probe line")


def test_it_names_a_malformed_log_format():
    result = run("manage.py", "check", LOG_FORMAT="xml")

    assert result.returncode == 1
    assert "LOG_FORMAT is malformed" in result.stderr


def gunicorn_conf(monkeypatch, **env: str) -> dict:
    for name in ("WEB_CONCURRENCY", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


@pytest.fixture
def access_log(monkeypatch) -> Iterator[tuple[object, io.StringIO]]:
    """gunicorn's logger as gunicorn.conf.py sets it up, writing its access lines into a buffer."""
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = gunicorn_conf(monkeypatch)["logger_class"](cfg)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(stream)
    yield logger, stream
    for log in (logger.access_log, logger.error_log):
        log.handlers.clear()


def test_it_takes_gunicorn_workers_and_port_from_the_environment(monkeypatch):
    conf = gunicorn_conf(monkeypatch, WEB_CONCURRENCY="5", PORT="9000")

    assert (conf["workers"], conf["bind"]) == (5, "0.0.0.0:9000")


def test_it_defaults_to_three_gunicorn_workers_on_port_8000(monkeypatch):
    conf = gunicorn_conf(monkeypatch)

    assert (conf["workers"], conf["bind"]) == (3, "0.0.0.0:8000")


def test_it_writes_gunicorns_access_log_as_json_with_the_request_id_and_a_masked_query(access_log):
    logger, stream = access_log
    response = SimpleNamespace(status="302 Found", headers=[("X-Request-ID", "req-12345678")], sent=0)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/api/amocrm/callback?code=def502secret&state=s"}

    logger.access(response, None, environ, timedelta(milliseconds=12))

    line = json.loads(stream.getvalue())
    assert line["request_id"] == "req-12345678" and line["status"] == 302 and line["duration_ms"] == 12.0
    assert line["path"] == "/api/amocrm/callback?code=[REDACTED]&state=s"
    assert "def502secret" not in stream.getvalue()
