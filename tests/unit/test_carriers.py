"""The warehouse's carrier names → BigCommerce's tracking_carrier values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bcsync.store.settings import StoreSettings
from bigcommerce_client.carriers import map_carrier, valid_carrier


@pytest.mark.parametrize(
    ("name", "value"),
    [("UPS", "ups"), ("ups", "ups"), ("FedEx", "fedex"), ("USPS", "usps"), ("DHL Express", "dhl"),
     ("Canada Post", "canada-post"), (" fedex-freight ", "fedex-freight")],
)  # fmt: skip
def test_a_known_carrier_name_or_value_maps_to_bigcommerces_value(name: str, value: str) -> None:
    assert map_carrier(name, {}) == value


def test_the_stores_map_comes_first_and_an_unknown_name_maps_to_none() -> None:
    assert map_carrier("UPS Ground (3PL code U1)", {"ups ground (3pl code u1)": "ups"}) == "ups"
    assert map_carrier("Acme Freight", {}) is None
    assert map_carrier("", {}) is None


def test_a_store_cannot_map_to_a_value_bigcommerce_would_refuse() -> None:
    assert valid_carrier("ups") and not valid_carrier("UPS Ground")
    with pytest.raises(ValidationError, match="not BigCommerce tracking_carrier values: ups-ground"):
        StoreSettings(store_hash="abc123", carrier_map={"UPS Ground": "ups-ground"})
