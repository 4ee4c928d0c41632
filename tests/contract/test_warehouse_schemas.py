"""The warehouse contract's published JSON Schemas match the models that produce and read it."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from bcsync.schemas import EXAMPLES, MODELS, EventDetail, schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_the_committed_schemas_are_the_generated_ones() -> None:
    for name, schema in schemas().items():
        path = SCHEMAS / f"{name}.schema.json"
        assert path.exists(), f"{path} is missing: run `python -m bcsync.schemas docs/schemas`"
        assert json.loads(path.read_text(encoding="utf-8")) == schema, f"{path} is stale: regenerate it"


def _undescribed(node: object, path: str) -> list[str]:
    """Every property of a schema (its definitions included) that has no description."""
    found: list[str] = []
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            if not isinstance(prop, dict) or not prop.get("description"):
                found.append(f"{path}.{name}")
        for key, child in node.items():
            if key not in ("if", "then"):  # conditions on properties described where they are defined
                found += _undescribed(child, f"{path}.{key}" if key != "properties" else path)
    elif isinstance(node, list):
        for item in node:
            found += _undescribed(item, path)
    return found


def test_every_field_of_every_message_says_what_it_is() -> None:
    missing = [field for name, schema in schemas().items() for field in _undescribed(schema, name)]
    assert missing == [], f"fields without a description: {missing}"


def test_every_message_has_an_example_its_model_reads_back() -> None:
    for name, schema in schemas().items():
        assert schema["examples"], f"{name} has no example"
        reader = MODELS[name]
        for example in schema["examples"]:
            if isinstance(reader, TypeAdapter):
                reader.validate_python(example)
            else:  # what bcsync sends: the example is exactly what the model would write, no field left out
                dumped = reader.model_validate(example).model_dump(mode="json", exclude_none=reader is EventDetail)
                assert dumped == example, name
    kinds = {example["type"] for name in ("shipments-inbound", "stock-inbound") for example in EXAMPLES[name]}
    assert kinds == {
        "Shipment Confirmed", "Order Acknowledged", "Order Rejected", "Order Backordered", "Order Change Too Late",
        "Stock Level", "Bundle Definition",
    }  # fmt: skip
