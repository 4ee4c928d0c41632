"""A bundle recipe follows the rule of stock levels: the newest as-of time wins, whatever order they come in."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bcsync.errors import NeverValid
from bcsync.inventory.receiver import parse_stock_message
from bcsync.inventory.state import Recipe, recipe_news
from bcsync.warehouse.inbound import BundleDefinition

BOX = {"TEE": 2, "MUG": 1}


@pytest.mark.parametrize(
    ("stored", "received", "news"),
    [
        (None, Recipe(BOX, 1_000_000), "newer"),  # the first recipe
        (Recipe({"TEE": 1}, None), Recipe(BOX, 1_000_000), "newer"),  # stored before recipes were dated
        (Recipe({"TEE": 1}, 900_000), Recipe(BOX, 1_000_000), "newer"),
        (Recipe(BOX, 1_000_000), Recipe({"TEE": 1}, 900_000), "older"),  # redelivered late: ignored
        (Recipe(BOX, 1_000_000), Recipe(BOX, 1_000_000), "repeat"),  # delivered twice: nothing to do
        (Recipe(BOX, 1_000_000), Recipe({"TEE": 1}, 1_000_000), "older"),  # as old, other parts: the first stays
    ],
)
def test_only_a_newer_recipe_replaces_the_stored_one(stored: Recipe | None, received: Recipe, news: str) -> None:
    assert recipe_news(stored, received) == news


def _definition(**fields: object) -> str:
    return json.dumps({"type": "Bundle Definition", "store_hash": "abc123", "bundle_sku": "BOX",
                       "components": [{"sku": "TEE", "quantity": 2}], **fields})  # fmt: skip


def test_version_2_needs_as_of_and_version_1_is_read_without_it() -> None:
    with pytest.raises(NeverValid, match="as_of"):
        parse_stock_message(_definition(schema_version=2))
    with pytest.raises(NeverValid, match="as_of"):
        parse_stock_message(_definition(schema_version=2, as_of="2026-11-23T10:00:00"))  # no time zone
    old, _ = parse_stock_message(_definition())
    dated, _ = parse_stock_message(_definition(schema_version=2, as_of="2026-11-23T10:00:00+01:00"))

    assert isinstance(old, BundleDefinition) and old.as_of is None
    assert isinstance(dated, BundleDefinition) and dated.as_of is not None
    assert dated.as_of == datetime(2026, 11, 23, 9, tzinfo=UTC)
