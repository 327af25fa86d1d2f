"""amoCRM's account webhooks parsed into typed events.

Reference: https://www.amocrm.ru/developers/content/crm_platform/webhooks-format

The body is form-encoded with PHP-style nested keys, all values strings, in amoCRM's older shape:
`leads[status][0][id]=…&leads[status][0][status_id]=…&account[id]=…&account[subdomain]=…`. Unknown keys are
ignored: amoCRM adds fields over time, and answering them with an error would make it retry and disable the hook.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

MAX_FIELDS = 10_000  # a deal with every custom field filled is a few hundred keys
LEAD_ACTIONS = ("status", "update", "delete")  # from the status_lead, update_lead and delete_lead events
_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_PART = re.compile(r"\[([^\[\]]*)\]")
_ID = re.compile(r"[0-9]{1,18}")  # fits a 64-bit column


class BadPayload(ValueError):
    """The body is not an amoCRM webhook we can read."""


@dataclass(frozen=True)
class WebhookAccount:
    id: int | None
    subdomain: str


@dataclass(frozen=True)
class LeadEvent:
    action: str  # status | update | delete
    lead_id: int
    pipeline_id: int | None = None
    status_id: int | None = None
    old_pipeline_id: int | None = None
    old_status_id: int | None = None
    modified_at: int | None = None  # unix time of the change: updated_at, or the older last_modified

    @property
    def key(self) -> str:
        """The same webhook delivered twice (amoCRM retries) has the same key."""
        return f"{self.action}:{self.lead_id}:{self.pipeline_id}:{self.status_id}:{self.modified_at}"


@dataclass(frozen=True)
class Payload:
    account: WebhookAccount
    events: list[LeadEvent]


def parse(body: bytes) -> Payload:
    """The account and the lead events of one webhook body; BadPayload when it cannot be one."""
    tree = nested(_pairs(body))
    account = _account(tree.get("account"))
    leads = tree.get("leads", {})
    if not isinstance(leads, dict):
        raise BadPayload("leads must be a list of events")
    events = [_event(action, entry) for action in LEAD_ACTIONS for entry in _entries(leads.get(action))]
    return Payload(account, events)


def _pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as error:  # not UTF-8, or too many fields
        raise BadPayload(f"the body is not a form-encoded webhook: {error}") from error


def nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """PHP-style keys as nested dicts: [("a[b][0]", "x")] -> {"a": {"b": {"0": "x"}}}; odd keys are skipped."""
    tree: dict[str, Any] = {}
    for key, value in pairs:
        found = _KEY.fullmatch(key)
        if found is None:
            continue
        path = [found[1], *_PART.findall(found[2])]
        node = tree
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break  # "a=1&a[b]=2": the scalar wins, the rest is skipped
            node = child
        else:
            node.setdefault(path[-1], value)
    return tree


def _account(raw: Any) -> WebhookAccount:
    if not isinstance(raw, dict) or not (raw.get("id") or raw.get("subdomain")):
        raise BadPayload("the webhook names no account")
    subdomain = raw.get("subdomain", "")
    return WebhookAccount(_int(raw, "id", "account"), subdomain if isinstance(subdomain, str) else "")


def _entries(raw: Any) -> list[dict[str, Any]]:
    """leads[<action>][0], [1], …: every entry must be a group of fields."""
    if raw is None:
        return []
    if not isinstance(raw, dict) or not all(isinstance(entry, dict) for entry in raw.values()):
        raise BadPayload("lead events must be indexed groups of fields")
    return list(raw.values())


def _event(action: str, entry: dict[str, Any]) -> LeadEvent:
    lead_id = _int(entry, "id", action)
    if lead_id is None:
        raise BadPayload(f"a {action} event without a deal id")
    return LeadEvent(
        action=action,
        lead_id=lead_id,
        pipeline_id=_int(entry, "pipeline_id", action),
        status_id=_int(entry, "status_id", action),
        old_pipeline_id=_int(entry, "old_pipeline_id", action),
        old_status_id=_int(entry, "old_status_id", action),
        modified_at=_time(entry, "updated_at", action) or _time(entry, "last_modified", action),
    )


def _time(group: dict[str, Any], key: str, where: str) -> int | None:
    """A unix time that a date can hold (18 digits fit the id pattern but no calendar: years end at 9999)."""
    value = _int(group, key, where)
    if value is None:
        return None
    try:
        datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadPayload(f"{where}[{key}] is not a time a date can hold") from None
    return value


def _int(group: dict[str, Any], key: str, where: str) -> int | None:
    value = group.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise BadPayload(f"{where}[{key}] is not a whole number")
    return int(value)
