"""``ecsguard checks``: the check catalogue, with severity, default mode and (as JSON) rationale and fix."""

from __future__ import annotations

import argparse
import json
import sys

from ..checks import load_all


def cmd_checks(args: argparse.Namespace) -> int:
    checks = load_all()
    if args.format == "json":
        json.dump(
            [
                {
                    "id": c.id,
                    "title": c.title,
                    "severity": c.severity,
                    "mistake": c.mistake,
                    "defaultMode": c.default_mode,
                    "needsAws": c.needs_facts,
                    "scope": c.scope,
                    "remediable": c.remediable,
                    "rationale": c.rationale,
                    "remediation": c.remediation,
                    "docs": c.docs,
                    "configRules": list(c.config_rules),
                    "securityHub": list(c.security_hub),
                    "controlTower": list(c.control_tower),
                    "prowler": list(c.prowler),
                    "awsCalls": list(c.aws_calls),
                }
                for c in checks.values()
            ],
            sys.stdout,
            indent=2,
        )
        print()
        return 0
    width = max(len(c.id) for c in checks.values())
    where = {"definition": "", "launch": "(launches) ", "stopped": "(stopped tasks) "}
    for c in checks.values():
        print(
            f"{c.id:{width}} {c.severity:8} default {c.default_mode:9} "
            f"{where.get(c.scope, '')}{'(needs AWS) ' if c.needs_facts else ''}{c.title}"
        )
    return 0
