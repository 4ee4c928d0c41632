"""AWS resources for adapter tests, created in moto from template.yaml's own definitions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from bcsync.backbone.consumer import REASON_ATTRIBUTE

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt ...) as their long form."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template() -> dict[str, Any]:
    with TEMPLATE.open(encoding="utf-8") as handle:
        loaded = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    assert isinstance(loaded, dict)
    return loaded


def create_table(dynamodb: Any, logical_id: str, name: str) -> Any:
    properties = load_template()["Resources"][logical_id]["Properties"]
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=properties["AttributeDefinitions"],
        KeySchema=properties["KeySchema"],
        BillingMode=properties["BillingMode"],
    )
    return dynamodb.Table(name) if hasattr(dynamodb, "Table") else None


def drain(stack: Any, logical: str) -> list[dict[str, Any]]:
    """Every message body on a queue of the local stack (JSON), deleting them as it goes."""
    return [json.loads(message["Body"]) for message in stack.take_messages(logical)]


def reason_of(message: dict[str, Any], default: str | None = None) -> str:
    """Why bcsync dead-lettered a message. Without `default`, a message with no reason fails the test:
    only SQS's own redrive (maxReceiveCount) moves one without it."""
    if default is not None and REASON_ATTRIBUTE not in message.get("MessageAttributes", {}):
        return default
    return str(message["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"])
