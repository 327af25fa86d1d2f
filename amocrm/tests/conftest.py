"""Fixtures for the amoCRM client tests: a connected settings row, JWTs, a recording rate limiter, the sandbox."""

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests
from django.utils import translation

from amocrm.api import oauth, ratelimit, transport
from amocrm.models import Settings

DOMAIN = "acoustic.amocrm.ru"
BASE_URL = f"https://{DOMAIN}"
TOKEN_URL = f"{BASE_URL}/oauth2/access_token"


def make_jwt(**claims) -> str:
    """An unsigned JWT of the shape amoCRM issues; the client never checks signatures."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(claims)}.signature"


def token_reply(access: str = "new-access", refresh: str = "new-refresh", expires_in: int = 86400) -> dict:
    return {"token_type": "Bearer", "expires_in": expires_in, "access_token": access, "refresh_token": refresh}


@dataclass
class RecordingLimiter:
    """Stands in for amocrm.ratelimit inside transport: counts acquire() and pause() instead of spacing calls."""

    acquired: int = 0
    pauses: list[float] = field(default_factory=list)
    RateLimitTimeout = ratelimit.RateLimitTimeout

    def acquire(self, timeout: float | None = 30.0) -> None:
        self.acquired += 1

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)

    def state(self) -> ratelimit.LimiterState:
        return ratelimit.state()


@pytest.fixture
def limiter(monkeypatch) -> RecordingLimiter:
    """For `responses` tests; sandbox tests keep the real limiter (the sandbox enforces 7 requests/s too)."""
    recording = RecordingLimiter()
    monkeypatch.setattr(transport, "ratelimit", recording)
    return recording


@pytest.fixture
def english():
    """Messages are asserted in the source language, whatever LANGUAGE_CODE and the catalogs say."""
    with translation.override("en"):
        yield


@pytest.fixture
def connected(db) -> Settings:
    """An OAuth connection with a fresh pair whose access token has a day left."""
    conn = Settings.load()
    conn.client_id, conn.client_secret, conn.domain = "client-uuid", "client-secret", DOMAIN
    conn.save()
    access = make_jwt(api_domain="api-a.amocrm.ru", exp=int(time.time()) + 86400)
    conn.store_tokens(access, "refresh-1", 86400)
    return conn


@pytest.fixture
def long_lived(db) -> Settings:
    conn = Settings.load()
    conn.domain, conn.long_lived_token = DOMAIN, make_jwt(exp=int(time.time()) + 365 * 86400)
    conn.save()
    return conn


@pytest.fixture
def sandbox(amocrm_sandbox, settings):
    """The sandbox as our amoCRM: every call (and the redirect URI it checks) goes to it."""
    settings.AMOCRM_SANDBOX_URL = amocrm_sandbox.url
    amocrm_sandbox.config.redirect_uri = oauth.redirect_uri()
    return amocrm_sandbox


@pytest.fixture
def sandbox_conn(db, sandbox) -> Settings:
    """Settings connected to the sandbox through the real consent page and token endpoint."""
    conn = Settings.load()
    conn.client_id, conn.client_secret, conn.domain = sandbox.client_id, sandbox.client_secret, sandbox.host
    conn.save()
    redirect = sandbox.authorize(state="s")
    pair = oauth.exchange_code(conn, redirect["code"], redirect["referer"])
    conn.store_tokens(pair.access_token, pair.refresh_token, pair.expires_in)
    return conn


@pytest.fixture
def jwt() -> Callable[..., str]:
    return make_jwt


@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read staff-facing text in the source language; the catalogs have their own tests."""
    settings.LANGUAGE_CODE = "en"


def sandbox_api_session(sandbox) -> requests.Session:
    """A session straight to the sandbox's API with a token of its own, as amoCRM's UI or another integration."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sandbox.issue_tokens()['access_token']}"
    session.base = f"{sandbox.url}/api/v4"
    return session


@pytest.fixture
def api(amocrm_sandbox) -> requests.Session:
    """An authorized session straight to the sandbox's API; its 7/s limit is off (test_sandbox_faults covers it)."""
    amocrm_sandbox.set_faults(rate_limit=0)
    return sandbox_api_session(amocrm_sandbox)
