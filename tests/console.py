"""The console's test world: a local stack whose app is registered with the sandbox, two connected stores,
a held order, and a browser-like HTTP session that opens the merchant's console through the load callback."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from typing import Any

import requests

from bcsync.cli import main as bcsync_cli
from bcsync.store.registry import StoreRegistry
from bigcommerce_sandbox import Sandbox, SandboxStore, add_order, seed_catalog
from bigcommerce_sandbox.app import SandboxApp, register_app
from local_runtime import LocalDeployment
from tests.aws import drain
from tests.conftest import KNOWN_TOKENS

CLIENT_ID = "console-app-client"
CLIENT_SECRET = "console-app-secret-0123456789abcdef"
KNOWN_TOKENS.add(CLIENT_SECRET)


@dataclass
class ConsoleWorld:
    stack: LocalDeployment
    sandbox: Sandbox
    app: SandboxApp

    @property
    def url(self) -> str:
        return self.stack.http_api.url

    def registry(self) -> StoreRegistry:
        return StoreRegistry(self.stack.resource("dynamodb").Table(str(self.stack.outputs()["StateTableName"])))

    def browser(self) -> requests.Session:
        session = requests.Session()
        session.verify = str(self.stack.http_api.ca_path)
        session.trust_env = False  # a REQUESTS_CA_BUNDLE in the environment would replace the local CA
        return session

    def open_console(self, store_hash: str, **claims: Any) -> tuple[requests.Session, requests.Response]:
        """BigCommerce opens the app for `store_hash`: its load callback with a signed payload."""
        browser = self.browser()
        answer = browser.get(
            f"{self.url}/app/load",
            params={"signed_payload_jwt": self.app.signed_payload(store_hash, "load", **claims)},
            allow_redirects=False,
        )
        return browser, answer

    def import_orders(self) -> list[dict[str, Any]]:
        handler = self.stack.load_handler("OrderImportFunction")
        handler({"action": "tick"}, self.stack.context("OrderImportFunction"))
        self.stack.deliver_sqs("OrderImportJobs", handler)
        return drain(self.stack, "WarehouseOutbound")

    def run_queued_import(self) -> list[dict[str, Any]]:
        """The job messages the console queued, run; what the warehouse received."""
        self.stack.deliver_sqs("OrderImportJobs", self.stack.load_handler("OrderImportFunction"))
        return drain(self.stack, "WarehouseOutbound")


def console_world(stack: LocalDeployment, sandbox: Sandbox) -> ConsoleWorld:
    """The app's secret where the stack reads it (`bcsync/<stack>/app`), the app registered with BigCommerce."""
    stack.client("secretsmanager").create_secret(
        Name=f"bcsync/{stack.stack_name}/app",
        SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    )
    app = register_app(
        sandbox, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=f"{stack.http_api.url}/app/auth"
    )
    return ConsoleWorld(stack, sandbox, app)


def connect(world: ConsoleWorld, store_hash: str, *, name: str | None = None) -> SandboxStore:
    """A store connected as `bcsync stores connect` connects one (no webhooks: the schedules alone)."""
    token = f"tok-{store_hash}-console"
    KNOWN_TOKENS.add(token)
    store = world.sandbox.add_store(store_hash, token=token)
    seed_catalog(store, products=3, variants_per_product=1)
    named = ["--name", name] if name is not None else []
    code = bcsync_cli(
        ["stores", "connect", store_hash, "--no-webhooks", *named], stdin=io.StringIO(token), out=io.StringIO()
    )
    assert code == 0
    return store


def configure(store_hash: str, *assignments: str) -> None:
    args = [part for assignment in assignments for part in ("--set", assignment)]
    assert bcsync_cli(["stores", "configure", store_hash, *args], out=io.StringIO()) == 0


def held_order(world: ConsoleWorld, store: SandboxStore, *, method: str = "Flat Rate") -> int:
    """A paid order the store's hold window keeps back, its shipping method `method`."""
    product = next(p for p in store.products.values() if p["is_visible"] and p["variants"])
    order_id = add_order(store, lines=[(product, product["variants"][0], 1)])
    for address in store.shipping_addresses[order_id]:
        address["shipping_method"] = method
    assert world.import_orders() == []  # held, not sent
    return order_id


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)
