"""BigCommerce's signed deliveries: the Standard Webhooks scheme, keyed with the app's client secret.

A store that installed the app gets deliveries with `webhook-id`, `webhook-timestamp` and
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, several separated by spaces
while a secret rotates); the HMAC key is the app's client secret. A delivery whose timestamp is more
than `TOLERANCE_SECONDS` from our clock is refused however well it is signed: that is what stops a
recorded delivery from being replayed later (within the window, a replay repeats an event the
receiver's idempotency already took, and is answered as the duplicate it is).

The `standardwebhooks` library computes the signature. Its `verify` also checks the timestamp, against
the wall clock; the functions run on their process's clock (virtual in the local runtime), so the
tolerance is checked here and the library's signature compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import SecretStr
from standardwebhooks import Webhook

from bcsync.app.signed_payload import AppCredentials
from bcsync.errors import ConfigurationError

# Standard Webhooks' own recommendation, and its library's default.
TOLERANCE_SECONDS = 300
# An app secret that could not be read is tried again after this long (the operator may be filling it in).
RETRY_UNREADABLE_SECONDS = 300.0

SignatureRefusal = Literal["missing_signature", "stale_signature", "wrong_signature"]


@dataclass(frozen=True)
class SignedDeliveries:
    """The app's deliveries: which client id marks a store as the app's, and the key that signs them."""

    client_id: str
    client_secret: SecretStr
    tolerance_seconds: float = TOLERANCE_SECONDS

    def check(self, headers: Mapping[str, str], body: str, *, now: float) -> SignatureRefusal | None:
        """None when BigCommerce signed this body lately; why it is refused otherwise."""
        given = {name.lower(): value for name, value in headers.items()}
        message_id = given.get("webhook-id", "")
        timestamp = given.get("webhook-timestamp", "")
        signatures = given.get("webhook-signature", "")
        if not (message_id and timestamp and signatures):
            return "missing_signature"
        try:
            sent_at = int(timestamp)
        except ValueError:
            return "wrong_signature"
        if abs(now - sent_at) > self.tolerance_seconds:
            return "stale_signature"
        key = self.client_secret.get_secret_value().encode()
        expected = Webhook(key).sign(message_id, datetime.fromtimestamp(sent_at, tz=UTC), body).encode()
        if any(hmac.compare_digest(candidate.encode(), expected) for candidate in signatures.split()):
            return None
        return "wrong_signature"


class AppSigning:
    """The app's `SignedDeliveries`, read from its secret on first need and kept; None while the stack
    has no app (no secret named, or one not filled in yet: stores connected with an API account need
    none), asked again every `RETRY_UNREADABLE_SECONDS`."""

    def __init__(self, read: Callable[[], AppCredentials] | None, *, clock: Callable[[], float]) -> None:
        self._read = read
        self._clock = clock
        self._known: SignedDeliveries | None = None
        self._unreadable_since: float | None = None

    def __call__(self) -> SignedDeliveries | None:
        if self._known is not None or self._read is None:
            return self._known
        now = self._clock()
        if self._unreadable_since is not None and now - self._unreadable_since < RETRY_UNREADABLE_SECONDS:
            return None
        try:
            credentials = self._read()
        except ConfigurationError:
            self._unreadable_since = now
            return None
        self._known = SignedDeliveries(client_id=credentials.client_id, client_secret=credentials.client_secret)
        return self._known
