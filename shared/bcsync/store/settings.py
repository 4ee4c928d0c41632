"""Each store's settings (`StoreSettings`), kept in the registry; the function's own are `bcsync.settings`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from bigcommerce_client import validate_store_hash
from bigcommerce_client.carriers import valid_carrier

JobName = Literal["order_import", "product_sync", "inventory_push", "tracking_writeback", "readback"]
JOBS: tuple[JobName, ...] = get_args(JobName)
# What a store is to the warehouse: a sales channel sends its orders to the warehouse (bcsync's first
# direction); a source fulfils orders the warehouse's other channels send into it (the other direction).
StoreRole = Literal["sales_channel", "source", "both"]

StoreHash = Annotated[str, AfterValidator(validate_store_hash)]
# Order import's tick comes every minute, so each store can have its own interval; 5 minutes unless set.
DEFAULT_SCHEDULE_MINUTES: dict[JobName, int] = {"order_import": 5}


class BusinessHours(BaseModel):
    """When the warehouse takes orders: held orders are released at the next opening."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    weekdays: tuple[int, ...] = Field(default=(0, 1, 2, 3, 4), min_length=1)  # Monday = 0

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @field_validator("weekdays")
    @classmethod
    def _days(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if not all(0 <= day <= 6 for day in days):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return days

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when the warehouse is open then, else its next opening (UTC)."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            if day.weekday() not in self.weekdays:
                continue
            opening = datetime.combine(day, self.opens, tzinfo=local.tzinfo)
            closing = datetime.combine(day, self.closes, tzinfo=local.tzinfo)
            if local < closing:
                return max(local, opening).astimezone(UTC)
        raise ValueError("business hours never open")  # unreachable: weekdays has at least one day


class StoreSettings(BaseModel):
    """The one settings model per store (docs/design.md), with a default for every field.

    Written strictly (a field this model does not know is refused), read leniently (`read`): settings a
    newer release wrote keep working after a rollback, and its fields are kept when this release writes."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
    # Fields of the stored settings this release does not know: kept as they were, never used.
    _unknown: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def read(cls, stored: str) -> StoreSettings:
        """The stored settings (JSON). Raises ValueError for text that is not a JSON object and
        ValidationError for a known field whose value does not validate."""
        raw = json.loads(stored)
        if not isinstance(raw, dict):
            raise ValueError("stored settings are not a JSON object")
        settings = cls.model_validate({name: value for name, value in raw.items() if name in cls.model_fields})
        settings._unknown = {name: value for name, value in raw.items() if name not in cls.model_fields}
        return settings

    @property
    def unknown_fields(self) -> list[str]:
        return sorted(self._unknown)

    def to_stored(self) -> str:
        """What the registry keeps: every field, and the ones this release does not know as they were."""
        return json.dumps(self._unknown | self.model_dump(mode="json"), sort_keys=True)

    def with_changes(self, changes: dict[str, Any]) -> StoreSettings:
        """These settings with `changes` (validated strictly: an unknown name is refused), unknown
        fields kept."""
        changed = type(self).model_validate(self.model_dump(mode="json") | changes)
        changed._unknown = dict(self._unknown)
        return changed

    store_hash: StoreHash
    name: str = ""
    enabled: bool = True
    role: StoreRole = "sales_channel"
    # Minutes between scheduled runs of a job for this store. A schedule tick that comes sooner skips the
    # store; a value below the template's tick (order import: 1 minute, others 15) runs at every tick.
    schedule_minutes: dict[JobName, int] = Field(default_factory=lambda: dict(DEFAULT_SCHEDULE_MINUTES))
    api_reserve_ratio: float = Field(default=0.5, ge=0.0, lt=1.0)
    max_wait_seconds: float = Field(default=5.0, ge=0.0, le=60.0)
    # webhooks: where `stores connect` registered this store's hooks (None: not registered, schedules only)
    webhook_destination: str | None = Field(default=None, pattern=r"^https://[^\s]+$")
    # product sync
    product_page_size: int = Field(default=250, ge=1, le=250)
    skip_hidden_products: bool = True
    delta_overlap_seconds: int = Field(default=300, ge=0, le=86_400)
    hs_code_fields: tuple[str, ...] = ("hs_code", "HS Code", "hs-code", "tariff_code")
    country_of_origin_fields: tuple[str, ...] = ("country_of_origin", "Country of Origin", "origin")
    # order import
    release_statuses: tuple[int, ...] = Field(default=(11,), min_length=1)
    order_start_date: datetime | None = None  # None: orders created from the first run's day on
    client_code: str = Field(default="", max_length=64)  # the 3PL's client / facility code
    ship_option_map: dict[str, str] = Field(default_factory=dict)  # BigCommerce shipping method → ship option
    default_ship_option: str = Field(default="STANDARD", min_length=1)
    order_page_size: int = Field(default=250, ge=1, le=250)
    order_overlap_seconds: int = Field(default=120, ge=0, le=86_400)
    hold_minutes: int = Field(default=0, ge=0, le=10_080)  # hold a paid order this long before releasing it
    business_hours: BusinessHours | None = None  # release held orders only while the warehouse is open
    # A released order BigCommerce moves to one of these (Awaiting Payment, Manual Verification Required,
    # Disputed) must not ship now: `Order On Hold`, until it is back in a release status. A release status
    # is never a hold (the store chose to ship it).
    on_hold_statuses: tuple[int, ...] = (7, 12, 13)
    awaiting_shipment_on_ack: bool = False  # move the order to Awaiting Shipment (9) when the warehouse acknowledges
    # tracking writeback
    carrier_map: dict[str, str] = Field(default_factory=dict)  # warehouse carrier name → BigCommerce tracking_carrier
    complete_orders: bool = False  # Completed (10) instead of Shipped once every line is shipped (one call more)
    pickup_to_awaiting_pickup: bool = True  # a pickup "shipment" moves the order to Awaiting Pickup (8)
    # inventory push
    location_map: dict[str, int] = Field(default_factory=dict)  # warehouse location → BigCommerce location id
    default_location_id: int = Field(default=1, gt=0)  # every warehouse location, when location_map is empty
    safety_stock: int = Field(default=0, ge=0)  # a sellable quantity below this is pushed as 0
    safety_stock_by_sku: dict[str, int] = Field(default_factory=dict)  # per SKU, instead of safety_stock
    # Statuses in which BigCommerce has taken an order's stock while the warehouse does not have the order
    # yet (not released, or held): their quantities are subtracted from the warehouse's.
    stock_committed_statuses: tuple[int, ...] = (1, 7, 8, 9, 11, 12, 13)
    # read back (shipments made in BigCommerce, a source store's stock): orders created longer ago than this
    # are history - their shipments are never read back.
    readback_lookback_days: int = Field(default=90, ge=1, le=3_650)

    @property
    def is_sales_channel(self) -> bool:
        return self.role in ("sales_channel", "both")

    @property
    def is_source(self) -> bool:
        return self.role in ("source", "both")

    @field_validator("schedule_minutes")
    @classmethod
    def _intervals(cls, intervals: dict[JobName, int]) -> dict[JobName, int]:
        bad = sorted(job for job, minutes in intervals.items() if not 1 <= minutes <= 1_440)
        if bad:
            raise ValueError(f"minutes between runs are 1 to 1440: {', '.join(bad)}")
        return {**DEFAULT_SCHEDULE_MINUTES, **intervals}

    @field_validator("location_map")
    @classmethod
    def _location_ids(cls, location_map: dict[str, int]) -> dict[str, int]:
        bad = sorted(name for name, location_id in location_map.items() if location_id <= 0 or not name.strip())
        if bad:
            raise ValueError(f"location ids are positive and names are not blank: {', '.join(bad) or 'a blank name'}")
        return location_map

    @field_validator("safety_stock_by_sku")
    @classmethod
    def _thresholds(cls, thresholds: dict[str, int]) -> dict[str, int]:
        negative = sorted(sku for sku, threshold in thresholds.items() if threshold < 0)
        if negative:
            raise ValueError(f"safety stock is 0 or more: {', '.join(negative)}")
        return thresholds

    @field_validator("carrier_map")
    @classmethod
    def _known_carriers(cls, carrier_map: dict[str, str]) -> dict[str, str]:
        unknown = sorted(value for value in carrier_map.values() if not valid_carrier(value))
        if unknown:
            raise ValueError(f"not BigCommerce tracking_carrier values: {', '.join(unknown)}")
        return carrier_map


def describe_validation_error(store_hash: str, error: ValidationError) -> str:
    """`store abc123: api_reserve_ratio: Input should be less than 1` - one line per bad field."""
    parts = []
    for issue in error.errors():
        field = ".".join(str(part) for part in issue["loc"]) or "settings"
        parts.append(f"{field}: {issue['msg']}")
    return f"store {store_hash}: " + "; ".join(parts)
