"""The console's session: a signed, short-lived cookie bound to one verified store (or to the operator),
and the CSRF token every change must carry.

The cookie holds no secret, only what it binds (the store, the user, when it ends), signed with HMAC-SHA256:
a cookie edited to name another store no longer verifies. The CSRF token is an HMAC of the session's own
nonce, so a token taken from one session is refused in any other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bcsync.errors import BcsyncError
from bigcommerce_client import SYSTEM_CLOCK, Clock

COOKIE_NAME = "bcsync_console"
# BigCommerce opens the app again (a new signed payload) whenever the merchant clicks it: an hour is plenty.
SESSION_SECONDS = 3600
OPERATOR = "*"  # the operator's session: every store

Mode = Literal["merchant", "operator"]


class SessionRefused(BcsyncError):  # noqa: N818 - a verdict on the cookie
    """No valid session: missing, tampered with, or expired. The message says what to do."""


@dataclass(frozen=True)
class Session:
    store_hash: str  # the store it is bound to; OPERATOR for the operator's console
    user: str  # who opened it (BigCommerce's user e-mail, or "operator")
    expires_at: int
    nonce: str

    @property
    def is_operator(self) -> bool:
        return self.store_hash == OPERATOR

    def may_see(self, store_hash: str) -> bool:
        return self.is_operator or hmac.compare_digest(self.store_hash, store_hash)


def derive_key(secret: str, purpose: str = "console-session") -> bytes:
    """The signing key of the merchant's sessions, from the app's client secret: never the secret itself,
    so a session key, were it ever exposed, verifies no JWT and no webhook."""
    return hmac.new(secret.encode(), f"bcsync/{purpose}/v1".encode(), hashlib.sha256).digest()


class SessionSigner:
    def __init__(
        self,
        key: bytes | Callable[[], bytes],
        *,
        mode: Mode,
        lifetime: int = SESSION_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        """`key` may be a function: the merchant's console reads the app's secret on the first request that
        needs it, not at cold start."""
        self._key_source = key
        self._key: bytes | None = None
        self.mode = mode
        self.lifetime = lifetime
        self._clock = clock or SYSTEM_CLOCK

    def _now(self, now: float | None) -> float:
        return self._clock.now() if now is None else now

    def key(self) -> bytes:
        if self._key is None:
            key = self._key_source() if callable(self._key_source) else self._key_source
            if len(key) < 32:
                raise ValueError("a session key has at least 32 bytes")
            self._key = key
        return self._key

    def issue(self, store_hash: str, user: str, *, now: float | None = None) -> Session:
        moment = self._now(now)
        return Session(store_hash, user, int(moment) + self.lifetime, secrets.token_urlsafe(16))

    def encode(self, session: Session) -> str:
        payload = json.dumps(
            {"s": session.store_hash, "u": session.user, "e": session.expires_at, "n": session.nonce},
            separators=(",", ":"),
        ).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._sign(body.encode())}"

    def decode(self, value: str, *, now: float | None = None) -> Session:
        body, _, signature = value.partition(".")
        if not body or not signature or not hmac.compare_digest(signature, self._sign(body.encode())):
            raise SessionRefused("this console session is not valid: open the app again from BigCommerce")
        try:
            raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            session = Session(str(raw["s"]), str(raw["u"]), int(raw["e"]), str(raw["n"]))
        except (ValueError, KeyError, TypeError):
            raise SessionRefused("this console session is not valid: open the app again from BigCommerce") from None
        if session.expires_at <= self._now(now):
            raise SessionRefused("this console session has expired: open the app again from BigCommerce")
        if session.is_operator != (self.mode == "operator"):
            raise SessionRefused("this session belongs to the other console")
        return session

    def csrf_token(self, session: Session) -> str:
        return self._sign(f"csrf:{session.nonce}:{session.store_hash}".encode())

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session))

    def cookie_header(self, session: Session) -> str:
        """`SameSite=None; Secure` for the merchant's console, which BigCommerce's control panel frames
        (a third-party context); the operator's, on http://127.0.0.1 alone, is `SameSite=Strict` without
        `Secure` (a browser sends no Secure cookie over plain http)."""
        attributes = f"{COOKIE_NAME}={self.encode(session)}; Path=/; Max-Age={self.lifetime}; HttpOnly"
        if self.mode == "merchant":
            return f"{attributes}; Secure; SameSite=None; Partitioned"
        return f"{attributes}; SameSite=Strict"

    def _sign(self, data: bytes) -> str:
        digest = hmac.new(self.key(), data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
