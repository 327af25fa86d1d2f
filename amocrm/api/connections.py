"""The requests session that carries amoCRM's traffic: a connection is set up before its request takes its turn.

amoCRM counts its 7 requests a second as they arrive. The rate limiter hands out turns ("slots") spaced apart, but
a request whose connection has to be set up first (TCP and the TLS handshake: a new process, or a connection the
server closed while idle) would arrive that much after its slot, squeezed against the requests behind it: one slow
handshake could put eight arrivals into one second. So a connection set up for a request takes a new turn once it
is ready (the one taken before goes unused), and a request only ever leaves on a ready connection right after its
turn. A kept-alive connection, the usual case, is ready and uses the turn taken before it.
Reference: https://www.amocrm.ru/developers/content/api/recommendations
"""

import os
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from acoustic.http_session import USER_AGENT

_sessions: dict[int, requests.Session] = {}


def session(take_turn: Callable[[], None]) -> requests.Session:
    """This process's session to amoCRM; `take_turn` waits for a slot, and runs again for every new connection.

    One per process: a forked Celery worker must not share its parent's pooled sockets.
    """
    pid = os.getpid()
    if pid not in _sessions:
        _sessions.clear()
        new = requests.Session()
        new.headers["User-Agent"] = USER_AGENT
        adapter = _ReadyConnectionsAdapter(take_turn)
        new.mount("https://", adapter)
        new.mount("http://", adapter)
        _sessions[pid] = new
    return _sessions[pid]


class _TurnAfterSetup:
    """Mixin for urllib3's connections: one set up for this request waits for a new turn before it sends."""

    take_turn: Callable[[], None]
    _set_up_for_this_request = False

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._set_up_for_this_request = True

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.is_closed:  # type: ignore[attr-defined]
            self.connect()  # plain HTTP would connect inside request(), after the turn: connect first
        if self._set_up_for_this_request:
            self._set_up_for_this_request = False
            self.take_turn()
        super().request(*args, **kwargs)  # type: ignore[misc]


class _ReadyConnectionsAdapter(HTTPAdapter):
    def __init__(self, take_turn: Callable[[], None]) -> None:
        http = type("AmoHTTPConnection", (_TurnAfterSetup, HTTPConnection), {"take_turn": staticmethod(take_turn)})
        https = type("AmoHTTPSConnection", (_TurnAfterSetup, HTTPSConnection), {"take_turn": staticmethod(take_turn)})
        self._pool_classes = {
            "http": type("AmoHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("AmoHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = self._pool_classes
        return manager
