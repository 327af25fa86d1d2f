"""The sandbox over real HTTP: a stdlib threading server that can also drop a connection mid-request."""

import http.client
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

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

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        host = self.headers.get("Host") or self.server.host_port
        try:
            reply = self.server.app.handle(Request(self.command, url.path, url.query, headers, body, host))
        except Exception as error:  # a sandbox bug: answer it visibly instead of a bare dropped connection
            logger.exception("sandbox failed on %s %s", self.command, url.path)
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

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        super().__init__(address, _Handler)
        host, port = self.server_address[:2]
        self.host_port = f"{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"


class SandboxServer:
    """The sandbox on host:port (0 = a free port); start() runs it in a background thread."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        faults: FaultConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self.app = SandboxApp(config, faults, clock)
        self._httpd = _HTTPServer((host, port), self.app)
        self.port: int = self._httpd.server_address[1]
        self.url = f"http://{self._httpd.host_port}"
        self._thread: threading.Thread | None = None

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
        """A fresh token pair through the real token endpoint (JSON body, §1.4)."""
        body = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_type": "authorization_code",
            "code": self.authorization_code(),
            "redirect_uri": self.redirect_uri,
        }
        connection = http.client.HTTPConnection(self._httpd.host_port, timeout=10)
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
        connection = http.client.HTTPConnection(self._httpd.host_port, timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", path, urlencode(form), headers)
        response = connection.getresponse()
        response.read()
        return response
