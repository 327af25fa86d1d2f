"""What every PATCH of deals and contacts shares: the element's target id, tag changes and field replacement.

Reference: https://www.amocrm.ru/developers/content/crm_platform/tags-api (_embedded.tags sets the whole list;
tags_to_add / tags_to_delete change it) and https://www.amocrm.ru/developers/content/crm_platform/custom-fields.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import payloads
from .payloads import TagRef, objects
from .state import SandboxState
from .validation import Errors, is_int, join, read_object, validation_failed
from .wire import Reply, Request

Change = TypeVar("Change")


@dataclass
class TagChange:
    replace: list[TagRef] | None = None  # _embedded.tags: the whole new list
    add: list[TagRef] = field(default_factory=list)
    delete: list[TagRef] = field(default_factory=list)


def target_id(data: dict[str, Any], table: dict[int, Any], errors: Errors) -> int | None:
    """An element of a collection PATCH names an existing entity by `id`."""
    if "id" not in data:
        errors.missing("id")
    elif not is_int(data["id"]):
        errors.wrong_type("id", "int")
    elif data["id"] not in table:
        errors.bad_choice("id")
    else:
        return data["id"]
    return None


def _deleted(raw: Any, entity_type: str, state: SandboxState, errors: Errors) -> list[TagRef]:
    """tags_to_delete: [{id}|{name}] of the entity's own tag dictionary."""
    refs: list[TagRef] = []
    for path, item in objects(raw, "tags_to_delete", errors):
        errors.check_keys(item, {"id", "name"}, path)
        tag = state.tags.get(item["id"]) if is_int(item.get("id")) else None
        if "id" in item and (tag is None or tag.entity_type != entity_type):
            errors.bad_choice(join(path, "id"))
        elif tag is not None or isinstance(item.get("name"), str):
            refs.append(tag.id if tag is not None else item["name"])
        else:
            errors.missing(join(path, "name"))
    return refs


def tag_change(
    data: dict[str, Any], emb: dict[str, Any], entity_type: str, state: SandboxState, errors: Errors
) -> TagChange:
    replace = payloads.tags({}, emb, entity_type, state, "", errors) if "tags" in emb else None
    add = payloads.tags({"tags_to_add": data.get("tags_to_add")}, {}, entity_type, state, "", errors)
    return TagChange(replace, add, _deleted(data.get("tags_to_delete"), entity_type, state, errors))


def changed_tags(state: SandboxState, entity_type: str, current: list[int], change: TagChange) -> list[int]:
    """The entity's tag ids after the change (names not yet in the dictionary are added to it)."""

    def ids(refs: list[TagRef]) -> list[int]:
        return [ref if isinstance(ref, int) else state.tag_id(entity_type, ref) for ref in refs]

    kept = ids(change.replace) if change.replace is not None else current
    removed = set(ids(change.delete))
    return [t for t in dict.fromkeys([*kept, *ids(change.add)]) if t not in removed]


def replaced_fields(old: list[dict] | None, new: list[dict] | None) -> list[dict] | None:
    """Only the fields named change, each to exactly the values sent; the others keep theirs.

    For PHONE and EMAIL this means the values sent replace ALL of the field's values: to add a second phone, send
    the old ones with the new (maintainer in https://github.com/zero-archive/amocrm-php/issues/50).
    """
    if not new:
        return old
    named = {f["field_id"] for f in new}
    return [f for f in old or [] if f["field_id"] not in named] + new


def one_change(req: Request, parse: Callable[[dict[str, Any], Errors], Change]) -> tuple[Change | None, Reply | None]:
    """PATCH …/{id}: one object (not an array), validated like an element of the collection's PATCH."""
    data, reply = read_object(req)
    if reply is not None:
        return None, reply
    errors = Errors()
    change = parse(data, errors)
    return (None, validation_failed([("0", errors)])) if errors else (change, None)
