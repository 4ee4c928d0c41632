"""The operator's everyday commands: configure a store, look into the dead-letter queues and redrive them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bcsync.cli import main as bcsync_cli
from bcsync.store.registry import StoreRegistry
from bigcommerce_sandbox import Sandbox
from local_runtime import LocalDeployment
from tests.conftest import KNOWN_TOKENS

World = tuple[LocalDeployment, Sandbox]
STORE = "ops111"


def _connected(world: World) -> StoreRegistry:
    stack, sandbox = world
    KNOWN_TOKENS.add("tok-ops111-cli")
    sandbox.add_store(STORE, token="tok-ops111-cli")
    assert bcsync_cli(["stores", "connect", STORE, "--no-webhooks"], stdin=io.StringIO("tok-ops111-cli"),
                      out=io.StringIO()) == 0  # fmt: skip
    return StoreRegistry(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]))


def test_configure_sets_fields_from_flags_and_a_yaml_file_and_says_what_changed(
    local_world: World, tmp_path: Path
) -> None:
    registry = _connected(local_world)
    settings_file = tmp_path / "ops.yaml"
    settings_file.write_text("ship_option_map:\n  UPS Ground: GROUND\norder_start_date: 2026-11-20\n")
    out = io.StringIO()

    code = bcsync_cli(
        ["stores", "configure", STORE, "--file", str(settings_file), "--set", "hold_minutes=30",
         "--set", "release_statuses=[11, 9]"], out=out,
    )  # fmt: skip

    assert code == 0
    settings = registry.get(STORE)
    assert settings.hold_minutes == 30 and settings.release_statuses == (11, 9)
    assert settings.ship_option_map == {"UPS Ground": "GROUND"}
    assert settings.order_start_date is not None and settings.order_start_date.isoformat().startswith("2026-11-20")
    assert f"{STORE}: hold_minutes: 0 → 30" in out.getvalue()


@pytest.mark.parametrize(
    ("assignment", "named"),
    [
        ("hold_minutes=-5", "hold_minutes"),
        ("colour=red", "colour"),
        ("carrier_map={UPS: carrier-pigeon}", "carrier-pigeon"),
        ("enabled=false", "bcsync stores enable|disable"),
        ("hold_minutes", "FIELD=VALUE"),
    ],
)
def test_configure_refuses_a_bad_value_naming_it_and_saves_nothing(
    local_world: World, capsys: pytest.CaptureFixture[str], assignment: str, named: str
) -> None:
    registry = _connected(local_world)
    before = registry.get(STORE)

    assert bcsync_cli(["stores", "configure", STORE, "--set", "safety_stock=3", "--set", assignment]) == 1

    assert named in capsys.readouterr().err
    assert registry.get(STORE) == before  # not even the good field was saved


def test_dlq_list_shows_each_reason_and_redrive_sends_the_messages_back(local_world: World) -> None:
    stack, _ = local_world
    _connected(local_world)
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.physical["StockInbound"]["Ref"], MessageBody="{not json")
    stack.deliver_sqs("StockInbound", stack.load_handler("InventoryPushFunction"))
    out = io.StringIO()

    assert bcsync_cli(["dlq", "list", "--show", "5"], out=out) == 0

    assert "StockInboundDLQ: 1 messages" in out.getvalue()
    assert "not a stock message: the body is not JSON: {not json" in out.getvalue()
    assert "ShipmentsInboundDLQ: 0 messages" in out.getvalue()

    moved = io.StringIO()
    assert bcsync_cli(["dlq", "redrive", "StockInbound"], out=moved) == 0

    assert "1 messages moved from StockInboundDLQ back to StockInbound" in moved.getvalue()
    back = sqs.receive_message(QueueUrl=stack.physical["StockInbound"]["Ref"])["Messages"]
    assert [message["Body"] for message in back] == ["{not json"]
    assert (
        json.loads(stack.environment()["BCSYNC_QUEUES"])["StockInboundDLQ"] == stack.physical["StockInboundDLQ"]["Ref"]
    )


def test_events_the_bus_could_not_deliver_are_redriven_on_to_the_warehouse_queue(local_world: World) -> None:
    stack, _ = local_world
    sqs = stack.client("sqs")
    event = json.dumps({"source": "bcsync", "detail-type": "Order Ready", "detail": {"idempotency_key": "k"}})
    sqs.send_message(QueueUrl=stack.physical["BusDeliveryDLQ"]["Ref"], MessageBody=event)
    moved = io.StringIO()

    assert bcsync_cli(["dlq", "redrive", "BusDeliveryDLQ"], out=moved) == 0

    assert "1 messages moved from BusDeliveryDLQ back to WarehouseOutbound" in moved.getvalue()
    assert [m["Body"] for m in stack.take_messages("WarehouseOutbound")] == [event]
    assert stack.take_messages("BusDeliveryDLQ") == []


def test_redrive_of_a_queue_without_dead_letters_names_the_ones_that_have_them(
    local_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _connected(local_world)

    assert bcsync_cli(["dlq", "redrive", "Nowhere"]) == 1

    assert "StockInbound" in capsys.readouterr().err
