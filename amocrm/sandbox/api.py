"""The /api/v4 route table: which handler answers which method and path.

Reference: https://www.amocrm.ru/developers/content/crm_platform/error-codes,
https://www.amocrm.ru/developers/content/crm_platform/webhooks-api
"""

import re
from collections.abc import Callable

from . import (
    complex_leads,
    contact_updates,
    custom_fields,
    lead_updates,
    reads,
    task_reads,
    tasks,
    unsorted,
    users,
    webhooks,
    writes,
)
from .config import SandboxConfig
from .state import SandboxState
from .wire import Reply, Request, problem

Handler = Callable[..., Reply]

_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", r"/api/v4/account", reads.get_account),
    ("GET", r"/api/v4/leads/pipelines", reads.list_pipelines),
    ("GET", r"/api/v4/leads/pipelines/(\d+)", reads.get_pipeline),
    ("GET", r"/api/v4/leads/pipelines/(\d+)/statuses", reads.list_statuses),
    ("GET", r"/api/v4/(leads|contacts|companies)/custom_fields", custom_fields.list_custom_fields),
    ("POST", r"/api/v4/(leads|contacts|companies)/custom_fields", custom_fields.create_custom_fields),
    ("GET", r"/api/v4/leads", reads.list_leads),
    ("POST", r"/api/v4/leads", writes.create_leads),
    ("PATCH", r"/api/v4/leads", lead_updates.update_leads),
    ("POST", r"/api/v4/leads/complex", complex_leads.create_complex),
    ("GET", r"/api/v4/leads/notes", reads.list_notes),
    ("POST", r"/api/v4/leads/notes", writes.create_notes),
    ("POST", r"/api/v4/leads/unsorted/forms", unsorted.create_forms),
    ("GET", r"/api/v4/leads/(\d+)", reads.get_lead),
    ("PATCH", r"/api/v4/leads/(\d+)", lead_updates.update_lead),
    ("GET", r"/api/v4/leads/(\d+)/notes", reads.list_notes),
    ("POST", r"/api/v4/leads/(\d+)/notes", writes.create_notes),
    ("GET", r"/api/v4/contacts", reads.list_contacts),
    ("POST", r"/api/v4/contacts", writes.create_contacts),
    ("PATCH", r"/api/v4/contacts", contact_updates.update_contacts),
    ("GET", r"/api/v4/contacts/(\d+)", reads.get_contact),
    ("PATCH", r"/api/v4/contacts/(\d+)", contact_updates.update_contact),
    ("GET", r"/api/v4/tasks", task_reads.list_tasks),
    ("POST", r"/api/v4/tasks", tasks.create_tasks),
    ("GET", r"/api/v4/tasks/(\d+)", task_reads.get_task),
    ("GET", r"/api/v4/users", users.list_users),
    ("GET", r"/api/v4/users/(\d+)", users.get_user),
    ("GET", r"/api/v4/webhooks", webhooks.list_webhooks),
    ("POST", r"/api/v4/webhooks", webhooks.subscribe),
    ("DELETE", r"/api/v4/webhooks", webhooks.unsubscribe),
]
ROUTES = [(method, re.compile(pattern), handler) for method, pattern, handler in _ROUTES]


def not_found(req: Request) -> Reply:
    """An unknown route is 404 problem+json ("Cannot GET <url>"); a missing entity is 204 instead."""
    return problem(404, f"Cannot {req.method} {req.base_url}{req.path}")


def dispatch(state: SandboxState, config: SandboxConfig, req: Request) -> Reply:
    allowed = []
    for method, pattern, handler in ROUTES:
        found = pattern.fullmatch(req.path)
        if found and method == req.method:
            with state.lock:
                return handler(state, config, req, *found.groups())
        if found:
            allowed.append(method)
    if not allowed:
        return not_found(req)
    reply = problem(405, f"Method {req.method} is not allowed")
    reply.headers["Allow"] = ", ".join(allowed)
    return reply
