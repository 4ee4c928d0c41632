"""The warehouse's carrier name → BigCommerce's `tracking_carrier` value (or none).

BigCommerce accepts only its own values (tracking_carrier_values.csv, copied from BigCommerce's
docs; a contract test fails when the copy drifts) or an empty carrier. Lookup order: the store's
carrier map, a value as given, a company name, then the same ignoring case, spaces and symbols.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

CARRIER_CSV = Path(__file__).with_name("tracking_carrier_values.csv")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@cache
def carrier_table() -> tuple[frozenset[str], dict[str, str]]:
    """(every valid value, squashed company name or value → value)."""
    with CARRIER_CSV.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle)][1:]
    values = frozenset(value.strip() for _, value in rows)
    by_name: dict[str, str] = {}
    for company, value in rows:
        by_name.setdefault(_squash(company), value.strip())
    for value in sorted(values):
        by_name.setdefault(_squash(value), value)
    return values, by_name


def valid_carrier(value: str) -> bool:
    return value in carrier_table()[0]


def map_carrier(name: str, store_map: dict[str, str]) -> str | None:
    """BigCommerce's value for the warehouse's carrier name, or None when there is none."""
    values, by_name = carrier_table()
    cleaned = name.strip()
    if not cleaned:
        return None
    for warehouse_name, value in store_map.items():
        if warehouse_name.strip().lower() == cleaned.lower():
            return value
    if cleaned in values:
        return cleaned
    return by_name.get(_squash(cleaned))
