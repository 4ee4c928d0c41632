"""bcsync's core, one package per flow (orders, catalog, inventory, shipments, webhooks) on a backbone, a
store package and the warehouse contract: docs/architecture.md ("The map")."""

# The one place the release is named: pyproject.toml reads it (`dynamic = ["version"]`), `bcsync --version`
# prints it, and every event's `detail.bcsync_version` carries it. It lives in the code, not only in the
# package metadata, because the Lambda layer ships this package without any metadata.
__version__ = "0.2.0"
