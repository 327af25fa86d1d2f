"""amoCRM's replies as small typed objects: outside JSON becomes these where it arrives, raw dicts do not travel.

Each parser takes a decoded body (None for 204: nothing found) and raises KeyError, TypeError or ValueError on a
body of the wrong shape; client.py turns those into an AmoError.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    subdomain: str


@dataclass(frozen=True)
class Status:
    id: int
    name: str
    pipeline_id: int
    type: int  # 1 = Unsorted, 0 = a normal stage (leads_pipelines)


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str
    is_main: bool
    statuses: list[Status]


@dataclass(frozen=True)
class FieldEnum:
    id: int
    value: str


@dataclass(frozen=True)
class CustomField:
    id: int
    name: str
    code: str | None
    type: str
    enums: tuple[FieldEnum, ...] = ()  # the choices of a select, multiselect or radiobutton field


@dataclass(frozen=True)
class RemoteLead:
    id: int
    name: str
    price: int
    pipeline_id: int
    status_id: int
    created_at: int
    updated_at: int
    custom_fields: dict[int, list[str]]
    contact_ids: list[int]
    responsible_user_id: int | None = None


@dataclass(frozen=True)
class LeadsPage:
    leads: list[RemoteLead]
    page: int
    has_next: bool


@dataclass(frozen=True)
class CreatedLead:
    id: int
    contact_id: int | None
    request_ids: list[str]
    merged: bool  # duplicate control merged it into an existing deal


@dataclass(frozen=True)
class RemoteContact:
    id: int
    name: str
    phones: list[str]
    emails: list[str]


@dataclass(frozen=True)
class RemoteNote:
    id: int
    entity_id: int
    note_type: str
    text: str  # params.text of a common note; "" for types without one
    updated_at: int


@dataclass(frozen=True)
class NotesPage:
    notes: list[RemoteNote]
    page: int
    has_next: bool


@dataclass(frozen=True)
class Webhook:
    id: int
    destination: str
    settings: list[str]  # the events it carries, e.g. status_lead
    disabled: bool  # amoCRM switches off a hook after 100 bad answers in 2 hours (webhooks-api)


@dataclass(frozen=True)
class CreatedUnsorted:
    uid: str
    request_id: str
    lead_ids: list[int]
    contact_ids: list[int]


def _embedded(body: Any, key: str) -> list[dict]:
    return [] if body is None else body["_embedded"][key]


def _has_next(body: Any) -> bool:
    return body is not None and "next" in (body.get("_links") or {})


def account(body: dict) -> Account:
    return Account(id=int(body["id"]), name=str(body["name"]), subdomain=str(body["subdomain"]))


def pipelines(body: Any) -> list[Pipeline]:
    return [
        Pipeline(
            id=int(row["id"]),
            name=str(row["name"]),
            is_main=bool(row.get("is_main")),
            statuses=[
                Status(id=int(s["id"]), name=str(s["name"]), pipeline_id=int(row["id"]), type=int(s.get("type") or 0))
                for s in row.get("_embedded", {}).get("statuses", [])
            ],
        )
        for row in _embedded(body, "pipelines")
    ]


def custom_fields_page(body: Any) -> tuple[list[CustomField], bool]:
    return [custom_field(row) for row in _embedded(body, "custom_fields")], _has_next(body)


def custom_field(row: dict) -> CustomField:
    return CustomField(
        id=int(row["id"]),
        name=str(row["name"]),
        code=row.get("code") or None,
        type=str(row["type"]),
        enums=tuple(FieldEnum(id=int(e["id"]), value=str(e["value"])) for e in row.get("enums") or []),
    )


def leads_page(body: Any) -> tuple[list[RemoteLead], bool]:
    return [_remote_lead(row) for row in _embedded(body, "leads")], _has_next(body)


def _remote_lead(row: dict) -> RemoteLead:
    return RemoteLead(
        id=int(row["id"]),
        name=str(row.get("name") or ""),
        price=int(row.get("price") or 0),
        pipeline_id=int(row["pipeline_id"]),
        status_id=int(row["status_id"]),
        created_at=int(row.get("created_at") or 0),
        updated_at=int(row.get("updated_at") or 0),
        custom_fields={
            int(field["field_id"]): [str(value.get("value", "")) for value in field.get("values") or []]
            for field in row.get("custom_fields_values") or []
        },
        contact_ids=[int(contact["id"]) for contact in (row.get("_embedded") or {}).get("contacts", [])],
        responsible_user_id=int(row["responsible_user_id"]) if row.get("responsible_user_id") else None,
    )


def created_leads(body: list) -> list[CreatedLead]:
    # A bare array; request_id is a list of strings (several when duplicates were merged).
    return [
        CreatedLead(
            id=int(row["id"]),
            contact_id=int(row["contact_id"]) if row.get("contact_id") else None,
            request_ids=_request_ids(row.get("request_id")),
            merged=bool(row.get("merged")),
        )
        for row in body
    ]


def _request_ids(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v is not None]


def note_ids(body: Any) -> list[int]:
    return [int(row["id"]) for row in _embedded(body, "notes")]


def notes_page(body: Any) -> tuple[list[RemoteNote], bool]:
    notes = [
        RemoteNote(
            id=int(row["id"]),
            entity_id=int(row["entity_id"]),
            note_type=str(row.get("note_type") or ""),
            text=str((row.get("params") or {}).get("text") or ""),
            updated_at=int(row.get("updated_at") or 0),
        )
        for row in _embedded(body, "notes")
    ]
    return notes, _has_next(body)


def contacts(body: Any) -> list[RemoteContact]:
    return [
        RemoteContact(
            id=int(row["id"]),
            name=str(row.get("name") or ""),
            phones=_field_values(row, "PHONE"),
            emails=_field_values(row, "EMAIL"),
        )
        for row in _embedded(body, "contacts")
    ]


def _field_values(row: dict, code: str) -> list[str]:
    fields = [field for field in row.get("custom_fields_values") or [] if field.get("field_code") == code]
    return [str(value["value"]) for field in fields for value in field.get("values") or [] if value.get("value")]


def webhook(row: dict) -> Webhook:
    return Webhook(
        id=int(row["id"]),
        destination=str(row["destination"]),
        settings=[str(event) for event in row.get("settings") or []],
        disabled=bool(row.get("disabled")),
    )


def webhooks(body: Any) -> list[Webhook]:
    return [webhook(row) for row in _embedded(body, "webhooks")]


def created_unsorted(body: Any) -> list[CreatedUnsorted]:
    return [
        CreatedUnsorted(
            uid=str(row["uid"]),
            request_id=str(row.get("request_id", "")),
            lead_ids=[int(lead["id"]) for lead in row.get("_embedded", {}).get("leads", [])],
            contact_ids=[int(contact["id"]) for contact in row.get("_embedded", {}).get("contacts", [])],
        )
        for row in _embedded(body, "unsorted")
    ]
