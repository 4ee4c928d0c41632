"""Per-flow switches: what each input does when its flow is off for a store (docs/settings.md).

A flow reads BigCommerce (order import, product sync) or the warehouse (inventory push, tracking writeback).
Off, nothing of it runs for the store; what happens to an input that still arrives depends on who keeps it:

- a schedule tick or a job message (webhook, manual, continuation): skipped. BigCommerce keeps the orders and
  products, and the flow's cursor stays where it was, so turning it on again picks up what came meanwhile.
- a warehouse `Stock Level`: dropped and recorded as a problem (`flow_off`, shown by `bcsync status`). A level
  is a snapshot the warehouse sends again; replaying an old one later would push stale stock.
- a warehouse `Shipment Confirmed`: dead-lettered with the reason. A shipment happens once and the customer's
  e-mail depends on it: a redrive after turning the flow on writes it back.
- everything else (bundle definitions, the warehouse's answers about orders): not governed by a switch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from bcsync.store.settings import JobName, StoreSettings

# What reaches bcsync for a store, by the flow it feeds (None: no switch governs it).
Input = Literal["tick", "job_message", "stock_level", "bundle_definition", "shipment_confirmed", "warehouse_answer"]
FLOW_PROBLEM = "flow_off"  # ProblemLog kind; its subject is the flow's job name


class Verdict(StrEnum):
    RUN = "run"  # the flow is on (or no switch governs the input): as usual
    SKIP = "skip"  # nothing to do now; nothing is lost (logged)
    PROBLEM = "problem"  # not applied: recorded for the operator, the message dropped
    DEAD_LETTER = "dead_letter"  # not applied: to the DLQ with the reason, for a redrive


@dataclass(frozen=True)
class FlowDecision:
    verdict: Verdict
    reason: str = ""


LABELS: dict[JobName, str] = {
    "order_import": "order import",
    "product_sync": "product sync",
    "inventory_push": "inventory push",
    "tracking_writeback": "tracking writeback",
    "readback": "read back",
}
GOVERNED: dict[Input, JobName | None] = {
    "stock_level": "inventory_push",
    "shipment_confirmed": "tracking_writeback",
    "bundle_definition": None,
    "warehouse_answer": None,
}


def flow_enabled(settings: StoreSettings, job: JobName) -> bool:
    switches: dict[JobName, bool] = {
        "order_import": settings.order_import_enabled,
        "product_sync": settings.product_sync_enabled,
        "inventory_push": settings.inventory_push_enabled,
        "tracking_writeback": settings.tracking_writeback_enabled,
        "readback": settings.readback_enabled,
    }
    return switches[job]


def turn_on_hint(store_hash: str, job: JobName) -> str:
    return f"`bcsync stores configure {store_hash} --set {job}_enabled=true`"


def decide(settings: StoreSettings, what: Input, job: JobName | None = None) -> FlowDecision:
    """What to do with an input for a store. `job` names the flow of a tick or a job message; a warehouse
    message's flow follows from its kind."""
    flow = job if what in ("tick", "job_message") else GOVERNED[what]
    if flow is None or flow_enabled(settings, flow):
        return FlowDecision(Verdict.RUN)
    store, label, hint = settings.store_hash, LABELS[flow], turn_on_hint(settings.store_hash, flow)
    if what in ("tick", "job_message"):
        return FlowDecision(Verdict.SKIP, f"{label} is off for store {store}")
    if what == "stock_level":
        return FlowDecision(
            Verdict.PROBLEM,
            f"inventory push is off for store {store}: the warehouse's stock levels are not pushed to BigCommerce"
            f" (dropped). {hint} pushes the next one the warehouse sends; or ask the warehouse to stop sending"
            " this store's stock.",
        )
    return FlowDecision(
        Verdict.DEAD_LETTER,
        f"tracking writeback is off for store {store}: the shipment was not written to BigCommerce. {hint}, then"
        " redrive this message; or delete it if the store writes its own tracking.",
    )
