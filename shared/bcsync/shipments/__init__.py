"""Tracking writeback: each warehouse shipment becomes exactly one BigCommerce shipment."""
