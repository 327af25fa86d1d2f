"""Validation errors in amoCRM's shape (amocrm-api.md §6) and the checks shared by every entity."""

from dataclasses import dataclass
from typing import Any

from .catalog import CustomField
from .wire import Reply, Request, problem

# §6 documents NotSupportedChoice and InvalidType; the names for missing and unexpected keys are the sandbox's own.
NOT_SUPPORTED_CHOICE = "NotSupportedChoice"
INVALID_TYPE = "InvalidType"
FIELD_MISSING = "FieldMissing"
FIELD_NOT_EXPECTED = "FieldNotExpected"

_TEXT_TYPES = {"text", "textarea", "tracking_data", "url", "streetaddress"}


def join(prefix: str, key: str | int) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class FieldError:
    path: str
    code: str
    detail: str


class Errors:
    """Collects the errors of one batch element, addressed by dotted path."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, path: str, code: str, detail: str) -> None:
        self.items.append(FieldError(path, code, detail))

    def wrong_type(self, path: str, type_name: str) -> None:
        self.add(path, INVALID_TYPE, f"This value should be of type {type_name}.")

    def bad_choice(self, path: str) -> None:
        self.add(path, NOT_SUPPORTED_CHOICE, "The value you selected is not a valid choice.")

    def missing(self, path: str) -> None:
        self.add(path, FIELD_MISSING, "This field is missing.")

    def check_keys(self, data: dict[str, Any], allowed: set[str], prefix: str) -> None:
        """Strict like amoCRM: a key the docs do not list is an error, not silently dropped."""
        for key in data:
            if key not in allowed:
                self.add(join(prefix, key), FIELD_NOT_EXPECTED, "This field was not expected.")

    def expect_int(self, data: dict[str, Any], key: str, prefix: str) -> int | None:
        value = data.get(key)
        if value is not None and not is_int(value):
            self.wrong_type(join(prefix, key), "int")
            return None
        return value

    def expect_str(self, data: dict[str, Any], key: str, prefix: str) -> str | None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            self.wrong_type(join(prefix, key), "string")
            return None
        return value


def validation_failed(batch: list[tuple[str, Errors]]) -> Reply:
    """§6: 400 with validation-errors naming each failed element's request_id and the field paths."""
    failed = [
        {
            "request_id": request_id,
            "errors": [{"code": e.code, "path": e.path, "detail": e.detail} for e in errors.items],
        }
        for request_id, errors in batch
        if errors
    ]
    return problem(400, "Request validation failed", **{"validation-errors": failed})


def read_object(req: Request) -> tuple[dict[str, Any], Reply | None]:
    """The body of a call that takes one JSON object (PATCH /leads/{id}, the webhook calls), not an array."""
    if not req.body.strip():
        return {}, problem(400, "Request data can not be empty")
    try:
        data = req.json()
    except ValueError:
        return {}, problem(400, "Request body is not a valid JSON")
    if data in ({}, [], None, ""):
        return {}, problem(400, "Request data can not be empty")
    if not isinstance(data, dict):
        errors = Errors()
        errors.wrong_type("", "array")
        return {}, validation_failed([("0", errors)])
    return data, None


def parse_cf_values(raw: Any, fields: tuple[CustomField, ...], prefix: str, errors: Errors) -> list[dict] | None:
    """§5 write format -> stored read format; every problem is recorded under its path."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        errors.wrong_type(prefix, "array")
        return None
    parsed = [_parse_field(item, fields, join(prefix, i), errors) for i, item in enumerate(raw)]
    return [p for p in parsed if p is not None] or None


def _parse_field(item: Any, fields: tuple[CustomField, ...], path: str, errors: Errors) -> dict | None:
    if not isinstance(item, dict):
        errors.wrong_type(path, "array")
        return None
    errors.check_keys(item, {"field_id", "field_code", "values"}, path)
    field = _find_field(item, fields, path, errors)
    values = item.get("values")
    if not isinstance(values, list) or not values:
        if "values" in item:
            errors.wrong_type(join(path, "values"), "array")
        else:
            errors.missing(join(path, "values"))
        return None
    if field is None:
        return None
    parsed = [_parse_value(v, field, join(path, f"values.{i}"), errors) for i, v in enumerate(values)]
    return {
        "field_id": field.id,
        "field_name": field.name,
        "field_code": field.code,
        "field_type": field.type,
        "values": [v for v in parsed if v is not None],
    }


def _find_field(item: dict[str, Any], fields: tuple[CustomField, ...], path: str, errors: Errors) -> CustomField | None:
    """§5: a value names its field by field_id or field_code, and the field must exist in the account."""
    if "field_id" not in item and "field_code" not in item:
        errors.missing(join(path, "field_id"))
        return None
    by_id = by_code = None
    if "field_id" in item:
        by_id = next((f for f in fields if is_int(item["field_id"]) and f.id == item["field_id"]), None)
        if by_id is None:
            errors.bad_choice(join(path, "field_id"))
    if "field_code" in item:
        by_code = next((f for f in fields if f.code and f.code == item["field_code"]), None)
        if by_code is None or (by_id is not None and by_code is not by_id):
            errors.bad_choice(join(path, "field_code"))
            return None
    return by_id or by_code


def _parse_value(value: Any, field: CustomField, path: str, errors: Errors) -> dict | None:
    if not isinstance(value, dict):
        errors.wrong_type(path, "array")
        return None
    allowed = {"value", "enum_id", "enum_code"} if field.type == "multitext" else {"value"}
    errors.check_keys(value, allowed, path)
    if "value" not in value:
        errors.missing(join(path, "value"))
        return None
    raw = value["value"]
    if field.type in _TEXT_TYPES | {"multitext"} and not (isinstance(raw, str) or is_int(raw)):
        errors.wrong_type(join(path, "value"), "string")
        return None
    if field.type == "multitext":
        return _parse_multitext(value, str(raw), field, path, errors)
    return {"value": str(raw)}


def _parse_multitext(value: dict[str, Any], text: str, field: CustomField, path: str, errors: Errors) -> dict | None:
    """§5: PHONE/EMAIL take enum_code from the documented list (MOB, PRIV...) or a known enum_id."""
    enum = field.enums[0]  # WORK when the caller names no enum
    if "enum_code" in value:
        enum = field.enum_by_code(value["enum_code"]) if isinstance(value["enum_code"], str) else None
        if enum is None:
            errors.bad_choice(join(path, "enum_code"))
            return None
    elif "enum_id" in value:
        enum = field.enum_by_id(value["enum_id"]) if is_int(value["enum_id"]) else None
        if enum is None:
            errors.bad_choice(join(path, "enum_id"))
            return None
    return {"value": text, "enum_id": enum.id, "enum_code": enum.value}
