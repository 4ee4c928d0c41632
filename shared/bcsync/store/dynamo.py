"""DynamoDB helpers every adapter shares: paged reads, batched gets, and the conditional write.

The keys themselves are `bcsync.store.keys`; each flow's adapter (its `state` module) reads and writes
its own items through these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def now_iso() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="seconds")


def conditional(write: Callable[..., Any], /, **request: Any) -> bool:
    """Run one conditional write (`table.put_item`, `update_item`, `delete_item` with a
    `ConditionExpression`): True when it was made, False when its condition refused it. Any other
    error is raised: only a refused condition is an answer."""
    try:
        write(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


BATCH_GET_KEYS = 100


def batch_get(table: Table, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item of `keys` that exists: BatchGetItem by 100, unprocessed keys retried, consistent."""
    client = table.meta.client  # a resource's client: it (de)serializes attribute values itself
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {table.name: {"Keys": keys[start : start + BATCH_GET_KEYS], "ConsistentRead": True}}
        while request:
            response = client.batch_get_item(RequestItems=request)
            found += response.get("Responses", {}).get(table.name, [])
            request = response.get("UnprocessedKeys") or {}
    return found


def query_all(table: Table, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a query matches, page after page (DynamoDB stops each page at 1 MB)."""
    return _all_pages(table.query, kwargs)


def scan_all(table: Table, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a scan matches, page after page (operator tooling: the jobs query their partitions)."""
    return _all_pages(table.scan, kwargs)


def _all_pages(read: Callable[..., Any], kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        page = read(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs = {**kwargs, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def partition(table: Table, pk: str, *, attributes: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    """Every item of one partition, read consistently; only `attributes` of each, when named."""
    projection = {"ProjectionExpression": ", ".join(attributes)} if attributes else {}
    return query_all(
        table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": pk},
        ConsistentRead=True,
        **projection,
    )
