"""The BigCommerce REST client: one instance per store, one pooled session per instance."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Self, TypeVar

import requests
from pydantic import BaseModel, SecretStr
from pydantic import ValidationError as PydanticValidationError
from requests.adapters import HTTPAdapter

from .clock import SYSTEM_CLOCK, Clock
from .counter import CallCounter, endpoint_of
from .errors import (
    AuthenticationError,
    BigCommerceError,
    MalformedResponseError,
    MissingScopeError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
    UnknownStoreError,
    UnprocessableError,
    parse_validation_body,
)
from .models import (
    AbsoluteAdjustment,
    Brand,
    Category,
    Hook,
    InventoryItem,
    Location,
    Order,
    OrderProduct,
    Product,
    Shipment,
    ShipmentCreate,
    ShippingAddress,
)
from .ratelimit import RateGovernor, RateLimitHeaders
from .retry import bigcommerce_retrying, wait_for_bigcommerce
from .scopes import scope_for

DEFAULT_API_URL = "https://api.bigcommerce.com"
API_URL_ENV = "BIGCOMMERCE_API_URL"
MAX_PAGE_SIZE = 250
MAX_ABSOLUTE_ADJUSTMENT_ITEMS = 2000
ORDER_INCLUDE_LINE_ITEMS = "consignments.line_items"
USER_AGENT = "bcsync-bigcommerce-client/0.1"
_STORE_HASH = re.compile(r"^[a-z0-9]{1,32}$")
# Sent with a request whose body is invalid on purpose (a scope probe): BigCommerce must refuse it.
PROBE_HEADER = "X-Bcsync-Probe"


def validate_store_hash(store_hash: str) -> str:
    """The store hash itself, or ValueError: 1 to 32 lowercase letters and digits."""
    if not _STORE_HASH.match(store_hash):
        raise ValueError(f"store hash {store_hash!r} is not a BigCommerce store hash (lowercase letters and digits)")
    return store_hash


logger = logging.getLogger("bigcommerce_client")
ModelT = TypeVar("ModelT", bound=BaseModel)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("datetimes sent to BigCommerce must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class BigCommerceClient:
    """Talks to one store. Configuration is keyword-only; the token never leaves `SecretStr`."""

    def __init__(
        self,
        *,
        store_hash: str,
        access_token: SecretStr | str,
        api_url: str | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 20.0,
        reserve_ratio: float = 0.5,
        max_wait_seconds: float = 1.0,
        max_attempts: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        pool_size: int = 10,
        clock: Clock = SYSTEM_CLOCK,
        counter: CallCounter | None = None,
        verify: bool | str = True,
    ) -> None:
        validate_store_hash(store_hash)
        token = access_token if isinstance(access_token, SecretStr) else SecretStr(access_token)
        if not token.get_secret_value().strip():
            raise ValueError(f"no access token given for store {store_hash}")
        base = (api_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL).rstrip("/")
        self.store_hash = store_hash
        self.base_url = f"{base}/stores/{store_hash}"
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max_attempts
        self.clock = clock
        self.counter = counter if counter is not None else CallCounter()
        self.governor = RateGovernor(
            store_hash=store_hash, clock=clock, reserve_ratio=reserve_ratio, max_wait_seconds=max_wait_seconds
        )
        self._wait = wait_for_bigcommerce(initial=backoff_initial, maximum=backoff_max)
        self._token = token
        self._session = requests.Session()
        # Retries are ours (tenacity, governor-aware); urllib3 must not retry behind our back.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        # Passed on every request: requests lets REQUESTS_CA_BUNDLE override a session-level `verify`.
        self._verify = verify
        self._session.headers.update(
            {"Accept": "application/json", "User-Agent": USER_AGENT, "X-Auth-Token": token.get_secret_value()}
        )

    def __repr__(self) -> str:
        return f"BigCommerceClient(store_hash={self.store_hash!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the one way a request is sent ----------------------------------------------------------

    def request(
        self,
        method: str,
        api_path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        expect_list: bool = False,
    ) -> Any:
        """Send one logical request (retried where safe); the parsed JSON body, or None for 204."""
        method = method.upper()
        retrying = bigcommerce_retrying(
            method,
            attempts=self.max_attempts,
            max_wait_seconds=self.governor.max_wait_seconds,
            wait=self._wait,
            sleep=self.clock.sleep,
            before_sleep=lambda state: logger.warning(
                "retrying BigCommerce request",
                extra={
                    "store_hash": self.store_hash,
                    "endpoint": endpoint_of(method, api_path),
                    "attempt": state.attempt_number,
                    "error": type(state.outcome.exception()).__name__ if state.outcome else None,
                },
            ),
        )
        return retrying(self._send_once, method, api_path, params, json, headers, expect_list)

    def get(self, api_path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", api_path, params=params)

    def get_rows(self, api_path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """One v2 list page: its rows, none for a 204. Anything but a JSON array is malformed and
        retried like a garbled body: read as "no rows", it would end a scan early and skip orders."""
        return self.request("GET", api_path, params=params, expect_list=True) or []

    def _send_once(
        self,
        method: str,
        api_path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        extra_headers: Mapping[str, str] | None = None,
        expect_list: bool = False,
    ) -> Any:
        where: dict[str, Any] = {"store_hash": self.store_hash, "method": method, "path": api_path}
        self.governor.acquire()
        self.counter.record(self.store_hash, endpoint_of(method, api_path))
        headers = dict(extra_headers or {})
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._session.request(
                method,
                self.base_url + api_path,
                params=params,
                json=body,
                headers=headers,
                timeout=self.timeout,
                verify=self._verify,
            )
        except requests.Timeout as error:
            self.governor.release()
            raise NetworkError(
                f"BigCommerce did not answer store {self.store_hash} in time", **where
            ) from _without_request(error)
        except requests.exceptions.SSLError as error:
            self.governor.release()
            tls = NetworkError(
                f"The TLS certificate of {self.base_url} is not trusted (store {self.store_hash})", **where
            )
            tls.retryable = False  # a certificate does not fix itself between attempts
            raise tls from _without_request(error)
        except requests.exceptions.ChunkedEncodingError as error:
            self.governor.release()
            raise MalformedResponseError(
                "BigCommerce's response was cut short before its end", **where
            ) from _without_request(error)
        except requests.ConnectionError as error:
            self.governor.release()
            raise NetworkError(
                f"The connection to BigCommerce dropped for store {self.store_hash}", **where
            ) from _without_request(error)
        rate = self.governor.observe(response.headers)
        return self._interpret(response, rate, where, expect_list=expect_list)

    def _interpret(
        self, response: requests.Response, rate: RateLimitHeaders | None, where: dict[str, Any], *, expect_list: bool
    ) -> Any:
        status = response.status_code
        where = {**where, "status": status}
        if 200 <= status < 300:
            if status == 204 or (not response.content and not expect_list):  # an empty 200 page is cut short
                return None
            try:
                answer = response.json()
            except ValueError:
                raise MalformedResponseError(
                    f"BigCommerce answered store {self.store_hash} with a body that is not JSON", **where
                ) from None
            if expect_list and not isinstance(answer, list):  # "no rows" is a 204, never a null or an object
                raise MalformedResponseError(
                    f"BigCommerce answered store {self.store_hash} with a {type(answer).__name__} where a list "
                    "was expected",
                    **where,
                )
            return answer
        body = _json_or_none(response)
        if status == 401:
            raise AuthenticationError(
                f"BigCommerce rejected the access token for store {self.store_hash}: check the store hash "
                "and that the API account's token has not been revoked",
                **where,
            )
        if status == 403:
            scope = scope_for(where["method"], where["path"])
            needed = f"the {scope} scope" if scope else "a scope it does not have"
            raise MissingScopeError(
                f"The API account of store {self.store_hash} lacks {needed}: grant it in the BigCommerce "
                "control panel (Settings > API accounts)",
                scope=scope,
                **where,
            )
        if status == 404:
            raise NotFoundError(f"Not found in store {self.store_hash}", **where)
        if status == 422:
            message, errors, indexes = parse_validation_body(body)
            raise UnprocessableError(
                f"BigCommerce refused the data for store {self.store_hash}: {message}",
                errors=errors,
                item_indexes=indexes,
                **where,
            )
        if status == 429:
            self.counter.record_rate_limited(self.store_hash)
            retry_after = rate.reset_ms / 1000 if rate else None
            raise RateLimitedError(
                f"BigCommerce is rate limiting store {self.store_hash}",
                retry_after=retry_after,
                retry_at=self.clock.now() + retry_after if retry_after is not None else None,
                **where,
            )
        if status >= 500:
            raise ServerError(f"BigCommerce had a server error ({status}) for store {self.store_hash}", **where)
        # BigCommerce's own words (a 400 names the field or id it could not take): what a person acts on.
        raise RequestRejectedError(
            f"BigCommerce rejected the request ({status}): {parse_validation_body(body)[0]}", **where
        )

    # --- paging -------------------------------------------------------------------------------

    def iter_v2(
        self, api_path: str, params: Mapping[str, Any] | None = None, *, limit: int = MAX_PAGE_SIZE
    ) -> Iterator[Any]:
        """v2 page/limit paging: ends on a 204 (no body) or a page shorter than `limit`."""
        limit = _page_size(limit)
        page = 1
        while True:
            rows = self.get_rows(api_path, {**(params or {}), "page": page, "limit": limit})
            if not rows:
                return
            yield from rows
            if len(rows) < limit:
                return
            page += 1

    def iter_v3(
        self, api_path: str, params: Mapping[str, Any] | None = None, *, limit: int = MAX_PAGE_SIZE
    ) -> Iterator[Any]:
        """v3 paging by `meta.pagination` (current_page / total_pages)."""
        limit = _page_size(limit)
        page = 1
        while True:
            data, total_pages = self._v3_page(api_path, {**(params or {}), "page": page, "limit": limit})
            yield from data
            if not data or page >= total_pages:
                return
            page += 1

    def _v3_page(self, api_path: str, params: Mapping[str, Any]) -> tuple[list[Any], int]:
        """One v3 list page: its rows and `meta.pagination.total_pages`."""
        body = self.get(api_path, params)
        try:
            data, total_pages = body["data"], int(body["meta"]["pagination"]["total_pages"])
        except (TypeError, KeyError, ValueError):
            raise MalformedResponseError(
                "BigCommerce returned a page without data or meta.pagination",
                store_hash=self.store_hash,
                method="GET",
                path=api_path,
            ) from None
        if not isinstance(data, list):
            raise MalformedResponseError(
                "BigCommerce returned a page whose data is not a list",
                store_hash=self.store_hash,
                method="GET",
                path=api_path,
            )
        return data, total_pages

    def iter_orders(
        self,
        *,
        modified_since: datetime,
        until: datetime | None = None,
        limit: int = MAX_PAGE_SIZE,
        include_line_items: bool = True,
        status_id: int | None = None,
        on_unreadable: Callable[[Any, MalformedResponseError], None] | None = None,
    ) -> Iterator[Order]:
        """Every order modified at or after `modified_since`, oldest change first, by keyset.

        Page numbers shift when orders change during a scan, so the cursor is the last
        `date_modified` seen, and (id, date_modified) pairs already yielded are skipped. An
        order changed mid-scan comes again with its new `date_modified`: that is a new version.
        When a whole page shares one timestamp (a busy second), that second is read by id
        instead (`min_id`, `sort=id:asc`, the second as both bounds): an order of it edited
        meanwhile leaves it without shifting the others, so none is skipped.
        """
        limit = _page_size(limit)
        base: dict[str, Any] = {}
        if include_line_items:
            base |= {"include": ORDER_INCLUDE_LINE_ITEMS, "consignment_structure": "object"}
        if status_id is not None:
            base["status_id"] = status_id
        until_bound = {"max_date_modified": _iso(until)} if until is not None else {}
        cursor = modified_since
        seen_at_cursor: set[int] = set()
        while True:
            params = base | until_bound | {"sort": "date_modified:asc", "min_date_modified": _iso(cursor)}
            orders, full = self._order_page(params | {"page": 1, "limit": limit}, on_unreadable)
            for order in orders:
                if order.date_modified == cursor and order.id in seen_at_cursor:
                    continue
                if order.date_modified == cursor:
                    seen_at_cursor.add(order.id)
                yield order
            if not full:
                return
            last = orders[-1].date_modified if orders else None
            if last is None:
                raise MalformedResponseError(
                    "an order without date_modified", store_hash=self.store_hash, method="GET", path="/v2/orders"
                )
            if last > cursor:
                cursor = last
                seen_at_cursor = {order.id for order in orders if order.date_modified == last}
                continue
            # A whole page in one second: read the second by id, then go on after it.
            yield from self._one_second(base, cursor, limit, seen_at_cursor, on_unreadable)
            cursor, seen_at_cursor = cursor + timedelta(seconds=1), set()

    def _one_second(
        self,
        base: dict[str, Any],
        second: datetime,
        limit: int,
        seen: set[int],
        on_unreadable: Callable[[Any, MalformedResponseError], None] | None,
    ) -> Iterator[Order]:
        """Every order whose `date_modified` is `second`, by id (keyset on `min_id`), but those in `seen`."""
        bounds = {"min_date_modified": _iso(second), "max_date_modified": _iso(second), "sort": "id:asc"}
        next_id = 1
        while True:
            orders, full = self._order_page(
                base | bounds | {"min_id": next_id, "page": 1, "limit": limit}, on_unreadable
            )
            for order in orders:
                if order.id not in seen and order.date_modified == second:
                    seen.add(order.id)
                    yield order
            if not full or not orders:
                return
            next_id = max(order.id for order in orders) + 1

    def _order_page(
        self, params: dict[str, Any], on_unreadable: Callable[[Any, MalformedResponseError], None] | None
    ) -> tuple[list[Order], bool]:
        """One page of `/v2/orders`: its readable orders, and whether it was full (more may follow)."""
        rows = self.get_rows("/v2/orders", params)
        orders = []
        for row in rows:
            try:
                orders.append(self._parse(Order, row, "/v2/orders"))
            except MalformedResponseError as error:
                if on_unreadable is None:
                    raise
                on_unreadable(row, error)  # one bad order is the caller's to record; the scan goes on
        return orders, len(rows) >= int(params["limit"])

    # --- typed operations the jobs use --------------------------------------------------------

    def get_store_info(self) -> dict[str, Any]:
        """`GET /v2/store`: the cheapest authenticated call; tells a wrong store hash apart."""
        try:
            info = self.get("/v2/store")
        except NotFoundError as error:
            raise UnknownStoreError(
                f"No BigCommerce store answers to store hash {self.store_hash}",
                store_hash=self.store_hash,
                method="GET",
                path="/v2/store",
                status=404,
            ) from error
        if not isinstance(info, dict):
            raise MalformedResponseError(
                "store information is not an object",
                store_hash=self.store_hash,
                method="GET",
                path="/v2/store",
            )
        return info

    def get_order(self, order_id: int, *, include_line_items: bool = False) -> Order:
        params = (
            {"include": ORDER_INCLUDE_LINE_ITEMS, "consignment_structure": "object"} if include_line_items else None
        )
        path = f"/v2/orders/{order_id}"
        return self._parse(Order, self.get(path, params), path)

    def iter_order_products(self, order_id: int) -> Iterator[OrderProduct]:
        path = f"/v2/orders/{order_id}/products"
        for row in self.iter_v2(path):
            yield self._parse(OrderProduct, row, path)

    def list_shipping_addresses(self, order_id: int) -> list[ShippingAddress]:
        path = f"/v2/orders/{order_id}/shipping_addresses"
        return [self._parse(ShippingAddress, row, path) for row in self.iter_v2(path)]

    def list_shipments(self, order_id: int) -> list[Shipment]:
        path = f"/v2/orders/{order_id}/shipments"
        return [self._parse(Shipment, row, path) for row in self.iter_v2(path)]

    def create_shipment(self, order_id: int, shipment: ShipmentCreate) -> Shipment:
        """Never retried by the client: a dropped connection may hide a created shipment."""
        path = f"/v2/orders/{order_id}/shipments"
        body = self.request("POST", path, json=shipment.model_dump(mode="json", exclude_defaults=True))
        return self._parse(Shipment, body, path)

    def update_order_status(self, order_id: int, status_id: int) -> Order:
        path = f"/v2/orders/{order_id}"
        return self._parse(Order, self.request("PUT", path, json={"status_id": status_id}), path)

    def iter_products(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        include: Sequence[str] = ("variants", "images", "custom_fields"),
        limit: int = MAX_PAGE_SIZE,
    ) -> Iterator[Product]:
        query = dict(params or {})
        if include:
            query["include"] = ",".join(include)
        for row in self.iter_v3("/v3/catalog/products", query, limit=limit):
            yield self._parse(Product, row, "/v3/catalog/products")

    def get_products_page(
        self,
        params: Mapping[str, Any],
        *,
        include: Sequence[str] = ("variants", "images", "custom_fields"),
        limit: int = MAX_PAGE_SIZE,
    ) -> tuple[list[Product], bool]:
        """One page of products and whether more follow: for callers that checkpoint between pages
        (keyset by `id:greater`, so a product changed mid-scan never shifts the pages)."""
        query = {**params, "limit": _page_size(limit), "page": 1}
        if include:
            query["include"] = ",".join(include)
        rows, total_pages = self._v3_page("/v3/catalog/products", query)
        return [self._parse(Product, row, "/v3/catalog/products") for row in rows], total_pages > 1

    def iter_brands(self, *, limit: int = MAX_PAGE_SIZE) -> Iterator[Brand]:
        for row in self.iter_v3("/v3/catalog/brands", limit=limit):
            yield self._parse(Brand, row, "/v3/catalog/brands")

    def iter_categories(self, *, limit: int = MAX_PAGE_SIZE) -> Iterator[Category]:
        """`/v3/catalog/trees/categories` (`/v3/catalog/categories` is deprecated)."""
        for row in self.iter_v3("/v3/catalog/trees/categories", limit=limit):
            yield self._parse(Category, row, "/v3/catalog/trees/categories")

    def set_inventory_absolute(self, items: Sequence[AbsoluteAdjustment], *, reason: str) -> str | None:
        """One `PUT /v3/inventory/adjustments/absolute`; a 422 raises `UnprocessableError` naming the item."""
        if not 0 < len(items) <= MAX_ABSOLUTE_ADJUSTMENT_ITEMS:
            raise ValueError(
                f"an absolute adjustment takes 1 to {MAX_ABSOLUTE_ADJUSTMENT_ITEMS} items, not {len(items)}"
            )
        body = self.request(
            "PUT",
            "/v3/inventory/adjustments/absolute",
            json={"reason": reason, "items": [item.key_fields() for item in items]},
        )
        return body.get("transaction_id") if isinstance(body, dict) else None

    def iter_inventory_items(
        self, params: Mapping[str, Any] | None = None, *, limit: int = MAX_PAGE_SIZE
    ) -> Iterator[InventoryItem]:
        for row in self.iter_v3("/v3/inventory/items", params, limit=limit):
            yield self._parse(InventoryItem, row, "/v3/inventory/items")

    def iter_locations(self) -> Iterator[Location]:
        for row in self.iter_v3("/v3/inventory/locations"):
            yield self._parse(Location, row, "/v3/inventory/locations")

    def list_hooks(self) -> list[Hook]:
        return [self._parse(Hook, row, "/v3/hooks") for row in self.iter_v3("/v3/hooks")]

    def create_hook(self, *, scope: str, destination: str, headers: Mapping[str, str] | None = None) -> Hook:
        body: dict[str, Any] = {"scope": scope, "destination": destination, "is_active": True}
        if headers:
            body["headers"] = dict(headers)
        return self._parse(Hook, _data(self.request("POST", "/v3/hooks", json=body)), "/v3/hooks")

    def update_hook(self, hook_id: int, **changes: Any) -> Hook:
        path = f"/v3/hooks/{hook_id}"
        return self._parse(Hook, _data(self.request("PUT", path, json=changes)), path)

    def delete_hook(self, hook_id: int) -> None:
        self.request("DELETE", f"/v3/hooks/{hook_id}")

    def _parse(self, model: type[ModelT], row: Any, api_path: str) -> ModelT:
        try:
            return model.model_validate(row)
        except PydanticValidationError as error:
            fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
            raise MalformedResponseError(
                f"BigCommerce returned a {model.__name__} this client cannot read (fields: {', '.join(fields)})",
                store_hash=self.store_hash,
                method="GET",
                path=api_path,
            ) from None


def _page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be 1 to {MAX_PAGE_SIZE}, not {limit}")
    return limit


def _data(body: Any) -> Any:
    return body.get("data") if isinstance(body, dict) else body


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _without_request(error: requests.RequestException) -> BaseException:
    """requests' exceptions keep the request, and with it the token header: drop it."""
    error.request = None
    error.response = None
    return error


__all__ = ["API_URL_ENV", "DEFAULT_API_URL", "BigCommerceClient", "BigCommerceError"]
