"""GET and POST /api/v4/{leads|contacts|companies}/custom_fields: the account's fields, and new ones (admins only).

Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields (the field model, the create call, its
201 answer `{_total_items, _embedded.custom_fields}`, "available only to account administrators", field types and
which entity takes which type).
"""

from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from . import catalog
from .catalog import ACCOUNT_ID, CustomField, Enum
from .config import SandboxConfig
from .entities import links
from .field_values import CHOICE_TYPES, DATE_TYPES, TEXT_TYPES
from .listing import page_args, paginate
from .payloads import objects, read_batch
from .staff import admin_only
from .state import SandboxState
from .validation import NOT_SUPPORTED_CHOICE, Errors, is_int, join
from .wire import Reply, Request, hal

# The documented types the sandbox can hold values of; tracking_data exists on deals only.
CREATABLE_TYPES = {"numeric", "checkbox", *TEXT_TYPES, *CHOICE_TYPES, *DATE_TYPES} - {"tracking_data"}
FIELD_KEYS = {
    "name", "type", "code", "sort", "group_id", "is_api_only", "required_statuses", "enums", "remind",
    "tracking_callback", "request_id",
}  # fmt: skip
REMINDS = ("never", "day", "week", "month")
DEFAULT_SORT = 500  # what amoCRM gives a field created without `sort` (Kommo's example of a created field)


@dataclass
class FieldDraft:
    field: CustomField
    request_id: str = "0"


def render_field(field: CustomField, base_url: str) -> dict[str, Any]:
    enums = [{"id": e.id, "value": e.value, "sort": e.sort, "code": e.code} for e in field.enums] or None
    required = [{"pipeline_id": p, "status_id": s} for p, s in field.required_statuses]
    return {
        **{key: getattr(field, key) for key in ("id", "name", "type", "code", "sort", "is_api_only")},
        "account_id": ACCOUNT_ID,
        "enums": enums,
        "group_id": None,
        "required_statuses": required,
        "is_deletable": not field.is_predefined,
        "is_predefined": field.is_predefined,
        "entity_type": field.entity_type,
        "tracking_callback": field.tracking_callback,
        "remind": field.remind,
        "triggers": [],
        "currency": None,
        "hidden_statuses": [],
        "chained_lists": None,
        "_links": links(base_url, f"/api/v4/{field.entity_type}/custom_fields/{field.id}"),
    }


def list_custom_fields(state: SandboxState, config: SandboxConfig, req: Request, entity_type: str) -> Reply:
    """Paginated with totals; `filter[type][]` narrows by field type; order[sort|id]."""
    args = page_args(req)
    if isinstance(args, Reply):
        return args
    types = {v for key, values in req.query.items() if key.startswith("filter[type]") for v in values}
    fields = [f for f in state.fields(entity_type) if not types or f.type in types]
    fields = sorted(fields, key=lambda f: f.id if req.param("order[id]") else f.sort)
    return paginate(req, "custom_fields", fields, lambda f: render_field(f, req.base_url), *args, with_totals=True)


def _name_and_type(data: dict[str, Any], entity_type: str, errors: Errors) -> tuple[str, str]:
    name, kind = errors.expect_str(data, "name", ""), errors.expect_str(data, "type", "")
    if "name" not in data or (name is not None and not name.strip()):
        errors.missing("name")
    if "type" not in data:
        errors.missing("type")
    elif kind is not None and kind not in CREATABLE_TYPES | ({"tracking_data"} if entity_type == "leads" else set()):
        errors.add("type", NOT_SUPPORTED_CHOICE, f"The sandbox does not create {entity_type} fields of type {kind}.")
    return (name or "").strip(), kind or ""


def _code(data: dict[str, Any], taken: set[str], errors: Errors) -> str | None:
    """A code names the field in values (field_code), so one code can mean one field only (see README)."""
    code = errors.expect_str(data, "code", "")
    if code is not None and code in taken:
        errors.add("code", "NotUnique", "This value is already used.")
    return code


def _enums(data: dict[str, Any], kind: str, errors: Errors) -> tuple[Enum, ...]:
    """select, multiselect and radiobutton need enums [{value, sort, code?}]; other types take none."""
    if kind not in CHOICE_TYPES:
        if "enums" in data:
            errors.add("enums", "FieldNotExpected", "This field was not expected.")
        return ()
    items = objects(data.get("enums"), "enums", errors)
    if not items and "enums" not in data:
        errors.missing("enums")
    for path, item in items:
        errors.check_keys(item, {"value", "sort", "code"}, path)
        if not (isinstance(item.get("value"), str) and item["value"].strip()):
            errors.missing(join(path, "value"))
        for key, check in (("sort", is_int), ("code", lambda v: isinstance(v, str))):
            if key in item and not check(item[key]):
                errors.wrong_type(join(path, key), "int" if key == "sort" else "string")
    return tuple(Enum(0, str(i.get("value", "")), i.get("sort", 500), i.get("code")) for _, i in items)


def _required_statuses(data: dict[str, Any], errors: Errors) -> tuple[tuple[int, int], ...]:
    found = []
    for path, item in objects(data.get("required_statuses"), "required_statuses", errors):
        errors.check_keys(item, {"pipeline_id", "status_id"}, path)
        pipe = catalog.pipeline(item.get("pipeline_id")) if is_int(item.get("pipeline_id")) else None
        if pipe is None or not is_int(item.get("status_id")) or pipe.status(item["status_id"]) is None:
            errors.bad_choice(path)
        else:
            found.append((pipe.id, item["status_id"]))
    return tuple(found)


def _options(data: dict[str, Any], kind: str, errors: Errors) -> dict[str, Any]:
    sort = errors.expect_int(data, "sort", "")
    if "is_api_only" in data and not isinstance(data["is_api_only"], bool):
        errors.wrong_type("is_api_only", "bool")
    if data.get("group_id") is not None:  # field groups are not modelled: only the main group (null)
        errors.bad_choice("group_id")
    if "remind" in data and (kind != "birthday" or data["remind"] not in (*REMINDS, None)):
        errors.bad_choice("remind")
    if "tracking_callback" in data and (kind != "tracking_data" or not isinstance(data["tracking_callback"], str)):
        errors.bad_choice("tracking_callback")
    found = {"sort": DEFAULT_SORT if sort is None else sort, "is_api_only": data.get("is_api_only") is True}
    return {**found, "remind": data.get("remind"), "tracking_callback": data.get("tracking_callback")}


def _field(entity_type: str, taken: set[str], data: dict[str, Any], errors: Errors) -> FieldDraft:
    errors.check_keys(data, FIELD_KEYS, "")
    name, kind = _name_and_type(data, entity_type, errors)
    code = _code(data, taken, errors)
    if code:
        taken.add(code)  # a code sent twice in one call is a duplicate too
    extra = {"enums": _enums(data, kind, errors), "required_statuses": _required_statuses(data, errors)}
    return FieldDraft(CustomField(0, name, kind, entity_type, code=code, **_options(data, kind, errors), **extra))


def _stored(state: SandboxState, field: CustomField) -> CustomField:
    enums = tuple(replace(e, id=state.next_id("enums")) for e in field.enums)
    field = replace(field, id=state.next_id("custom_fields"), enums=enums)
    state.custom_fields[field.id] = field
    return field


def create_custom_fields(state: SandboxState, config: SandboxConfig, req: Request, entity_type: str) -> Reply:
    """An array of fields; 201 with every created field as the list shows it, plus its request_id."""
    if (refused := admin_only(state)) is not None:
        return refused
    taken = {f.code for f in state.fields(entity_type) if f.code}
    drafts, reply = read_batch(req, partial(_field, entity_type, taken))
    if reply is not None:
        return reply
    rows = [{**render_field(_stored(state, d.field), req.base_url), "request_id": d.request_id} for d in drafts]
    return hal({"_total_items": len(rows), "_embedded": {"custom_fields": rows}}, 201)
