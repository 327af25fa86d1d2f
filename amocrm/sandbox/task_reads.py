"""GET /api/v4/tasks and /api/v4/tasks/{id}: the task list with its filters and order, and one task.

Reference: https://www.amocrm.ru/developers/content/crm_platform/tasks-api (filters, order, the task model); the
official SDK's TasksFilter sends filter[task_type_id] and filter[created_by], so those are accepted too.
"""

from typing import Any

from .catalog import ACCOUNT_ID
from .config import SandboxConfig
from .entities import links
from .listing import int_params, order, page_args, paginate
from .rows import Task
from .state import SandboxState
from .tasks import ENTITY_TYPES
from .validation import FIELD_MISSING, INVALID_TYPE, NOT_SUPPORTED_CHOICE, Errors, validation_failed
from .wire import Reply, Request, hal, no_content

_FLAGS = {"1": True, "true": True, "0": False, "false": False}


def render_task(task: Task, base_url: str) -> dict[str, Any]:
    """The task model; `result` is {"text": …} once there is one, and [] before (as the docs' example shows)."""
    fields = ("id", "created_by", "updated_by", "created_at", "updated_at", "responsible_user_id", "group_id")
    more = ("entity_id", "entity_type", "duration", "is_completed", "task_type_id", "text")
    return {
        **{key: getattr(task, key) for key in (*fields, *more)},
        "result": {"text": task.result_text} if task.result_text is not None else [],
        "complete_till": task.complete_till,
        "account_id": ACCOUNT_ID,
        "_links": links(base_url, f"/api/v4/tasks/{task.id}"),
    }


def _values(req: Request, name: str) -> list[str]:
    """Every value of filter[name] and filter[name][] / filter[name][N]."""
    prefix = f"filter[{name}]"
    return [v for key, values in req.query.items() if key == prefix or key.startswith(prefix + "[") for v in values]


def _checked(req: Request) -> Errors:
    """A filter the docs do not allow answers 400: entity_id without entity_type, unknown types, bad flags."""
    errors = Errors()
    entity_types = _values(req, "entity_type")
    if int_params(req, "filter[entity_id]") and not entity_types:
        errors.add("filter[entity_type]", FIELD_MISSING, "filter[entity_id] needs filter[entity_type].")
    if any(value not in ENTITY_TYPES for value in entity_types):
        errors.add("filter[entity_type]", NOT_SUPPORTED_CHOICE, "The value you selected is not a valid choice.")
    if any(value not in _FLAGS for value in _values(req, "is_completed")):
        errors.add("filter[is_completed]", INVALID_TYPE, "This value should be of type bool.")
    return errors


def _updated(req: Request, rows: list[Task]) -> list[Task]:
    """filter[updated_at]=<unix>: changed at or after it; or [from]/[to], both inclusive."""
    exact, low, high = (req.param(f"filter[updated_at]{part}") for part in ("", "[from]", "[to]"))
    low = exact if exact is not None else low
    if low is not None and low.isdigit():
        rows = [t for t in rows if t.updated_at >= int(low)]
    if high is not None and high.isdigit():
        rows = [t for t in rows if t.updated_at <= int(high)]
    return rows


def _filtered(req: Request, rows: list[Task]) -> list[Task]:
    wanted = {
        "id": int_params(req, "filter[id]"),
        "responsible_user_id": int_params(req, "filter[responsible_user_id]"),
        "created_by": int_params(req, "filter[created_by]"),
        "task_type_id": int_params(req, "filter[task_type]") + int_params(req, "filter[task_type_id]"),
        "entity_id": int_params(req, "filter[entity_id]"),
        "entity_type": _values(req, "entity_type"),
        "is_completed": [_FLAGS[value] for value in _values(req, "is_completed")],
    }
    for key, allowed in wanted.items():
        rows = [t for t in rows if not allowed or getattr(t, key) in allowed]
    return _updated(req, rows)


def list_tasks(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    """Filters, order[created_at|complete_till|id], page, limit ≤ 250; 204 when nothing is found."""
    args = page_args(req)
    if isinstance(args, Reply):
        return args
    errors = _checked(req)
    if errors:
        return validation_failed([("0", errors)])
    rows = order(req, _filtered(req, list(state.tasks.values())), ("created_at", "complete_till", "id"))
    return paginate(req, "tasks", rows, lambda t: render_task(t, req.base_url), *args)


def get_task(state: SandboxState, config: SandboxConfig, req: Request, task_id: str) -> Reply:
    """One task; an unknown id answers 204, as every GET by id does."""
    task = state.tasks.get(int(task_id))
    return hal(render_task(task, req.base_url)) if task else no_content()
