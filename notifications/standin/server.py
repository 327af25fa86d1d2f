"""The stand-in over HTTP: POST /bot<token>/<method> (JSON or form body) for the Bot API, GET / for the page."""

import argparse
import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from .bot_api import BotApi
from .page import render_page

logger = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    server: "StandinServer"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/":
            self._answer(200, "text/html; charset=utf-8", render_page(self.server.api.messages, self.server.url))
        elif self.path.startswith("/bot"):
            self._bot_call({})
        else:
            self._answer(404, "text/plain", "Not found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        try:
            params = json.loads(body) if "json" in (self.headers.get("Content-Type") or "") else dict(parse_qsl(body))
        except json.JSONDecodeError:
            params = None
        if not isinstance(params, dict):
            refusal = {"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"}
            self._answer(400, "application/json", json.dumps(refusal))
            return
        self._bot_call(params)

    def _bot_call(self, params: dict) -> None:
        token, _slash, method = self.path.split("?")[0][len("/bot") :].partition("/")
        reply = self.server.api.call(token, method, params)
        self._answer(reply.status, "application/json", json.dumps(reply.body, ensure_ascii=False))

    def _answer(self, status: int, content_type: str, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's signature
        logger.debug("%s " + format, self.address_string(), *args)  # the token is in the path: debug only


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.api = BotApi()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local stand-in for Telegram's Bot API, with a page of messages.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args(argv)
    server = StandinServer(args.host, args.port)
    print(f"Telegram stand-in: {server.url}/ (set TELEGRAM_API_URL={server.url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
