"""The `FulfillmentRequestsInbound` queue: each request becomes exactly one BigCommerce order, or a refusal.

Everything that can refuse a request is checked before the first write to BigCommerce: the store's role,
the message, each SKU (the catalog index, else the store's variants), the customer. Then the intent is
recorded, the store is searched for an order carrying the request id (`external_order_id`), and only if
there is none is the order created. A create whose answer was lost leaves the intent, so the redelivery
finds the order instead of making a second one. A request id reused with other content is refused and the
order it already made is left as it is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from bcsync.backbone import cutpoints
from bcsync.backbone.consumer import InboundConsumer, dead_letter_never_valid
from bcsync.catalog.state import CatalogState
from bcsync.errors import BcsyncError, NeverValid
from bcsync.fulfilment.decide import FulfilmentRecord, decide, resolve
from bcsync.fulfilment.mapping import Variant, content_hash, new_customer, order_body
from bcsync.fulfilment.request import (
    FULFILLMENT_REQUEST,
    FulfillmentRequest,
    RefusalCode,
    RequestAccepted,
    RequestHeader,
    RequestRefused,
)
from bcsync.fulfilment.state import REQUEST_RECORD_DAYS, FulfilmentState
from bcsync.orders.decide import OrderRules
from bcsync.warehouse.events import EventPublisher, OutboundEvent
from bigcommerce_client import (
    BigCommerceClient,
    MissingScopeError,
    RequestRejectedError,
    UnprocessableError,
)
from bigcommerce_client.customers import create_customer, find_customer
from bigcommerce_client.orders_write import create_order, find_orders_by_external_id
from bigcommerce_client.variants import variants_by_sku

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from mypy_boto3_dynamodb.service_resource import Table

    from bcsync.store.settings import StoreSettings

logger = logging.getLogger("bcsync.fulfilment.consumer")

# Where the local runtime can cut an invocation (bcsync.backbone.cutpoints): the intent is recorded and
# nothing is sent yet; BigCommerce has the order and the record still says creating.
BEFORE_ORDER_CREATE = "before-order-create"
AFTER_ORDER_CREATE = "after-order-create"
MAX_DELAY_SECONDS = 900  # SQS's longest delay: a longer hold comes back and waits again


def fulfilment_key(store_hash: str, request_id: str, outcome: str) -> str:
    """`fulfilment:{store}:{request id}:accepted`, or `...:refused-{content hash}`: one answer per order,
    one per refused content."""
    return f"fulfilment:{store_hash}:{request_id}:{outcome}"


class Refused(NeverValid):
    """The request cannot be made into an order as it is: the warehouse is told why, and it goes to the DLQ."""

    def __init__(self, reason: str, *, code: RefusalCode, skus: tuple[str, ...] = (), left: str = "") -> None:
        super().__init__(reason + (f" ({left})" if left else ""))
        self.reason = reason
        self.code = code
        self.skus = skus
        self.left = left


class RequestBusyError(BcsyncError):
    """Another delivery of the same request recorded its intent a moment ago: retried, never doubled."""


def parse_request(body: str) -> tuple[RequestHeader, FulfillmentRequest | Refused]:
    """The request, or - when its store and id can be read - why it is refused. NeverValid when not even those."""
    try:
        header = RequestHeader.model_validate_json(body)
    except ValidationError:
        raise NeverValid("not a fulfillment request (it needs type, store_hash and request_id)") from None
    try:
        return header, FULFILLMENT_REQUEST.validate_json(body)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, issue['loc'])) or 'body'}: {issue['msg']}" for issue in error.errors()
        )
        return header, Refused(f"invalid request: {problems}", code="invalid")


@dataclass(kw_only=True)
class FulfilmentConsumer(InboundConsumer):
    table: Table
    publisher: EventPublisher
    retention_days: int = REQUEST_RECORD_DAYS

    batch_figures: ClassVar[tuple[str, ...]] = ("orders_created",)

    def __post_init__(self) -> None:
        super().__post_init__()
        # One delivery of a request's content at a time: a duplicate arriving meanwhile is retried, not run
        # beside it (two lookups finding nothing would make two orders). The content hash is in the key, so
        # a reused id with other content is not taken for a duplicate: it is refused below.
        self._fulfil_once = self.once(
            self._fulfil, data="request", key="[store_hash, request_id, content_hash]", days=REQUEST_RECORD_DAYS
        )

    # --- one record ------------------------------------------------------------------------------------

    def process(self, record: SQSRecord) -> None:
        header, parsed = parse_request(record.body)
        settings, client = self.open_store(header.store_hash)
        try:
            if isinstance(parsed, Refused):
                raise parsed
            if not settings.is_source:
                raise Refused(
                    f"store {settings.store_hash} is not a source (its role is {settings.role}): set its role to "
                    f"source or both (`bcsync stores configure {settings.store_hash} --set role=source`) and redrive",
                    code="not_a_source",
                )
            request, digest = parsed, content_hash(parsed)
            state = FulfilmentState(self.table, settings.store_hash, retention_days=self.retention_days)
            fulfil = Fulfilment(settings, client, state, self.table)
            existing = fulfil.state.get(request.request_id)
            if existing is not None and existing.content_hash != digest:
                raise _reused(request.request_id, existing)
            if existing is None and self._hold(record, request, settings):
                return
            result = self._fulfil_once(
                request={"store_hash": settings.store_hash, "request_id": request.request_id,
                         "content_hash": digest, "body": request.model_dump(mode="json")},
                fulfil=fulfil,
            )  # fmt: skip
            if result.get("duplicate"):
                self.count("duplicates_suppressed")
            self._answer(settings.store_hash, request.request_id, int(result["order_id"]), result)
        except MissingScopeError as error:
            # A source store's API account needs Customers (and Orders modify): no retry grants it.
            self.count("requests_refused")
            reason = f"{error}; then redrive the request"
            self._refuse(header, Refused(reason, code="bigcommerce_refused"), record)
        except Refused as refused:
            self.count("requests_refused")
            self._refuse(header, refused, record)

    @staticmethod
    def _fulfil(request: dict[str, Any], fulfil: Fulfilment) -> dict[str, Any]:
        return fulfil.run(FulfillmentRequest.model_validate(request["body"]), str(request["content_hash"]))

    def _hold(self, record: SQSRecord, request: FulfillmentRequest, settings: StoreSettings) -> bool:
        """Order import's hold and business hours, counted from when the request was made: a request not due
        yet goes back on the queue until it is (SQS delays by 15 minutes at most: it waits again)."""
        rules = OrderRules.of(settings)
        if not rules.holds():
            return False
        now = datetime.fromtimestamp(self.clock.now(), tz=UTC)
        requested = request.requested_at or now  # not dated: from its first receipt here
        due = rules.release_at(requested, now)
        if due <= now:
            return False
        body = json.loads(record.body)
        body.setdefault("requested_at", requested.isoformat())  # the hold keeps counting from the first receipt
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(body),
            DelaySeconds=min(max(int((due - now).total_seconds()), 1), MAX_DELAY_SECONDS),
        )
        self.count("requests_held")
        return True

    def _answer(self, store_hash: str, request_id: str, order_id: int, result: dict[str, Any]) -> None:
        if result.get("created") and not result.get("duplicate"):  # a stored result is not a second order
            self.count("orders_created")
        self.publisher.publish(
            [
                OutboundEvent(
                    detail_type="Fulfillment Request Accepted",
                    store_hash=store_hash,
                    idempotency_key=fulfilment_key(store_hash, request_id, "accepted"),
                    data=RequestAccepted(
                        request_id=request_id,
                        order_id=order_id,
                        status_id=int(result.get("status_id", 0)),
                        customer_id=int(result.get("customer_id", 0)),
                    ).model_dump(mode="json"),
                    occurred_at=datetime.fromtimestamp(self.clock.now(), tz=UTC),
                )
            ]
        )

    def _refuse(self, header: RequestHeader, refused: Refused, record: SQSRecord) -> None:
        """The refusal on the bus (for the warehouse) and in the DLQ (for the operator), with one reason."""
        digest = _hash_of(record.body)
        self.publisher.publish(
            [
                OutboundEvent(
                    detail_type="Fulfillment Request Refused",
                    store_hash=header.store_hash,
                    idempotency_key=fulfilment_key(header.store_hash, header.request_id, f"refused-{digest}"),
                    data=RequestRefused(
                        request_id=header.request_id,
                        code=refused.code,
                        reason=refused.reason,
                        skus=list(refused.skus),
                        left_in_bigcommerce=refused.left or None,
                    ).model_dump(mode="json"),
                    occurred_at=datetime.fromtimestamp(self.clock.now(), tz=UTC),
                )
            ]
        )
        dead_letter_never_valid(self.sqs, self.dlq_url, record, refused)


def _hash_of(body: str) -> str:
    try:
        return content_hash(FULFILLMENT_REQUEST.validate_json(body))[:16]
    except ValidationError:
        import hashlib

        return hashlib.sha256(body.encode()).hexdigest()[:16]


def _reused(request_id: str, existing: FulfilmentRecord) -> Refused:
    made = f"order {existing.order_id}" if existing.order_id else "an order being created"
    return Refused(
        f"request id {request_id} was used before for other content ({made}); a new request needs a new id, "
        "and the existing order was left as it is",
        code="request_id_reused",
    )


@dataclass
class Fulfilment:
    """One request's way to its order, under Powertools idempotency (one delivery of it at a time)."""

    settings: StoreSettings
    client: BigCommerceClient
    state: FulfilmentState
    table: Table

    def run(self, request: FulfillmentRequest, digest: str) -> dict[str, Any]:
        record = self.state.get(request.request_id)
        decision = decide(record, digest)
        if decision == "reused":
            assert record is not None
            raise _reused(request.request_id, record)
        if decision == "answer":
            assert record is not None
            return {"order_id": record.order_id, "customer_id": record.customer_id}
        # Every check that can refuse is made before anything is written, here or in BigCommerce.
        variants = self._variants(request)
        customer_id = record.customer_id if record else 0
        if not customer_id:
            customer_id = self._existing_customer(request)
        if record is None and not self.state.intend(request.request_id, digest):
            raise RequestBusyError(f"request {request.request_id}: recorded by another delivery just now; retried")
        cutpoints.reached(BEFORE_ORDER_CREATE)
        # The lookup before any create: a create whose answer was lost is found here, not made again.
        found = find_orders_by_external_id(self.client, request.request_id)
        if found:
            self.state.created(request.request_id, found[0].id)
            return {"order_id": found[0].id, "customer_id": customer_id, "status_id": found[0].status_id}
        made_customer = ""
        if customer_id == 0 and request.customer_policy == "create_if_missing":
            customer_id = self._create_customer(request)
            made_customer = f"customer {customer_id} ({request.email}) was created and is left in BigCommerce"
        body = order_body(request, variants, customer_id=customer_id, status_id=self.settings.fulfilment_status_id)
        try:
            order = create_order(self.client, body)
        except (UnprocessableError, RequestRejectedError) as error:
            # No order exists: the intent goes, so a corrected request or a redrive may try again.
            self.state.forget(request.request_id)
            reason = f"BigCommerce refused the order: {error}"
            raise Refused(reason, code="bigcommerce_refused", left=made_customer) from None
        cutpoints.reached(AFTER_ORDER_CREATE)
        self.state.created(request.request_id, order.id)
        return {"order_id": order.id, "customer_id": customer_id, "status_id": order.status_id, "created": True}

    def _variants(self, request: FulfillmentRequest) -> dict[str, Variant]:
        skus = [line.sku for line in request.lines]
        owners = CatalogState(self.table, self.settings.store_hash).sku_owners(set(skus))
        indexed = {sku: Variant(product_id, variant_id) for sku, (product_id, variant_id) in owners.items()}
        looked_up = {
            sku: [Variant(found.product_id, found.id) for found in variants_by_sku(self.client, sku)]
            for sku in dict.fromkeys(skus)
            if sku not in indexed
        }
        resolution = resolve(skus, indexed, looked_up)
        reason = resolution.refusal()
        if reason:
            code: RefusalCode = "unknown_sku" if resolution.unknown else "ambiguous_sku"
            raise Refused(reason, code=code, skus=resolution.unknown + resolution.ambiguous)
        return resolution.variants

    def _existing_customer(self, request: FulfillmentRequest) -> int:
        if request.customer_policy == "guest":
            return 0
        customer = find_customer(self.client, request.email)
        if customer is not None:
            return customer.id
        if request.customer_policy == "must_exist":
            raise Refused(
                f"no customer with e-mail {request.email} in store {self.settings.store_hash}, and the request "
                "says the customer must exist: create the customer in BigCommerce, or send it as a guest",
                code="customer_missing",
            )
        return 0  # create_if_missing: made after the intent, just before the order

    def _create_customer(self, request: FulfillmentRequest) -> int:
        try:
            customer = create_customer(self.client, new_customer(request))
        except UnprocessableError:
            # Created by an earlier delivery whose answer was lost (an e-mail is unique per store): find it.
            again = find_customer(self.client, request.email)
            if again is None:
                raise
            customer = again
        self.state.customer_created(request.request_id, customer.id)
        return customer.id
