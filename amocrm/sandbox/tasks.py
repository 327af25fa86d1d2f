"""POST /api/v4/tasks: tasks for the account's users, attached to a deal, contact, company or customer, or to nothing.

Reference: https://www.amocrm.ru/developers/content/crm_platform/tasks-api ("a task must have a responsible user and
a due time"; text and complete_till are required; standard task types 1 and 2 have fixed ids).
"""

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import catalog, payloads
from .config import SandboxConfig
from .entities import created_row, links
from .payloads import read_batch
from .rows import Task
from .state import SandboxState
from .validation import Errors, is_int
from .wire import Reply, Request, hal

ENTITY_TYPES = ("leads", "contacts", "companies", "customers")
TASK_KEYS = {
    "text", "complete_till", "entity_id", "entity_type", "task_type_id", "responsible_user_id", "duration",
    "is_completed", "result", "created_by", "updated_by", "created_at", "updated_at", "request_id",
}  # fmt: skip
_USER_SCALARS = {"responsible_user_id": "int", "created_by": "int", "updated_by": "int"}
_TIMES = {"created_at": "int", "updated_at": "int"}


@dataclass
class TaskDraft:
    text: str
    complete_till: int
    attrs: dict[str, Any] = field(default_factory=dict)
    request_id: str = "0"


def _required(data: dict[str, Any], errors: Errors) -> tuple[str, int]:
    """text (a non-blank string) and complete_till (a unix time) are the two required fields."""
    text, complete_till = data.get("text"), data.get("complete_till")
    if text is None:
        errors.missing("text")
    elif not isinstance(text, str):
        errors.wrong_type("text", "string")
    elif not text.strip():
        errors.add("text", "NotBlank", "This value should not be blank.")
    if complete_till is None:
        errors.missing("complete_till")
    elif not is_int(complete_till):
        errors.wrong_type("complete_till", "int")
    return (text if isinstance(text, str) else ""), (complete_till if is_int(complete_till) else 0)


def _entities(state: SandboxState, entity_type: str) -> dict[int, Any]:
    """The sandbox has no customers: a task can name that type but no customer exists."""
    tables = {"leads": state.leads, "contacts": state.contacts, "companies": state.companies}
    return tables.get(entity_type, {})


def _target(state: SandboxState, data: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """entity_type and entity_id come together, naming an existing entity; neither means a task on nothing."""
    entity_type, entity_id = data.get("entity_type"), data.get("entity_id")
    if entity_type is None and entity_id is None:
        return {}
    if entity_type is None:
        errors.missing("entity_type")
    elif entity_type not in ENTITY_TYPES:
        errors.bad_choice("entity_type")
    if entity_id is None:
        errors.missing("entity_id")
    elif not is_int(entity_id):
        errors.wrong_type("entity_id", "int")
    elif entity_type in ENTITY_TYPES and entity_id not in _entities(state, entity_type):
        errors.bad_choice("entity_id")
    return {"entity_type": entity_type, "entity_id": entity_id}


def _options(data: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """task_type_id (a type of the account), duration (seconds), is_completed, result{text}."""
    found: dict[str, Any] = {}
    task_type_id = errors.expect_int(data, "task_type_id", "")
    if task_type_id is not None and task_type_id not in {t.id for t in catalog.TASK_TYPES}:
        errors.bad_choice("task_type_id")
    duration = errors.expect_int(data, "duration", "")
    if duration is not None and duration < 0:
        errors.add("duration", "GreaterThanOrEqual", "This value should be greater than or equal to 0.")
    if "is_completed" in data and not isinstance(data["is_completed"], bool):
        errors.wrong_type("is_completed", "bool")
    found.update(task_type_id=task_type_id, duration=duration, is_completed=data.get("is_completed"))
    found["result_text"] = _result(data.get("result"), errors)
    return {key: value for key, value in found.items() if value is not None}


def _result(raw: Any, errors: Errors) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.wrong_type("result", "array")
        return None
    errors.check_keys(raw, {"text"}, "result")
    return errors.expect_str(raw, "text", "result")


def _task(state: SandboxState, data: dict[str, Any], errors: Errors) -> TaskDraft:
    errors.check_keys(data, TASK_KEYS, "")
    text, complete_till = _required(data, errors)
    attrs = payloads.scalars(data, {**_USER_SCALARS, **_TIMES}, "", errors, state.users)
    return TaskDraft(text, complete_till, {**attrs, **_target(state, data, errors), **_options(data, errors)})


def add_task(state: SandboxState, draft: TaskDraft) -> Task:
    """Defaults: the connected user is responsible and the author; the task's group is its responsible user's."""
    now, user_id = state.clock.timestamp(), state.connected_user_id
    attrs = {"responsible_user_id": user_id, "created_by": user_id, "updated_by": user_id, **draft.attrs}
    attrs.setdefault("created_at", now)
    attrs.setdefault("updated_at", attrs["created_at"])
    task = Task(state.next_id("tasks"), draft.text, draft.complete_till, **attrs)
    task.group_id = state.users[task.responsible_user_id].group_id or 0
    state.tasks[task.id] = task
    return task


def create_tasks(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """An array of up to 250 tasks; one bad element fails them all, named by its request_id."""
    drafts, reply = read_batch(req, partial(_task, state))
    if reply is not None:
        return reply
    rows = [created_row(req.base_url, "tasks", add_task(state, d).id, d.request_id) for d in drafts]
    return hal({"_links": links(req.base_url, req.path), "_embedded": {"tasks": rows}})
