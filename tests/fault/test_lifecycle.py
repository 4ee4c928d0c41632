"""The order and shipment lifecycle over its state space (docs/architecture.md, "The order lifecycle" and
"The shipment lifecycle"): a hypothesis state machine drives random interleavings of what happens in a
store and at the warehouse through the real functions on the local runtime and the sandbox, and checks
after every step what a store owner and a warehouse would notice.

Store side: orders created, lines edited, addresses and notes changed, lines refunded in part or whole,
orders cancelled, moved by staff to 7, 9, 10, 11, 12 or 13, shipped by hand in BigCommerce, archived.
Warehouse side: acknowledgements, rejections, backorders and shipments, each delivered late (kept back
over later steps), twice, or out of order. Order import runs when its schedule says so.

`make test` runs a few short machines; `make fault` (FAULT_SCALE=1) runs many long ones. The seed is
printed; FAULT_SEED=n repeats a run.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypothesis import HealthCheck, Phase, note, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from bcsync.store import keys
from bcsync.store.registry import StoreRegistry
from bcsync.warehouse.events import order_key
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order
from local_runtime import LocalDeployment
from tests.aws import drain, reason_of
from tests.stores import connected_store

World = tuple[LocalDeployment, Sandbox]
SCALE = float(os.environ.get("FAULT_SCALE", "0"))
SEED = int(os.environ.get("FAULT_SEED", "20261201"))
EXAMPLES, STEPS = (25, 80) if SCALE >= 1 else (3, 30)

SHIPPED, PARTIALLY_SHIPPED, REFUNDED, CANCELLED, DECLINED = 2, 3, 4, 5, 6
AWAITING_PAYMENT, AWAITING_PICKUP, AWAITING_SHIPMENT, COMPLETED, AWAITING_FULFILLMENT = 7, 8, 9, 10, 11
VERIFICATION, DISPUTED, PARTIALLY_REFUNDED = 12, 13, 14
CANCELLED_CLASS = frozenset({REFUNDED, CANCELLED, DECLINED})
MUST_NOT_SHIP = frozenset({AWAITING_PAYMENT, VERIFICATION, DISPUTED})
STAFF_MOVES = (AWAITING_PAYMENT, AWAITING_SHIPMENT, COMPLETED, AWAITING_FULFILLMENT, VERIFICATION, DISPUTED)
# The moves bcsync may make (or BigCommerce makes when bcsync posts a shipment), from where to where.
# Anything else seen between two steps that the test did not do itself is bcsync moving a status back.
BCSYNC_MOVES = {
    AWAITING_SHIPMENT: {AWAITING_FULFILLMENT},
    AWAITING_PICKUP: {AWAITING_FULFILLMENT, AWAITING_SHIPMENT},
    # Completed once every line is shipped: from the statuses a shipment passes through (a partially refunded
    # order whose rest ships included: BigCommerce's Shipped sits between the two inside one step).
    COMPLETED: {
        AWAITING_FULFILLMENT,
        AWAITING_SHIPMENT,
        SHIPPED,
        PARTIALLY_SHIPPED,
        PARTIALLY_REFUNDED,
        *MUST_NOT_SHIP,
    },
    # A shipment posted: BigCommerce's own move, from any status a warehouse's parcel may leave in (on hold
    # too: it left before the hold arrived, and BigCommerce should say so). Never from a closed order.
    PARTIALLY_SHIPPED: {
        AWAITING_FULFILLMENT,
        AWAITING_SHIPMENT,
        AWAITING_PICKUP,
        PARTIALLY_SHIPPED,
        PARTIALLY_REFUNDED,
        *MUST_NOT_SHIP,
        # BigCommerce's count after a shipment of units added to an order once it had shipped.
        SHIPPED,
    },
    SHIPPED: {
        AWAITING_FULFILLMENT,
        AWAITING_SHIPMENT,
        AWAITING_PICKUP,
        PARTIALLY_SHIPPED,
        PARTIALLY_REFUNDED,
        *MUST_NOT_SHIP,
    },
}
STORE_EVENTS = ("edit a line", "change the address or notes", "refund", "cancel", "move the status",
                "ship by hand", "archive")  # fmt: skip
ANSWERS = ("Order Acknowledged", "Order Rejected", "Order Backordered")
# How often each thing happens, relative to the others (hypothesis draws the first kinds a little more often).
WEIGHTS = {"scan": 4, "warehouse ships": 3, "deliver": 3, **dict.fromkeys(STORE_EVENTS, 1), "move the status": 2,
           "warehouse answers": 2, "create an order": 2}  # fmt: skip
ACTS = tuple(act for act, weight in WEIGHTS.items() for _ in range(weight))
_STORE_NUMBERS = itertools.count(1)
# What all machines of a run did, printed with the seed: a run that exercised nothing proves nothing.
TALLY: Counter[str] = Counter()


@dataclass
class WarehouseOrderSeen:
    """The warehouse's side of one order: its newest version and what it shipped."""

    version: int
    data: dict[str, Any]
    shipped: Counter[int] = field(default_factory=Counter)  # order_product_id → units the warehouse shipped
    shipments: int = 0

    @property
    def must_not_ship(self) -> bool:
        return bool(self.data.get("cancelled")) or bool(self.data.get("hold"))


class Lifecycle(RuleBasedStateMachine):
    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        self.stack, self.sandbox = self.world
        self.store_hash = f"lc{next(_STORE_NUMBERS):04d}"
        self.store: SandboxStore | None = None
        self.statuses: dict[int, int] = {}  # the status each order had after the last step
        self.archived: set[int] = set()
        self.by_hand: Counter[int] = Counter()  # order_product_id → units staff shipped from the store
        self.warehouse: dict[int, WarehouseOrderSeen] = {}
        self.keys: Counter[str] = Counter()
        self.pending: list[dict[str, Any]] = []  # warehouse messages sent but not delivered yet
        self.sent_shipments: dict[str, int] = {}  # warehouse shipment id → order id
        self.violations: list[str] = []
        self.dead: list[tuple[dict[str, Any], str]] = []
        self.shipment_numbers = itertools.count(1)

    # --- set-up ---------------------------------------------------------------------------------------

    @initialize(ack_moves=st.booleans(), complete_orders=st.booleans(), hold_minutes=st.sampled_from([0, 0, 10]))
    def connect(self, ack_moves: bool, complete_orders: bool, hold_minutes: int) -> None:
        self.store = connected_store(
            self.world, self.store_hash, f"tok-{self.store_hash}-lc", products=4,
            awaiting_shipment_on_ack=ack_moves, complete_orders=complete_orders, hold_minutes=hold_minutes,
        )  # fmt: skip
        TALLY["machines"] += 1
        self.sellable = [(p, v) for p in self.store.products.values() for v in p["variants"] if p["is_visible"]]

    @property
    def sandbox_store(self) -> SandboxStore:
        assert self.store is not None
        return self.store

    def _orders(self) -> list[int]:
        return sorted(self.statuses)

    def _order(self, pick: int) -> int:
        orders = self._orders()
        return orders[pick % len(orders)]

    def _set_status(self, order_id: int, status_id: int) -> None:
        self.sandbox_store.set_order_status(order_id, status_id)
        self.statuses[order_id] = status_id

    # --- the store ------------------------------------------------------------------------------------

    def _create_order(self, number: int, addresses: int) -> None:
        """One to three lines of the catalog's sellable variants, one or two units each."""
        lines = [(number * (k + 1) % len(self.sellable), 1 + (number >> k) % 2) for k in range(1 + number % 3)]
        chosen = [(*self.sellable[n], quantity) for n, quantity in lines]
        order_id = add_order(self.sandbox_store, lines=chosen, addresses=min(addresses, len(chosen)))
        self.statuses[order_id] = AWAITING_FULFILLMENT

    @rule(chance=st.randoms(use_true_random=False), pick=st.integers(0, 100), line=st.integers(0, 5),
          number=st.integers(1, 999), flag=st.booleans())  # fmt: skip
    def step(self, chance: random.Random, pick: int, line: int, number: int, flag: bool) -> None:
        """One thing that happens: in the store, at the warehouse, or bcsync's scan. One rule, weighted,
        rather than a rule each: hypothesis leaves out a random set of rules in each machine, and a machine
        that never scans or never ships proves little. The kind is drawn by a hypothesis-controlled Random
        (repeatable, shrinkable), as `sampled_from` would mostly draw the first kind; each is noted."""
        act = chance.choice(ACTS)
        note(f"step: {act} (pick={pick}, line={line}, number={number}, flag={flag})")
        if act == "create an order":
            self._create_order(number, addresses=1 + line % 2)
        elif act == "scan":
            self.scan()
        elif act == "deliver":
            if self.pending:
                count = 1 + line % 4
                self._deliver([(pick + n) % len(self.pending) for n in range(count)], twice=flag, seed=number)
        elif act in ("warehouse answers", "warehouse ships"):
            if self.warehouse:
                order_id = sorted(self.warehouse)[pick % len(self.warehouse)]
                if act == "warehouse ships":
                    self._warehouse_ships(order_id, address=line, part=flag)
                else:
                    self._warehouse_answers(order_id, ANSWERS[number % len(ANSWERS)])
        elif self.statuses:
            self._store_event(act, self._order(pick), line, number, flag)
        TALLY[act] += 1

    def _store_event(self, kind: str, order_id: int, line: int, number: int, flag: bool) -> None:
        """One thing a customer or the staff do to an order in BigCommerce."""
        if kind == "edit a line":
            self._edit_line(order_id, line, 1 + number % 4)
        elif kind == "change the address or notes":
            self._change_address_or_notes(order_id, number, flag)
        elif kind == "refund":
            self._refund(order_id, line, flag)
        elif kind == "cancel":
            self._cancel(order_id)
        elif kind == "move the status":
            self._staff_moves_status(order_id, STAFF_MOVES[number % len(STAFF_MOVES)])
        elif kind == "ship by hand":
            self._ship_by_hand(order_id)
        else:
            self._archive(order_id)

    def _edit_line(self, order_id: int, line: int, quantity: int) -> None:
        rows = self.sandbox_store.order_products[order_id]
        row = rows[line % len(rows)]
        if quantity < row["quantity_shipped"] + row["quantity_refunded"] or order_id in self.archived:
            return  # BigCommerce does not edit a line below what was shipped or refunded
        row["quantity"] = quantity
        self.sandbox_store.touch_order(order_id)

    def _change_address_or_notes(self, order_id: int, street: int, notes: bool) -> None:
        if notes:
            self.sandbox_store.orders[order_id]["customer_message"] = f"ring twice ({street})"
        else:
            self.sandbox_store.shipping_addresses[order_id][0]["street_1"] = f"{street} New Street"
        self.sandbox_store.touch_order(order_id)

    def _refund(self, order_id: int, line: int, whole_order: bool) -> None:
        rows = self.sandbox_store.order_products[order_id]
        for row in rows if whole_order else [rows[line % len(rows)]]:
            row["quantity_refunded"] = row["quantity"] - (0 if whole_order else row["quantity_shipped"])
            row["quantity_refunded"] = max(row["quantity_refunded"], 0)
        everything = all(row["quantity_refunded"] >= row["quantity"] for row in rows)
        self._set_status(order_id, REFUNDED if everything and whole_order else PARTIALLY_REFUNDED)

    def _cancel(self, order_id: int) -> None:
        self._set_status(order_id, CANCELLED)

    def _staff_moves_status(self, order_id: int, to: int) -> None:
        self._set_status(order_id, to)

    def _ship_by_hand(self, order_id: int) -> None:
        """Staff ship the first address's remaining units from the store, outside the warehouse."""
        store = self.sandbox_store
        address = store.shipping_addresses[order_id][0]
        items = [
            {"order_product_id": row["id"], "quantity": left}
            for row in store.order_products[order_id]
            if row["order_address_id"] == address["id"]
            and (left := row["quantity"] - row["quantity_shipped"] - row["quantity_refunded"]) > 0
        ]
        if items and order_id not in self.archived:
            for item in items:
                self.by_hand[item["order_product_id"]] += item["quantity"]
            store.record_shipment(order_id, {"order_address_id": address["id"], "items": items,
                                             "tracking_number": "BYHAND", "comments": "shipped from the shop"})  # fmt: skip
            self.statuses[order_id] = store.orders[order_id]["status_id"]

    def _archive(self, order_id: int) -> None:
        self.sandbox_store.orders[order_id]["is_deleted"] = True
        self.sandbox_store.touch_order(order_id)
        self.archived.add(order_id)

    # --- the warehouse --------------------------------------------------------------------------------

    def _message(self, kind: str, order_id: int, **fields: Any) -> dict[str, Any]:
        return {"type": kind, "schema_version": 1, "store_hash": self.store_hash, "order_id": order_id, **fields}

    def _warehouse_answers(self, order_id: int, kind: str) -> None:
        extra: dict[str, dict[str, Any]] = {
            "Order Rejected": {"reason": "address not deliverable"},
            "Order Backordered": {"skus": ["X"]},
        }
        self.pending.append(self._message(kind, order_id, **extra.get(kind, {})))

    def _warehouse_ships(self, order_id: int, address: int, part: bool) -> None:
        """What the warehouse has of the order and has not shipped yet leaves in a parcel: all of one
        address's lines, or one unit of the first. A warehouse ships what its newest version says."""
        seen = self.warehouse[order_id]
        if seen.must_not_ship:
            return
        requests = [s for s in seen.data["shipments"] if not s["pickup"]]
        if not requests:
            return
        request = requests[address % len(requests)]
        lines = [
            {"order_product_id": line["order_product_id"], "quantity": left}
            for line in request["lines"]
            if (left := line["quantity"] - seen.shipped[line["order_product_id"]]) > 0
        ]
        if part and lines:
            lines = [{**lines[0], "quantity": 1}]
        if not lines:
            return
        for line in lines:
            seen.shipped[line["order_product_id"]] += line["quantity"]
        shipment_id = f"WH-{self.store_hash}-{next(self.shipment_numbers)}"
        self.sent_shipments[shipment_id] = order_id
        self.pending.append(
            self._message(
                "Shipment Confirmed", order_id, warehouse_shipment_id=shipment_id, tracking_number=f"1Z{shipment_id}",
                carrier="UPS", service="Ground", lines=lines, order_address_id=request["order_address_id"],
            )
        )  # fmt: skip

    def _deliver(self, picks: list[int], twice: bool, seed: int) -> None:
        """Some of what the warehouse sent arrives (the rest later), shuffled, perhaps twice each."""
        chosen = sorted(set(picks), reverse=True)
        messages = [self.pending.pop(index) for index in chosen]
        sqs, url = self.stack.client("sqs"), self.stack.physical["ShipmentsInbound"]["Ref"]
        for message in messages:
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
        handler = self.stack.load_handler("TrackingWritebackFunction")
        self.stack.deliver_sqs(
            "ShipmentsInbound", handler, duplicate_rate=1.0 if twice else 0.0, reorder=True, seed=seed
        )
        TALLY["warehouse messages delivered"] += len(messages)
        for message in self.stack.take_messages("ShipmentsInboundDLQ"):
            TALLY["dead-lettered"] += 1
            self.dead.append((json.loads(message["Body"]), reason_of(message, default="")))

    # --- bcsync's scan --------------------------------------------------------------------------------

    def scan(self) -> None:
        """The store's next scheduled scan (every 5 minutes); the warehouse reads what it published."""
        self.stack.clock.advance(300)  # type: ignore[attr-defined]
        handler = self.stack.load_handler("OrderImportFunction")
        handler({"action": "tick"}, self.stack.context("OrderImportFunction"))
        report = self.stack.deliver_sqs("OrderImportJobs", handler)
        if report.failed or report.errors:
            self.violations.append(f"order import failed: {report}")
        for event in drain(self.stack, "WarehouseOutbound"):
            detail = event["detail"]
            self.keys[detail["idempotency_key"]] += 1
            TALLY[f"published {event['detail-type']}"] += 1
            data = detail["data"]
            seen = self.warehouse.get(data["order_id"])
            if seen is None:
                self.warehouse[data["order_id"]] = WarehouseOrderSeen(data["version"], data)
            elif data["version"] > seen.version:
                seen.version, seen.data = data["version"], data
        self._warehouse_matches_bigcommerce()

    def _warehouse_matches_bigcommerce(self) -> None:
        """Right after a scan, the warehouse's newest version of each order it has says what BigCommerce
        says now: an order that must not ship is cancelled (or on hold) there; an active one has every
        unit ordered, not refunded and not shipped by hand from the store, at the address BigCommerce has."""
        store = self.sandbox_store
        for order_id, seen in self.warehouse.items():
            if order_id in self.archived:
                continue
            status = store.orders[order_id]["status_id"]
            rows = {row["id"]: row for row in store.order_products[order_id]}
            to_ship = {
                i: r["quantity"] - r["quantity_refunded"] - self.by_hand[i]
                for i, r in rows.items()
                if r["type"] == "physical"
            }
            nothing_left = not any(quantity > 0 for quantity in to_ship.values())
            where = f"order {order_id} (BigCommerce status {status}, warehouse v{seen.version})"
            if status in CANCELLED_CLASS or nothing_left:
                if not seen.data["cancelled"]:
                    self.violations.append(f"{where}: BigCommerce has nothing to ship, the warehouse ships it")
                continue
            if status in MUST_NOT_SHIP:
                if not seen.data.get("hold") and not seen.data["cancelled"]:
                    self.violations.append(f"{where}: must not ship now, the warehouse was not told to hold it")
                continue
            if seen.data["cancelled"]:
                self.violations.append(f"{where}: active in BigCommerce, cancelled at the warehouse")
                continue
            if seen.data.get("hold"):
                self.violations.append(f"{where}: may ship again, the warehouse still holds it")
            quantities: Counter[int] = Counter()
            for request in seen.data["shipments"]:
                for line in request["lines"]:
                    quantities[line["order_product_id"]] += line["quantity"]
            expected = Counter({i: q for i, q in to_ship.items() if q > 0})
            if quantities != expected:
                self.violations.append(f"{where}: the warehouse ships {dict(quantities)}, BigCommerce {dict(expected)}")
            streets = {r["order_address_id"]: r["ship_to"].get("street_1") for r in seen.data["shipments"]}
            for address in store.shipping_addresses[order_id]:
                if address["id"] in streets and streets[address["id"]] != address["street_1"]:
                    self.violations.append(
                        f"{where}: ships to {streets[address['id']]}, BigCommerce has {address['street_1']}"
                    )

    # --- after every step -----------------------------------------------------------------------------

    @invariant()
    def no_status_moved_back_and_nothing_revived(self) -> None:
        """What changed in BigCommerce since the last step, and the test did not do, bcsync did (or
        BigCommerce did for a shipment bcsync posted): only the moves it may make."""
        if self.store is None:
            return
        for order_id, before in self.statuses.items():
            now = self.store.orders[order_id]["status_id"]
            if now != before:
                if before not in BCSYNC_MOVES.get(now, set()):
                    self.violations.append(f"order {order_id}: bcsync moved its status {before} → {now}")
                self.statuses[order_id] = now

    @invariant()
    def no_key_published_twice(self) -> None:
        twice = [key for key, count in self.keys.items() if count > 1]
        if twice:
            self.violations.append(f"published twice with nothing crashed: {twice[:5]}")
            self.keys = Counter(dict.fromkeys(self.keys, 1))

    @invariant()
    def every_dead_letter_says_why(self) -> None:
        for body, reason in self.dead:
            if not reason:
                self.violations.append(f"dead-lettered without a reason: {body['type']} for order {body['order_id']}")
        self.dead = [(body, reason) for body, reason in self.dead if reason]

    @invariant()
    def nothing_violated(self) -> None:
        assert not self.violations, "\n".join(self.violations)

    def teardown(self) -> None:
        """Everything still in flight arrives and the store scans until quiet; then every status move
        bcsync owes has been made, or its message dead-lettered with the reason, and nothing that can be
        offered again is forgotten."""
        if self.store is None:
            return
        while self.pending:
            self._deliver(list(range(min(4, len(self.pending)))), twice=False, seed=0)
        self.scan()
        self.scan()
        self.no_status_moved_back_and_nothing_revived()
        self.every_dead_letter_says_why()
        self._nothing_forgotten_while_it_can_be_offered_again()
        refused = {body.get("warehouse_shipment_id") for body, _ in self.dead}
        for shipment_id, order_id in self.sent_shipments.items():
            posted = any(
                f"[bcsync shipment {shipment_id}]" in s["comments"] for s in self.store.shipments.get(order_id, [])
            )
            if not posted and shipment_id not in refused:
                self.violations.append(
                    f"shipment {shipment_id} of order {order_id}: neither in BigCommerce nor dead-lettered"
                )
        TALLY["shipments posted"] += sum(
            1 for o in self.statuses for s in self.store.shipments.get(o, []) if "[bcsync shipment" in s["comments"]
        )
        self.nothing_violated()
        # The next machine's scans need not read this store again.
        StoreRegistry(self.stack.resource("dynamodb").Table(self.stack.outputs()["StateTableName"])).set_enabled(
            self.store_hash, False
        )

    def _nothing_forgotten_while_it_can_be_offered_again(self) -> None:
        """An order record can offer its current version's key again (a touched order is re-scanned): that
        key's outbox row must outlive the record, or the order is published again as if new. A held
        order's snapshot (personal data) expires, and not before its held record."""
        table = self.stack.resource("dynamodb").Table(self.stack.outputs()["StateTableName"])
        for order_id in self.statuses:
            record = table.get_item(Key=keys.order(self.store_hash, order_id)).get("Item")
            if record is None or not int(record.get("version", 0)):
                continue
            key = order_key(self.store_hash, order_id, int(record["version"]))
            row = table.get_item(Key=keys.outbox_row(key)).get("Item")
            if row is None or int(row["expires_at"]) < int(record["expires_at"]):
                self.violations.append(f"order {order_id}: its key {key} is forgotten before its record")
            owed = table.get_item(Key=keys.status_move(self.store_hash, order_id)).get("Item")
            if owed is not None:
                self.violations.append(f"order {order_id}: a move to {owed['to']} still owed once everything arrived")
            held = table.get_item(Key=keys.held_order(self.store_hash, order_id)).get("Item")
            if held is not None and "expires_at" not in held:
                self.violations.append(f"order {order_id}: its held snapshot never expires")


def test_the_order_lifecycle_holds_over_random_interleavings(local_world: World) -> None:
    Lifecycle.world = local_world
    print(f"\nlifecycle seed {SEED}: {EXAMPLES} machines of up to {STEPS} steps (FAULT_SEED={SEED} repeats it)")
    run_state_machine_as_test(
        seed(SEED)(Lifecycle),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            # Shrinking replays whole machines through the real functions: minutes at full size.
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    print(f"lifecycle seed {SEED}: " + ", ".join(f"{n} {what}" for what, n in sorted(TALLY.items())))
    # The run reached the states it exists for (a machine that never ships proves nothing about shipping).
    assert TALLY["published Order Ready"] and TALLY["shipments posted"] and TALLY["published Order Cancelled"], TALLY
