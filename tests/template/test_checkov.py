"""checkov on template.yaml: no failed check; every skip is inline, on its resource, with its reason.

checkov lives in its own virtual environment (``.venv-checkov``, made by ``scripts/bootstrap.sh``
from ``scripts/checkov-requirements.txt``). Missing, the test fails in CI (``CI=true``) and is
skipped elsewhere. It runs offline (``--skip-download``) in about 5 seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
REQUIREMENTS = ROOT / "scripts" / "checkov-requirements.txt"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@pytest.fixture(scope="module")
def checkov() -> dict[str, Any]:
    if not CHECKOV.exists():
        message = f"{CHECKOV.relative_to(ROOT)} missing: run scripts/test (or source scripts/bootstrap.sh; ensure_checkov_venv)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [str(CHECKOV), "-f", str(TEMPLATE), "--framework", "cloudformation", "--skip-download", "--compact", "-o", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    if isinstance(report, list):  # one entry per framework when there are several
        [report] = [r for r in report if r.get("check_type") == "cloudformation"]
    report["returncode"] = result.returncode
    return report


def test_checkov_passes(checkov: dict[str, Any]) -> None:
    summary = checkov["summary"]
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']} ({c.get('guideline') or 'no guideline'})"
        for c in checkov["results"]["failed_checks"]
    ]
    assert not failed and checkov["returncode"] == 0, "checkov failed:\n" + "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 20 and summary["passed"] >= 30, summary  # it really looked
    pinned = re.search(r"^checkov==(\S+)", REQUIREMENTS.read_text(encoding="utf-8"), re.M)
    assert pinned and summary["checkov_version"] == pinned.group(1), "stale .venv-checkov: rerun scripts/test"


def _template_skips() -> dict[tuple[str, str], str]:
    skips = {}
    for logical_id, resource in load_template()["Resources"].items():
        for skip in (resource.get("Metadata") or {}).get("checkov", {}).get("skip", []):
            skips[(logical_id, skip["id"])] = skip.get("comment", "")
    return skips


def test_every_skip_is_justified_and_used(checkov: dict[str, Any]) -> None:
    skips = _template_skips()
    for (logical_id, check_id), comment in skips.items():
        assert re.fullmatch(r"CKV_AWS_\d+", check_id), (logical_id, check_id)
        assert len(comment.split()) >= 12, f"{logical_id} {check_id}: say why it is skipped"
    skipped = {(c["resource"].split(".", 1)[1], c["check_id"]) for c in checkov["results"]["skipped_checks"]}
    assert skipped == set(skips), "a skip in template.yaml that checkov does not apply (wrong id or resource)"


def test_skips_are_the_reviewed_ones() -> None:
    """Adding a skip is a decision: it is reviewed here, with the template comment that justifies it."""
    assert sorted(_template_skips()) == sorted(
        [
            # No VPC: only AWS APIs, in several regions (comment on each function).
            ("RegisterTaskDefinitionFunction", "CKV_AWS_117"),
            ("RunTaskFunction", "CKV_AWS_117"),
            ("SweepFunction", "CKV_AWS_117"),
            ("TaskStoppedFunction", "CKV_AWS_117"),
            # Environment holds no secret; Lambda's AWS managed key encrypts it at rest.
            ("RegisterTaskDefinitionFunction", "CKV_AWS_173"),
            ("RunTaskFunction", "CKV_AWS_173"),
            ("SweepFunction", "CKV_AWS_173"),
            ("TaskStoppedFunction", "CKV_AWS_173"),
            # SSE-SQS, which the check does not recognise.
            ("DeadLetterQueue", "CKV_AWS_27"),
            # No secret in the table: AWS managed key; PITR on by default behind a condition.
            ("IdempotencyTable", "CKV_AWS_119"),
            ("IdempotencyTable", "CKV_AWS_28"),
        ]
    )
