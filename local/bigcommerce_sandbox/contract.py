"""Checks HTTP exchanges against BigCommerce's official OpenAPI files (as `specs` finds them).

openapi-core does the schema work. On top of it, requests are held to a stricter rule than
the files encode: a query parameter or body field the operation does not declare is an
error (BigCommerce ignores unknown fields silently, which is how bugs hide). Where the files
are wrong or silent, the errata below say what is done instead, each with its reason.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse

from bigcommerce_client import PROBE_HEADER

from .server import Exchange
from .specs import check_specs_dir, find_specs_dir

SPEC_HOST = "https://api.bigcommerce.com"
SPEC_FILES = (
    ("v2", "reference/orders.v2.oas2.yml"),
    ("v3", "reference/orders.v3.yml"),  # payment actions: refund quotes, refunds
    ("v3", "reference/catalog/products_catalog.v3.yml"),
    ("v3", "reference/catalog/brands_catalog.v3.yml"),
    ("v3", "reference/catalog/category-trees_catalog.v3.yml"),
    ("v3", "reference/inventory.v3.yml"),
    ("v3", "reference/locations.v3.yml"),
    ("v3", "reference/webhooks.v3.yml"),
    ("v2", "reference/store_information.v2.yml"),
    ("v3", "reference/customers.v3.yml"),
    ("v3", "reference/catalog/product-variants_catalog.v3.yml"),
)


def specs_dir() -> Path:
    """`$BIGCOMMERCE_SPECS_DIR`, else `../shared/bigcommerce-api-specs`, else the cache `make specs` fills."""
    return find_specs_dir()


@dataclass(frozen=True)
class Erratum:
    key: str
    reason: str


# The one list of places where the official files and the real API disagree (docs/design.md, "Spec errata").
ERRATA: tuple[Erratum, ...] = (
    Erratum(
        "orders-sort-direction",
        "GET /v2/orders `sort` enumerates field names only, but its own description and the API take "
        "`field:asc|desc`: the suffix is checked here and the field name is validated against the enum.",
    ),
    Erratum(
        "shipment-required-in-prose",
        "POST /v2/orders/{id}/shipments marks `order_address_id` and `items` (with `order_product_id` and "
        "`quantity`) required only in prose: they are enforced here as required.",
    ),
    Erratum(
        "consignment-oneof-ambiguity",
        "`consignments` and `line_items` are `oneOf` a `{url, resource}` link object and the embedded shape, "
        "but the link schema constrains nothing, so a correct embedded body matches both and fails strict "
        "`oneOf` (and a link matches the unconstrained embedded shape): the link schemas are made to require "
        "exactly `url` and `resource`, and the embedded consignment shape to have no `resource`. An empty "
        "`line_items` array matches both of its array alternatives, so that `oneOf` is read as `anyOf` "
        "(the link items' stricter schema still tells a non-empty list apart).",
    ),
    Erratum(
        "v2-empty-page-204",
        "v2 list endpoints answer an empty page with 204 and no body; GET /v2/orders (and some others) "
        "do not document it: a bodiless 204 is accepted on every v2 GET list.",
    ),
    Erratum(
        "undocumented-error-statuses",
        "No operation documents 429 or 5xx, and most omit 401/403/404/422; no operation documents the "
        "X-Rate-Limit-* headers: an undocumented error status is checked against BigCommerce's generic "
        "error shape (v2: `[{status, message}]`, v3: `{status, title, type}`).",
    ),
    Erratum(
        "consignment-warning",
        "The `__warning__` object BigCommerce adds to a shipping consignment whose line items were capped at "
        "50 is undocumented (bigcommerce/docs#960). The consignment schema leaves extra properties open, so "
        "it validates as is; it is listed so that nobody removes it from the sandbox to please the spec.",
    ),
    Erratum(
        "empty-hook-list",
        "GET /v3/hooks declares `data` with minItems 1, yet a store with no webhooks has an empty list: "
        "minItems is dropped from that response.",
    ),
    Erratum(
        "content-type-on-bodiless-get",
        "Some v2 GETs (GET /v2/orders/{order_id}/products) declare a required `Content-Type` header, yet a GET "
        "has no body for it to describe and BigCommerce answers without one. openapi-core ignores a "
        "`Content-Type` header parameter (as OpenAPI says it must), so the check requires it itself: on every "
        "request with a body, and on a GET only when it carries one.",
    ),
)
ERRATA_KEYS = frozenset(erratum.key for erratum in ERRATA)

_LINK_SCHEMAS = ("orderConsignments_Resource", "products_Resource")
_SORT_SUFFIX = re.compile(r"^(?P<field>[a-z_]+):(asc|desc)$")
_V2_ERROR = {"type": "array", "items": {"type": "object", "required": ["status", "message"]}}
_V3_ERROR = {"type": "object", "required": ["status", "title"]}


@dataclass
class _Spec:
    version: str
    api: OpenAPI
    raw: dict[str, Any]
    paths: list[tuple[re.Pattern[str], str]]


def _patched(raw: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(raw)
    schemas = spec.get("components", {}).get("schemas", {})
    for name in _LINK_SCHEMAS:  # erratum consignment-oneof-ambiguity
        if name in schemas:
            schemas[name]["required"] = ["url", "resource"]
            schemas[name]["additionalProperties"] = False
    for schema in schemas.values():  # an empty `line_items` matches both array alternatives
        for branch in [schema, *schema.get("allOf", [])]:
            line_items = branch.get("properties", {}).get("line_items") if isinstance(branch, dict) else None
            if isinstance(line_items, dict) and "oneOf" in line_items:
                line_items["anyOf"] = line_items.pop("oneOf")
    if "orderConsignment_Get" in schemas:  # the embedded shape constrains nothing either
        schemas["orderConsignment_Get"]["not"] = {"required": ["resource"]}
    hooks = spec.get("components", {}).get("responses", {}).get("webhooks_Resp")
    if hooks:  # erratum empty-hook-list
        hooks["content"]["application/json"]["schema"]["properties"]["data"].pop("minItems", None)
    return spec


def _path_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "$")


@functools.cache
def _load_specs(root: str) -> tuple[_Spec, ...]:
    loaded = []
    for version, relative in SPEC_FILES:
        with (Path(root) / relative).open(encoding="utf-8") as handle:
            # libyaml's loader reads the same documents ten times faster: every test worker loads these files.
            raw = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
        patched = _patched(raw)
        paths = [(_path_regex(template), template) for template in patched["paths"]]
        # Literal paths before templated ones (`/inventory/locations/metafields` vs `{location_id}`).
        paths.sort(key=lambda entry: entry[1].count("{"))
        # v3 errors are `application/problem+json`, which openapi-core does not parse by itself.
        config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
        loaded.append(_Spec(version, OpenAPI.from_dict(patched, config=config), patched, paths))
    return tuple(loaded)


class ContractValidator:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or specs_dir()
        check_specs_dir(self.root, [path for _, path in SPEC_FILES])
        self._specs = _load_specs(str(self.root))

    def find(self, api_path: str) -> tuple[_Spec, str] | None:
        version, _, rest = api_path.lstrip("/").partition("/")
        for spec in self._specs:
            if spec.version != version:
                continue
            for pattern, template in spec.paths:
                if pattern.match("/" + rest.rstrip("/")):
                    return spec, template
        return None

    def check(self, exchange: Exchange) -> list[str]:
        """Every way this exchange breaks the contract; empty when it keeps it."""
        label = f"{exchange.method} {exchange.api_path}"
        problems = [f"{label}: request: {p}" for p in self.check_request(exchange)]
        if exchange.status is not None and not problems:
            problems += [f"{label} → {exchange.status}: response: {p}" for p in self.check_response(exchange)]
        return problems

    # --- requests --------------------------------------------------------------------------

    def check_request(self, exchange: Exchange) -> list[str]:
        if exchange.request_headers.get(PROBE_HEADER):
            # A scope probe's body is invalid on purpose (BigCommerce must refuse it, so nothing is
            # written): only its path and method are held to the spec.
            found = self.find(exchange.api_path)
            if found is None or exchange.method.lower() not in found[0].raw["paths"][found[1]]:
                return [f"scope probe to an operation the spec does not have: {exchange.method} {exchange.api_path}"]
            return []
        found = self.find(exchange.api_path)
        if found is None:
            return [f"no such path in BigCommerce's specs: {exchange.api_path}"]
        spec, template = found
        operation = spec.raw["paths"][template].get(exchange.method.lower())
        if operation is None:
            return [f"{exchange.method} is not an operation of {template}"]
        problems: list[str] = []
        args = {name: values[0] for name, values in exchange.query.items()}
        declared = self._parameter_names(spec, template, operation, "query")
        problems += [f"undeclared query parameter {name!r}" for name in sorted(set(args) - declared)]
        if template == "/orders" and "sort" in args:  # erratum orders-sort-direction
            match = _SORT_SUFFIX.match(args["sort"])
            if match:
                args["sort"] = match.group("field")
        problems += self._content_type(spec, template, operation, exchange)
        body = _json(exchange.request_body)
        if body is not _NO_JSON and body is not None:
            schema = _request_schema(spec.raw, operation)
            if schema is not None:
                problems += [f"undeclared body field {path!r}" for path in _unknown_fields(spec.raw, schema, body)]
        if template == "/orders/{order_id}/shipments" and exchange.method == "POST":
            problems += _shipment_required(body)  # erratum shipment-required-in-prose
        try:
            spec.api.validate_request(self._mock_request(exchange, args))
        except Exception as error:  # openapi-core raises a family of errors; each one is a finding
            problems.append(_describe(error))
        return problems

    def _mock_request(self, exchange: Exchange, args: dict[str, str]) -> MockRequest:
        return MockRequest(
            SPEC_HOST,
            exchange.method.lower(),
            f"/stores/{exchange.store_hash}{exchange.api_path}",
            args=args,
            headers=dict(exchange.request_headers),
            data=exchange.request_body or None,
            # A missing Content-Type is found by `_content_type`, not here: openapi-core needs one to parse a body.
            content_type=exchange.request_headers.get("Content-Type", "application/json").split(";")[0],
        )

    def _content_type(self, spec: _Spec, template: str, operation: dict[str, Any], exchange: Exchange) -> list[str]:
        """A required `Content-Type` header the request lacks (erratum content-type-on-bodiless-get)."""
        if "content-type" in {name.lower() for name in exchange.request_headers}:
            return []
        if exchange.method == "GET" and not exchange.request_body:
            return []  # erratum content-type-on-bodiless-get
        body = _resolve(spec.raw, operation.get("requestBody"))
        required = (isinstance(body, dict) and bool(body.get("required")) and bool(exchange.request_body)) or any(
            resolved.get("in") == "header"
            and resolved.get("name", "").lower() == "content-type"
            and resolved.get("required")
            for resolved in (
                _resolve(spec.raw, parameter)
                for parameter in [*spec.raw["paths"][template].get("parameters", []), *operation.get("parameters", [])]
            )
        )
        return ["the required Content-Type header is missing"] if required else []

    @staticmethod
    def _parameter_names(spec: _Spec, template: str, operation: dict[str, Any], location: str) -> set[str]:
        names = set()
        for parameter in [
            *spec.raw["paths"][template].get("parameters", []),
            *operation.get("parameters", []),
        ]:
            resolved = _resolve(spec.raw, parameter)
            if resolved.get("in") == location:
                names.add(resolved["name"])
        return names

    # --- responses -------------------------------------------------------------------------

    def check_response(self, exchange: Exchange) -> list[str]:
        assert exchange.status is not None
        body = _json(exchange.response_body)
        content_type = exchange.response_headers.get("Content-Type", "application/json").split(";")[0]
        if exchange.response_body and body is _NO_JSON:
            return [f"the body is not JSON ({content_type})"]
        found = self.find(exchange.api_path)
        if found is None:
            return [] if exchange.status == 404 else [f"no such path: {exchange.api_path}"]
        spec, template = found
        operation = spec.raw["paths"][template].get(exchange.method.lower(), {})
        documented = set(map(str, operation.get("responses", {})))
        if exchange.status == 204 and not exchange.response_body and exchange.method == "GET" and spec.version == "v2":
            return []  # erratum v2-empty-page-204
        if str(exchange.status) not in documented and exchange.status >= 400:
            return _generic_error(spec.version, body)  # erratum undocumented-error-statuses
        request = self._mock_request(exchange, {})
        response = MockResponse(
            exchange.response_body,
            status_code=exchange.status,
            headers=dict(exchange.response_headers),
            content_type=content_type,
        )
        try:
            spec.api.validate_response(request, response)
        except ResponseNotFound:
            return [f"status {exchange.status} is not documented"]
        except Exception as error:
            return [_describe(error)]
        return []


_NO_JSON = object()


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return _NO_JSON


def _describe(error: BaseException) -> str:
    parts = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None and len(parts) < 4:
        details = getattr(cause, "schema_errors", None)
        if details:
            parts.extend(f"{list(item.absolute_path)}: {item.message}" for item in list(details)[:5])
        else:
            parts.append(str(cause))
        cause = cause.__cause__
    return " | ".join(part[:400] for part in parts)


def _resolve(raw: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = raw
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _request_schema(raw: dict[str, Any], operation: dict[str, Any]) -> Any:
    body = _resolve(raw, operation.get("requestBody"))
    if not isinstance(body, dict):
        return None
    content = body.get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    return media.get("schema") if isinstance(media, dict) else None


def _unknown_fields(raw: dict[str, Any], schema: Any, value: Any, path: str = "") -> Iterable[str]:
    """Body fields no branch of the schema declares (composition followed through allOf/anyOf/oneOf)."""
    schema = _resolve(raw, schema)
    if not isinstance(schema, dict):
        return
    if isinstance(value, list):
        items = schema.get("items")
        if items is None:
            items = next((branch.get("items") for branch in _branches(raw, schema) if "items" in branch), None)
        if items is not None:
            for index, element in enumerate(value):
                yield from _unknown_fields(raw, items, element, f"{path}[{index}]")
        return
    if not isinstance(value, dict):
        return
    properties: dict[str, Any] = {}
    open_ended = False
    for branch in _branches(raw, schema):
        properties.update(branch.get("properties", {}))
        if branch.get("additionalProperties") not in (None, False):
            open_ended = True
    if not properties or open_ended:
        return
    for key, element in value.items():
        if key not in properties:
            yield f"{path}.{key}".lstrip(".")
        else:
            yield from _unknown_fields(raw, properties[key], element, f"{path}.{key}")


def _branches(raw: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    result = [schema]
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword, []):
            resolved = _resolve(raw, branch)
            if isinstance(resolved, dict):
                result.extend(_branches(raw, resolved))
    return result


def _shipment_required(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["a shipment must be a JSON object"]
    problems = [f"required field {name!r} is missing" for name in ("order_address_id", "items") if name not in body]
    for index, item in enumerate(body.get("items") or []):
        for name in ("order_product_id", "quantity"):
            if not isinstance(item, dict) or name not in item:
                problems.append(f"items[{index}] lacks required {name!r}")
    return problems


def _generic_error(version: str, body: Any) -> list[str]:
    from jsonschema import Draft202012Validator

    schema = _V2_ERROR if version == "v2" else _V3_ERROR
    return [f"error body: {error.message}" for error in Draft202012Validator(schema).iter_errors(body)]
