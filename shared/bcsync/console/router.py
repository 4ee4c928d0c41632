"""The console's routes, for the Lambda function behind the HTTP API (the merchant's console) and for
`bcsync console` on 127.0.0.1 (the operator's), which hands its requests to the same router.

Every page names its store in the path, and every change repeats it in the form; both must be the store the
session was issued for (the operator's session covers every store). The session comes from the signed
cookie alone, so a store named in the path, the form or an edited cookie opens nothing. Every POST carries
the session's CSRF token. Jinja2 escapes everything a page shows: a product called `<script>` is text.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from bcsync.console.data import ConsoleData
from bcsync.console.forms import WEEKDAYS, form_values, kept_values, settings_changes
from bcsync.console.session import COOKIE_NAME, OPERATOR, Session, SessionRefused, SessionSigner
from bcsync.errors import BcsyncError, CliError, InvalidSettingsError, StoreNotConnectedError
from bcsync.store.settings import JOBS

logger = logging.getLogger("bcsync.console")

# The app's load callback: BigCommerce's signed payload → (store hash, user e-mail), or an error with a reason.
LoadVerifier = Callable[[str], tuple[str, str]]

NOTES = {
    "resent": "Resend queued: order import sends the order's current version again within a minute.",
    "released": "Released: order import sends the order to the warehouse with its next run, queued now.",
    "not-held": "That order is not held any more (it was released or withdrawn).",
    "saved": "Settings saved.",
    "mapped": "Shipping method mapped.",
    "enabled": "Store enabled.",
    "disabled": "Store disabled: no job runs for it.",
    "redriven": "Messages sent back to their queue.",
}
JOB_TITLES = {
    "order_import": "Order import",
    "product_sync": "Product sync",
    "inventory_push": "Inventory push",
    "tracking_writeback": "Tracking writeback",
}


class Refused(BcsyncError):  # noqa: N818 - an answer, not a fault
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ConsoleApp:
    data: ConsoleData
    signer: SessionSigner
    verify_load: LoadVerifier | None = None  # the merchant's console: the app's load callback
    login_token: str | None = None  # the operator's console: the one-time link `bcsync console` prints

    def __post_init__(self) -> None:
        self.operator = self.signer.mode == "operator"
        self.templates = Environment(
            loader=PackageLoader("bcsync.console", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.resolver = self._routes()

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return self.resolver.resolve(event, context)

    # --- the request ------------------------------------------------------------------------------------

    def _event(self) -> Any:
        return self.resolver.current_event

    def _query(self) -> dict[str, list[str]]:
        return parse_qs(self._event().raw_event.get("rawQueryString") or "")

    def _cookie(self) -> str | None:
        raw = self._event().raw_event
        texts = list(raw.get("cookies") or [])
        header = (raw.get("headers") or {}).get("cookie")
        if header:
            texts.append(header)
        for text in texts:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(text)
            except CookieError:
                continue
            if COOKIE_NAME in jar:
                return jar[COOKIE_NAME].value
        return None

    def _session(self) -> Session:
        value = self._cookie()
        if value is None:
            where = (
                "run `bcsync console` and open the link it prints" if self.operator else "open the app from BigCommerce"
            )
            raise Refused(401, f"no console session: {where}")
        try:
            return self.signer.decode(value)
        except SessionRefused as error:
            raise Refused(401, str(error)) from None

    def _store(self, store_hash: str) -> Session:
        """The session, when it may see `store_hash`; a store named in the path is never taken on trust."""
        session = self._session()
        if not session.may_see(store_hash):
            raise Refused(403, "this console is for another store: open the app from that store's control panel")
        return session

    def _form(self, session: Session, store_hash: str | None) -> dict[str, list[str]]:
        """A change's form: its CSRF token must be the session's, and the store it names the path's."""
        event = self._event()
        body = event.decoded_body or ""
        form = parse_qs(body, keep_blank_values=True)
        if not self.signer.check_csrf(session, (form.get("csrf") or [""])[0]):
            raise Refused(403, "this form is out of date or was not sent from the console: reload the page")
        if store_hash is not None:
            named = (form.get("store_hash") or [""])[0]
            if not hmac.compare_digest(named, store_hash) or not session.may_see(named):
                raise Refused(403, "this form names another store")
        return form

    # --- answers ------------------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        # No script runs on any page; BigCommerce's control panel alone may frame the merchant's console.
        ancestors = "'none'" if self.operator else "https://*.bigcommerce.com https://*.mybigcommerce.com"
        return {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
                f"frame-ancestors {ancestors}; base-uri 'none'"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        }

    def _page(
        self, template: str, http_status: int = 200, session: Session | None = None, **values: Any
    ) -> Response[str]:
        note = (self._query().get("note") or [""])[0]
        body = self.templates.get_template(template).render(
            operator=self.operator,
            session=session,
            csrf=self.signer.csrf_token(session) if session else "",
            note=NOTES.get(note, ""),
            job_titles=JOB_TITLES,
            **values,
        )
        return Response(status_code=http_status, headers=self._headers(), body=body)

    def _redirect(self, location: str, *, cookie: str | None = None) -> Response[str]:
        headers = self._headers() | {"Location": location}
        response: Response[str] = Response(status_code=303, headers=headers, body="")
        if cookie:
            response.headers["Set-Cookie"] = cookie
        return response

    def _refused(self, error: Refused) -> Response[str]:
        return self._page("error.html", http_status=error.status, message=str(error))

    # --- routes -------------------------------------------------------------------------------------------

    def _routes(self) -> APIGatewayHttpResolver:
        app = APIGatewayHttpResolver()

        @app.exception_handler(Refused)  # type: ignore[untyped-decorator]
        def refused(error: Refused) -> Response[str]:
            return self._refused(error)

        @app.exception_handler(StoreNotConnectedError)  # type: ignore[untyped-decorator]
        def not_connected(error: StoreNotConnectedError) -> Response[str]:
            return self._refused(Refused(404, "this store is not connected to bcsync: install the app again"))

        @app.exception_handler(InvalidSettingsError)  # type: ignore[untyped-decorator]
        def invalid(error: InvalidSettingsError) -> Response[str]:
            return self._refused(Refused(409, str(error)))

        @app.not_found
        def not_found(_: Exception) -> Response[str]:
            return self._refused(Refused(404, "no such page"))

        if self.verify_load is not None:
            verify = self.verify_load

            @app.get("/app/load")
            def load() -> Response[str]:
                token = (self._query().get("signed_payload_jwt") or [""])[0]
                try:
                    store_hash, user = verify(token)
                except BcsyncError as error:
                    logger.warning("load refused", extra={"reason": str(error)})
                    raise Refused(401, "BigCommerce's signed payload was refused: open the app again") from None
                self.data.settings(store_hash)  # a clear answer for a store not (or no longer) installed
                session = self.signer.issue(store_hash, user)
                # A redirect drops the signed payload from the address bar, the history and any referrer.
                return self._redirect(f"/console/stores/{store_hash}", cookie=self.signer.cookie_header(session))

        if self.operator:
            expected = self.login_token

            @app.get("/console/login")
            def login() -> Response[str]:
                token = (self._query().get("token") or [""])[0]
                if not expected or not token or not hmac.compare_digest(token, expected):
                    raise Refused(401, "this link is not valid: open the one `bcsync console` printed")
                session = self.signer.issue(OPERATOR, "operator")
                return self._redirect("/console/", cookie=self.signer.cookie_header(session))

            @app.get("/console/dlq")
            def dlq() -> Response[str]:
                session = self._session()
                return self._page("dlq.html", session=session, queues=self.data.dead_letters(), page="dlq")

            @app.post("/console/dlq/<queue>/redrive")
            def redrive(queue: str) -> Response[str]:
                session = self._session()
                self._form(session, None)
                try:
                    self.data.redrive(queue)
                except CliError as error:
                    raise Refused(404, str(error)) from None
                return self._redirect("/console/dlq?note=redriven")

            @app.post("/console/stores/<store_hash>/enabled")
            def enabled(store_hash: str) -> Response[str]:
                session = self._store(store_hash)
                form = self._form(session, store_hash)
                on = (form.get("enabled") or [""])[0] == "on"
                self.data.set_enabled(store_hash, on)
                return self._redirect(f"/console/?note={'enabled' if on else 'disabled'}")

        @app.get("/console/")
        def home() -> Response[str]:
            session = self._session()
            if not session.is_operator:
                return self._redirect(f"/console/stores/{session.store_hash}")
            rows: list[dict[str, Any]] = []
            for store in self.data.stores():
                if isinstance(store, InvalidSettingsError):
                    rows.append({"error": str(store)})
                else:
                    rows.append({"settings": store, "status": self.data.status(store.store_hash)})
            return self._page("stores.html", session=session, rows=rows, page="stores")

        @app.get("/console/stores/<store_hash>")
        def status(store_hash: str) -> Response[str]:
            session = self._store(store_hash)
            return self._page(
                "status.html", session=session, store=self.data.settings(store_hash),
                status=self.data.status(store_hash), now=datetime.now(UTC), page="status", ago=ago,
            )  # fmt: skip

        @app.get("/console/stores/<store_hash>/problems")
        def problems(store_hash: str) -> Response[str]:
            session = self._store(store_hash)
            return self._page(
                "problems.html", session=session, store=self.data.settings(store_hash),
                problems=self.data.problems(store_hash), page="problems",
            )  # fmt: skip

        @app.get("/console/stores/<store_hash>/orders")
        def orders(store_hash: str) -> Response[str]:
            session = self._store(store_hash)
            return self._page(
                "orders.html", session=session, store=self.data.settings(store_hash),
                orders=self.data.orders(store_hash), page="orders",
            )  # fmt: skip

        @app.post("/console/stores/<store_hash>/orders/<order_id>/resend")
        def resend(store_hash: str, order_id: str) -> Response[str]:
            session = self._store(store_hash)
            self._form(session, store_hash)
            self.data.resend(store_hash, [_order_id(order_id)])
            return self._redirect(f"/console/stores/{store_hash}/orders?note=resent")

        @app.post("/console/stores/<store_hash>/orders/<order_id>/release")
        def release(store_hash: str, order_id: str) -> Response[str]:
            session = self._store(store_hash)
            self._form(session, store_hash)
            done = self.data.release_now(store_hash, _order_id(order_id))
            return self._redirect(f"/console/stores/{store_hash}/orders?note={'released' if done else 'not-held'}")

        @app.get("/console/stores/<store_hash>/settings")
        def settings(store_hash: str) -> Response[str]:
            session = self._store(store_hash)
            current = self.data.settings(store_hash)
            return self._settings_page(session, store_hash, form_values(current), {})

        @app.post("/console/stores/<store_hash>/settings")
        def save_settings(store_hash: str) -> Response[str]:
            session = self._store(store_hash)
            form = self._form(session, store_hash)
            changes, errors = settings_changes(form)
            # Every field is checked, those the form could not read aside: all the errors show at once.
            _, refused = self.data.save_settings(store_hash, changes, save=not errors)
            errors = refused | errors
            if errors:
                return self._settings_page(session, store_hash, kept_values(form), errors, status=422)
            return self._redirect(f"/console/stores/{store_hash}/settings?note=saved")

        @app.post("/console/stores/<store_hash>/ship-options")
        def map_ship_option(store_hash: str) -> Response[str]:
            session = self._store(store_hash)
            form = self._form(session, store_hash)
            method, option = ((form.get(name) or [""])[0].strip() for name in ("method", "option"))
            if not method or not option:
                raise Refused(422, "give the shipping method a ship option (e.g. GROUND)")
            mapping = self.data.settings(store_hash).ship_option_map | {method: option}
            _, errors = self.data.save_settings(store_hash, {"ship_option_map": mapping})
            if errors:
                raise Refused(422, "; ".join(errors.values()))
            return self._redirect(f"/console/stores/{store_hash}/problems?note=mapped")

        return app

    def _settings_page(
        self, session: Session, store_hash: str, values: dict[str, Any], errors: dict[str, str], status: int = 200
    ) -> Response[str]:
        return self._page(
            "settings.html", http_status=status, session=session, store=self.data.settings(store_hash),
            values=values, errors=errors, weekdays=WEEKDAYS, page="settings",
        )  # fmt: skip


def _order_id(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise Refused(404, "no such order")
    return int(text)


def ago(moment: str | None, now: datetime) -> str:
    """'3 min ago' for a run's time (ISO text)."""
    if not moment:
        return ""
    try:
        seconds = int((now - datetime.fromisoformat(moment)).total_seconds())
    except ValueError:
        return moment
    if seconds < 90:
        return f"{max(seconds, 0)} s ago"
    if seconds < 5400:
        return f"{seconds // 60} min ago"
    if seconds < 172_800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86_400} days ago"


def store_link(store_hash: str) -> str:
    return f"/console/stores/{quote(store_hash)}"


__all__ = ["JOBS", "ConsoleApp", "LoadVerifier"]
