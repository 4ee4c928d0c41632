"""Every partition and sort key of the state table: the single-table design in one place.

Each partition key names the store *and* the entity (`STORE#abc#JOB#order_import`), so load spreads
over partitions and one store's items never mix with another's; the registry is one partition, and so
are each ticked job's turns (`TURNS#job`, one small item per store), the only partition its tick reads.
docs/architecture.md lists each pattern with its reader and writer ("The state table").
"""

from __future__ import annotations

# {"pk": ..., "sk": ...}: a plain dict, as boto3's Key and Item parameters take it.
Key = dict[str, str]


def item(pk: str, sk: str) -> Key:
    """A key of a partition that holds many items (a stock bucket, a bundle, an inbox entry)."""
    return {"pk": pk, "sk": sk}


def _store(store_hash: str, entity: str) -> str:
    return f"STORE#{store_hash}#{entity}"


# --- the registry: one partition, a row per store ---------------------------------------------------------

REGISTRY = "REGISTRY"
REGISTRY_ROW_PREFIX = "STORE#"


def registry_row(store_hash: str) -> Key:
    return {"pk": REGISTRY, "sk": f"{REGISTRY_ROW_PREFIX}{store_hash}"}


# --- a store's job: run, checkpoint, lease, debounce window (its scheduled turns: TURNS#job, below) --------

JOB_RUN = "RUN"
JOB_CHECKPOINT = "CHECKPOINT"
JOB_LEASE = "LEASE"  # an earlier release's lease item: no longer written or read (it lives on RUN now)
JOB_DUE = "DUE"


def job_item(store_hash: str, job: str, item: str) -> Key:
    return {"pk": _store(store_hash, f"JOB#{job}"), "sk": item}


# --- scheduled turns: one partition per ticked job, one small item per store (bcsync.store.turns) -----------
# A tick reads only this partition: the store's sort key is its registry row's, so `stores remove` finds both.

TURNS_PREFIX = "TURNS#"
TURNS_RECONCILED = "#RECONCILED"  # sorts before every `STORE#...`: the first item a tick's query reads


def turns(job: str) -> str:
    return f"{TURNS_PREFIX}{job}"


def turn(job: str, store_hash: str) -> Key:
    return {"pk": turns(job), "sk": registry_row(store_hash)["sk"]}


def turns_reconciled(job: str) -> Key:
    return {"pk": turns(job), "sk": TURNS_RECONCILED}


# --- the outbox: one partition per event key, so a batch of keys is one BatchGetItem ---------------------

OUTBOX_PREFIX = "OUTBOX#"


def outbox_row(idempotency_key: str) -> Key:
    return {"pk": f"{OUTBOX_PREFIX}{idempotency_key}", "sk": "OUTBOX"}


# --- problems an operator must see ------------------------------------------------------------------------


def problems(store_hash: str) -> str:
    return _store(store_hash, "PROBLEMS")


def problem(store_hash: str, kind: str, subject: str) -> Key:
    return {"pk": problems(store_hash), "sk": f"{kind}#{subject}"}


# --- orders: one partition per order; the scan cursor; held orders; stock in flight ----------------------


def order(store_hash: str, order_id: int) -> Key:
    return {"pk": _store(store_hash, f"ORDER#{order_id}"), "sk": "ORDER"}


def status_move(store_hash: str, order_id: int) -> Key:
    """The status move the writeback owes an order (in the order's partition, beside its record)."""
    return {"pk": _store(store_hash, f"ORDER#{order_id}"), "sk": "STATUS_MOVE"}


def order_cursor(store_hash: str) -> Key:
    return {"pk": _store(store_hash, "ORDERS"), "sk": "CURSOR"}


ORDER_SK_PREFIX = "ORDER#"  # the sort key of an order's item in the held and in-flight partitions


def order_of(sk: str) -> int:
    return int(sk.removeprefix(ORDER_SK_PREFIX))


def held_orders(store_hash: str) -> str:
    return _store(store_hash, "HELD")


def held_order(store_hash: str, order_id: int) -> Key:
    return {"pk": held_orders(store_hash), "sk": f"{ORDER_SK_PREFIX}{order_id}"}


def in_flight(store_hash: str) -> str:
    return _store(store_hash, "INFLIGHT")


def in_flight_order(store_hash: str, order_id: int) -> Key:
    return {"pk": in_flight(store_hash), "sk": f"{ORDER_SK_PREFIX}{order_id}"}


# --- shipments written back: one partition per warehouse shipment -----------------------------------------


def shipment(store_hash: str, warehouse_shipment_id: str) -> Key:
    return {"pk": _store(store_hash, f"SHIPMENT#{warehouse_shipment_id}"), "sk": "SHIPMENT"}


# --- returns (bcsync.returns): one partition per warehouse return; an order's returns beside its record -----


def warehouse_return(store_hash: str, warehouse_return_id: str) -> Key:
    return {"pk": _store(store_hash, f"RETURN#{warehouse_return_id}"), "sk": "RETURN"}


def order_returns(store_hash: str, order_id: int) -> Key:
    """What came back of an order and what bcsync refunded on it, and who handles its returns now (a lease)."""
    return {"pk": _store(store_hash, f"ORDER#{order_id}"), "sk": "RETURNS"}


def returns_totals(store_hash: str) -> Key:
    """How many returns were recorded and refunded for the store, and how much (`bcsync status`)."""
    return {"pk": _store(store_hash, "RETURNS"), "sk": "TOTALS"}


# --- fulfillment requests into a source store: one partition per request id ------------------------------


def fulfilment_request(store_hash: str, request_id: str) -> Key:
    return {"pk": _store(store_hash, f"FULFIL#{request_id}"), "sk": "REQUEST"}


# --- the catalog: a row per variant, sorted by product then variant; the SKU index ------------------------

CATALOG_CURSOR = "CURSOR"
CATALOG_INDEX_VERSION = "INDEX_VERSION"


def catalog(store_hash: str) -> str:
    return _store(store_hash, "CATALOG")


def catalog_row_sk(product_id: int, variant_id: int) -> str:
    return f"P#{product_id:012d}#V#{variant_id:012d}"


def catalog_item(store_hash: str, sk: str) -> Key:
    return {"pk": catalog(store_hash), "sk": sk}


def sku_index(store_hash: str) -> str:
    return _store(store_hash, "SKUS")


def sku_owner(store_hash: str, sku: str) -> Key:
    return {"pk": sku_index(store_hash), "sk": sku}


# --- stock: levels and pushed quantities in buckets, the inbox, bundles -----------------------------------


def stock_levels(store_hash: str) -> str:
    return _store(store_hash, "STOCK")


def stock_inbox(store_hash: str) -> str:
    return _store(store_hash, "STOCKIN")


def pushed(store_hash: str) -> str:
    return _store(store_hash, "PUSHED")


def bundles(store_hash: str) -> str:
    return _store(store_hash, "BUNDLES")


def bucket_sk(bucket: int) -> str:
    """One of a store's 64 compressed buckets of stock levels or pushed quantities."""
    return f"B#{bucket:02d}"


# --- the app: each signed payload's jti, kept until the payload has expired -------------------------------


def app_jti(jti: str) -> Key:
    """One partition per jti: a claim is one conditional put, and no two claims contend for a partition."""
    return {"pk": f"APP#JTI#{jti}", "sk": "JTI"}


# --- read back: what bcsync read of BigCommerce's own shipments and stock --------------------------------
# An order's shipments as last read sit beside its record (`STORE#h#ORDER#id` / `READBACK`); the news the
# webhooks bring, the scan's cursor and the stock last published are each store's `STORE#h#READBACK`.

READBACK_SK = "READBACK"
READBACK_CURSOR = "CURSOR"
NEWS_ORDER_PREFIX = "NEWS#ORDER#"
NEWS_STOCK_PREFIX = "NEWS#STOCK#"


def readback_of_order(store_hash: str, order_id: int) -> Key:
    return {"pk": _store(store_hash, f"ORDER#{order_id}"), "sk": READBACK_SK}


def readback(store_hash: str) -> str:
    return _store(store_hash, "READBACK")


def stock_published(store_hash: str) -> str:
    return _store(store_hash, "STOCKOUT")
