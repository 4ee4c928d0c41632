"""Each store's settings (`StoreSettings`), kept in the registry; the function's own are `bcsync.settings`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
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
# A store connected with webhooks has each order within seconds of its webhook: its scan only catches a delivery
# BigCommerce never made, so `stores connect` gives a new store with webhooks this interval instead.
ORDER_SCAN_MINUTES_WITH_WEBHOOKS = 15


class BusinessHours(BaseModel):
    """When the warehouse takes orders: held orders are released at the next opening."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field(default="UTC", description="The warehouse's time zone (IANA name, e.g. `America/Chicago`).")
    opens: time = Field(default=time(9, 0), description="When the warehouse starts taking orders, local time.")
    closes: time = Field(default=time(17, 0), description="When it stops, local time (the same day).")
    weekdays: tuple[int, ...] = Field(
        default=(0, 1, 2, 3, 4), min_length=1, description="The days it is open: 0 (Monday) to 6 (Sunday)."
    )

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

    store_hash: StoreHash = Field(
        description="The store's hash, as in its API path (`stores/{hash}/v3`); names it everywhere."
    )
    name: str = Field(
        default="",
        description="A display name; `bcsync stores connect` takes the store's own unless `--name` is given.",
    )
    enabled: bool = Field(
        default=True,
        description="Whether bcsync runs anything for the store: off, every job and warehouse message of the store is"
        " dropped with a log line (`bcsync stores disable|enable`). One flow alone: the per-flow switches below.",
    )
    role: StoreRole = Field(
        default="sales_channel",
        description="What the store is to the warehouse: a `sales_channel` sends its orders to the warehouse, a"
        " `source` fulfils orders the warehouse's other channels send into it, `both` does both.",
    )
    # --- per-flow switches: each flow on or off for this store (docs/settings.md, "Per-flow switches") ---
    order_import_enabled: bool = Field(
        default=True,
        description="Import paid orders and send them to the warehouse. Off: no scan runs (schedule, webhook or"
        " `bcsync orders fetch`); turned on again, the scan goes on from where it stopped.",
    )
    product_sync_enabled: bool = Field(
        default=True,
        description="Send the catalog to the warehouse. Off: no sync runs; turned on again, the next delta sync"
        " sends what changed meanwhile.",
    )
    inventory_push_enabled: bool = Field(
        default=True,
        description="Push the warehouse's stock to BigCommerce. Off: no push runs, and a warehouse `Stock Level` for"
        " the store is not applied: it is dropped and recorded as a problem (`flow_off`, in `bcsync status`); the"
        " warehouse's next one after turning it on is pushed. Bundle definitions are still kept.",
    )
    tracking_writeback_enabled: bool = Field(
        default=True,
        description="Write the warehouse's shipments (tracking numbers) to BigCommerce. Off: a `Shipment Confirmed`"
        " for the store is dead-lettered with the reason, to redrive once it is on; the warehouse's other answers"
        " (acknowledged, rejected, backordered, too late) are still recorded.",
    )
    readback_enabled: bool = Field(
        default=True,
        description="Read back shipments made in BigCommerce by others (and a source store's stock) and tell the"
        " warehouse. Off: no read-back run; turned on again, the next scan reads what changed meanwhile.",
    )
    # --- end of per-flow switches ---
    schedule_minutes: dict[JobName, int] = Field(
        default_factory=lambda: dict(DEFAULT_SCHEDULE_MINUTES),
        description="Minutes (1 to 1440) between scheduled runs of a job for this store. A schedule tick that comes"
        " sooner skips the store; a job not named, or a value below the template's tick (order import: 1 minute,"
        " product sync's delta and read back's scan 15, the push's reconcile 60), runs at every tick. Order import runs"
        " every 5 minutes unless set; a store first connected with webhooks, every 15.",
    )
    api_reserve_ratio: float = Field(
        default=0.5,
        ge=0.0,
        lt=1.0,
        description="The share of the store's API quota (each 30-second window) bcsync leaves to the store's other"
        " apps: a request is sent only while at least this share is left, else the job pauses and resumes later.",
    )
    max_wait_seconds: float = Field(
        default=1.0,
        ge=0.0,
        le=60.0,
        description="The longest a function waits in place for the store's rate window to reset (Lambda bills the"
        " wait); a longer reset pauses the job (checkpoint) and it resumes when the quota is back, and a shipment,"
        " a fulfillment request or a return is sent again onto its queue, delayed until then.",
    )
    webhook_destination: str | None = Field(
        default=None,
        pattern=r"^https://[^\s]+$",
        description="Where `bcsync stores connect` registered the store's webhooks (null: none, the schedules alone"
        " pick up changes). Set by `bcsync stores connect` (`--webhook-url`, `--no-webhooks`).",
    )
    # product sync
    product_page_size: int = Field(default=250, ge=1, le=250, description="Products read per catalog page.")
    skip_hidden_products: bool = Field(
        default=True,
        description="Products hidden in BigCommerce (not visible) are not sent to the warehouse, and one sent before"
        " is archived (`Product Archived`).",
    )
    delta_overlap_seconds: int = Field(
        default=300,
        ge=0,
        le=86_400,
        description="How far before the last sync's start a delta sync reads again, so a product saved during the"
        " last sync is not missed.",
    )
    hs_code_fields: tuple[str, ...] = Field(
        default=("hs_code", "HS Code", "hs-code", "tariff_code"),
        description="Names of the product custom fields (or variant options) that hold the HS code, first found wins"
        " (case does not matter).",
    )
    country_of_origin_fields: tuple[str, ...] = Field(
        default=("country_of_origin", "Country of Origin", "origin"),
        description="Names of the product custom fields (or variant options) that hold the country of origin, first"
        " found wins (case does not matter).",
    )
    # order import
    release_statuses: tuple[int, ...] = Field(
        default=(11,),
        min_length=1,
        description="BigCommerce order status ids in which an order is sent to the warehouse (11: Awaiting"
        " Fulfillment).",
    )
    order_start_date: datetime | None = Field(
        default=None,
        description="Orders created before this time are never sent (null: none is too old, so the store's first run"
        " sends every order already in a release status). Set it to now before turning order import back on to skip"
        " what came while it was off.",
    )
    client_code: str = Field(
        default="", max_length=64, description="The 3PL's client or facility code, on every order event."
    )
    ship_option_map: dict[str, str] = Field(
        default_factory=dict,
        description="BigCommerce shipping method (as on the order) → the warehouse's ship option.",
    )
    default_ship_option: str = Field(
        default="STANDARD", min_length=1, description="The ship option of an order whose shipping method is not mapped."
    )
    order_page_size: int = Field(default=250, ge=1, le=250, description="Orders read per page of the scan.")
    order_overlap_seconds: int = Field(
        default=120,
        ge=0,
        le=86_400,
        description="How far before its cursor each order scan reads again, so an order saved during the last scan"
        " is not missed (an order read twice is sent once).",
    )
    hold_minutes: int = Field(
        default=0,
        ge=0,
        le=10_080,
        description="Minutes a paid order waits after it was created before it is released to the warehouse (time"
        " for the customer or staff to change it).",
    )
    business_hours: BusinessHours | None = Field(
        default=None,
        description="When the warehouse takes orders: held orders are released only while it is open (null: any"
        " time). Its fields are below.",
    )
    on_hold_statuses: tuple[int, ...] = Field(
        default=(7, 12, 13),
        description="Statuses (Awaiting Payment, Manual Verification Required, Disputed) in which a released order"
        " must not ship now: `Order On Hold` is sent, until it is back in a release status. A release status is never"
        " a hold (the store chose to ship it).",
    )
    awaiting_shipment_on_ack: bool = Field(
        default=False,
        description="Move the order to Awaiting Shipment (9) when the warehouse acknowledges it.",
    )
    # tracking writeback
    carrier_map: dict[str, str] = Field(
        default_factory=dict,
        description="Warehouse carrier name → BigCommerce `tracking_carrier` value (checked against BigCommerce's"
        " list). A carrier not named here is matched to BigCommerce's list by name; one that matches nothing is"
        " written without a carrier (the tracking number alone).",
    )
    complete_orders: bool = Field(
        default=False,
        description="Move an order to Completed (10) instead of Shipped once every line is shipped (one call more).",
    )
    pickup_to_awaiting_pickup: bool = Field(
        default=True, description='A pickup "shipment" moves the order to Awaiting Pickup (8).'
    )
    # inventory push
    location_map: dict[str, int] = Field(
        default_factory=dict,
        description="Warehouse location → BigCommerce location id. Empty: every warehouse location adds up to"
        " `default_location_id`; otherwise a location not named is not pushed (a problem names it).",
    )
    default_location_id: int = Field(
        default=1,
        gt=0,
        description="The BigCommerce location every warehouse location goes to when `location_map` is empty.",
    )
    safety_stock: int = Field(default=0, ge=0, description="A sellable quantity below this is pushed as 0.")
    safety_stock_by_sku: dict[str, int] = Field(
        default_factory=dict, description="SKU → its own safety stock, instead of `safety_stock`."
    )
    stock_committed_statuses: tuple[int, ...] = Field(
        default=(1, 7, 8, 9, 11, 12, 13),
        description="Statuses in which BigCommerce has taken an order's stock while the warehouse does not have the"
        " order yet (not released, or held): their quantities are subtracted from the warehouse's.",
    )
    # --- returns and refunds (bcsync.returns) ---
    refunds_enabled: bool = Field(
        default=False,
        description="Refund a warehouse return automatically (a refund quote, then the refund, once per return)."
        " Off: the return is only recorded on the order as a staff note; a refund moves money, so it is off"
        " until the merchant turns it on.",
    )
    refund_lines: Literal["all", "resellable"] = Field(
        default="resellable",
        description="Which returned lines are refunded: every one (`all`), or only those the warehouse found"
        " resellable (`resellable`).",
    )
    refund_limit_per_order: Decimal = Field(
        default=Decimal("100"),
        gt=0,
        max_digits=12,
        decimal_places=2,
        description="The most bcsync refunds on one order, in the order's currency (what it refunded on the order"
        " before counts); a return that would pass it is refunded not at all and shown as a problem.",
    )
    # --- fulfillment requests (bcsync.fulfilment) ---
    fulfilment_status_id: Literal[1, 7, 8, 9, 11, 12] = Field(
        default=11,
        description="For a store whose role is source: the status an order created from a fulfillment request"
        " takes (Awaiting Fulfillment unless set; Incomplete and the closed or shipped statuses are refused). The"
        " hold and business hours are order import's own (`hold_minutes`, `business_hours`).",
    )
    # --- read back (bcsync.readback) ---
    readback_lookback_days: int = Field(
        default=90,
        ge=1,
        le=3_650,
        description="Read back shipments made in BigCommerce (and a source store's stock) for orders created within"
        " this many days; older orders are history and their shipments are never read back.",
    )

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
