"""SARIF 2.1.0 for ``ecsguard scan --format sarif`` (GitHub code scanning and other SARIF viewers).

Task-definition files carry no positions for their fields, so each result points at the first line
of the file that names the field (the variable or option name, in quotes), after the line that
names its container when there is one; line 1 when nothing matches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..checks import Check
from ..model import Finding

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def _rule(check: Check) -> dict[str, Any]:
    return {
        "id": check.id,
        "name": "".join(part.capitalize() for part in check.id.split("-")),
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": check.rationale},
        "help": {
            "text": f"{check.remediation} {check.docs}",
            "markdown": f"{check.remediation}\n\n[Documentation]({check.docs})",
        },
        "helpUri": check.docs,
        "defaultConfiguration": {"level": LEVELS[check.severity]},
        "properties": {"security-severity": SECURITY_SEVERITY[check.severity], "tags": ["security", "ecs"]},
    }


def _line(lines: Sequence[str], finding: Finding) -> int:
    """1-based line of the field's name (after its container's name), else 1."""
    start = 0
    if finding.container:
        needle = json.dumps(finding.container)
        start = next((i for i, text in enumerate(lines) if needle in text), 0)
    token = None
    if finding.field:
        last = finding.field.split(".", 1)[1] if "." in finding.field else finding.field
        token = json.dumps(last.split(".")[-1].split("[")[0]) if last else None
    if token:
        for i in range(start, len(lines)):
            if token in lines[i]:
                return i + 1
    return start + 1


def render(findings: Sequence[Finding], checks: Mapping[str, Check], texts: Mapping[str, str]) -> dict[str, Any]:
    """The SARIF log; ``texts`` maps each scanned path to its text (for line numbers)."""
    used = sorted({f.check for f in findings})
    rule_index = {check_id: i for i, check_id in enumerate(used)}
    results = []
    for finding in findings:
        lines = texts.get(finding.target, "").splitlines()
        results.append(
            {
                "ruleId": finding.check,
                "ruleIndex": rule_index[finding.check],
                "level": LEVELS.get(finding.severity, "warning"),
                "message": {"text": f"{finding.message} Fix: {finding.remediation}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": Path(finding.target).as_posix()},
                            "region": {"startLine": _line(lines, finding)},
                        },
                        "logicalLocations": [
                            {
                                "name": finding.field or "",
                                "fullyQualifiedName": f"{finding.container or ''}/{finding.field or ''}",
                            }
                        ],
                    }
                ],
                **({"partialFingerprints": {"ecsguardValue/v1": finding.fingerprint}} if finding.fingerprint else {}),
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ecsguard",
                        "version": __version__,
                        "informationUri": "https://github.com/ecsguard/ecsguard",
                        "rules": [_rule(checks[check_id]) for check_id in used],
                    }
                },
                "results": results,
            }
        ],
    }
