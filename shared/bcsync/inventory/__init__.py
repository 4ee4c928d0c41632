"""Inventory push: what BigCommerce may sell, from what the warehouse has."""
