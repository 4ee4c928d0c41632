"""The sandbox's webhooks: store changes queue deliveries; `fire` posts them like BigCommerce does.

BigCommerce delivers the same event more than once and out of order; `fire` can do both on
purpose (`copies`, `shuffle_seed`). Payloads have BigCommerce's shape (docs/webhooks/callbacks):
ids only, a `hash` of the data, `created_at`, `producer` = `stores/{store_hash}`.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from standardwebhooks import Webhook

from bigcommerce_client.clock import Clock


def scope_matches(hook_scope: str, scope: str) -> bool:
    return hook_scope == scope or (hook_scope.endswith("/*") and scope.startswith(hook_scope[:-1]))


@dataclass(frozen=True)
class PendingDelivery:
    hook_id: int
    destination: str
    headers: dict[str, str]
    payload: dict[str, Any]


def payload(*, store_hash: str, scope: str, data: dict[str, Any], created_at: int) -> dict[str, Any]:
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return {
        "scope": scope,
        "store_id": str(int(hashlib.sha1(store_hash.encode()).hexdigest()[:7], 16)),  # noqa: S324 - an id, not security
        "data": data,
        "hash": hashlib.sha1(encoded).hexdigest(),  # noqa: S324 - BigCommerce's own choice of digest
        "created_at": created_at,
        "producer": f"stores/{store_hash}",
    }


@dataclass
class DeliveryResult:
    scope: str
    resource_id: int
    status: int  # 0: no answer (connection refused, timeout)
    outcome: str = ""  # the receiver's `outcome`, when it answered with one


@dataclass(frozen=True)
class DeliverySigner:
    """How BigCommerce signs the deliveries of an app's hooks: Standard Webhooks (`webhook-id`,
    `webhook-timestamp`, `webhook-signature`), the HMAC key the app's client secret itself. The id is
    the event's (a retry or a duplicate repeats it); the timestamp is the moment of sending."""

    client_secret: str
    clock: Clock

    def headers(self, delivery: PendingDelivery, body: str) -> dict[str, str]:
        event = delivery.payload
        message_id = (
            "msg_"
            + hashlib.sha256(f"{delivery.hook_id}.{event['hash']}.{event['created_at']}".encode()).hexdigest()[:24]
        )
        sent_at = datetime.fromtimestamp(int(self.clock.now()), tz=UTC)
        signature = Webhook(self.client_secret.encode()).sign(message_id, sent_at, body)
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signature,
        }


@dataclass
class WebhookOutbox:
    """Deliveries waiting to be fired, in the order the changes happened."""

    pending: list[PendingDelivery] = field(default_factory=list)
    # Set when the store installed an app (bigcommerce_sandbox.app): its deliveries are signed.
    signer: DeliverySigner | None = None

    def fire(
        self,
        *,
        copies: int = 1,
        shuffle_seed: int | None = None,
        verify: str | bool = True,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> list[DeliveryResult]:
        deliveries = [delivery for delivery in self.pending for _ in range(copies)]
        self.pending.clear()
        if shuffle_seed is not None:
            random.Random(shuffle_seed).shuffle(deliveries)
        http = session or requests.Session()
        results = []
        for delivery in deliveries:
            body = json.dumps(delivery.payload)
            headers = {**delivery.headers, "Content-Type": "application/json", "User-Agent": "bigcommerce-sandbox"}
            if self.signer is not None:
                headers |= self.signer.headers(delivery, body)
            try:
                response = http.post(delivery.destination, data=body, headers=headers, verify=verify, timeout=timeout)
                status = response.status_code
                outcome = _outcome(response)
            except requests.RequestException:
                status, outcome = 0, ""
            scope, resource_id = delivery.payload["scope"], int(delivery.payload["data"]["id"])
            results.append(DeliveryResult(scope, resource_id, status, outcome))
        return results


def _outcome(response: requests.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        return ""
    return str(answer.get("outcome", "")) if isinstance(answer, dict) else ""
