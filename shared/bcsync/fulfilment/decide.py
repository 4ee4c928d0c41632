"""What a fulfillment request means, given what bcsync recorded for its id (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bcsync.fulfilment.mapping import Variant

Decision = Literal["create", "recover", "answer", "reused"]


@dataclass(frozen=True)
class FulfilmentRecord:
    request_id: str
    content_hash: str
    state: Literal["creating", "created"]
    order_id: int = 0
    customer_id: int = 0


def decide(record: FulfilmentRecord | None, content_hash: str) -> Decision:
    """create: nothing was ever tried. recover: a create was begun (its intent is recorded) and may have
    reached BigCommerce: look for the order before creating it. answer: the order exists, say so again.
    reused: the id names a request with other content - refused, the existing order untouched."""
    if record is None:
        return "create"
    if record.content_hash != content_hash:
        return "reused"
    return "answer" if record.state == "created" else "recover"


@dataclass(frozen=True)
class Resolution:
    """Each SKU's variant, or why some cannot be ordered."""

    variants: dict[str, Variant]
    unknown: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()

    def refusal(self) -> str | None:
        parts = []
        if self.unknown:
            parts.append(f"unknown SKU {', '.join(self.unknown)}: no product or variant of the store has it")
        if self.ambiguous:
            parts.append(
                f"SKU {', '.join(self.ambiguous)} is on more than one variant: give each variant its own SKU in "
                "BigCommerce"
            )
        return "; ".join(parts) or None


def resolve(skus: list[str], indexed: dict[str, Variant], looked_up: dict[str, list[Variant]]) -> Resolution:
    """The catalog index first; a SKU it does not know by the store's own variants (`looked_up`)."""
    variants: dict[str, Variant] = {}
    unknown, ambiguous = [], []
    for sku in dict.fromkeys(skus):
        if sku in indexed:
            variants[sku] = indexed[sku]
            continue
        found = looked_up.get(sku, [])
        if len(found) == 1:
            variants[sku] = found[0]
        elif found:
            ambiguous.append(sku)
        else:
            unknown.append(sku)
    return Resolution(variants, tuple(unknown), tuple(ambiguous))
