"""The sandbox's HTML: consent page, error pages, gateway pages and the overview at `/`.

Every value shown is escaped: lead names and field values come straight from web-form visitors.

Reference: https://www.amocrm.ru/developers/content/api/recommendations,
https://www.amocrm.ru/developers/content/oauth/step-by-step,
https://www.amocrm.ru/developers/content/crm_platform/webhooks-format
"""

import time
from collections.abc import Iterable
from html import escape
from http import HTTPStatus
from typing import Any

from . import catalog
from .entities import field_values

_STYLE = """<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin-bottom:2rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}
button{font-size:1rem;padding:.4rem 1.2rem;margin-right:.5rem}.muted{color:#777}
td form{display:inline;margin:0}td form button{font-size:.85rem;padding:.1rem .5rem}
</style>"""


class Markup(str):
    """A table cell that is already HTML (built here from escaped parts), so it is not escaped again."""


def _document(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>{_STYLE}</head>'
        f"<body>{body}</body></html>"
    )


def gateway_page(status: int) -> str:
    """429/403/502/504 come from the nginx gateway as a bare HTML page (#526, #434)."""
    line = f"{status} {HTTPStatus(status).phrase}"
    lines = [f"<head><title>{line}</title></head>", "<body>", f"<center><h1>{line}</h1></center>"]
    lines += ["<hr><center>nginx</center>", "</body>", "</html>"]
    return "<html>\r\n" + "\r\n".join(lines) + "\r\n"


def error_page(title: str, message: str) -> str:
    return _document(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>")


def consent_page(integration: str, subdomain: str, fields: dict[str, str]) -> str:
    """The user allows or denies access; both buttons are plain forms a browser test can click."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">' for name, value in fields.items()
    )
    form = (
        f'<form method="post" action="/oauth">{hidden}'
        '<button type="submit" name="decision" value="allow" id="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny" id="deny">Deny</button></form>'
    )
    body = (
        f"<h1>Grant access?</h1><p>The integration <strong>{escape(integration)}</strong> asks for access to the "
        f"sandbox account <strong>{escape(subdomain)}</strong>.</p>{form}"
        '<p class="muted">amoCRM sandbox: nothing here reaches a real account.</p>'
    )
    return _document("amoCRM sandbox: grant access", body)


def _table(title: str, headers: list[str], rows: Iterable[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    cells = ["<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows]
    body = "".join(cells) or f'<tr><td colspan="{len(headers)}" class="muted">none yet</td></tr>'
    return f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    return value if isinstance(value, Markup) else escape(str(value))


def _stage_form(lead_id: int, pipeline_id: int, status_id: int) -> Markup:
    """Move the deal to another stage, or delete it: the sandbox sends the webhooks amoCRM would."""
    groups = []
    for pipe in catalog.PIPELINES:
        options = "".join(
            f'<option value="{pipe.id}:{s.id}"{" selected" if (pipe.id, s.id) == (pipeline_id, status_id) else ""}>'
            f"{escape(s.name)}</option>"
            for s in pipe.statuses
            if s.type != catalog.UNSORTED_TYPE or (pipe.id, s.id) == (pipeline_id, status_id)
        )
        groups.append(f'<optgroup label="{escape(pipe.name)}">{options}</optgroup>')
    return Markup(
        f'<form method="post" action="/leads/{lead_id}/stage"><select name="stage">{"".join(groups)}</select>'
        f'<button type="submit">Move</button></form> '
        f'<form method="post" action="/leads/{lead_id}/delete"><button type="submit">Delete</button></form>'
    )


def _values(custom_fields_values: list[dict] | None) -> str:
    parts = [
        f"{f['field_name']}: {', '.join(str(v['value']) for v in f['values'])}" for f in custom_fields_values or []
    ]
    return "; ".join(parts)


def _stage(pipeline_id: int, status_id: int) -> str:
    pipe = catalog.pipeline(pipeline_id)
    status = pipe.status(status_id) if pipe else None
    return f"{pipe.name if pipe else pipeline_id} / {status.name if status else status_id}"


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _users(dump: dict[str, Any]) -> list[list[Any]]:
    """The account's people: who is an admin, who has left, and whose rights the integration runs with."""
    return [
        [
            u["id"],
            u["name"] + (" (integration connected as this user)" if u["id"] == dump["connected_user_id"] else ""),
            u["email"],
            "admin" if u["is_admin"] else "",
            "" if u["is_active"] else "deactivated",
            catalog.USER_GROUPS.get(u["group_id"], "") if u["group_id"] is not None else "",
        ]
        for u in dump["users"]
    ]


def _tasks(dump: dict[str, Any]) -> list[list[Any]]:
    names = {u["id"]: u["name"] for u in dump["users"]}
    types = {t.id: t.name for t in catalog.TASK_TYPES}
    return [
        [
            t["id"],
            t["text"],
            types.get(t["task_type_id"], t["task_type_id"]),
            names.get(t["responsible_user_id"], t["responsible_user_id"]),
            f"{t['entity_type']} {t['entity_id']}" if t["entity_type"] else "",
            _when(t["complete_till"]),
            ("done" + (f": {t['result_text']}" if t["result_text"] else "")) if t["is_completed"] else "",
        ]
        for t in reversed(dump["tasks"])
    ]


def _leads(dump: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            r["id"],
            r["name"],
            _stage(r["pipeline_id"], r["status_id"]),
            r["price"],
            r["contact_ids"],
            _values(r["custom_fields_values"]),
            _stage_form(r["id"], r["pipeline_id"], r["status_id"]),
        ]
        for r in reversed(dump["leads"])
    ]


def _contacts(dump: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            c["id"],
            c["name"],
            ", ".join(field_values(c["custom_fields_values"], "PHONE")),
            ", ".join(field_values(c["custom_fields_values"], "EMAIL")),
            "yes" if c["in_unsorted"] else "",
        ]
        for c in reversed(dump["contacts"])
    ]


def _notes(dump: dict[str, Any]) -> list[list[Any]]:
    return [
        [n["id"], n["entity_id"], n["note_type"], n["params"].get("text", n["params"])] for n in reversed(dump["notes"])
    ]


def _unsorted(dump: dict[str, Any]) -> list[list[Any]]:
    return [[u["uid"], u["source_name"], u["lead_id"], u["contact_id"]] for u in reversed(dump["unsorted"])]


def _requests(dump: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            _when(r["time"]),
            r["method"],
            r["path"] + (f"?{r['query']}" if r["query"] else ""),
            r["status"],
            r["connection"],
            "dropped" if r["dropped"] else "",
        ]
        for r in reversed(dump["requests"][-50:])
    ]


def _webhooks(dump: dict[str, Any]) -> list[list[Any]]:
    return [[w["id"], w["destination"], ", ".join(w["settings"]), "disabled" if w["disabled"] else ""]
            for w in dump["webhooks"]]  # fmt: skip


def _sent(dump: dict[str, Any]) -> list[list[Any]]:
    return [
        [_when(d["time"]), d["event"], d["lead_id"], d["destination"], d["status"] or d["error"]]
        for d in reversed(dump["webhook_deliveries"][-50:])
    ]


_SECTIONS = (
    ("Leads", ["id", "name", "pipeline / status", "price", "contacts", "fields", "change"], _leads),
    ("Contacts", ["id", "name", "phones", "emails", "in unsorted"], _contacts),
    ("Notes", ["id", "lead", "type", "text"], _notes),
    ("Tasks", ["id", "text", "type", "responsible", "attached to", "due", "completed"], _tasks),
    ("Unsorted", ["uid", "source", "lead", "contact"], _unsorted),
    ("Recent requests", ["time", "method", "path", "status", "connection", ""], _requests),
    ("Webhooks", ["id", "destination", "events", ""], _webhooks),
    ("Webhooks sent", ["time", "event", "lead", "destination", "answer"], _sent),
    ("Users", ["id", "name", "email", "rights", "status", "group"], _users),
)


def index_page(dump: dict[str, Any], base_url: str, config: dict[str, Any], faults: dict[str, Any]) -> str:
    """What arrived: leads, contacts, notes, tasks, unsorted items and the most recent requests; the users."""
    blocked = " — <strong>BLOCKED (403)</strong>" if faults["blocked"] else ""
    header = (
        f"<h1>amoCRM sandbox</h1><p>Account <strong>{escape(config['subdomain'])}</strong> at "
        f"<code>{escape(base_url)}</code>; integration <code>{escape(config['client_id'])}</code>, redirect URI "
        f"<code>{escape(config['redirect_uri'])}</code>{blocked}.</p>"
        '<p class="muted">JSON: <a href="/_sandbox/state">/_sandbox/state</a>, '
        '<a href="/_sandbox/control">/_sandbox/control</a></p>'
    )
    tables = "".join(_table(title, headers, rows(dump)) for title, headers, rows in _SECTIONS)
    return _document("amoCRM sandbox", header + tables)
