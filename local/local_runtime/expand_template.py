"""Expand template.yaml with the SAM translator into plain CloudFormation JSON.

Run by the aws-sam-cli venv's python (the translator pins pydantic below the app's), so it
imports nothing of bcsync: `python expand_template.py template.yaml out.json`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

REGION = "us-east-1"
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "bcsync-local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


LOCAL_ARTIFACTS = "s3://bcsync-local-artifacts/"


def point_code_at_local_paths(template: dict[str, object]) -> None:
    """The translator wants S3 URIs where `sam package` would put them; the key keeps the local path."""
    resources = template.get("Resources", {})
    assert isinstance(resources, dict)
    for resource in resources.values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            value = properties.get(key)
            if isinstance(value, str) and not value.startswith("s3://"):
                properties[key] = LOCAL_ARTIFACTS + value.strip("/")


def main(argv: list[str]) -> int:
    source, target = Path(argv[1]), Path(argv[2])
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    template = yaml_parse(source.read_text(encoding="utf-8"))
    point_code_at_local_paths(template)
    expanded = Translator({}, Parser()).translate(template, parameter_values=dict(PSEUDO_PARAMETERS))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(expanded, indent=1, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
