"""What every route of the sandbox stands on: the request a handler is given, the error it raises, and
BigCommerce's v2 and v3 paging. The route modules import this; server.py dispatches to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .store import SandboxStore

ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
MAX_PAGE = 250


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}


Handler = Callable[["Request"], tuple[int, Any]]


@dataclass
class Request:
    store: SandboxStore
    method: str
    api_path: str
    match: re.Match[str]
    query: dict[str, list[str]]
    body: Any
    carriers: frozenset[str] | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int) -> int:
        raw = self.arg(name)
        if raw is None:
            return default
        try:
            return int(float(raw))
        except ValueError:
            raise ApiError(400, f"The filter '{name}' is invalid.") from None

    def id(self, group: str = "id") -> int:
        return int(self.match.group(group))


# One row of the route table: method, path pattern, the scope it needs (None: any token), handler.
Route = tuple[str, re.Pattern[str], str | None, Handler]


# --- pagination helpers ------------------------------------------------------------------------


def v2_page(request: Request, rows: list[Any]) -> tuple[int, Any]:
    limit = min(max(request.int_arg("limit", 50), 1), MAX_PAGE)
    page = max(request.int_arg("page", 1), 1)
    chunk = rows[(page - 1) * limit : page * limit]
    if not chunk:
        return 204, None  # BigCommerce's v2 "no more": 204 with no body
    return 200, chunk


def v3_page(request: Request, rows: list[Any], *, max_limit: int = MAX_PAGE) -> tuple[int, Any]:
    limit = min(max(request.int_arg("limit", 50), 1), max_limit)
    page = max(request.int_arg("page", 1), 1)
    total_pages = max((len(rows) + limit - 1) // limit, 1)
    chunk = rows[(page - 1) * limit : page * limit]
    base = f"?limit={limit}"
    links = {"current": f"{base}&page={page}"}
    if page > 1:
        links["previous"] = f"{base}&page={page - 1}"
    if page < total_pages:
        links["next"] = f"{base}&page={page + 1}"
    meta = {
        "pagination": {
            "total": len(rows),
            "count": len(chunk),
            "per_page": limit,
            "current_page": page,
            "total_pages": total_pages,
            "links": links,
        }
    }
    return 200, {"data": chunk, "meta": meta}


def id_set(request: Request, name: str) -> set[int] | None:
    raw = request.arg(name)
    if raw is None:
        return None
    try:
        return {int(part) for part in raw.split(",") if part}
    except ValueError:
        raise ApiError(422, f"The filter '{name}' is invalid.") from None
