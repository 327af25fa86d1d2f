"""custom_fields_values in the write format, checked against the account's fields and turned into the read format.

Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields (examples of filling each type):
text-like types take {value}; checkbox {value: bool}; select, multiselect and radiobutton {value} | {enum_id} |
{enum_code}; date, date_time and birthday a unix time or an RFC 3339 string; multitext (PHONE, EMAIL) {value,
enum_id | enum_code}.
"""

from datetime import datetime
from typing import Any

from .catalog import CustomField, Enum
from .validation import Errors, is_int, join

TEXT_TYPES = {"text", "textarea", "tracking_data", "url", "streetaddress"}
CHOICE_TYPES = {"select", "multiselect", "radiobutton"}
DATE_TYPES = {"date", "date_time", "birthday"}
_ONE_VALUE = {"select", "radiobutton", "checkbox", "numeric", *DATE_TYPES}  # text fields keep every value sent


def parse_cf_values(raw: Any, fields: tuple[CustomField, ...], prefix: str, errors: Errors) -> list[dict] | None:
    """The write format -> the stored read format; every problem is recorded under its path."""
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
    if field.type in _ONE_VALUE and len(values) > 1:
        errors.add(join(path, "values"), "TooManyItems", "This collection should contain 1 element or less.")
    parsed = [_parse_value(v, field, join(path, f"values.{i}"), errors) for i, v in enumerate(values)]
    return {
        "field_id": field.id,
        "field_name": field.name,
        "field_code": field.code,
        "field_type": field.type,
        "values": [v for v in parsed if v is not None],
    }


def _find_field(item: dict[str, Any], fields: tuple[CustomField, ...], path: str, errors: Errors) -> CustomField | None:
    """A value names its field by field_id or field_code, and the field must exist in the account."""
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
    with_enum = field.type == "multitext" or field.type in CHOICE_TYPES
    errors.check_keys(value, {"value", "enum_id", "enum_code"} if with_enum else {"value"}, path)
    if field.type in CHOICE_TYPES:
        return _parse_choice(value, field, path, errors)
    if "value" not in value:
        errors.missing(join(path, "value"))
        return None
    parse = _SCALARS.get(field.type, _text)
    parsed = parse(value["value"])
    if parsed is None:
        errors.wrong_type(join(path, "value"), _TYPE_NAMES.get(field.type, "string"))
        return None
    if field.type == "multitext":
        return _parse_multitext(value, str(parsed), field, path, errors)
    return {"value": parsed}


def _text(raw: Any) -> str | None:
    return str(raw) if isinstance(raw, str) or is_int(raw) else None


def _number(raw: Any) -> str | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw)
    if not isinstance(raw, str):
        return None
    try:
        float(raw)
    except ValueError:
        return None
    return raw


def _flag(raw: Any) -> bool | None:
    return raw if isinstance(raw, bool) else None


def _moment(raw: Any) -> int | None:
    """A unix time, or an RFC 3339 string read as one."""
    if is_int(raw):
        return raw
    try:
        return int(datetime.fromisoformat(raw).timestamp()) if isinstance(raw, str) else None
    except ValueError:
        return None


_SCALARS = {"numeric": _number, "checkbox": _flag, **{t: _moment for t in DATE_TYPES}}
_TYPE_NAMES = {"numeric": "numeric", "checkbox": "bool", **{t: "int" for t in DATE_TYPES}}


def _enum(value: dict[str, Any], field: CustomField, path: str, errors: Errors) -> Enum | None:
    """The enum a value names by enum_id or enum_code (or, for a list field, by its text); None is recorded."""
    code, enum_id, text = value.get("enum_code"), value.get("enum_id"), value.get("value")
    if "enum_code" in value:
        key, found = "enum_code", field.enum_by_code(code) if isinstance(code, str) else None
    elif "enum_id" in value:
        key, found = "enum_id", field.enum_by_id(enum_id) if is_int(enum_id) else None
    elif "value" in value:
        key, found = "value", next((e for e in field.enums if e.value == text), None)
    else:
        errors.missing(join(path, "value"))
        return None
    if found is None:
        errors.bad_choice(join(path, key))
    return found


def _parse_choice(value: dict[str, Any], field: CustomField, path: str, errors: Errors) -> dict | None:
    enum = _enum(value, field, path, errors)
    return None if enum is None else {"value": enum.value, "enum_id": enum.id, "enum_code": enum.code}


def _parse_multitext(value: dict[str, Any], text: str, field: CustomField, path: str, errors: Errors) -> dict | None:
    """PHONE/EMAIL take enum_code from the documented list (MOB, PRIV...) or a known enum_id; WORK by default."""
    enum = _enum(value, field, path, errors) if "enum_code" in value or "enum_id" in value else field.enums[0]
    return None if enum is None else {"value": text, "enum_id": enum.id, "enum_code": enum.value}
