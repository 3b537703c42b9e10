"""Turn a packaged SAM template into plain CloudFormation, offline, for StackSets.

StackSets cannot run the SAM transform. After `sam build && sam package --output-template-file
packaged.yaml --resolve-s3` (code and layer uploaded, their locations now S3 URIs), run with the
SAM CLI's Python, which has aws-sam-translator:

    .venv-sam/bin/python scripts/to_cloudformation.py packaged.yaml > ecsguard-stackset.json

and create the StackSet from the output (capabilities CAPABILITY_IAM). No AWS call is made: the
template uses no AWS managed policies, so none has to be looked up.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def to_cloudformation(template: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    # The translator asks boto3 for a region to fill its pseudo parameters (no call is made); the
    # output keeps ${AWS::Region} references, so one template serves every region of the StackSet.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(template, {}, NoManagedPolicies())


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "ecsguard"))
    from ecsguard.rules import load_yaml

    template = load_yaml(Path(argv[1]).read_text(encoding="utf-8"))
    json.dump(to_cloudformation(template), sys.stdout, indent=2, default=str)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
