"""Rules the template must keep that no emulator checks: what a deploy to a real account would accept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.unit.test_inbound_and_settings import API_URLS

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags read as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


@pytest.mark.parametrize(("url", "allowed"), API_URLS)
def test_the_api_url_parameter_takes_what_the_functions_take(url: str, allowed: bool) -> None:
    parameter = yaml.load(TEMPLATE.read_text(), Loader=_Loader)["Parameters"]["BigCommerceApiUrl"]  # noqa: S506
    assert bool(re.fullmatch(parameter["AllowedPattern"], url)) is allowed
