"""A BigCommerce store over HTTP on 127.0.0.1: several stores, quotas, quirks and faults.

Stdlib `http.server` on purpose: it gives the socket-level control that dropped connections
and truncated bodies need.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import re
import socket
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bigcommerce_client.clock import SYSTEM_CLOCK, Clock

from .app import serve_login
from .faults import Fault, FaultPlan
from .store import ORDER_STATUSES, SandboxStore, parse_when

logger = logging.getLogger("bigcommerce_sandbox")
ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
MAX_PAGE = 250
MAX_ADJUSTMENT_ITEMS = 2000


@dataclass
class Exchange:
    """One request and what the sandbox answered (None when the connection was dropped)."""

    store_hash: str
    method: str
    api_path: str  # from the version on: /v2/orders/5
    query: dict[str, list[str]]
    request_headers: dict[str, str]
    request_body: bytes
    status: int | None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    fault: Fault | None = None
    notified: bool = False
    rewritten: bool = False  # the body was replaced by `Sandbox.rewrite`: not BigCommerce's answer


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


def load_carriers(specs_dir: Path | None) -> frozenset[str] | None:
    if specs_dir is None:
        return None
    path = specs_dir / "assets" / "csv" / "tracking_carrier_values.csv"
    if not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return frozenset(row[-1].strip() for row in rows[1:] if row)


class Sandbox:
    """The sandbox server; `add_store` then `start`. Use as a context manager in tests."""

    def __init__(
        self,
        *,
        clock: Clock = SYSTEM_CLOCK,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_seconds: float = 0.0,
        specs_dir: Path | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("the sandbox listens on loopback only")
        self.clock = clock
        self.latency_seconds = latency_seconds
        self.stores: dict[str, SandboxStore] = {}
        self.faults: dict[str, FaultPlan] = {}
        self.observers: list[Callable[[Exchange], None]] = []
        # A test's hand on the wire: given a successful JSON answer, a different body to send instead
        # (malformed on purpose), or None to send it as it is. The exchange is marked `rewritten`.
        self.rewrite: Callable[[Exchange, bytes], bytes | None] | None = None
        self.carriers = load_carriers(specs_dir)
        self._server = _Server((host, port), _RequestHandler, self)
        if tls_context is not None:
            self._server.socket = tls_context.wrap_socket(self._server.socket, server_side=True)
        self._scheme = "https" if tls_context else "http"
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}"

    def add_store(
        self,
        store_hash: str,
        *,
        token: str,
        quota: int = 150,
        window_ms: int = 30_000,
        other_apps: int = 0,
        scopes: frozenset[str] | None = None,
    ) -> SandboxStore:
        """`other_apps`: requests per window the store's other apps make, spread evenly over it."""
        store = SandboxStore(
            store_hash=store_hash, clock=self.clock, quota=quota, window_ms=window_ms, other_apps=other_apps
        )
        if scopes is None:
            store.add_token(token)
        else:
            store.add_token(token, scopes)
        self.stores[store_hash] = store
        self.faults[store_hash] = FaultPlan()
        return store

    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bigcommerce-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def notify(self, exchange: Exchange) -> None:
        for observer in list(self.observers):
            observer(exchange)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out on a slow answer has hung up: expected, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


_PATH = re.compile(r"^/stores/(?P<store>[^/]+)(?P<api>/v[23]/.*?)/?$")


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An answer's headers and body leave in two writes: with Nagle on, the body waits for the client's
    # delayed ACK, about 40 ms a request on loopback (half a minute of the test suite).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        sandbox = self.server.sandbox
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        query = parse_qs(split.query, keep_blank_values=True)
        matched = _PATH.match(split.path)
        store = sandbox.stores.get(matched.group("store")) if matched else None
        api_path = matched.group("api") if matched else split.path
        exchange = Exchange(
            store_hash=matched.group("store") if matched else "",
            method=method,
            api_path=api_path,
            query=query,
            request_headers={key: value for key, value in self.headers.items()},
            request_body=raw_body,
            status=None,
        )
        try:
            if sandbox.latency_seconds:
                sandbox.clock.sleep(sandbox.latency_seconds)
            # --- the app's OAuth token endpoint (BigCommerce's login service), outside any store ---
            if matched is None and serve_login(self, sandbox, method, split.path, raw_body):
                exchange.notified = True  # no spec describes the login service: no contract to hold it to
                return
            if matched is None or store is None:
                self._answer(exchange, 404, _error_body(api_path, 404, "Store not found"), {})
                return
            fault = sandbox.faults[store.store_hash].draw(method, api_path)
            exchange.fault = fault
            self._serve_store(store, exchange)
        finally:
            if not exchange.notified:  # a dropped connection: nothing was answered
                exchange.notified = True
                sandbox.notify(exchange)

    def _serve_store(self, store: SandboxStore, exchange: Exchange) -> None:
        api_path, fault = exchange.api_path, exchange.fault
        token = self.headers.get("X-Auth-Token")
        if token not in store.tokens:
            self._answer(exchange, 401, _error_body(api_path, 401, "You are not authorized to access this store"), {})
            return
        if fault is Fault.DROP_BEFORE:
            self._drop()
            return
        with store.lock:
            # A 429 with headers comes from the store's quota, or from an injected fault that says the same.
            if fault is Fault.RATE_LIMIT or ((fault is None or fault.acts) and not store.rate.take()):
                self._answer(
                    exchange, 429, _error_body(api_path, 429, "Too many requests"), store.rate.headers(exhausted=True)
                )
                return
            if fault is Fault.RATE_LIMIT_BARE:
                self._answer(exchange, 429, _error_body(api_path, 429, "Too many requests"), {})
                return
            if fault in {Fault.SERVER_500, Fault.BAD_GATEWAY, Fault.UNAVAILABLE}:
                assert fault is not None
                status = int(fault.value)
                self._answer(exchange, status, _error_body(api_path, status, "Internal error"), {})
                return
            rate_headers = store.rate.headers()
            status, body = self._dispatch(store, exchange, token)
        if fault is Fault.SLOW:
            time.sleep(self.server.sandbox.faults[store.store_hash].slow_seconds)
        if fault is Fault.DROP_AFTER:
            self._drop()
            return
        if fault is Fault.NOT_JSON:
            self._answer(
                exchange,
                200,
                b"<html><body>Service temporarily unavailable</body></html>",
                rate_headers,
                "text/html",
            )
            return
        self._answer(exchange, status, body, rate_headers, truncate=fault is Fault.TRUNCATED)

    def _dispatch(self, store: SandboxStore, exchange: Exchange, token: str) -> tuple[int, Any]:
        method, api_path = exchange.method, exchange.api_path
        for route_method, pattern, scope, handler in ROUTES:
            if route_method != method:
                continue
            match = pattern.match(api_path)
            if match is None:
                continue
            if scope and not _granted(scope, store.tokens[token]):
                return 403, _error_body(api_path, 403, "You don't have a required scope to access the endpoint")
            try:
                body = json.loads(exchange.request_body) if exchange.request_body else None
            except ValueError:
                return 400, _error_body(api_path, 400, "The request body is not valid JSON")
            try:
                request = Request(store, method, api_path, match, exchange.query, body, self.server.sandbox.carriers)
                return handler(request)
            except ApiError as error:
                return error.status, _error_body(api_path, error.status, error.message, error.errors)
        return 404, _error_body(api_path, 404, "The requested resource was not found")

    def _answer(
        self,
        exchange: Exchange,
        status: int,
        body: Any,
        headers: dict[str, str],
        content_type: str = "application/json",
        *,
        truncate: bool = False,
    ) -> None:
        payload = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        rewrite = self.server.sandbox.rewrite
        if rewrite is not None and status == 200 and content_type == "application/json" and payload:
            replaced = rewrite(exchange, payload)
            if replaced is not None:
                payload, exchange.rewritten = replaced, True
        if status >= 400 and _problem_json(exchange.api_path) and content_type == "application/json":
            content_type = "application/problem+json"  # v3 errors are RFC 7807 problem documents
        exchange.status = status
        exchange.response_headers = dict(headers)
        exchange.response_body = payload
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if payload:
            self.send_header("Content-Type", content_type)
            exchange.response_headers["Content-Type"] = content_type
        self.send_header("Content-Length", str(len(payload)))
        # Observers see the exchange before the client can: a test never races the recording.
        exchange.notified = True
        self.server.sandbox.notify(exchange)
        self.end_headers()
        if truncate and payload:
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(payload)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _granted(required: str, granted: frozenset[str]) -> bool:
    """A modify scope includes its read-only counterpart."""
    return required in granted or (required.endswith("_read_only") and required.removesuffix("_read_only") in granted)


def _problem_json(api_path: str) -> bool:
    """v3 errors are sent as application/problem+json - except the webhooks API's and the payment actions',
    which their specs (and BigCommerce) declare as plain application/json."""
    return api_path.startswith("/v3/") and not api_path.startswith("/v3/hooks") and "/payment_actions/" not in api_path


def _error_body(api_path: str, status: int, message: str, errors: dict[str, str] | None = None) -> Any:
    if api_path.startswith("/v2/"):
        return [{"status": status, "message": message}]
    return {"status": status, "title": message, "type": ERROR_TYPE, "errors": errors or {}}


# --- pagination helpers ------------------------------------------------------------------------


def _v2_page(request: Request, rows: list[Any]) -> tuple[int, Any]:
    limit = min(max(request.int_arg("limit", 50), 1), MAX_PAGE)
    page = max(request.int_arg("page", 1), 1)
    chunk = rows[(page - 1) * limit : page * limit]
    if not chunk:
        return 204, None  # BigCommerce's v2 "no more": 204 with no body
    return 200, chunk


def _v3_page(request: Request, rows: list[Any], *, max_limit: int = MAX_PAGE) -> tuple[int, Any]:
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


def _ids(request: Request, name: str) -> set[int] | None:
    raw = request.arg(name)
    if raw is None:
        return None
    try:
        return {int(part) for part in raw.split(",") if part}
    except ValueError:
        raise ApiError(422, f"The filter '{name}' is invalid.") from None


# --- v2 orders ---------------------------------------------------------------------------------


def get_store(request: Request) -> tuple[int, Any]:
    store = request.store
    return 200, {
        "id": store.store_hash,
        "domain": f"{store.store_hash}.example.com",
        "secure_url": f"https://{store.store_hash}.example.com",
        "name": f"Sandbox store {store.store_hash}",
        "plan_level": "Standard" if store.quota <= 150 else "Pro",
        "status": "live",
        "timezone": {"name": "Etc/UTC", "raw_offset": 0},
        "currency": "USD",
        "weight_units": "LBS",
        "dimension_units": "Inches",
        "features": {"multi_location_inventory": True},
    }


_SORT = re.compile(r"^(id|customer_id|date_created|date_modified|status_id|channel_id|external_id)(:(asc|desc))?$")


def list_orders(request: Request) -> tuple[int, Any]:
    store = request.store
    orders = [order for order in store.orders.values() if not order.get("is_deleted")]
    status = request.arg("status_id")
    if status is not None:
        if not status.isdigit():
            raise ApiError(400, "The filter 'status_id' is invalid.")
        orders = [order for order in orders if order["status_id"] == int(status)]
    for name, key, compare in (
        ("min_date_modified", "date_modified", float.__ge__),
        ("max_date_modified", "date_modified", float.__le__),
        ("min_date_created", "date_created", float.__ge__),
        ("max_date_created", "date_created", float.__le__),
    ):
        raw = request.arg(name)
        if raw is not None:
            try:
                bound = parse_when(raw)
            except (ValueError, TypeError):
                raise ApiError(400, f"The filter '{name}' is not a valid date.") from None
            orders = [order for order in orders if compare(parse_when(order[key]), bound)]
    for name, sign in (("min_id", 1), ("max_id", -1)):
        bound_id = request.arg(name)
        if bound_id is not None:
            orders = [order for order in orders if sign * (order["id"] - int(bound_id)) >= 0]
    sort = request.arg("sort", "id") or "id"
    match = _SORT.match(sort)
    if match is None:
        raise ApiError(400, "The sort field is invalid.")
    field_name, descending = match.group(1), match.group(3) == "desc"

    def sort_key(order: dict[str, Any]) -> tuple[Any, int]:
        value = order.get(field_name)
        if field_name.startswith("date_"):
            value = parse_when(value) if value else 0.0
        return (value, order["id"])

    orders.sort(key=sort_key, reverse=descending)
    include = set((request.arg("include") or "").split(","))
    structured = request.arg("consignment_structure") == "object"
    if include & {"consignments", "consignments.line_items"} and not structured:
        raise ApiError(400, "Use consignment_structure=object with include=consignments.")
    status_code, page = _v2_page(request, orders)
    if page is None:
        return status_code, None
    return 200, [
        store.order_json(
            order["id"],
            line_items="consignments.line_items" in include,
            consignments=bool(include & {"consignments", "consignments.line_items"}),
        )
        for order in page
    ]


def _order(request: Request) -> dict[str, Any]:
    order = request.store.orders.get(request.id())
    if order is None or order.get("is_deleted"):
        raise ApiError(404, "The requested resource was not found.")
    return order


def get_order(request: Request) -> tuple[int, Any]:
    order = _order(request)
    include = set((request.arg("include") or "").split(","))
    consignments = bool(include & {"consignments", "consignments.line_items"})
    return 200, request.store.order_json(
        order["id"], line_items="consignments.line_items" in include, consignments=consignments
    )


def update_order(request: Request) -> tuple[int, Any]:
    order = _order(request)
    body = request.body if isinstance(request.body, dict) else {}
    if "status_id" in body:
        status_id = body["status_id"]
        if not isinstance(status_id, int) or status_id not in ORDER_STATUSES:
            raise ApiError(400, "The field 'status_id' is invalid.")
        request.store.set_order_status(order["id"], status_id)
    return 200, request.store.order_json(order["id"], line_items=False, consignments=False)


def list_order_products(request: Request) -> tuple[int, Any]:
    order = _order(request)
    return _v2_page(request, request.store.order_products[order["id"]])


def list_shipping_addresses(request: Request) -> tuple[int, Any]:
    order = _order(request)
    return _v2_page(request, request.store.shipping_addresses[order["id"]])


def list_shipments(request: Request) -> tuple[int, Any]:
    order = _order(request)
    return _v2_page(request, request.store.shipments[order["id"]])


def create_shipment(request: Request) -> tuple[int, Any]:
    """What BigCommerce enforces beyond the schema: ids that belong to the order, quantities
    not above what is left to ship, and a known tracking carrier."""
    order = _order(request)
    body = request.body
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be an object.")
    address_id = body.get("order_address_id")
    items = body.get("items")
    if not isinstance(address_id, int):
        raise ApiError(400, "The field 'order_address_id' is invalid.")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "The field 'items' cannot be blank.")
    store = request.store
    addresses = {address["id"] for address in store.shipping_addresses[order["id"]]}
    if address_id not in addresses:
        raise ApiError(422, f"The order_address_id {address_id} does not belong to order {order['id']}.")
    lines = {line["id"]: line for line in store.order_products[order["id"]]}
    for item in items:
        line = lines.get(item.get("order_product_id")) if isinstance(item, dict) else None
        if line is None or line["order_address_id"] != address_id:
            raise ApiError(422, f"The order_product_id {item.get('order_product_id')} is not on this address.")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or quantity < 1:
            raise ApiError(400, "The field 'quantity' is invalid.")
        if quantity > line["quantity"] - line["quantity_shipped"]:
            left = line["quantity"] - line["quantity_shipped"]
            raise ApiError(422, f"The order_product_id {line['id']} has only {left} left to ship.")
    carrier = body.get("tracking_carrier", "")
    if carrier and request.carriers is not None and carrier not in request.carriers:
        raise ApiError(422, f"The tracking_carrier '{carrier}' is not a valid value.")
    if len(str(body.get("tracking_number", ""))) > 50:
        raise ApiError(400, "The field 'tracking_number' is too long.")
    return 201, store.record_shipment(order["id"], body)


# --- v3 catalog --------------------------------------------------------------------------------


def list_products(request: Request) -> tuple[int, Any]:
    store = request.store
    products = list(store.products.values())
    ids = _ids(request, "id:in")
    if ids is not None:
        products = [product for product in products if product["id"] in ids]
    id_bounds: dict[str, Callable[[int, int], bool]] = {
        "id:greater": int.__gt__,
        "id:min": int.__ge__,
        "id:max": int.__le__,
        "id:less": int.__lt__,
    }
    for name, keep in id_bounds.items():
        bound_id = request.arg(name)
        if bound_id is not None:
            products = [product for product in products if keep(product["id"], int(bound_id))]
    for name, sign in (("date_modified:min", 1), ("date_modified:max", -1)):
        raw = request.arg(name)
        if raw:
            bound = parse_when(raw)
            products = [p for p in products if sign * (parse_when(p["date_modified"]) - bound) >= 0]
    visible = request.arg("is_visible")
    if visible is not None:
        products = [product for product in products if product["is_visible"] == (visible in {"true", "1"})]
    sort = request.arg("sort", "id") or "id"
    if sort not in {"id", "name", "date_modified"}:
        raise ApiError(422, f"The sort '{sort}' is not supported here.", {"sort": "unsupported"})
    products.sort(
        key=lambda p: (parse_when(p["date_modified"]) if sort == "date_modified" else p[sort], p["id"]),
        reverse=request.arg("direction") == "desc",
    )
    include = set((request.arg("include") or "").split(","))
    status, body = _v3_page(request, products)
    body["data"] = [store.product_json(product, include) for product in body["data"]]
    return status, body


def get_product(request: Request) -> tuple[int, Any]:
    product = request.store.products.get(request.id())
    if product is None:
        raise ApiError(404, "The requested product was not found.")
    include = set((request.arg("include") or "").split(","))
    return 200, {"data": request.store.product_json(product, include), "meta": {}}


def list_brands(request: Request) -> tuple[int, Any]:
    return _v3_page(request, [request.store.brands[key] for key in sorted(request.store.brands)])


def list_categories(request: Request) -> tuple[int, Any]:
    return _v3_page(request, [request.store.categories[key] for key in sorted(request.store.categories)])


# --- v3 inventory and locations -------------------------------------------------------------------


def absolute_adjustment(request: Request) -> tuple[int, Any]:
    """All or nothing, as on BigCommerce: one bad item rejects the request and is named."""
    store = request.store
    body = request.body if isinstance(request.body, dict) else {}
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(422, "The field 'items' is required.")
    if len(items) > MAX_ADJUSTMENT_ITEMS:
        raise ApiError(422, f"Too many items: the limit is {MAX_ADJUSTMENT_ITEMS}.")
    writes: list[tuple[tuple[int, str, int], int, int]] = []  # (inventory key, quantity, product id)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(422, "Invalid item", {f"items.{index}": "must be an object"})
        location_id, quantity = item.get("location_id"), item.get("quantity")
        if location_id not in store.locations:
            raise ApiError(
                422,
                f"[Location with id {location_id} does not exist]",
                {f"items.{index}.location_id": "unknown"},
            )
        if not isinstance(quantity, int) or quantity < 0:
            raise ApiError(422, "Invalid quantity", {f"items.{index}.quantity": "must be a whole number, 0 or more"})
        keys = [name for name in ("variant_id", "product_id", "sku") if name in item]
        if len(keys) != 1:
            raise ApiError(422, "Invalid item", {f"items.{index}": "name exactly one of variant_id, product_id, sku"})
        found = None
        if "variant_id" in item:
            found = store.variant_by_id(item["variant_id"])
            label = f"variant_id {item['variant_id']}"
        elif "sku" in item:
            found = store.variant_by_sku(str(item["sku"]))
            label = f"sku {item['sku']}"
        else:
            product = store.products.get(item["product_id"])
            found = (product, product["variants"][0]) if product else None
            label = f"product_id {item['product_id']}"
        if found is None:
            raise ApiError(422, f"[Item with {label} does not exist]", {f"items.{index}": "not found"})
        product, variant = found
        tracking = product["inventory_tracking"]
        if tracking == "none":
            raise ApiError(422, f"[Item with {label} has inventory tracking disabled]")
        if tracking == "product" and "product_id" not in item:
            raise ApiError(422, f"[Item with {label} is tracked by product, please update stock by product id]")
        if tracking == "variant" and "product_id" in item:
            raise ApiError(422, f"[Item with {label} is tracked by variant, please update stock by variant id]")
        key = (
            (location_id, "product", product["id"])
            if tracking == "product"
            else (location_id, "variant", variant["id"])
        )
        writes.append((key, quantity, product["id"]))
    for key, quantity, product_id in writes:
        store.inventory[key] = quantity
        store.touch_product(product_id)
    return 200, {"transaction_id": str(uuid.uuid4())}


def list_inventory_items(request: Request) -> tuple[int, Any]:
    store = request.store
    variant_ids, product_ids = _ids(request, "variant_id:in"), _ids(request, "product_id:in")
    location_ids = _ids(request, "location_id:in") or set(store.locations)
    rows = []
    for product in sorted(store.products.values(), key=lambda p: p["id"]):
        if product["inventory_tracking"] == "none" or (product_ids and product["id"] not in product_ids):
            continue
        for variant in product["variants"]:
            if variant_ids and variant["id"] not in variant_ids:
                continue
            kind, key = (
                ("product", product["id"]) if product["inventory_tracking"] == "product" else ("variant", variant["id"])
            )
            rows.append(
                {
                    "identity": {
                        "sku": variant.get("sku") or "",
                        "variant_id": variant["id"],
                        "product_id": product["id"],
                        "sku_id": variant["sku_id"],
                    },
                    "locations": [
                        {
                            "location_id": location_id,
                            "location_code": store.locations[location_id]["code"],
                            "location_name": store.locations[location_id]["label"],
                            "available_to_sell": store.inventory.get((location_id, kind, key), 0),
                            "total_inventory_onhand": store.inventory.get((location_id, kind, key), 0),
                            "location_enabled": True,
                            "settings": {
                                "safety_stock": 0,
                                "is_in_stock": True,
                                "warning_level": 0,
                                "bin_picking_number": "",
                            },
                        }
                        for location_id in sorted(location_ids)
                        if location_id in store.locations
                    ],
                }
            )
    return _v3_page(request, rows, max_limit=1000)


def list_locations(request: Request) -> tuple[int, Any]:
    return _v3_page(request, [request.store.locations[key] for key in sorted(request.store.locations)])


# --- v3 webhooks ---------------------------------------------------------------------------------


def _hook(request: Request) -> dict[str, Any]:
    hook = request.store.hooks.get(request.id())
    if hook is None:
        raise ApiError(404, "Webhook not found")
    return hook


def _deliverable(destination: str) -> bool:
    """https on port 443, as BigCommerce requires - or any port on loopback, where the local runtime's
    HTTP API listens (a sandbox relaxation, docs/architecture.md)."""
    url = urlsplit(destination)
    if url.scheme != "https" or not url.hostname:
        return False
    return url.port in (None, 443) or url.hostname in {"127.0.0.1", "localhost"}


def list_hooks(request: Request) -> tuple[int, Any]:
    return _v3_page(request, [request.store.hooks[key] for key in sorted(request.store.hooks)])


def create_hook(request: Request) -> tuple[int, Any]:
    body = request.body if isinstance(request.body, dict) else {}
    scope, destination = body.get("scope"), body.get("destination")
    if not isinstance(scope, str) or not scope.startswith("store/"):
        raise ApiError(422, "The field 'scope' is invalid.", {"scope": "invalid"})
    if not isinstance(destination, str) or not _deliverable(destination):
        raise ApiError(422, "The destination must be an https URL on port 443.", {"destination": "invalid"})
    now = int(request.store.clock.now())
    hook_id = request.store.next_id()
    hook: dict[str, Any] = {
        "id": hook_id,
        "client_id": "sandbox-client",
        "store_hash": request.store.store_hash,
        "scope": scope,
        "destination": destination,
        "headers": body.get("headers") or {},
        "is_active": bool(body.get("is_active", True)),
        "events_history_enabled": False,
        "created_at": now,
        "updated_at": now,
    }
    request.store.hooks[hook_id] = hook
    return 200, {"data": hook, "meta": {}}


def get_hook(request: Request) -> tuple[int, Any]:
    return 200, {"data": _hook(request), "meta": {}}


def update_hook(request: Request) -> tuple[int, Any]:
    hook = _hook(request)
    body = request.body if isinstance(request.body, dict) else {}
    if "destination" in body and not (isinstance(body["destination"], str) and _deliverable(body["destination"])):
        raise ApiError(422, "The destination must be an https URL on port 443.", {"destination": "invalid"})
    for key in ("scope", "destination", "is_active", "headers"):
        if key in body:
            hook[key] = body[key]
    hook["updated_at"] = int(request.store.clock.now())
    return 200, {"data": hook, "meta": {}}


def delete_hook(request: Request) -> tuple[int, Any]:
    hook = _hook(request)
    del request.store.hooks[hook["id"]]
    return 200, {"data": hook, "meta": {}}


_ID = r"(?P<id>\d+)"
ROUTES: list[tuple[str, re.Pattern[str], str | None, Handler]] = [
    (method, re.compile(f"^{path}$"), scope, handler)
    for method, path, scope, handler in [
        ("GET", "/v2/store", None, get_store),
        ("GET", "/v2/orders", "store_v2_orders_read_only", list_orders),
        ("GET", f"/v2/orders/{_ID}", "store_v2_orders_read_only", get_order),
        ("PUT", f"/v2/orders/{_ID}", "store_v2_orders", update_order),
        ("GET", f"/v2/orders/{_ID}/products", "store_v2_orders_read_only", list_order_products),
        ("GET", f"/v2/orders/{_ID}/shipping_addresses", "store_v2_orders_read_only", list_shipping_addresses),
        ("GET", f"/v2/orders/{_ID}/shipments", "store_v2_orders_read_only", list_shipments),
        ("POST", f"/v2/orders/{_ID}/shipments", "store_v2_orders", create_shipment),
        ("GET", "/v3/catalog/products", "store_v2_products_read_only", list_products),
        ("GET", f"/v3/catalog/products/{_ID}", "store_v2_products_read_only", get_product),
        ("GET", "/v3/catalog/brands", "store_v2_products_read_only", list_brands),
        ("GET", "/v3/catalog/trees/categories", "store_v2_products_read_only", list_categories),
        ("PUT", "/v3/inventory/adjustments/absolute", "store_inventory", absolute_adjustment),
        ("GET", "/v3/inventory/items", "store_inventory_read_only", list_inventory_items),
        ("GET", "/v3/inventory/locations", "store_inventory_read_only", list_locations),
        ("GET", "/v3/hooks", None, list_hooks),
        ("POST", "/v3/hooks", None, create_hook),
        ("GET", f"/v3/hooks/{_ID}", None, get_hook),
        ("PUT", f"/v3/hooks/{_ID}", None, update_hook),
        ("DELETE", f"/v3/hooks/{_ID}", None, delete_hook),
    ]
]
ROUTES[:0] = __import__(f"{__package__}.payments", fromlist=["ROUTES"]).ROUTES  # payment actions, staff notes

# --- orders created through the API, customers, variants by SKU (orders_create.py) ---
from .orders_create import ROUTES as _ORDERS_CREATE_ROUTES  # noqa: E402 - it builds on this module's helpers

ROUTES[:0] = _ORDERS_CREATE_ROUTES
# Read back: shipments and stock levels fire their webhooks; one shipment's PUT and DELETE (sandbox/readback.py).
ROUTES[:0] = __import__("bigcommerce_sandbox.readback", fromlist=["routes"]).routes(ROUTES)
