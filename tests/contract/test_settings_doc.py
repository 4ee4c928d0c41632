"""docs/settings.md is what StoreSettings says."""

from __future__ import annotations

from pathlib import Path

from bcsync.store import settings_doc
from bcsync.store.settings import StoreSettings

DOCS = Path(__file__).resolve().parents[2] / "docs"


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
