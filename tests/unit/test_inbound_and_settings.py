from __future__ import annotations

import pytest
from pydantic import ValidationError

from bcsync.errors import ConfigurationError
from bcsync.settings import RuntimeConfig
from bcsync.store.settings import StoreSettings
from bcsync.warehouse.inbound import SHIPMENTS_INBOUND, STOCK_INBOUND, ShipmentConfirmed, StockLevel

SHIPMENT = {
    "type": "Shipment Confirmed",
    "schema_version": 1,
    "store_hash": "abc123",
    "order_id": 101,
    "warehouse_shipment_id": "WH-1",
    "tracking_number": "1Z999",
    "carrier": "UPS",
    "lines": [{"order_product_id": 5, "quantity": 2}, {"sku": "SKU-1", "quantity": 1}],
}


def test_a_shipment_message_is_read_by_its_type() -> None:
    message = SHIPMENTS_INBOUND.validate_python(SHIPMENT)
    assert isinstance(message, ShipmentConfirmed)
    assert [line.quantity for line in message.lines] == [2, 1]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "Shipment Lost"}, "type"),
        ({"store_hash": "ABC!"}, "store_hash"),
        ({"lines": []}, "lines"),
        ({"lines": [{"quantity": 1}]}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 0}]}, "lines"),
        ({"schema_version": 2}, "schema_version"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_an_invalid_shipment_message_names_what_is_wrong(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SHIPMENTS_INBOUND.validate_python({**SHIPMENT, **change})
    assert field in str(caught.value)


def test_stock_levels_need_an_as_of_time_and_a_mode() -> None:
    message = STOCK_INBOUND.validate_python(
        {
            "type": "Stock Level",
            "store_hash": "abc123",
            "as_of": "2026-11-23T10:00:00Z",
            "mode": "delta",
            "items": [{"sku": "SKU-1", "location": "WH1", "fulfillable": 4, "exception": 1}],
        }
    )
    assert isinstance(message, StockLevel) and message.items[0].fulfillable == 4
    with pytest.raises(ValidationError, match="mode"):
        STOCK_INBOUND.validate_python(
            {"type": "Stock Level", "store_hash": "abc123", "as_of": "2026-11-23T10:00:00Z", "items": []}
        )


def test_store_settings_refuse_unknown_fields_and_bad_values() -> None:
    with pytest.raises(ValidationError, match="api_reserve_ratio"):
        StoreSettings(store_hash="abc123", api_reserve_ratio=1.5)
    with pytest.raises(ValidationError, match="colour"):
        StoreSettings.model_validate({"store_hash": "abc123", "colour": "red"})


def test_runtime_config_names_the_missing_environment_variables() -> None:
    with pytest.raises(ConfigurationError, match="BCSYNC_STATE_TABLE"):
        RuntimeConfig.from_env({"BCSYNC_EVENT_BUS": "bus"})
    config = RuntimeConfig.from_env(
        {
            "BCSYNC_STATE_TABLE": "state",
            "BCSYNC_IDEMPOTENCY_TABLE": "idem",
            "BCSYNC_EVENT_BUS": "bus",
            "BCSYNC_PAYLOAD_BUCKET": "bucket",
            "BCSYNC_SECRET_PREFIX": "bcsync/prod/stores/",
            "BCSYNC_ORDER_IMPORT_QUEUE_URL": "https://sqs/jobs",
        }
    )
    assert config.job_queue_urls == {"order_import": "https://sqs/jobs"}
    assert config.secret_prefix == "bcsync/prod/stores/"


def test_a_function_without_its_stacks_secret_prefix_does_not_start() -> None:
    """No prefix falls back to one every stack of the account would share."""
    env = {**BASE_ENV}
    del env["BCSYNC_SECRET_PREFIX"]
    with pytest.raises(ConfigurationError, match="BCSYNC_SECRET_PREFIX"):
        RuntimeConfig.from_env(env)


def test_a_schedule_interval_out_of_range_is_refused_with_its_field() -> None:
    with pytest.raises(ValidationError, match=r"schedule_minutes[\s\S]*1 to 1440"):
        StoreSettings(store_hash="aaa111", schedule_minutes={"order_import": 0})


def test_a_store_setting_one_interval_keeps_the_order_import_default() -> None:
    settings = StoreSettings(store_hash="aaa111", schedule_minutes={"product_sync": 60})

    assert settings.schedule_minutes == {"order_import": 5, "product_sync": 60}


BASE_ENV = {
    "BCSYNC_STATE_TABLE": "s",
    "BCSYNC_IDEMPOTENCY_TABLE": "i",
    "BCSYNC_EVENT_BUS": "b",
    "BCSYNC_PAYLOAD_BUCKET": "p",
    "BCSYNC_SECRET_PREFIX": "bcsync/s/stores/",
}
API_URLS = [
    ("https://api.bigcommerce.com", True),
    ("https://api.bigcommerce.com/", True),
    ("http://127.0.0.1:8443", True),
    ("http://localhost:9000/stores", True),
    ("http://[::1]:8080", True),
    ("http://api.bigcommerce.com", False),  # a token in clear text over the internet
    ("http://10.0.0.5:8080", False),
    ("ftp://api.bigcommerce.com", False),
    ("api.bigcommerce.com", False),
]


@pytest.mark.parametrize(("url", "allowed"), API_URLS)
def test_the_api_url_is_https_or_loopback(url: str, allowed: bool) -> None:
    env = {**BASE_ENV, "BIGCOMMERCE_API_URL": url}
    if allowed:
        assert RuntimeConfig.from_env(env).bigcommerce_api_url == url
    else:
        with pytest.raises(ConfigurationError, match="BIGCOMMERCE_API_URL"):
            RuntimeConfig.from_env(env)


@pytest.mark.parametrize(
    ("role", "sales_channel", "source"),
    [("sales_channel", True, False), ("source", False, True), ("both", True, True)],
)
def test_a_stores_role_says_which_directions_it_takes_part_in(role: str, sales_channel: bool, source: bool) -> None:
    settings = StoreSettings(store_hash="abc123").with_changes({"role": role})
    assert (settings.is_sales_channel, settings.is_source) == (sales_channel, source)


def test_a_store_is_a_sales_channel_until_told_otherwise_and_an_unknown_role_is_refused() -> None:
    assert StoreSettings(store_hash="abc123").role == "sales_channel"
    with pytest.raises(ValidationError, match="role"):
        StoreSettings(store_hash="abc123").with_changes({"role": "supplier"})
