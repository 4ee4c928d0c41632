"""docs/settings.md is what StoreSettings says, and the first-store runbook holds to the code: the scopes it
tells a merchant to grant are the ones bcsync checks for, and its sample settings validate."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bcsync.store import settings_doc
from bcsync.store.connect import SCOPE_PROBES
from bcsync.store.settings import StoreSettings
from bigcommerce_client import scopes

DOCS = Path(__file__).resolve().parents[2] / "docs"
RUNBOOK = DOCS / "first-store.md"


def test_docs_settings_md_is_generated_from_the_settings_model() -> None:
    assert settings_doc.DOC == DOCS / "settings.md"
    assert settings_doc.DOC.read_text(encoding="utf-8") == settings_doc.render(), (
        "docs/settings.md is not what StoreSettings says: run `python -m bcsync.store.settings_doc`"
    )


def test_every_setting_is_in_the_reference_with_its_default() -> None:
    text = settings_doc.render()
    for name in StoreSettings.model_fields:
        assert f"| `{name}` |" in text
    assert "| `hold_minutes` | int; ≥ 0, ≤ 10080 | `0` |" in text


def test_the_runbook_grants_the_scopes_bcsync_checks_for_and_no_other() -> None:
    # What `bcsync stores connect` probes (each scope at the access the jobs use), and the store probe's own.
    needed: dict[str, str] = {"Information & Settings": "read-only"}
    for probe in SCOPE_PROBES:
        label, access = re.fullmatch(r"(.+) \((read-only|modify)\)", probe.scope).groups()  # type: ignore[union-attr]
        if needed.get(label) != "modify":
            needed[label] = access
    by_label = {scope.label: scope for scope in (scopes.ORDERS, scopes.PRODUCTS, scopes.INVENTORY, scopes.INFORMATION)}
    expected = {
        (label, access, by_label[label].modify if access == "modify" else by_label[label].read_only)
        for label, access in needed.items()
    }
    table = RUNBOOK.read_text(encoding="utf-8").split("| what bcsync does with it |", 1)[1].split("\n\n", 1)[0]
    granted = set()
    for row in table.strip().splitlines()[1:]:
        label, access, code = (cell.strip().strip("*`") for cell in row.strip("|").split("|")[:3])
        granted.add((label, access, code))
    assert granted == expected


def test_the_runbooks_sample_settings_validate() -> None:
    sample = RUNBOOK.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]
    settings = StoreSettings.model_validate({"store_hash": "abc123", **yaml.safe_load(sample)})
    assert settings.inventory_push_enabled is False and settings.carrier_map == {"UPS Ground": "ups"}
