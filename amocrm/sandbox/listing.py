"""Paging, ordering and full-text matching shared by the list endpoints.

Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-api,
https://www.amocrm.ru/developers/content/api/recommendations,
https://www.amocrm.ru/developers/content/crm_platform/custom-fields,
https://www.amocrm.ru/developers/content/crm_platform/contacts-api
"""

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from .wire import Reply, Request, hal, no_content, problem

MAX_LIMIT = 250
DEFAULT_LIMIT = 50

Row = TypeVar("Row")


def page_args(req: Request) -> tuple[int, int] | Reply:
    """`page` is 1-based, `limit` at most 250 (more answers 422 "Limit 250 per page")."""
    try:
        page = int(req.param("page") or 1)
        limit = int(req.param("limit") or DEFAULT_LIMIT)
    except ValueError:
        return problem(400, "Invalid page or limit")
    if limit > MAX_LIMIT:
        return problem(422, f"Limit {MAX_LIMIT} per page")
    if page < 1 or limit < 1:
        return problem(400, "Invalid page or limit")
    return page, limit


def with_values(req: Request) -> set[str]:
    """`with=a,b` as a set."""
    return {part.strip() for value in req.query.get("with", []) for part in value.split(",") if part.strip()}


def _href(req: Request, page: int, limit: int) -> dict[str, str]:
    params = [(k, v) for k, v in parse_qsl(req.raw_query, keep_blank_values=True) if k not in ("page", "limit")]
    params += [("page", str(page)), ("limit", str(limit))]
    return {"href": f"{req.base_url}{req.path}?{urlencode(params)}"}


def paginate(
    req: Request,
    key: str,
    rows: Sequence[Row],
    render: Callable[[Row], dict[str, Any]],
    page: int,
    limit: int,
    with_totals: bool = False,
) -> Reply:
    """One page with _links (next only when more follow); 204 when the page is empty."""
    start = (page - 1) * limit
    chunk = rows[start : start + limit]
    if not chunk:
        return no_content()
    links = {"self": _href(req, page, limit)}
    if page > 1:
        links["first"] = _href(req, 1, limit)
        links["prev"] = _href(req, page - 1, limit)
    if start + limit < len(rows):
        links["next"] = _href(req, page + 1, limit)
    body: dict[str, Any] = {"_page": page, "_links": links, "_embedded": {key: [render(row) for row in chunk]}}
    if with_totals:  # custom-field lists also carry totals and _links.last; leads/contacts do not
        page_count = math.ceil(len(rows) / limit)
        links["last"] = _href(req, page_count, limit)
        body = {"_total_items": len(rows), "_page_count": page_count, **body}
    return hal(body)


def order(req: Request, rows: list[Row], fields: tuple[str, ...]) -> list[Row]:
    """`order[field]=asc|desc` over the allowed fields; by id ascending otherwise."""
    for field in fields:
        direction = req.param(f"order[{field}]")
        if direction in ("asc", "desc"):
            return sorted(rows, key=lambda row: getattr(row, field) or 0, reverse=direction == "desc")
    return sorted(rows, key=lambda row: row.id)


def matches(query: str, texts: list[str]) -> bool:
    """`query` is full-text over names and field values; formats are not normalized."""
    needle = query.strip().lower()
    return any(needle in text.lower() for text in texts if text)


def int_params(req: Request, prefix: str) -> list[int]:
    """Every integer value of `prefix`, `prefix[]` and `prefix[N]` query keys."""
    found = []
    for key, values in req.query.items():
        if key == prefix or (key.startswith(prefix + "[") and key.endswith("]")):
            found += [int(v) for v in values if v.lstrip("-").isdigit()]
    return found
