"""Variants by SKU (`GET /v3/catalog/variants?sku=`): what a SKU names when no catalog index knows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from .client import BigCommerceClient

VARIANTS_PATH = "/v3/catalog/variants"


class VariantRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    product_id: int
    sku: str = ""


def variants_by_sku(client: BigCommerceClient, sku: str) -> list[VariantRef]:
    """Every variant with exactly this SKU: one, none, or (a store's mistake) several."""
    body = client.get(VARIANTS_PATH, {"sku": sku, "limit": 5})
    rows = body.get("data") if isinstance(body, dict) else None
    found = [client._parse(VariantRef, row, VARIANTS_PATH) for row in rows or []]
    return [variant for variant in found if variant.sku == sku]
