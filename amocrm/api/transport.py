"""The one way a request leaves for amoCRM: one session, timeouts, the shared rate limit, the request log.

client.py (API calls) and oauth.py (token endpoint) both send through `send`; only AmoError comes back out.
"""

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import redis
import requests
from django.conf import settings
from django.utils.translation import gettext as _
from urllib3.exceptions import MaxRetryError, NewConnectionError

from amocrm.api import budget, connections, ratelimit, request_log
from amocrm.api.errors import AmoError, ErrorKind, error_from, unexpected_answer

logger = logging.getLogger(__name__)

# The official SDK's timeouts: 5 s to connect, 20 s to answer.
# Reference: https://github.com/amocrm/amocrm-api-php (AmoCRMApiClient's HTTP client options)
TIMEOUT = (5.0, 20.0)
# How long a worker waits for its turn under the shared rate limit before it gives up and retries later.
SLOT_WAIT = 30.0
# A page does not start a request with less time than this left (see budget.py).
MIN_REQUEST_SECONDS = 0.5


def send(
    method: str, url: str, on_answer: Callable[[requests.Response], None] | None = None, **kwargs: Any
) -> requests.Response:
    """One request, sent once the shared rate limiter allows it; a network failure raises AmoError.

    `on_answer` runs as soon as the answer arrives, before it is logged (the token refresh saves its pair there).
    """
    _wait_for_slot()  # a connection set up for this request waits for another, once it is ready (connections.py)
    started, timeout = time.monotonic(), _timeouts()
    try:
        response = amocrm_session().request(
            method, url, timeout=timeout, verify=_trusted_certificates(), allow_redirects=False, **kwargs
        )
    except requests.RequestException as error:
        failure = _network_error(error, url, timeout[1])
        request_log.record(method, url, time.monotonic() - started, error=failure.message)
        raise failure from error
    try:
        if on_answer is not None:
            on_answer(response)
    finally:
        request_log.record(method, url, time.monotonic() - started, response)
    return response


def read(response: requests.Response, method: str) -> Any:
    """The JSON body of a 2xx answer (None for 204: nothing found); AmoError for anything else.

    Reference: https://www.amocrm.ru/developers/content/api/recommendations (204 when a list is empty)
    """
    if response.status_code == 204:
        return None
    if not 200 <= response.status_code < 300:
        raise refusal(response, method)
    try:
        return response.json()
    except ValueError as error:
        raise unexpected_answer(method) from error


def refusal(response: requests.Response, method: str) -> AmoError:
    """The AmoError for a non-2xx answer; a 429 first pauses every process, as amoCRM asks."""
    error = error_from(response, method)
    if error.kind == ErrorKind.RATE_LIMITED and error.retry_after:
        try:
            ratelimit.pause(error.retry_after)
        except redis.RedisError:
            logger.warning("Could not pause the amoCRM rate limiter after a 429: Redis is unavailable")
    return error


def _wait_for_slot() -> None:
    """Every process shares one budget of 7 requests per second (the limit is per account, not per process).

    Reference: https://www.amocrm.ru/developers/content/api/recommendations
    """
    left = budget.seconds_left()
    if left is not None and left < MIN_REQUEST_SECONDS:
        raise _busy()  # a person is waiting and the page's time is spent: send nothing more
    try:
        ratelimit.acquire(timeout=SLOT_WAIT if left is None else min(budget.INTERACTIVE_SLOT_WAIT, left))
    except ratelimit.RateLimitTimeout as error:
        if left is not None:
            raise _busy() from error
        message = _("amoCRM's request budget is used up for now (or paused after a 429); will retry.")
        raise AmoError(ErrorKind.RATE_LIMITED, message, retry_after=_limiter_wait()) from error
    except redis.RedisError as error:
        message = _("Redis is unavailable, so requests to amoCRM cannot be paced; nothing was sent.")
        raise AmoError(ErrorKind.NETWORK, message) from error


def amocrm_session() -> requests.Session:
    return connections.session(take_turn=_wait_for_slot)


def _trusted_certificates() -> str | bool:
    """The sandbox's own CA when it serves HTTPS (development, tests), else the system's trust (real amoCRM).

    Passed with each request: requests lets REQUESTS_CA_BUNDLE from the environment override a session's `verify`.
    """
    if settings.AMOCRM_SANDBOX_URL and settings.AMOCRM_SANDBOX_CA_BUNDLE:
        return settings.AMOCRM_SANDBOX_CA_BUNDLE
    return True


def _timeouts() -> tuple[float, float]:
    """amoCRM's own timeouts, or for a page what is left of its time (applied to connecting and to each read)."""
    left = budget.seconds_left()
    if left is None:
        return TIMEOUT
    return (min(TIMEOUT[0], left), min(TIMEOUT[1], left))


def _busy() -> AmoError:
    return AmoError(ErrorKind.RATE_LIMITED, _("amoCRM is busy, try again in a moment."), retry_after=5)


def _limiter_wait() -> float | None:
    try:
        return ratelimit.state().next_slot_in_seconds
    except redis.RedisError:
        return None


def _network_error(error: requests.RequestException, url: str, read_timeout: float) -> AmoError:
    host = urlsplit(url).hostname or url
    if isinstance(error, requests.ReadTimeout):
        message = _("amoCRM did not answer within %(seconds)d s; it may have done the work.") % {
            "seconds": read_timeout
        }
        return AmoError(ErrorKind.NETWORK, message, outcome_unknown=True)
    if not _was_sent(error):
        return AmoError(ErrorKind.NETWORK, _("amoCRM is unreachable: could not connect to %(host)s.") % {"host": host})
    message = _("The connection to amoCRM broke after the request was sent; it may have done the work.")
    return AmoError(ErrorKind.NETWORK, message, outcome_unknown=True)


def _was_sent(error: requests.RequestException) -> bool:
    """False only when the request provably never left: connecting (DNS, refused, TLS, proxy) failed."""
    if isinstance(error, requests.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return False
    if isinstance(error, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return False
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return not isinstance(reason, NewConnectionError)  # NameResolutionError is a NewConnectionError too
