"""bcsync ships a copy of BigCommerce's tracking_carrier list: it must be BigCommerce's, byte for byte."""

from __future__ import annotations

from bigcommerce_client.carriers import CARRIER_CSV
from bigcommerce_sandbox.contract import specs_dir


def test_the_carrier_list_in_the_layer_is_bigcommerces() -> None:
    official = specs_dir() / "assets" / "csv" / "tracking_carrier_values.csv"
    assert CARRIER_CSV.read_bytes() == official.read_bytes()
