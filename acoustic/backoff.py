"""Retry delays shared by every outgoing integration (amoCRM, Telegram)."""

import random
from datetime import timedelta

CAP_SECONDS = 3600


def backoff_delay(attempts: int, base_seconds: float, retry_after: float | None = None) -> timedelta:
    """Exponential backoff with jitter, capped at an hour; never sooner than the remote side asked."""
    ceiling = min(CAP_SECONDS, base_seconds * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=max(random.uniform(ceiling / 2, ceiling), retry_after or 0))
