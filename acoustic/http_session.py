"""The requests session each process uses for outgoing calls (amoCRM, Telegram), and reading their answers."""

import os
from typing import Any

import requests

USER_AGENT = "acoustic-leads (+requests)"

_sessions: dict[int, requests.Session] = {}


def process_session() -> requests.Session:
    # One session per process: a forked Celery worker must not share its parent's pooled sockets.
    pid = os.getpid()
    if pid not in _sessions:
        _sessions.clear()
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        _sessions[pid] = session
    return _sessions[pid]


def json_object(response: requests.Response) -> dict[str, Any]:
    """The body as a JSON object, or {}: error pages are often HTML, and an answer must never crash its reader."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
