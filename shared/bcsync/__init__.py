"""bcsync's core, one package per flow (orders, catalog, inventory, shipments, webhooks) on a backbone, a
store package and the warehouse contract: docs/architecture.md ("The map")."""
