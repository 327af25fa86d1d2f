"""The follow-up task that tells a deal's manager to call: a batch's tasks in one request, each added once.

Reference: https://www.amocrm.ru/developers/content/crm_platform/tasks-api

Like notes, tasks carry no marker: after a request whose answer never came, the deals' tasks are read back and ours
are recognised by text and due time before anything is sent again. amoCRM refusing a task never holds its deal
back: the task is marked failed with amoCRM's words, shown on the lead's page, and the lead counts as delivered.
"""

import logging

from amocrm.api import manager_tasks
from amocrm.api.errors import AmoError, Fault
from amocrm.api.manager_tasks import RemoteTask
from amocrm.models import Delivery, Settings

logger = logging.getLogger(__name__)


def task(delivery: Delivery) -> dict:
    """One element of POST /api/v4/tasks: the recorded type, text and due time, on the deal, for its manager."""
    body = {
        "request_id": str(delivery.id),
        "text": delivery.follow_up_text,
        "complete_till": _due(delivery),
        "entity_id": delivery.amocrm_lead_id,
        "entity_type": "leads",
    }
    if delivery.follow_up_task_type_id:
        body["task_type_id"] = delivery.follow_up_task_type_id
    if delivery.responsible_user_id:  # without one amoCRM makes the connected user responsible
        body["responsible_user_id"] = delivery.responsible_user_id
    return body


def send(conn: Settings, deliveries: list[Delivery]) -> None:
    """One request for all; tasks amoCRM refuses are marked failed and the others go again at once."""
    if not deliveries:
        return
    try:
        _post(conn, deliveries)
    except AmoError as error:
        if error.fault != Fault.LEAD:
            raise
        named = {fe.request_id for fe in error.field_errors}
        refused = [d for d in deliveries if str(d.id) in named] or (deliveries if len(deliveries) == 1 else [])
        if not refused:
            for delivery in deliveries:  # amoCRM did not say which task: each alone finds out
                send(conn, [delivery])
            return
        _mark_refused(refused, error)
        send(conn, [d for d in deliveries if d not in refused])


def _post(conn: Settings, deliveries: list[Delivery]) -> None:
    # Written before the request: if no answer comes, the next attempt reads the deals' tasks back first.
    for delivery in deliveries:
        delivery.task_outcome_unknown = True
    Delivery.save_all(deliveries, "task_outcome_unknown")
    try:
        created = manager_tasks.create_tasks(conn, [task(d) for d in deliveries])
    except AmoError as error:
        if not error.outcome_unknown:  # refused outright: nothing was added
            _record(deliveries, {})
        raise
    _record(deliveries, {item.request_id: item.id for item in created})


def find_unconfirmed(conn: Settings, unconfirmed: list[Delivery]) -> None:
    """Which of these deals got our task although no answer came: one list of the deals' tasks."""
    if not unconfirmed:
        return
    tasks = manager_tasks.list_lead_tasks(conn, sorted({d.amocrm_lead_id for d in unconfirmed}))
    found: dict[str, int] = {}
    for delivery in unconfirmed:
        ours = next((t for t in tasks if _is_ours(t, delivery) and t.id not in found.values()), None)
        if ours is not None:
            found[str(delivery.id)] = ours.id
    _record(unconfirmed, found)


def _is_ours(remote: RemoteTask, delivery: Delivery) -> bool:
    # Matched by text and due time too: a task staff or a Digital Pipeline put on the deal must not pass for ours.
    same_text = " ".join(remote.text.split()) == " ".join(delivery.follow_up_text.split())
    return remote.entity_id == delivery.amocrm_lead_id and same_text and remote.complete_till == _due(delivery)


def _due(delivery: Delivery) -> int:
    return int(delivery.follow_up_due_at.timestamp())


def _record(deliveries: list[Delivery], task_ids: dict[str, int]) -> None:
    for delivery in deliveries:
        delivery.task_id, delivery.task_outcome_unknown = task_ids.get(str(delivery.id)), False
    Delivery.save_all(deliveries, "task_id", "task_outcome_unknown")


def _mark_refused(deliveries: list[Delivery], error: AmoError) -> None:
    logger.warning("amoCRM refused the follow-up task of deliveries %s", [d.id for d in deliveries])
    for delivery in deliveries:
        paths = [fe.path for fe in error.field_errors if fe.request_id == str(delivery.id) and fe.path]
        delivery.task_error = f"{error.message} ({', '.join(paths)})" if paths else error.message
    Delivery.save_all(deliveries, "task_error")
