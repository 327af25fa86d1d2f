"""Plain request/reply objects passed between the HTTP server and the sandbox's handlers.

Reference: https://www.amocrm.ru/developers/content/oauth/step-by-step,
https://www.amocrm.ru/developers/content/crm_platform/leads-api,
https://www.amocrm.ru/developers/content/crm_platform/error-codes
"""

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

HAL_JSON = "application/hal+json"
PROBLEM_JSON = "application/problem+json"


@dataclass
class Request:
    method: str
    path: str
    raw_query: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    host: str = "127.0.0.1"
    scheme: str = "http"
    connection: int = 0  # which accepted connection carried it (requests on one kept-alive connection share it)
    arrived: float | None = None  # sandbox clock time the request line came in (after any TLS handshake)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.raw_query, keep_blank_values=True)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def json(self) -> Any:
        """The parsed JSON body; ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    def form_or_json(self) -> dict[str, Any]:
        """The token endpoint takes JSON (docs) or form-encoded (SDK) bodies; {} when neither."""
        content_type = self.header("content-type") or ""
        if "json" in content_type:
            try:
                data = self.json()
            except ValueError:
                return {}
            return data if isinstance(data, dict) else {}
        form = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[0] for key, values in form.items()}


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # processed, then the connection is closed with no response at all

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def hal(data: Any, status: int = 200) -> Reply:
    """Successful API answers are application/hal+json."""
    return Reply(status, _dumps(data), HAL_JSON)


def json_reply(data: Any, status: int = 200, content_type: str = "application/json") -> Reply:
    return Reply(status, _dumps(data), content_type)


def problem(status: int, detail: str, title: str | None = None, **extra: Any) -> Reply:
    """Errors are problem+json with title/type/status/detail."""
    body = {
        "title": title or HTTPStatus(status).phrase,
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
    }
    return Reply(status, _dumps({**extra, **body}), PROBLEM_JSON)


def no_content() -> Reply:
    """Nothing found is 204 with an empty body, not 404 and not []."""
    return Reply(204)


def html(text: str, status: int = 200) -> Reply:
    return Reply(status, text.encode("utf-8"), "text/html; charset=utf-8")


def redirect(location: str) -> Reply:
    return Reply(302, b"", None, {"Location": location})
