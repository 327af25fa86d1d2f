"""The sandbox over real HTTP or HTTPS: a stdlib threading server that can also drop a connection mid-request and
slow down each new connection's setup."""

import http.client
import itertools
import json
import logging
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from . import tls
from .app import SandboxApp
from .clock import Clock
from .config import SandboxConfig
from .faults import FaultConfig
from .rows import RequestRecord, WebhookDelivery
from .state import SandboxState
from .wire import Request, problem

logger = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    server: "_HTTPServer"
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 10  # idle keep-alive connections close, so stopped servers leave no threads behind
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall

    def setup(self) -> None:
        super().setup()
        self.connection_id = self.server.next_connection_id()

    def _request(self) -> Request:
        arrived = self.server.app.clock.now()  # the request line and headers are in: it has arrived
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        host = self.headers.get("Host") or self.server.host_port
        request = Request(self.command, url.path, url.query, headers, body, host, self.server.scheme)
        request.connection, request.arrived = self.connection_id, arrived
        return request

    def _serve(self) -> None:
        request = self._request()
        try:
            reply = self.server.app.handle(request)
        except Exception as error:  # a sandbox bug: answer it visibly instead of a bare dropped connection
            logger.exception("sandbox failed on %s %s", self.command, request.path)
            reply = problem(500, f"Sandbox error: {error!r}", title="ErrInternalServer")
        if reply.drop:
            self._drop()
            return
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status not in (204, 304):
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body and self.command != "HEAD" and reply.status not in (204, 304):
            self.wfile.write(reply.body)

    def _drop(self) -> None:
        """The request was processed; the client gets no status line at all, only a closed connection."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: SandboxApp, tls_context: ssl.SSLContext | None = None) -> None:
        self.app = app
        self.tls_context = tls_context
        self.scheme = "https" if tls_context else "http"
        self._connection_ids = itertools.count(1)
        super().__init__(address, _Handler)
        host, port = self.server_address[:2]
        self.host_port = f"{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"

    def next_connection_id(self) -> int:
        return next(self._connection_ids)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs on the connection's own thread: the injected setup delay, then the TLS handshake, then requests."""
        time.sleep(self.app.faults.connect_delay())
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(_Handler.timeout)  # a client that never finishes its handshake does not hold a thread
        try:
            secure = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:  # e.g. a client that does not trust the CA, or plain HTTP
            logger.info("sandbox TLS handshake with %s failed: %s", client_address, error)
            return
        try:
            super().finish_request(secure, client_address)
        finally:
            self.shutdown_request(secure)


class SandboxServer:
    """The sandbox on host:port (0 = a free port); start() runs it in a background thread."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        faults: FaultConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        https: bool = False,
    ) -> None:
        self.app = SandboxApp(config, faults, clock)
        self.certificates = tls.make_certificates(_certificate_hosts(host, self.app.config)) if https else None
        context = self.certificates.server_context() if self.certificates else None
        self._httpd = _HTTPServer((host, port), self.app, context)
        self.port: int = self._httpd.server_address[1]
        self.url = f"{self._httpd.scheme}://{self._httpd.host_port}"
        self._thread: threading.Thread | None = None

    @property
    def ca_cert_path(self) -> str | None:
        """With https=True: the PEM file a client trusts (requests' verify=<path>); None over plain HTTP."""
        return str(self.certificates.ca_cert_path) if self.certificates else None

    @property
    def state(self) -> SandboxState:
        return self.app.state

    @property
    def config(self) -> SandboxConfig:
        return self.app.config

    @property
    def clock(self) -> Clock:
        return self.app.clock

    @property
    def client_id(self) -> str:
        return self.app.config.client_id

    @property
    def client_secret(self) -> str:
        return self.app.config.client_secret

    @property
    def redirect_uri(self) -> str:
        return self.app.config.redirect_uri

    @property
    def host(self) -> str:
        """host:port, what the consent redirect gives as `referer`."""
        return self.app.config.public_host or self._httpd.host_port

    def start(self) -> "SandboxServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()
        if self.certificates is not None:
            self.certificates.remove()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Helpers for tests.
    def authorize(self, state: str | None = None, allow: bool = True) -> dict[str, str]:
        """Click Allow (or Deny) on the consent page over HTTP; the query the redirect URI would receive."""
        form = {"client_id": self.client_id, "decision": "allow" if allow else "deny"}
        if state is not None:
            form["state"] = state
        location = self._post_form("/oauth", form).getheader("Location") or ""
        return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}

    def authorization_code(self) -> str:
        return self.authorize()["code"]

    def issue_tokens(self) -> dict[str, Any]:
        """A fresh token pair through the real token endpoint (JSON body, as the docs send it)."""
        body = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_type": "authorization_code",
            "code": self.authorization_code(),
            "redirect_uri": self.redirect_uri,
        }
        connection = self._connection()
        connection.request("POST", "/oauth2/access_token", json.dumps(body), {"Content-Type": "application/json"})
        return json.loads(connection.getresponse().read())

    def set_faults(self, **changes: Any) -> None:
        """Change FaultConfig fields as POST /_sandbox/control would, without HTTP; ValueError if invalid."""
        self.app.faults.configure(changes)

    def received(self, path: str | None = None, method: str | None = None) -> list[RequestRecord]:
        """Requests received so far (not /_sandbox/*), optionally only one path and method."""
        with self.state.lock:
            records = list(self.state.requests)
        return [r for r in records if (path is None or r.path == path) and (method is None or r.method == method)]

    def webhooks_sent(self, count: int = 1, timeout: float = 5.0) -> list[WebhookDelivery]:
        """The webhook POSTs made so far, waiting up to `timeout` seconds until there are at least `count`."""
        deadline = time.monotonic() + timeout
        while True:
            with self.state.lock:
                sent = list(self.state.webhook_deliveries)
            if len(sent) >= count or time.monotonic() > deadline:
                return sent
            time.sleep(0.02)

    def reset(self) -> None:
        self.app.reset()

    def _post_form(self, path: str, form: dict[str, str]) -> http.client.HTTPResponse:
        connection = self._connection()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", path, urlencode(form), headers)
        response = connection.getresponse()
        response.read()
        return response

    def _connection(self) -> http.client.HTTPConnection:
        if self.certificates is None:
            return http.client.HTTPConnection(self._httpd.host_port, timeout=10)
        context = self.certificates.client_context()
        return http.client.HTTPSConnection(self._httpd.host_port, timeout=10, context=context)


def _certificate_hosts(host: str, config: SandboxConfig) -> tuple[str, ...]:
    """Names the certificate covers besides the local ones: the listening host and the public host, if any."""
    names = [] if host in ("", "0.0.0.0", "::") else [host]
    if config.public_host:
        names.append(urlsplit(f"//{config.public_host}").hostname or config.public_host)
    return tuple(names)
