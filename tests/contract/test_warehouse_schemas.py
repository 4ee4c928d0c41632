"""The warehouse contract's published JSON Schemas match the models that produce and read it."""

from __future__ import annotations

import json
from pathlib import Path

from bcsync.schemas import schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_the_committed_schemas_are_the_generated_ones() -> None:
    for name, schema in schemas().items():
        path = SCHEMAS / f"{name}.schema.json"
        assert path.exists(), f"{path} is missing: run `python -m bcsync.schemas docs/schemas`"
        assert json.loads(path.read_text(encoding="utf-8")) == schema, f"{path} is stale: regenerate it"
