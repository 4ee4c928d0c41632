"""Returns: what comes back to the warehouse is recorded on the BigCommerce order once, and refunded if the
store asks for it - exactly once, never past what BigCommerce quotes or the store's per-order limit."""
