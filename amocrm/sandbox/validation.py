"""Validation errors in amoCRM's shape and the checks shared by every entity.

Reference: https://www.amocrm.ru/developers/content/crm_platform/error-codes
"""

from dataclasses import dataclass
from typing import Any

from .wire import Reply, Request, problem

# The error-codes page documents NotSupportedChoice and InvalidType; the names for missing and unexpected keys are
# the sandbox's own.
NOT_SUPPORTED_CHOICE = "NotSupportedChoice"
INVALID_TYPE = "InvalidType"
FIELD_MISSING = "FieldMissing"
FIELD_NOT_EXPECTED = "FieldNotExpected"


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
    """400 with validation-errors naming each failed element's request_id and the field paths."""
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
