"""The gateway in front of the API: rate limit and block, and injected faults.

Reference: https://www.amocrm.ru/developers/content/api/recommendations,
https://www.amocrm.ru/developers/content/crm_platform/error-codes
"""

import random
import threading
from collections import deque
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from . import pages
from .clock import Clock
from .wire import Reply, html, problem

GATEWAY_ERRORS = (500, 502, 504)


@dataclass
class FaultConfig:
    error_rate: float = 0.0  # share of requests answered with one of error_statuses, unprocessed
    error_statuses: list[int] = field(default_factory=lambda: list(GATEWAY_ERRORS))
    error_next: int = 0  # the next N requests get an error
    drop_rate: float = 0.0  # share of requests processed, then the connection is closed with no response
    drop_next: int = 0
    latency_ms: int = 0
    connect_delay_ms: int = 0  # added to each NEW connection's setup (accept + TLS handshake), not per request
    force_429_rate: float = 0.0
    force_429_next: int = 0
    rate_limit: int = 7  # at most 7 requests per second; 0 disables
    rate_limit_body: str = "html"  # amoCRM's gateway answers 429 with HTML; "json" = Kommo's problem+json
    block_after: int = 10  # this many 429s within block_window seconds -> 403 on everything; 0 never blocks
    block_window: float = 60.0
    faults_on_oauth: bool = False  # also inject faults on /oauth2/* (the rate limit stays API-only)
    # The subscription has ended: every write is refused with 402, reads still work (amoCRM keeps the account
    # readable for a while after it ends). Reference: https://developers.kommo.com/docs/http-codes
    payment_required: bool = False
    seed: int | None = None

    def updated(self, changes: dict[str, Any]) -> "FaultConfig":
        """A copy with changes applied; ValueError names a bad key or value."""
        known = {f.name: f for f in fields(self)}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown setting: {key}")
            _check(key, value)
        return replace(self, **changes)


def _check(key: str, value: Any) -> None:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if key.endswith("_rate") and not (numeric and 0 <= value <= 1):
        raise ValueError(f"{key} must be a number from 0 to 1")
    if key in (
        "error_next",
        "drop_next",
        "force_429_next",
        "latency_ms",
        "connect_delay_ms",
        "rate_limit",
        "block_after",
    ):
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise ValueError(f"{key} must be a non-negative integer")
    if key == "block_window" and not (numeric and value > 0):
        raise ValueError("block_window must be a positive number")
    if key == "error_statuses" and not (isinstance(value, list) and value and all(v in range(500, 600) for v in value)):
        raise ValueError("error_statuses must be a non-empty list of 5xx codes")
    if key == "rate_limit_body" and value not in ("html", "json"):
        raise ValueError("rate_limit_body must be html or json")
    if key in ("faults_on_oauth", "payment_required") and not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    if key == "seed" and not (value is None or (isinstance(value, int) and not isinstance(value, bool))):
        raise ValueError("seed must be an integer or null")


class Faults:
    """Decides, per request, what the gateway does before and after the endpoint runs."""

    def __init__(self, config: FaultConfig, clock: Clock) -> None:
        self._initial = config
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.config = replace(self._initial)
            self._random = random.Random(self.config.seed)
            self._recent: deque[float] = deque()  # API request times within the last second
            self._violations: deque[float] = deque()  # times of rate-limit 429s
            self.blocked = False

    def configure(self, changes: dict[str, Any]) -> None:
        new = self.config.updated(changes)
        with self._lock:
            self.config = new
            if "seed" in changes:
                self._random.seed(new.seed)

    def unblock(self) -> None:
        with self._lock:
            self.blocked = False
            self._violations.clear()

    def applies_to(self, scope: str) -> bool:
        return scope == "api" or self.config.faults_on_oauth

    def before(self, scope: str, method: str = "GET") -> Reply | None:
        """A blocked integration gets 403 everywhere; an unpaid account 402 on writes; then forced 429, rate limit,
        injected errors."""
        with self._lock:
            if self.blocked:
                return html(pages.gateway_page(403), 403)
            if not self.applies_to(scope):
                return None
            if scope == "api" and self.config.payment_required and method != "GET":
                return problem(402, "Payment required")
            if self._take("force_429_next") or self._chance(self.config.force_429_rate):
                return self._too_many()
            if scope == "api" and self._over_rate():
                return self._violation()
            if self._take("error_next") or self._chance(self.config.error_rate):
                return self._error()
            return None

    def drop_now(self, scope: str) -> bool:
        """Whether this processed request loses its response (connection closed)."""
        with self._lock:
            return self.applies_to(scope) and (self._take("drop_next") or self._chance(self.config.drop_rate))

    def latency(self, scope: str) -> float:
        return self.config.latency_ms / 1000 if self.applies_to(scope) else 0.0

    def connect_delay(self) -> float:
        """Seconds a new connection waits before its handshake; a connection is set up before any path is known."""
        return self.config.connect_delay_ms / 1000

    def describe(self) -> dict[str, Any]:
        return {**asdict(self.config), "blocked": self.blocked}

    def _take(self, counter: str) -> bool:
        left = getattr(self.config, counter)
        if left > 0:
            setattr(self.config, counter, left - 1)
        return left > 0

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self._random.random() < rate

    def _over_rate(self) -> bool:
        """More than rate_limit requests within any one second (sliding window, every request counts)."""
        now = self._clock.now()
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        self._recent.append(now)
        return self.config.rate_limit > 0 and len(self._recent) > self.config.rate_limit

    def _violation(self) -> Reply:
        """Repeated violation blocks the integration (403 on every request) until reset."""
        now = self._clock.now()
        self._violations.append(now)
        while self._violations[0] <= now - self.config.block_window:
            self._violations.popleft()
        if self.config.block_after and len(self._violations) >= self.config.block_after:
            self.blocked = True
        return self._too_many()

    def _too_many(self) -> Reply:
        """amoCRM's gateway answers HTML and no Retry-After (#526); Kommo documents problem+json."""
        if self.config.rate_limit_body == "json":
            detail = "You have sent too many requests in a given amount of time. Please try again later."
            return problem(429, detail, retry_after=300)
        return html(pages.gateway_page(429), 429)

    def _error(self) -> Reply:
        status = self._random.choice(self.config.error_statuses)
        if status == 500:  # the application's own 500 is problem+json with a trace id
            return problem(
                500, "Internal server error", title="ErrInternalServer", trace_id=f"{self._random.getrandbits(64):016x}"
            )
        return html(pages.gateway_page(status), status)
