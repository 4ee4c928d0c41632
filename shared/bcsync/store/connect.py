"""Connecting a store: check its token against BigCommerce, one probe per scope the jobs need.

Read scopes are probed with a read; write scopes with a body BigCommerce must refuse (so nothing
is ever written): a 4xx other than 401/403 means the scope is granted, a 403 that it is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bcsync.errors import ConnectError
from bigcommerce_client import (
    PROBE_HEADER,
    AuthenticationError,
    BigCommerceClient,
    BigCommerceError,
    MissingScopeError,
    NotFoundError,
    RequestRejectedError,
    UnknownStoreError,
    UnprocessableError,
)


@dataclass(frozen=True)
class ScopeProbe:
    scope: str
    method: str
    api_path: str
    params: dict[str, Any] | None = None
    body: Any = None


SCOPE_PROBES: tuple[ScopeProbe, ...] = (
    ScopeProbe("Orders (read-only)", "GET", "/v2/orders", {"limit": 1}),
    # Order 0 never exists: allowed → 404/422, missing → 403.
    ScopeProbe("Orders (modify)", "POST", "/v2/orders/0/shipments", body={}),
    ScopeProbe("Products (read-only)", "GET", "/v3/catalog/products", {"limit": 1}),
    ScopeProbe("Store Inventory (read-only)", "GET", "/v3/inventory/locations", {"limit": 1}),
    ScopeProbe(
        "Store Inventory (modify)", "PUT", "/v3/inventory/adjustments/absolute", body={"reason": "probe", "items": []}
    ),
)


def check_store(client: BigCommerceClient) -> dict[str, Any]:
    """The store's information; a wrong store hash or token ends here with one clear line."""
    try:
        return client.get_store_info()
    except (AuthenticationError, UnknownStoreError) as error:
        raise ConnectError(error.message) from None
    except MissingScopeError:
        raise ConnectError(
            f"the API account of store {client.store_hash} lacks the Information & Settings (read-only) scope"
        ) from None
    except BigCommerceError as error:
        raise ConnectError(f"could not reach store {client.store_hash}: {error.message}") from None


def check_scopes(client: BigCommerceClient) -> list[str]:
    """The scopes the token lacks (empty when it has all the jobs need); raises on a bad token."""
    missing: list[str] = []
    for probe in SCOPE_PROBES:
        try:
            client.request(
                probe.method, probe.api_path, params=probe.params, json=probe.body, headers={PROBE_HEADER: "scope"}
            )
        except AuthenticationError as error:
            raise ConnectError(error.message) from None
        except MissingScopeError:
            missing.append(probe.scope)
        except (UnprocessableError, NotFoundError, RequestRejectedError):
            continue  # refused for its body or id, not for its scope: the scope is granted
        except BigCommerceError as error:
            raise ConnectError(f"could not check scope {probe.scope}: {error.message}") from None
    return missing
