"""Everything the sandbox account holds, in memory behind one lock, with a JSON dump/load."""

import json
import os
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .clock import Clock

REQUEST_LOG_SIZE = 5000

CustomFieldValues = list[dict[str, Any]] | None  # stored in the read format of §5


@dataclass
class Contact:
    id: int
    name: str
    first_name: str = ""
    last_name: str = ""
    responsible_user_id: int = 0
    created_by: int = 0
    updated_by: int = 0
    created_at: int = 0
    updated_at: int = 0
    custom_fields_values: CustomFieldValues = None
    tag_ids: list[int] = field(default_factory=list)
    company_ids: list[int] = field(default_factory=list)
    in_unsorted: bool = False  # §4.8: hidden until the unsorted item is accepted


@dataclass
class Company:
    id: int
    name: str
    responsible_user_id: int = 0
    created_by: int = 0
    updated_by: int = 0
    created_at: int = 0
    updated_at: int = 0
    custom_fields_values: CustomFieldValues = None
    tag_ids: list[int] = field(default_factory=list)


@dataclass
class Lead:
    id: int
    name: str
    pipeline_id: int
    status_id: int
    price: int = 0
    responsible_user_id: int = 0
    created_by: int = 0
    updated_by: int = 0
    created_at: int = 0
    updated_at: int = 0
    closed_at: int | None = None
    loss_reason_id: int | None = None
    custom_fields_values: CustomFieldValues = None
    tag_ids: list[int] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    main_contact_id: int | None = None
    company_ids: list[int] = field(default_factory=list)


@dataclass
class Note:
    id: int
    entity_type: str
    entity_id: int
    note_type: str
    params: dict[str, Any]
    created_by: int = 0
    responsible_user_id: int = 0
    created_at: int = 0
    updated_at: int = 0


@dataclass
class UnsortedItem:
    uid: str
    source_uid: str
    source_name: str
    category: str
    pipeline_id: int
    created_at: int
    metadata: dict[str, Any]
    lead_id: int
    contact_id: int | None = None
    company_id: int | None = None


@dataclass
class Tag:
    id: int
    name: str
    entity_type: str


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    created_at: float
    used: bool = False


@dataclass
class Token:
    access_token: str
    refresh_token: str
    client_id: str
    issued_at: float
    expires_at: float
    refresh_expires_at: float
    access_revoked: bool = False
    refresh_spent: bool = False


@dataclass
class Webhook:
    """§7: one subscription; the destination is its key (posting it again updates it)."""

    id: int
    destination: str
    settings: list[str]
    sort: int = 10
    created_at: int = 0
    updated_at: int = 0
    created_by: int = 0
    disabled: bool = False


@dataclass
class WebhookDelivery:
    """One webhook POST the sandbox made: where, which event, and what came back (status None: no answer)."""

    time: float
    destination: str
    event: str
    lead_id: int
    status: int | None
    error: str = ""
    body: str = ""


@dataclass
class RequestRecord:
    time: float
    method: str
    path: str
    query: str
    status: int
    request_id: str
    dropped: bool = False
    body: Any = None


_TABLES: dict[str, type] = {
    "leads": Lead,
    "contacts": Contact,
    "companies": Company,
    "notes": Note,
    "tags": Tag,
    "webhooks": Webhook,
}
_FIRST_IDS = {
    "leads": 10_000_001, "contacts": 20_000_001, "companies": 40_000_001, "notes": 60_000_001, "tags": 1,
    "webhooks": 1,
}  # fmt: skip


class SandboxState:
    """The account's data; take `lock` around any read-modify-write spanning several calls."""

    def __init__(self, clock: Clock | None = None, path: str | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.path = Path(path) if path else None
        self.clear()
        if self.path and self.path.exists():
            self.load()

    def clear(self) -> None:
        with self.lock:
            self.leads: dict[int, Lead] = {}
            self.contacts: dict[int, Contact] = {}
            self.companies: dict[int, Company] = {}
            self.notes: dict[int, Note] = {}
            self.tags: dict[int, Tag] = {}
            self.webhooks: dict[int, Webhook] = {}
            self.unsorted: dict[str, UnsortedItem] = {}
            self.codes: dict[str, AuthCode] = {}
            self.tokens: list[Token] = []
            self.requests: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_SIZE)
            self.webhook_deliveries: deque[WebhookDelivery] = deque(maxlen=REQUEST_LOG_SIZE)
            self._next_ids = dict(_FIRST_IDS)

    def next_id(self, table: str) -> int:
        with self.lock:
            value = self._next_ids[table]
            self._next_ids[table] = value + 1
            return value

    def tag_id(self, entity_type: str, name: str) -> int:
        """§4.10: tag dictionaries are per entity type; adding by name creates the tag once."""
        with self.lock:
            for tag in self.tags.values():
                if tag.entity_type == entity_type and tag.name == name:
                    return tag.id
            tag = Tag(self.next_id("tags"), name, entity_type)
            self.tags[tag.id] = tag
            return tag.id

    def token_by_access(self, access_token: str) -> Token | None:
        with self.lock:
            return next((t for t in self.tokens if t.access_token == access_token), None)

    def token_by_refresh(self, refresh_token: str) -> Token | None:
        with self.lock:
            return next((t for t in self.tokens if t.refresh_token == refresh_token), None)

    def log_request(self, record: RequestRecord) -> None:
        with self.lock:
            self.requests.append(record)

    def log_webhook_delivery(self, record: WebhookDelivery) -> None:
        with self.lock:
            self.webhook_deliveries.append(record)

    def dump(self) -> dict[str, Any]:
        with self.lock:
            data: dict[str, Any] = {name: [asdict(row) for row in getattr(self, name).values()] for name in _TABLES}
            data["unsorted"] = [asdict(item) for item in self.unsorted.values()]
            data["codes"] = [asdict(code) for code in self.codes.values()]
            data["tokens"] = [asdict(token) for token in self.tokens]
            data["requests"] = [asdict(record) for record in self.requests]
            data["webhook_deliveries"] = [asdict(record) for record in self.webhook_deliveries]
            data["next_ids"] = dict(self._next_ids)
            return data

    def restore(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.clear()
            for name, cls in _TABLES.items():
                getattr(self, name).update({row["id"]: cls(**row) for row in data.get(name, [])})
            self.unsorted = {item["uid"]: UnsortedItem(**item) for item in data.get("unsorted", [])}
            self.codes = {code["code"]: AuthCode(**code) for code in data.get("codes", [])}
            self.tokens = [Token(**token) for token in data.get("tokens", [])]
            self.requests.extend(RequestRecord(**record) for record in data.get("requests", []))
            self.webhook_deliveries.extend(WebhookDelivery(**row) for row in data.get("webhook_deliveries", []))
            self._next_ids.update(data.get("next_ids", {}))

    def save(self) -> None:
        """Write the dump to the state file, if any, atomically (write then rename)."""
        if self.path is None:
            return
        with self.lock:
            text = json.dumps(self.dump(), ensure_ascii=False, indent=1)
            tmp = self.path.with_suffix(self.path.suffix + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.path)

    def load(self) -> None:
        assert self.path is not None
        self.restore(json.loads(self.path.read_text(encoding="utf-8")))
