"""Everything the sandbox account holds, in memory behind one lock, with a JSON dump/load."""

import json
import os
import threading
from collections import deque
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import catalog
from .catalog import CustomField, Enum
from .clock import Clock
from .rows import (
    AuthCode,
    Company,
    Contact,
    Lead,
    Note,
    RequestRecord,
    Tag,
    Task,
    Token,
    UnsortedItem,
    User,
    Webhook,
    WebhookDelivery,
)

REQUEST_LOG_SIZE = 5000

_TABLES: dict[str, type] = {
    "leads": Lead,
    "contacts": Contact,
    "companies": Company,
    "notes": Note,
    "tags": Tag,
    "webhooks": Webhook,
    "users": User,
    "tasks": Task,
}
_FIRST_IDS = {
    "leads": 10_000_001, "contacts": 20_000_001, "companies": 40_000_001, "notes": 60_000_001, "tags": 1,
    "webhooks": 1, "users": 8_000_101, "tasks": 70_000_001, "custom_fields": 930_001, "enums": 5_001,
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
            self.users: dict[int, User] = {user.id: user for user in catalog.seed_users()}
            self.tasks: dict[int, Task] = {}
            self.custom_fields: dict[int, CustomField] = {}  # created through the API; the catalog's are fixed
            self.connected_user_id = catalog.ADMIN_USER_ID  # who connected the integration: its rights apply
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
        """Tag dictionaries are per entity type; adding by name creates the tag once."""
        with self.lock:
            for tag in self.tags.values():
                if tag.entity_type == entity_type and tag.name == name:
                    return tag.id
            tag = Tag(self.next_id("tags"), name, entity_type)
            self.tags[tag.id] = tag
            return tag.id

    def fields(self, entity_type: str) -> tuple[CustomField, ...]:
        """The entity's custom fields: the account's predefined ones, then those created through the API."""
        created = [f for f in self.custom_fields.values() if f.entity_type == entity_type]
        return (*catalog.FIELDS_BY_ENTITY[entity_type], *created)

    def current_user(self) -> User:
        """The user whose connection the integration runs under (a non-admin's token has that user's rights)."""
        return self.users[self.connected_user_id]

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
            data["custom_fields"] = [asdict(f) for f in self.custom_fields.values()]
            data["connected_user_id"] = self.connected_user_id
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
                getattr(self, name).update({row["id"]: cls(**row) for row in data.get(name, [])})  # users: over seeds
            self.custom_fields = {row["id"]: _custom_field(row) for row in data.get("custom_fields", [])}
            self.connected_user_id = data.get("connected_user_id", self.connected_user_id)
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


def _custom_field(row: dict[str, Any]) -> CustomField:
    enums = tuple(Enum(**enum) for enum in row["enums"])
    return CustomField(**{**row, "enums": enums, "required_statuses": tuple(map(tuple, row["required_statuses"]))})
