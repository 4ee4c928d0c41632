"""DynamoDB state: the store registry, job runs and checkpoints, and the event outbox.

Keys spread load: every partition key names the store *and* the entity (`STORE#abc#JOB#order_import`),
except the registry, which is a handful of rows read together.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .settings import StoreSettings, describe_validation_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

REGISTRY_PK = "REGISTRY"
SCHEDULE_SLACK_SECONDS = 30.0


class UnknownStoreError(Exception):
    """No store with this hash is registered."""


class InvalidSettingsError(Exception):
    """Stored settings that no longer validate; the message names the store and the field."""


def now_iso() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="seconds")


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


class StoreRegistry:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, settings: StoreSettings) -> None:
        self._table.put_item(
            Item={
                "pk": REGISTRY_PK,
                "sk": f"STORE#{settings.store_hash}",
                "store_hash": settings.store_hash,
                "enabled": settings.enabled,
                "settings": settings.model_dump_json(),
                "updated_at": now_iso(),
            }
        )

    def get(self, store_hash: str) -> StoreSettings:
        item = self._table.get_item(Key={"pk": REGISTRY_PK, "sk": f"STORE#{store_hash}"}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            raise UnknownStoreError(f"store {store_hash} is not connected (run `bcsync stores connect`)")
        return self._parse(store_hash, item)

    def list(self, *, enabled_only: bool = False) -> list[StoreSettings]:
        stores = []
        for item in self._query_all():
            store_hash = str(item["store_hash"])
            stores.append(self._parse(store_hash, item))
        return [store for store in stores if store.enabled or not enabled_only]

    def iter_valid(self, *, enabled_only: bool = True) -> Iterator[StoreSettings | InvalidSettingsError]:
        """Each store's settings, or the error that names what is wrong with them: one bad store
        must not stop the others."""
        for item in self._query_all():
            try:
                settings = self._parse(str(item["store_hash"]), item)
            except InvalidSettingsError as error:
                yield error
                continue
            if settings.enabled or not enabled_only:
                yield settings

    def set_enabled(self, store_hash: str, enabled: bool) -> StoreSettings:
        settings = self.get(store_hash)
        settings.enabled = enabled
        self.put(settings)
        return settings

    def _query_all(self) -> Iterator[dict[str, Any]]:
        return query_all(
            self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": REGISTRY_PK, ":prefix": "STORE#"},
        )

    @staticmethod
    def _parse(store_hash: str, item: dict[str, Any]) -> StoreSettings:
        try:
            return StoreSettings.model_validate_json(str(item["settings"]))
        except ValidationError as error:
            raise InvalidSettingsError(describe_validation_error(store_hash, error)) from None


class JobRun(BaseModel):
    """What `bcsync status` shows of a job: when it last ran, what it did, what went wrong."""

    model_config = ConfigDict(extra="ignore")

    store_hash: str
    job: str
    started_at: str
    finished_at: str | None = None
    outcome: str = "running"  # running | done | continued | failed
    figures: dict[str, int] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)


class JobState:
    """Job runs and checkpoints, one partition per store and job."""

    def __init__(self, table: Table) -> None:
        self._table = table

    @staticmethod
    def _pk(store_hash: str, job: str) -> str:
        return f"STORE#{store_hash}#JOB#{job}"

    def record_run(self, run: JobRun) -> None:
        self._table.put_item(
            Item={
                "pk": self._pk(run.store_hash, run.job),
                "sk": "RUN",
                "run": run.model_dump_json(),
                "updated_at": now_iso(),
            }
        )

    def last_run(self, store_hash: str, job: str) -> JobRun | None:
        item = self._table.get_item(Key={"pk": self._pk(store_hash, job), "sk": "RUN"}, ConsistentRead=True).get("Item")
        return JobRun.model_validate_json(str(item["run"])) if item else None

    def save_checkpoint(self, store_hash: str, job: str, checkpoint: dict[str, Any]) -> None:
        self._table.put_item(
            Item={
                "pk": self._pk(store_hash, job),
                "sk": "CHECKPOINT",
                "checkpoint": json.dumps(checkpoint, sort_keys=True),
                "updated_at": now_iso(),
            }
        )

    def load_checkpoint(self, store_hash: str, job: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"pk": self._pk(store_hash, job), "sk": "CHECKPOINT"}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        loaded = json.loads(str(item["checkpoint"]))
        return loaded if isinstance(loaded, dict) else None

    def clear_checkpoint(self, store_hash: str, job: str) -> None:
        self._table.delete_item(Key={"pk": self._pk(store_hash, job), "sk": "CHECKPOINT"})

    def acquire_lease(self, store_hash: str, job: str, holder: str, *, until: float, now: float) -> bool:
        """True when `holder` now runs this store's job (no lease, or an expired one: its holder died)."""
        try:
            self._table.put_item(
                Item={
                    "pk": self._pk(store_hash, job),
                    "sk": "LEASE",
                    "holder": holder,
                    "until": Decimal(str(round(until, 3))),
                    "expires_at": int(until) + 86_400,
                },
                ConditionExpression="attribute_not_exists(pk) OR #until < :now",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={":now": Decimal(str(round(now, 3)))},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release_lease(self, store_hash: str, job: str, holder: str) -> None:
        with contextlib.suppress(self._table.meta.client.exceptions.ConditionalCheckFailedException):
            self._table.delete_item(
                Key={"pk": self._pk(store_hash, job), "sk": "LEASE"},
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": holder},
            )

    def mark_due(self, store_hash: str, job: str, *, now: float, debounce_seconds: float) -> bool:
        """True when this call opened a debounce window (the caller queues one job message for it);
        False when a window is already open: its message, due at the window's end, covers this change."""
        return self._claim(
            store_hash,
            job,
            "DUE",
            "due_at",
            now=now,
            until=now + debounce_seconds,
            expires_at=int(now + debounce_seconds) + 86_400,
        )

    def take_scheduled_turn(self, store_hash: str, job: str, *, now: float, every_seconds: float) -> bool:
        """True when the store's scheduled run of this job is due (and books the next one); a tick that
        comes sooner gets False. Half a minute of slack keeps a 5-minute interval on 1-minute ticks from
        slipping to 6."""
        return self._claim(
            store_hash, job, "SCHEDULE", "next_at", now=now, until=now + every_seconds - SCHEDULE_SLACK_SECONDS
        )

    def _claim(
        self, store_hash: str, job: str, sk: str, field: str, *, now: float, until: float, expires_at: int | None = None
    ) -> bool:
        """Sets `field` to `until` if it is unset or has passed: True for the one caller that did."""
        expires = ", expires_at = :expires" if expires_at is not None else ""
        values: dict[str, Any] = {":until": Decimal(str(round(until, 3))), ":now": Decimal(str(round(now, 3)))}
        if expires_at is not None:
            values[":expires"] = expires_at
        try:
            self._table.update_item(
                Key={"pk": self._pk(store_hash, job), "sk": sk},
                UpdateExpression=f"SET {field} = :until{expires}",
                ConditionExpression=f"attribute_not_exists({field}) OR {field} <= :now",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def clear_due(self, store_hash: str, job: str) -> None:
        """Close the window (its job message could not be queued), so the next change opens a new one."""
        self._table.delete_item(Key={"pk": self._pk(store_hash, job), "sk": "DUE"})


class Outbox:
    """pending → published, per idempotency key: a crash between the two republishes the same key."""

    PENDING = "pending"
    PUBLISHED = "published"

    def __init__(self, table: Table, *, retention_days: int = 30) -> None:
        self._table = table
        self._retention_seconds = retention_days * 86_400

    @staticmethod
    def _key(idempotency_key: str) -> dict[str, str]:
        return {"pk": f"OUTBOX#{idempotency_key}", "sk": "OUTBOX"}

    def state(self, idempotency_key: str) -> str | None:
        item = self._table.get_item(Key=self._key(idempotency_key), ConsistentRead=True).get("Item")
        return str(item["state"]) if item else None

    def published_among(self, idempotency_keys: list[str]) -> set[str]:
        """The keys already published, read in one BatchGetItem per 100: a run that offers its unchanged
        orders again (the scan's overlap window) pays a read for each instead of a refused conditional
        write, which DynamoDB bills as a write (five times a read)."""
        items = batch_get(self._table, [self._key(key) for key in sorted(set(idempotency_keys))])
        return {str(item["pk"]).removeprefix("OUTBOX#") for item in items if item.get("state") == self.PUBLISHED}

    def mark_pending(self, idempotency_key: str, detail_type: str, *, force: bool = False) -> bool:
        """False when the key was already published: nothing to do (unless `force`: send it again)."""
        condition: dict[str, Any] = {} if force else {
            "ConditionExpression": "attribute_not_exists(pk) OR #state <> :published",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {":published": self.PUBLISHED},
        }  # fmt: skip
        try:
            self._table.put_item(
                Item={
                    **self._key(idempotency_key),
                    "state": self.PENDING,
                    "detail_type": detail_type,
                    "updated_at": now_iso(),
                    "expires_at": int(time.time()) + self._retention_seconds,
                },
                **condition,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_published(self, idempotency_key: str) -> None:
        self._table.update_item(
            Key=self._key(idempotency_key),
            UpdateExpression="SET #state = :published, updated_at = :now",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":published": self.PUBLISHED, ":now": now_iso()},
        )


class ProblemLog:
    """What an operator must see for a store (`bcsync status`): one item per problem, newest text wins,
    kept 30 days. One partition per store, read with one query."""

    RETENTION_SECONDS = 30 * 86_400

    def __init__(self, table: Table, store_hash: str) -> None:
        self._table = table
        self._pk = f"STORE#{store_hash}#PROBLEMS"

    def add(self, kind: str, subject: str, text: str) -> None:
        self._table.put_item(
            Item={
                "pk": self._pk,
                "sk": f"{kind}#{subject}",
                "kind": kind,
                "subject": subject,
                "text": text[:1000],
                "at": now_iso(),
                "expires_at": int(time.time()) + self.RETENTION_SECONDS,
            }
        )

    def clear(self, kind: str, subject: str) -> None:
        self._table.delete_item(Key={"pk": self._pk, "sk": f"{kind}#{subject}"})

    def list(self) -> list[dict[str, str]]:
        items = self._table.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": self._pk}, ConsistentRead=True
        ).get("Items", [])
        return [{name: str(item[name]) for name in ("kind", "subject", "text", "at")} for item in items]
