"""template.yaml expanded by the SAM translator, and the account, region and stack it is deployed as.

The translator pins pydantic below the app's, so the expansion runs in the aws-sam-cli venv
(`expand_template.py`) and is cached in build/ until template.yaml changes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
EXPANDED = REPO / "build" / "expanded-template.json"
SAM_PYTHON = REPO / ".venv-sam" / "bin" / "python"
LOCAL_ARTIFACTS_BUCKET = "bcsync-local-artifacts"  # expand_template.py points CodeUri here
REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "bcsync-local"
PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": STACK, "AWS::Partition": "aws",
          "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}  # fmt: skip


def expanded_template(*, template: Path = TEMPLATE, target: Path = EXPANDED) -> dict[str, Any]:
    """template.yaml through the SAM translator (run by the aws-sam-cli venv), cached in build/."""
    if not target.exists() or target.stat().st_mtime < template.stat().st_mtime:
        if not SAM_PYTHON.exists():
            raise RuntimeError(
                "the SAM translator is not installed: run `make .venv-sam/.installed` (part of make test)"
            )
        subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [str(SAM_PYTHON), str(Path(__file__).with_name("expand_template.py")), str(template), str(target)],
            check=True,
        )
    loaded = json.loads(target.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded
