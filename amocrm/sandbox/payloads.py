"""Request bodies of the write endpoints, checked as strictly as amoCRM and turned into drafts.

Reference: https://www.amocrm.ru/developers/content/crm_platform/contacts-api,
https://www.amocrm.ru/developers/content/crm_platform/leads-api,
https://www.amocrm.ru/developers/content/crm_platform/error-codes,
https://www.amocrm.ru/developers/content/crm_platform/tags-api,
https://www.amocrm.ru/developers/content/crm_platform/unsorted-api
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from . import catalog
from .catalog import UNSORTED_TYPE
from .field_values import parse_cf_values
from .state import SandboxState
from .validation import Errors, is_int, join, validation_failed
from .wire import Reply, Request, problem

TagRef = int | str  # an existing tag id, or a name to find or create

_INT, _STR = "int", "string"
_COMMON = {"responsible_user_id": _INT, "created_by": _INT, "updated_by": _INT, "created_at": _INT, "updated_at": _INT}
LEAD_SCALARS = {"name": _STR, "price": _INT, "closed_at": _INT, "loss_reason_id": _INT, **_COMMON}
CONTACT_SCALARS = {"name": _STR, "first_name": _STR, "last_name": _STR, **_COMMON}
COMPANY_SCALARS = {"name": _STR, **_COMMON}
# The documented top-level keys; anything else is rejected.
_ENTITY_EXTRAS = {"custom_fields_values", "tags_to_add", "_embedded", "request_id"}
LEAD_KEYS = set(LEAD_SCALARS) | {"status_id", "pipeline_id"} | _ENTITY_EXTRAS
CONTACT_KEYS = set(CONTACT_SCALARS) | _ENTITY_EXTRAS
COMPANY_KEYS = set(COMPANY_SCALARS) | _ENTITY_EXTRAS


@dataclass
class EntityDraft:
    """A contact or company to create, or (link_id) an existing one to attach."""

    attrs: dict[str, Any] = field(default_factory=dict)
    custom_fields_values: list[dict] | None = None
    tags: list[TagRef] = field(default_factory=list)
    link_id: int | None = None
    is_main: bool = True
    request_id: str = "0"


@dataclass
class LeadDraft:
    attrs: dict[str, Any]
    pipeline_id: int
    status_id: int
    custom_fields_values: list[dict] | None = None
    tags: list[TagRef] = field(default_factory=list)
    contacts: list[EntityDraft] = field(default_factory=list)
    companies: list[EntityDraft] = field(default_factory=list)
    metadata: dict[str, Any] | None = None  # present -> the lead goes to Unsorted
    request_id: str = "0"


def read_array(req: Request, limit: int, over_limit: Reply) -> tuple[list[Any], Reply | None]:
    """Batch bodies are non-empty JSON arrays within the endpoint's size limit."""
    if not req.body.strip():
        return [], problem(400, "Request data can not be empty")
    try:
        data = req.json()
    except ValueError:
        return [], problem(400, "Request body is not a valid JSON")
    if data in ([], {}, None, ""):
        return [], problem(400, "Request data can not be empty")
    if not isinstance(data, list):
        errors = Errors()
        errors.wrong_type("", "array")
        return [], validation_failed([("0", errors)])
    if len(data) > limit:
        return [], over_limit
    return data, None


ParseOne = Callable[[dict[str, Any], Errors], Any]
CREATE_LIMIT = 250


def read_batch(
    req: Request, parse_one: ParseOne, limit: int = CREATE_LIMIT, over_limit: Reply | None = None
) -> tuple[list[Any], Reply | None]:
    """A create call's body as drafts; more than 250 entities answers 422 unless the endpoint says otherwise."""
    items, reply = read_array(req, limit, over_limit or problem(422, f"Limit {limit} per request"))
    if reply is not None:
        return [], reply
    return parse_batch(items, parse_one)


def parse_batch(items: list[Any], parse_one: ParseOne) -> tuple[list[Any], Reply | None]:
    """Validate every element; one bad element fails the whole batch, naming it by request_id."""
    drafts, report = [], []
    for index, item in enumerate(items):
        errors = Errors()
        request_id = str(index)
        if not isinstance(item, dict):
            errors.wrong_type("", "array")
        else:
            request_id = _request_id(item, index, errors)
            draft = parse_one(item, errors)
            draft.request_id = request_id
            drafts.append(draft)
        report.append((request_id, errors))
    if any(errors for _, errors in report):
        return [], validation_failed(report)
    return drafts, None


def _request_id(item: dict[str, Any], index: int, errors: Errors) -> str:
    """request_id is a string echoed back; without it the element's index is used."""
    value = item.get("request_id")
    if value is None:
        return str(index)
    if not isinstance(value, str):
        errors.wrong_type("request_id", _STR)
        return str(index)
    return value


def scalars(
    data: dict[str, Any], spec: dict[str, str], prefix: str, errors: Errors, users: Collection[int]
) -> dict[str, Any]:
    """Typed top-level values; a user id must be one of the account's `users` (the path names the field)."""
    attrs = {}
    for key, kind in spec.items():
        value = errors.expect_int(data, key, prefix) if kind == _INT else errors.expect_str(data, key, prefix)
        if value is not None:
            attrs[key] = value
    if "responsible_user_id" in attrs and attrs["responsible_user_id"] not in users:
        errors.bad_choice(join(prefix, "responsible_user_id"))
    for key in ("created_by", "updated_by"):  # 0 means "robot"
        if attrs.get(key, 0) != 0 and attrs[key] not in users:
            errors.bad_choice(join(prefix, key))
    return attrs


def embedded(data: dict[str, Any], allowed: set[str], prefix: str, errors: Errors) -> dict[str, Any]:
    value = data.get("_embedded")
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.wrong_type(join(prefix, "_embedded"), "array")
        return {}
    errors.check_keys(value, allowed, join(prefix, "_embedded"))
    return value


def tags(
    data: dict[str, Any], emb: dict[str, Any], entity_type: str, state: SandboxState, prefix: str, errors: Errors
) -> list[TagRef]:
    """tags_to_add / _embedded.tags as [{id}|{name}]; ids must exist in that entity's dictionary."""
    refs: list[TagRef] = []
    for key, raw in (("tags_to_add", data.get("tags_to_add")), ("_embedded.tags", emb.get("tags"))):
        for path, item in objects(raw, join(prefix, key), errors):
            errors.check_keys(item, {"id", "name"}, path)
            tag = state.tags.get(item["id"]) if is_int(item.get("id")) else None
            if "id" in item and (tag is None or tag.entity_type != entity_type):
                errors.bad_choice(join(path, "id"))
            elif tag is not None:
                refs.append(tag.id)
            elif isinstance(item.get("name"), str) and item["name"].strip():
                refs.append(item["name"].strip())
            else:
                errors.missing(join(path, "name"))
    return refs


def objects(raw: Any, path: str, errors: Errors, most: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The elements of a list of objects with their paths; type and count errors recorded."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.wrong_type(path, "array")
        return []
    if most is not None and len(raw) > most:
        errors.add(path, "TooManyItems", f"This collection should contain {most} element or less.")
    found = []
    for i, item in enumerate(raw):
        if isinstance(item, dict):
            found.append((join(path, i), item))
        else:
            errors.wrong_type(join(path, i), "array")
    return found


def entity(data: dict[str, Any], kind: str, state: SandboxState, prefix: str, errors: Errors) -> EntityDraft:
    """A full contact or company model to create."""
    keys, spec = (CONTACT_KEYS, CONTACT_SCALARS) if kind == "contacts" else (COMPANY_KEYS, COMPANY_SCALARS)
    errors.check_keys(data, keys, prefix)
    attrs = scalars(data, spec, prefix, errors, state.users)
    emb = embedded(data, {"tags"}, prefix, errors)
    cf_path = join(prefix, "custom_fields_values")
    cf = parse_cf_values(data.get("custom_fields_values"), state.fields(kind), cf_path, errors)
    return EntityDraft(attrs, cf, tags(data, emb, kind, state, prefix, errors))


def link(data: dict[str, Any], kind: str, state: SandboxState, path: str, errors: Errors) -> EntityDraft:
    """{id[, is_main]}: attach an existing contact or company."""
    errors.check_keys(data, {"id", "is_main"} if kind == "contacts" else {"id"}, path)
    table = state.contacts if kind == "contacts" else state.companies
    if not is_int(data.get("id")) or data["id"] not in table:
        errors.bad_choice(join(path, "id"))
    is_main = data.get("is_main", True)
    if not isinstance(is_main, bool):
        errors.wrong_type(join(path, "is_main"), "bool")
    return EntityDraft(link_id=data.get("id"), is_main=is_main is not False)


def stage(data: dict[str, Any], prefix: str, errors: Errors, allow_unsorted: bool = False) -> tuple[int, int]:
    """Default is the main pipeline's first stage; status_id must belong to the lead's pipeline."""
    pipeline_id = errors.expect_int(data, "pipeline_id", prefix)
    pipe = catalog.MAIN_PIPELINE if pipeline_id is None else catalog.pipeline(pipeline_id)
    if pipe is None:
        errors.bad_choice(join(prefix, "pipeline_id"))
        return catalog.MAIN_PIPELINE.id, catalog.MAIN_PIPELINE.first_stage.id
    status_id = errors.expect_int(data, "status_id", prefix)
    if status_id is None:
        return pipe.id, pipe.first_stage.id
    status = pipe.status(status_id)
    if status is None or (status.type == UNSORTED_TYPE and not allow_unsorted):
        errors.bad_choice(join(prefix, "status_id"))
    return pipe.id, status_id


def lead(
    data: dict[str, Any],
    state: SandboxState,
    errors: Errors,
    emb_keys: set[str],
    prefix: str = "",
    keys: set[str] = LEAD_KEYS,
) -> tuple[LeadDraft, dict[str, Any]]:
    """The lead fields every create endpoint shares, and its _embedded for the caller's own parts."""
    errors.check_keys(data, keys, prefix)
    emb = embedded(data, emb_keys, prefix, errors)
    pipeline_id, status_id = stage(data, prefix, errors, allow_unsorted="metadata" in emb)
    cf_path = join(prefix, "custom_fields_values")
    draft = LeadDraft(
        attrs=scalars(data, LEAD_SCALARS, prefix, errors, state.users),
        pipeline_id=pipeline_id,
        status_id=status_id,
        custom_fields_values=parse_cf_values(data.get("custom_fields_values"), state.fields("leads"), cf_path, errors),
        tags=tags(data, emb, "leads", state, prefix, errors),
    )
    return draft, emb


def source(emb: dict[str, Any], prefix: str, errors: Errors) -> None:
    """_embedded.source{external_id, type:"widget"}: the sandbox integration has no sources to match."""
    raw = emb.get("source")
    if raw is None:
        return
    path = join(prefix, "_embedded.source")
    if not isinstance(raw, dict):
        errors.wrong_type(path, "array")
        return
    errors.check_keys(raw, {"external_id", "type"}, path)
    errors.bad_choice(join(path, "external_id"))


def contact_or_link(data: dict[str, Any], kind: str, state: SandboxState, path: str, errors: Errors) -> EntityDraft:
    """An embedded contact/company is either {id} of an existing one or a full model."""
    return link(data, kind, state, path, errors) if "id" in data else entity(data, kind, state, path, errors)


FORMS_METADATA = {
    "form_id": _STR,
    "form_name": _STR,
    "form_page": _STR,
    "ip": _STR,
    "form_sent_at": _INT,
    "referer": _STR,
    "visitor_uid": _STR,
    "form_type": _INT,
}


def forms_metadata(raw: Any, path: str, errors: Errors, categorised: bool) -> dict[str, Any]:
    """Web-form metadata; inside /leads/complex it also names its category, forms or sip."""
    if not isinstance(raw, dict):
        if raw is None:
            errors.missing(path)
        else:
            errors.wrong_type(path, "array")
        return {}
    if categorised and raw.get("category") not in ("forms", "sip"):
        errors.bad_choice(join(path, "category"))
    if raw.get("category") == "sip":
        return dict(raw)  # call metadata: the sandbox does not model telephony
    errors.check_keys(raw, set(FORMS_METADATA) | ({"category"} if categorised else set()), path)
    scalars(raw, FORMS_METADATA, path, errors, users=())
    return dict(raw)
