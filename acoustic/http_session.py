"""The requests session each process uses for outgoing calls (amoCRM, Telegram)."""

import os

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
