"""Webhooks: BigCommerce's deliveries received, verified and debounced; hooks registered."""
