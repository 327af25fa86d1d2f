"""Tasks for managers: the follow-up tasks of a batch in one request, looked up by deal, and the account's types.

Reference: https://www.amocrm.ru/developers/content/crm_platform/tasks-api
"""

from dataclasses import dataclass
from typing import Any

from amocrm.api.client import MAX_PAGE_SIZE, MAX_PAGES, _call, _check_batch
from amocrm.models import Settings


@dataclass(frozen=True)
class CreatedTask:
    id: int
    request_id: str


@dataclass(frozen=True)
class RemoteTask:
    id: int
    entity_id: int | None
    entity_type: str
    responsible_user_id: int
    task_type_id: int
    text: str
    complete_till: int
    is_completed: bool


@dataclass(frozen=True)
class TaskType:
    id: int
    name: str


# Reference: https://www.amocrm.ru/developers/content/crm_platform/tasks-api#tasks-add
def create_tasks(conn: Settings, tasks: list[dict]) -> list[CreatedTask]:
    """POST /api/v4/tasks: up to 50 tasks; the new tasks' ids with the request_id each was sent with."""
    _check_batch(tasks)
    return _call(conn, "POST", "/api/v4/tasks", _created_tasks, json=tasks) if tasks else []


# Reference: https://www.amocrm.ru/developers/content/crm_platform/tasks-api#tasks-list
def list_lead_tasks(conn: Settings, lead_ids: list[int]) -> list[RemoteTask]:
    """GET /api/v4/tasks?filter[entity_type]=leads&filter[entity_id][]=…: every task of these deals; 204 is none."""
    found: list[RemoteTask] = []
    for start in range(0, len(lead_ids), MAX_PAGE_SIZE):
        found += _tasks_of(conn, lead_ids[start : start + MAX_PAGE_SIZE])
    return found


def _tasks_of(conn: Settings, lead_ids: list[int]) -> list[RemoteTask]:
    found: list[RemoteTask] = []
    for page in range(1, MAX_PAGES + 1):
        params = {"filter[entity_type]": "leads", "filter[entity_id][]": lead_ids, "page": page, "limit": MAX_PAGE_SIZE}
        tasks, has_next = _call(conn, "GET", "/api/v4/tasks", _tasks_page, params=params)
        found += tasks
        if not has_next:
            break
    return found


# Reference: https://www.amocrm.ru/developers/content/crm_platform/account-info (with=task_types)
def list_task_types(conn: Settings) -> list[TaskType]:
    """GET /api/v4/account?with=task_types: the standard call and meeting types and the account's own."""
    params = {"with": "task_types"}
    # Optional to the catalog (built-in types stand in): a failure here is not the connection's last error.
    return _call(conn, "GET", "/api/v4/account", _task_types, params=params, record_errors=False)


def _created_tasks(body: Any) -> list[CreatedTask]:
    rows = [] if body is None else body["_embedded"]["tasks"]
    return [CreatedTask(id=int(row["id"]), request_id=str(row.get("request_id", ""))) for row in rows]


def _tasks_page(body: Any) -> tuple[list[RemoteTask], bool]:
    if body is None:
        return [], False
    tasks = [_remote_task(row) for row in body["_embedded"]["tasks"]]
    return tasks, "next" in (body.get("_links") or {})


def _remote_task(row: dict) -> RemoteTask:
    return RemoteTask(
        id=int(row["id"]),
        entity_id=int(row["entity_id"]) if row.get("entity_id") else None,
        entity_type=str(row.get("entity_type") or ""),
        responsible_user_id=int(row.get("responsible_user_id") or 0),
        task_type_id=int(row.get("task_type_id") or 0),
        text=str(row.get("text") or ""),
        complete_till=int(row.get("complete_till") or 0),
        is_completed=bool(row.get("is_completed")),
    )


def _task_types(body: dict) -> list[TaskType]:
    rows = (body.get("_embedded") or {}).get("task_types") or []
    return [TaskType(id=int(row["id"]), name=str(row.get("name") or row["id"])) for row in rows]
