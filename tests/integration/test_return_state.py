"""The returns flow's records against moto: the order's lease, its ledger, the store's totals."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bcsync.returns.state import ReturnLog, ReturnState
from tests.aws import create_table

REGION = "us-east-1"


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    """One moto table for the module (each test a store of its own): setting moto up is most of the cost."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        yield create_table(boto3.resource("dynamodb", region_name=REGION), "StateTable", "state")


@pytest.fixture
def log(table: Any, request: pytest.FixtureRequest) -> ReturnLog:
    return ReturnLog(table, f"s{zlib.crc32(request.node.name.encode()) % 10**5:05d}")


def test_one_return_of_an_order_at_a_time_until_its_lease_lapses(log: ReturnLog) -> None:
    assert log.claim(7, "R1", now=1000, seconds=150)
    assert log.claim(7, "R1", now=1001, seconds=150)  # its own redelivery takes it again
    assert not log.claim(7, "R2", now=1100, seconds=150)  # another return of the order waits
    assert log.claim(8, "R2", now=1100, seconds=150)  # another order does not
    assert log.claim(7, "R2", now=1152, seconds=150)  # a lease a cut invocation left lapses
    log.release(7, "R1")  # not R1's any more: left as it is
    assert not log.claim(7, "R3", now=1160, seconds=150)
    log.release(7, "R2")
    assert log.claim(7, "R3", now=1160, seconds=150)


def test_the_ledger_counts_each_return_once_and_the_limit_sees_intents(log: ReturnLog) -> None:
    log.record_return(7, "R1", {1: 1})
    log.record_return(7, "R1", {1: 1})  # written twice: counted once
    log.record_return(7, "R2", {1: 1, 2: 1})
    log.record_refund(7, "R1", Decimal("19.99"))  # an intent before the POST already counts
    log.record_refund(7, "R2", Decimal("5.00"))
    log.forget_refund(7, "R2")  # BigCommerce refused it: no money moved
    ledger = log.order(7)
    assert ledger.returned_besides("R3") == {1: 2, 2: 1} and ledger.returned_besides("R2") == {1: 1}
    assert ledger.refunded_besides("R3") == Decimal("19.99") and ledger.refunded_besides("R1") == 0


def test_the_store_totals_count_a_return_and_its_refund_once(log: ReturnLog) -> None:
    for _ in range(2):  # a redelivery after a crash writes both again
        log.noted("R1", 7)
        log.done(ReturnState("R1", 7, "done", refund_id=55, refund_amount=Decimal("19.99")))
    log.noted("R2", 8)
    log.done(ReturnState("R2", 8, "done", no_refund="refunds are off for this store"))
    assert log.totals() == (2, 1, Decimal("19.99"))
    assert log.get("R1") == ReturnState("R1", 7, "done", refund_id=55, refund_amount=Decimal("19.99"))
