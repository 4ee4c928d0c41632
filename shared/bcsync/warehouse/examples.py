"""One example of every message of the warehouse contract, as its JSON Schema shows it (`examples`).

A contract test reads each back through the model that produces or reads it, so an example can never show
what bcsync would not send or would refuse.
"""

from __future__ import annotations

from typing import Any

ORDER: dict[str, Any] = {
    "order_id": 5,
    "store_hash": "abc123",
    "version": 1,
    "client_code": "ACME",
    "status_id": 11,
    "status": "Awaiting Fulfillment",
    "cancelled": False,
    "date_created": "2026-12-01T09:12:00Z",
    "date_modified": "2026-12-01T09:14:00Z",
    "customer": {"name": "Ana Silva", "email": "ana@example.com", "phone": "555-0100"},
    "billing_address": {
        "first_name": "Ana",
        "last_name": "Silva",
        "company": "",
        "street_1": "12 Queen Street West",
        "street_2": "",
        "city": "Toronto",
        "state": "Ontario",
        "zip": "M5H 2N2",
        "country": "Canada",
        "country_iso2": "CA",
        "phone": "555-0100",
        "email": "ana@example.com",
        "state_code": "ON",
    },
    "shipments": [
        {
            "order_address_id": 9,
            "pickup": False,
            "ship_to": {
                "first_name": "Ana",
                "last_name": "Silva",
                "company": "",
                "street_1": "100 Main Street",
                "street_2": "",
                "city": "Austin",
                "state": "Texas",
                "zip": "78751",
                "country": "United States",
                "country_iso2": "US",
                "phone": "555-0101",
                "email": "ana@example.com",
                "state_code": "TX",
            },
            "shipping_method": "Flat Rate",
            "ship_option": "GROUND",
            "ship_option_mapped": True,
            "lines": [
                {
                    "order_product_id": 1,
                    "sku": "TEE-L",
                    "sku_is_fallback": False,
                    "sku_in_catalog": True,
                    "name": "T-Shirt - Size: L, Color: Blue",
                    "quantity": 2,
                    "product_id": 77,
                    "variant_id": 701,
                    "bin_picking_number": "",
                    "upc": "",
                    "parent_order_product_id": None,
                    "gift_wrapping": None,
                    "gift_message": None,
                    "unit_price_ex_tax": "20.0000",
                    "unit_price_inc_tax": "21.6500",
                    "declared_value": "40.0000",
                    "hs_code": "6109.10",
                    "country_of_origin": "PT",
                    "options": [
                        {"name": "Size", "value": "L", "option_id": 18},
                        {"name": "Color", "value": "Blue", "option_id": 3},
                    ],
                }
            ],
            "shipping_cost_ex_tax": "7.39",
            "shipping_cost_inc_tax": "8.0",
            "form_fields": [{"name": "Gate code", "value": "4411"}],
            "pickup_location": None,
            "pickup_method_id": None,
            "pickup_method_name": "",
            "collection_instructions": "",
            "collection_time_description": "",
        }
    ],
    "customer_message": "ring twice",
    "staff_notes": "",
    "custom_fields": [],
    "total_inc_tax": "51.3000",
    "currency_code": "USD",
    "hold": None,
    "shipping_cost_ex_tax": "7.3900",
    "shipping_cost_inc_tax": "8.0000",
    "payment_status": "captured",
    "channel_id": 1,
}

PRODUCT_UPSERTED: dict[str, Any] = {
    "sku": "TEE-L-BLUE",
    "product_id": 77,
    "variant_id": 701,
    "name": "T-Shirt - Size: L, Color: Blue",
    "options": {"Size": "L", "Color": "Blue"},
    "main_image": "https://cdn.example.com/p77_0_zoom.jpg",
    "images": ["https://cdn.example.com/p77_1_zoom.jpg"],
    "brand": "Acme",
    "categories": [["Apparel", "Shirts", "T-Shirts"]],
    "dimensions": {
        "weight": "0.5",
        "width": "10",
        "height": "2",
        "depth": "30",
        "weight_unit": "lb",
        "dimension_unit": "in",
    },
    "price": "20.00",
    "retail_price": "29.99",
    "cost_price": "4.00",
    "upc": "012345678905",
    "gtin": None,
    "mpn": "MPN-701",
    "bin_picking_number": "A-12",
    "custom_fields": {"hs_code": "6109.10", "country_of_origin": "PT"},
    "customs": {"hs_code": "6109.10", "country_of_origin": "PT"},
    "inventory_tracking": "variant",
    "fallback_sku": False,
}

PRODUCT_ARCHIVED: dict[str, Any] = {"sku": "TEE-L-BLUE", "product_id": 77, "variant_id": 701, "reason": "hidden"}

EVENT_DETAIL: dict[str, Any] = {
    "schema_version": 3,
    "store_hash": "abc123",
    "idempotency_key": "order:abc123:5:v1",
    "occurred_at": "2026-12-01T09:15:02+00:00",
    "bcsync_version": "0.2.0",
    "data": ORDER,
}

SHIPMENTS_INBOUND: list[dict[str, Any]] = [
    {
        "type": "Shipment Confirmed",
        "schema_version": 1,
        "store_hash": "abc123",
        "order_id": 5,
        "warehouse_shipment_id": "WS-1001",
        "tracking_number": "1Z999AA10123456784",
        "carrier": "UPS",
        "service": "Ground",
        "tracking_link": None,
        "lines": [{"order_product_id": 1, "quantity": 2}],
        "order_address_id": 9,
        "pickup": False,
    },
    {"type": "Order Acknowledged", "schema_version": 1, "store_hash": "abc123", "order_id": 5},
    {
        "type": "Order Rejected",
        "schema_version": 1,
        "store_hash": "abc123",
        "order_id": 5,
        "reason": "address incomplete",
    },
    {"type": "Order Backordered", "schema_version": 1, "store_hash": "abc123", "order_id": 5, "skus": ["TEE-L-BLUE"]},
    {
        "type": "Order Change Too Late",
        "schema_version": 1,
        "store_hash": "abc123",
        "order_id": 5,
        "version": 2,
        "change": "cancel",
        "reason": "the parcel left at 14:02",
        "warehouse_shipment_id": "WS-1001",
    },
]

STOCK_INBOUND: list[dict[str, Any]] = [
    {
        "type": "Stock Level",
        "schema_version": 1,
        "store_hash": "abc123",
        "as_of": "2026-12-01T09:00:00Z",
        "mode": "delta",
        "items": [{"sku": "TEE-L-BLUE", "location": "MAIN", "fulfillable": 42, "exception": 1}],
    },
    {
        "type": "Bundle Definition",
        "schema_version": 2,
        "store_hash": "abc123",
        "as_of": "2026-12-01T09:00:00Z",
        "bundle_sku": "BUNDLE-GIFT",
        "components": [{"sku": "TEE-L-BLUE", "quantity": 1}, {"sku": "MUG-1", "quantity": 2}],
    },
]

# --- returns (bcsync.returns) ---
RETURNS_INBOUND: list[dict[str, Any]] = [
    {
        "type": "Return Received",
        "schema_version": 1,
        "store_hash": "abc123",
        "order_id": 5,
        "warehouse_return_id": "RMA-1001",
        "lines": [
            {"order_product_id": 11, "quantity": 1, "condition": "resellable"},
            {"sku": "MUG-BLUE", "quantity": 1, "condition": "damaged", "notes": "handle broken"},
        ],
        "notes": "customer return, box opened",
    }
]
RETURN_RECORDED: dict[str, Any] = {
    "store_hash": "abc123",
    "order_id": 5,
    "warehouse_return_id": "RMA-1001",
    "lines": [
        {"order_product_id": 11, "sku": "TEE-RED-M", "quantity": 1, "condition": "resellable"},
        {"order_product_id": 12, "sku": "MUG-BLUE", "quantity": 1, "condition": "damaged"},
    ],
    "refunded": True,
    "no_refund_reason": "",
}
REFUND_ISSUED: dict[str, Any] = {
    "store_hash": "abc123",
    "order_id": 5,
    "warehouse_return_id": "RMA-1001",
    "refund_id": 3,
    "amount": "19.99",
}

# --- fulfillment requests (bcsync.fulfilment) ---
_ADA = {"first_name": "Ada", "last_name": "Lovelace", "street_1": "12 Analytical Row", "city": "Austin",
        "state": "TX", "zip": "78751", "country_iso2": "US"}  # fmt: skip
FULFILLMENT_REQUESTS_INBOUND: list[dict[str, Any]] = [
    {
        "type": "Fulfillment Request",
        "schema_version": 1,
        "store_hash": "abc123",
        "request_id": "PO-10045",
        "requested_at": "2026-12-01T09:00:00+00:00",
        "lines": [{"sku": "TEE-RED-M", "quantity": 2, "price": "12.50"}],
        "ship_to": _ADA,
        "bill_to": {**_ADA, "email": "ada@example.com"},
        "customer_policy": "create_if_missing",
        "email": "ada@example.com",
        "carrier": "UPS",
        "ship_method": "Ground",
        "notes": "Leave at the door",
    }
]
FULFILLMENT_REQUEST_ACCEPTED: dict[str, Any] = {
    "request_id": "PO-10045",
    "order_id": 1077,
    "status_id": 11,
    "customer_id": 42,
}
FULFILLMENT_REQUEST_REFUSED: dict[str, Any] = {
    "request_id": "PO-10046",
    "code": "unknown_sku",
    "reason": "SKU TEE-RED-XXL is on no variant of store abc123: add it in BigCommerce or correct the request",
    "skus": ["TEE-RED-XXL"],
    "left_in_bigcommerce": None,
}

# --- read back (bcsync.readback) ---
_SHIPPED = [{"order_product_id": 11, "sku": "TEE-RED-M", "product_id": 77, "variant_id": 771, "quantity": 1}]
_LEFT = [
    {"order_product_id": 11, "sku": "TEE-RED-M", "quantity_ordered": 2, "quantity_shipped": 1, "quantity_remaining": 1}
]
SHIPMENT_READ_BACK: dict[str, Any] = {
    "bigcommerce_shipment_id": 9,
    "order_id": 5,
    "order_address_id": 6,
    "revision": 1,
    "imported": True,
    "tracking_number": "1Z999AA10123456784",
    "tracking_link": "",
    "tracking_carrier": "ups",
    "shipping_method": "UPS Ground",
    "shipped_at": "2026-12-01T14:05:00+00:00",
    "lines": _SHIPPED,
    "remaining": _LEFT,
    "complete": False,
}
SHIPMENT_DELETED: dict[str, Any] = {
    "bigcommerce_shipment_id": 9,
    "order_id": 5,
    "imported": True,
    "lines": _SHIPPED,
    "remaining": [{**_LEFT[0], "quantity_shipped": 0, "quantity_remaining": 2}],
    "complete": False,
}
STOCK_LEVEL_CHANGED: dict[str, Any] = {
    "sku": "TEE-RED-M",
    "product_id": 77,
    "variant_id": 771,
    "location_id": 1,
    "on_hand": 14,
    "available_to_sell": 12,
    "previous_on_hand": 11,
    "read_at": "2026-12-01T14:10:00+00:00",
}
