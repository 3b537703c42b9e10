"""What the command line prints for people: ``ecsguard scan`` findings and ``ecsguard deliver`` results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from ..model import Finding


def print_findings(findings: Sequence[Finding], out: TextIO) -> None:
    for finding in findings:
        where = "  ".join(
            part for part in (finding.container and f"container={finding.container}", finding.field) if part
        )
        print(f"{finding.target}: {finding.severity.upper()} {finding.check}  {where}", file=out)
        print(f"    {finding.message}", file=out)
        if finding.evidence and finding.evidence not in finding.message:
            print(f"    evidence (redacted): {finding.evidence}", file=out)
        print(f"    fix: {finding.remediation}", file=out)


def print_delivery(route: Any, result: Mapping[str, Any], out: TextIO) -> None:
    """One matched rule and the handler's summary (``Report.summary()``: never a value)."""
    print(f"Matched rule {route.function}/{route.rule} -> {route.code_uri}{route.handler}", file=out)
    if result.get("status") != "checked":
        print(f"  {result.get('status')}: {result.get('reason', '')}", file=out)
        return
    print(f"  Task definition: {result['taskDefinition']}", file=out)
    findings = result.get("findings", [])
    print(
        f"  Findings: {len(findings)}"
        + (f" (exempted by tag: {', '.join(result['exempted'])})" if result.get("exempted") else ""),
        file=out,
    )
    for f in findings:
        where = " ".join(p for p in (f.get("container"), f.get("field")) if p)
        print(f"    {f['severity'].upper():8} {f['check']:24} {where}  [mode {f.get('mode')}]", file=out)
    print(f"  Actions: {len(result.get('actions', []))}", file=out)
    for a in result.get("actions", []):
        print(f"    {'ok' if a['ok'] else 'FAILED'}: {a['detail']}", file=out)
    print(f"  SNS message id: {result.get('messageId') or '(none: nothing to report)'}", file=out)
