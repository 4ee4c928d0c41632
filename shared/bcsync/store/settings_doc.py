"""docs/settings.md, written from `StoreSettings` itself: each field's name, type, default and description.

    python -m bcsync.store.settings_doc            # rewrite docs/settings.md
    python -m bcsync.store.settings_doc --check    # exit 1 when docs/settings.md is not what the model says

The model is the one source: a field is described by its `Field(description=...)`, and a field without one
is refused here (the contract test fails), so a new setting cannot ship undocumented.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from bcsync.store import flows
from bcsync.store.settings import BusinessHours, JobName, StoreSettings

DOC = Path(__file__).resolve().parents[3] / "docs" / "settings.md"
# Where each group of fields starts, in the model's order; a field belongs to the group above it.
SECTIONS = {
    "store_hash": "The store",
    "order_import_enabled": "Per-flow switches",
    "schedule_minutes": "Schedules, the API quota, webhooks",
    "product_page_size": "Product sync",
    "release_statuses": "Order import",
    "carrier_map": "Tracking writeback",
    "location_map": "Inventory push",
}
NAMED_TYPES: dict[Any, str] = {JobName: "job", datetime: "date-time (ISO 8601)", time: "time (HH:MM)"}


def type_text(annotation: Any) -> str:
    """A field's type as a person reads it: `list of int`, `map of job to int`, `"a" or "b"`."""
    if annotation in NAMED_TYPES:
        return NAMED_TYPES[annotation]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_text(args[0])
    if origin is Literal:
        return " or ".join(f'"{value}"' for value in args)
    if origin in (Union, types.UnionType):
        return " or ".join("null" if arg is type(None) else type_text(arg) for arg in args)
    if origin is tuple or origin is list:
        return f"list of {type_text(args[0])}"
    if origin is dict:
        return f"map of {type_text(args[0])} to {type_text(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"{annotation.__name__} (below)"
    return str(getattr(annotation, "__name__", annotation))


def bounds_text(field: FieldInfo) -> str:
    parts = []
    for rule in field.metadata:
        if isinstance(rule, Ge):
            parts.append(f"≥ {rule.ge}")
        if isinstance(rule, Gt):
            parts.append(f"> {rule.gt}")
        if isinstance(rule, Le):
            parts.append(f"≤ {rule.le}")
        if isinstance(rule, Lt):
            parts.append(f"< {rule.lt}")
        if isinstance(rule, MinLen):
            parts.append(f"at least {rule.min_length}")
        if isinstance(rule, MaxLen):
            parts.append(f"at most {rule.max_length} characters")
        if getattr(rule, "pattern", None):
            parts.append(f"matches `{rule.pattern}`")
    return ", ".join(parts)


def default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    default = field.get_default(call_default_factory=True)
    assert field.annotation is not None  # a model's field always has one
    shown = TypeAdapter[Any](field.annotation).dump_python(default, mode="json")
    return f"`{json.dumps(shown, ensure_ascii=False)}`"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(model: type[BaseModel], sections: dict[str, str] | None = None) -> list[str]:
    lines: list[str] = []
    for name, field in model.model_fields.items():
        if not field.description:
            raise ValueError(f"{model.__name__}.{name} has no description: give it Field(description=...)")
        if sections is not None and name in sections:
            lines += [
                "",
                f"### {sections[name]}",
                "",
                "| setting | type | default | what it does |",
                "|---|---|---|---|",
            ]
        elif not lines:
            lines += ["| setting | type | default | what it does |", "|---|---|---|---|"]
        kind = type_text(field.annotation)
        if bounds := bounds_text(field):
            kind += f"; {bounds}"
        lines.append(f"| `{name}` | {cell(kind)} | {cell(default_text(field))} | {cell(field.description)} |")
    return lines


def render() -> str:
    missing = set(SECTIONS) - set(StoreSettings.model_fields)
    if missing:
        raise ValueError(f"SECTIONS names fields StoreSettings does not have: {', '.join(sorted(missing))}")
    switches = (flows.__doc__ or "").split("\n", 2)[2].strip()
    lines = [
        "# Store settings",
        "",
        "<!-- Generated from StoreSettings (shared/bcsync/store/settings.py) by",
        "     `python -m bcsync.store.settings_doc`: edit the model's Field(description=...), then run it.",
        "     tests/contract/test_settings_doc.py fails when this file and the model differ. -->",
        "",
        "Every store connected to bcsync has its own settings, one model (`StoreSettings`) kept in the stack's state",
        "table. Every setting has a default; `bcsync stores show STORE` prints a store's, and",
        "",
        "```sh",
        "bcsync stores configure STORE --set hold_minutes=30 --set 'release_statuses=[11, 9]'",
        "bcsync stores configure STORE --file settings.yaml      # a YAML mapping of setting: value",
        "```",
        "",
        "changes them: each value is read as YAML, and the whole is checked before anything is saved (an unknown",
        "name or a bad value is refused, naming the field). The functions read a store's settings at each run, so a",
        "change takes effect at the store's next job, without a deploy. `store_hash`, `enabled` and",
        "`webhook_destination` belong to their own commands (`bcsync stores connect`, `enable`, `disable`).",
        "",
        "A job is `order_import`, `product_sync`, `inventory_push` or `tracking_writeback`; a status is a",
        "BigCommerce order status id (1 Pending, 7 Awaiting Payment, 8 Awaiting Pickup, 9 Awaiting Shipment,",
        "10 Completed, 11 Awaiting Fulfillment, 12 Manual Verification Required, 13 Disputed).",
        "",
        "## Settings",
        *table(StoreSettings, SECTIONS),
        "",
        "### business_hours",
        "",
        "`business_hours` is null (any time) or this mapping, e.g."
        ' `--set \'business_hours={timezone: Europe/Berlin, opens: "08:00", closes: "16:00"}\'`:',
        "",
        *table(BusinessHours),
        "",
        "## Per-flow switches",
        "",
        "`order_import_enabled`, `product_sync_enabled`, `inventory_push_enabled` and `tracking_writeback_enabled`",
        "turn one flow off for one store (`bcsync stores configure STORE --set inventory_push_enabled=false`), the",
        "others running on; `enabled` turns the whole store off. While a flow is off its scheduled runs skip the",
        "store, `bcsync orders fetch` and the other on-demand commands of that flow refuse with the command that",
        "turns it on, and what still arrives for it is handled so:",
        "",
        switches,
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write docs/settings.md from StoreSettings")
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/settings.md differs from the model")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(
                f"{DOC.name} is not what StoreSettings says: run `python -m bcsync.store.settings_doc`", file=sys.stderr
            )
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
