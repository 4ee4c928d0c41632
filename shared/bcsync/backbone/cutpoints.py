"""Named points in bcsync's code where the local runtime can cut an invocation short.

In Lambda no hook is installed and `reached` does nothing; the local runtime installs one to
simulate a crash or a timeout exactly there (docs/design.md, "The local runtime").
"""

from __future__ import annotations

from collections.abc import Callable

AFTER_OUTBOX_PENDING = "after-outbox-pending"
AFTER_PUBLISH = "after-publish"
BEFORE_SHIPMENT_POST = "before-shipment-post"  # the shipment record says posting; nothing sent yet
AFTER_SHIPMENT_POST = "after-shipment-post"  # BigCommerce has the shipment; our record still says posting
# returns (bcsync.returns)
BEFORE_REFUND_POST = "before-refund-post"  # the refund intent is recorded; nothing sent yet
AFTER_REFUND_POST = "after-refund-post"  # BigCommerce made the refund; our record still says refunding

_hook: Callable[[str], None] | None = None


def reached(name: str) -> None:
    if _hook is not None:
        _hook(name)


def install(hook: Callable[[str], None] | None) -> None:
    global _hook
    _hook = hook
