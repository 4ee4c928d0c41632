"""The settings form: what a browser posts, turned into the changes `StoreSettings` validates.

Values stay text where the settings model reads text (it says what is wrong with "abc" for a number); only
the shapes a form cannot carry are built here: lists, maps (one `name = value` a line), business hours.
"""

from __future__ import annotations

from typing import Any

from bcsync.store.settings import StoreSettings

LIST_FIELDS = ("release_statuses", "on_hold_statuses")
MAP_FIELDS = ("ship_option_map", "carrier_map", "location_map", "safety_stock_by_sku")
TEXT_FIELDS = ("hold_minutes", "default_ship_option", "safety_stock", "default_location_id")
FLAG_FIELDS = ("awaiting_shipment_on_ack", "complete_orders", "pickup_to_awaiting_pickup")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def settings_changes(form: dict[str, list[str]]) -> tuple[dict[str, Any], dict[str, str]]:
    """(changes, errors): the form's fields as settings values, and the fields whose text has no such shape."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def one(name: str) -> str:
        return (form.get(name) or [""])[0].strip()

    for name in LIST_FIELDS:
        changes[name] = [part.strip() for part in one(name).split(",") if part.strip()]
    for name in MAP_FIELDS:
        mapping: dict[str, str] = {}
        for number, line in enumerate(one(name).splitlines(), start=1):
            if not line.strip():
                continue
            key, sign, value = line.partition("=")
            if not sign or not key.strip() or not value.strip():
                errors[name] = f"line {number}: write one `name = value` a line, not {line.strip()!r}"
                break
            mapping[key.strip()] = value.strip()
        changes[name] = mapping
    for name in TEXT_FIELDS:
        changes[name] = one(name)
    for name in FLAG_FIELDS:
        changes[name] = one(name) == "on"
    changes["order_start_date"] = one("order_start_date") or None
    if one("business_hours_on") == "on":
        changes["business_hours"] = {
            "timezone": one("business_hours_timezone") or "UTC",
            "opens": one("business_hours_opens"),
            "closes": one("business_hours_closes"),
            "weekdays": form.get("business_hours_weekdays", []),
        }
    else:
        changes["business_hours"] = None
    return {name: value for name, value in changes.items() if name not in errors}, errors


def form_values(settings: StoreSettings) -> dict[str, Any]:
    """The settings as the form shows them."""
    values: dict[str, Any] = {name: ", ".join(map(str, getattr(settings, name))) for name in LIST_FIELDS}
    for name in MAP_FIELDS:
        values[name] = "\n".join(f"{key} = {value}" for key, value in getattr(settings, name).items())
    for name in TEXT_FIELDS:
        values[name] = str(getattr(settings, name))
    for name in FLAG_FIELDS:
        values[name] = bool(getattr(settings, name))
    start = settings.order_start_date
    values["order_start_date"] = start.isoformat() if start else ""
    hours = settings.business_hours
    values["business_hours_on"] = hours is not None
    values["business_hours_timezone"] = hours.timezone if hours else "UTC"
    values["business_hours_opens"] = hours.opens.strftime("%H:%M") if hours else "09:00"
    values["business_hours_closes"] = hours.closes.strftime("%H:%M") if hours else "17:00"
    values["business_hours_weekdays"] = [str(day) for day in (hours.weekdays if hours else (0, 1, 2, 3, 4))]
    return values


def kept_values(form: dict[str, list[str]]) -> dict[str, Any]:
    """What the merchant typed, shown again beside the errors (nothing typed is lost)."""
    values: dict[str, Any] = {name: (form.get(name) or [""])[0] for name in (*LIST_FIELDS, *MAP_FIELDS, *TEXT_FIELDS)}
    for name in FLAG_FIELDS:
        values[name] = (form.get(name) or [""])[0] == "on"
    values["order_start_date"] = (form.get("order_start_date") or [""])[0]
    values["business_hours_on"] = (form.get("business_hours_on") or [""])[0] == "on"
    for part in ("timezone", "opens", "closes"):
        values[f"business_hours_{part}"] = (form.get(f"business_hours_{part}") or [""])[0]
    values["business_hours_weekdays"] = form.get("business_hours_weekdays", [])
    return values
