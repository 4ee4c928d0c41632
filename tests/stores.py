"""A connected store for e2e tests: seeded in the sandbox, connected through the CLI, settings applied."""

from __future__ import annotations

import io
from typing import Any

from bcsync.cli import main as bcsync_cli
from bcsync.store.registry import StoreRegistry
from bcsync.store.settings import StoreSettings
from bigcommerce_sandbox import Sandbox, SandboxStore, seed_catalog
from local_runtime import LocalDeployment
from tests.conftest import KNOWN_TOKENS


def connected_store(
    world: tuple[LocalDeployment, Sandbox], store_hash: str, token: str, *, products: int, **settings: Any
) -> SandboxStore:
    stack, sandbox = world
    KNOWN_TOKENS.add(token)
    store = sandbox.add_store(store_hash, token=token)
    seed_catalog(store, products=products, variants_per_product=2)
    connect = ["stores", "connect", store_hash, "--no-webhooks"]
    assert bcsync_cli(connect, stdin=io.StringIO(token), out=io.StringIO()) == 0
    if settings:
        registry = StoreRegistry(stack.resource("dynamodb").Table(stack.outputs()["StateTableName"]))
        registry.put(StoreSettings.model_validate(registry.get(store_hash).model_dump() | settings))
    return store


def connected_once(
    world: tuple[LocalDeployment, Sandbox], store_hash: str, token: str, *, products: int
) -> SandboxStore:
    """`connected_store`, unless this test connected it already (hypothesis: every example, one stack)."""
    _, sandbox = world
    if store_hash in sandbox.stores:
        return sandbox.stores[store_hash]
    return connected_store(world, store_hash, token, products=products)


def mark(sandbox: Sandbox) -> int:
    """Where the sandbox's record of exchanges stands now."""
    return len(sandbox.recorder.exchanges)  # type: ignore[attr-defined]


def calls_since(sandbox: Sandbox, store_hash: str, since: int) -> list[str]:
    """`METHOD /path` of each call one store made since `mark`."""
    exchanges = sandbox.recorder.exchanges[since:]  # type: ignore[attr-defined]
    return [f"{e.method} {e.api_path}" for e in exchanges if e.store_hash == store_hash]
