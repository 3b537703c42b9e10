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


# ``ecsguard sweep``: the table of what a sweep found. A renderer never imports a flow, so this reads any
# objects with the attributes of flows.sweep.SweptDefinition / SweepResult (``definitions``, ``calls``, ...).

_SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
LISTED_CHANGES = 20  # new / resolved pairs listed by name; the rest are counted


def _rank(severity: str) -> int:
    return _SEVERITY_ORDER.index(severity) if severity in _SEVERITY_ORDER else len(_SEVERITY_ORDER)


def worst_severity(findings: Sequence[Finding]) -> str | None:
    """The most severe of ``findings`` (critical first), None when there are none."""
    return min((f.severity for f in findings), key=_rank, default=None)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join(cells).rstrip(), file=out)


def print_sweep(result: Any, out: TextIO, *, state_table: str | None = None) -> None:
    """Per definition with findings its worst severity and checks (worst first), then totals per check,
    then the definitions that could not be read. Never a message text: no value can show here."""
    definitions = list(result.definitions)
    readable = [d for d in definitions if d.error is None]
    unreadable = [d for d in definitions if d.error is not None]
    cached = sum(1 for d in readable if d.cached)
    with_findings = sorted(
        (d for d in readable if d.findings),
        key=lambda d: (_rank(worst_severity(d.findings) or "info"), d.family, d.revision),
    )
    print(
        f"Swept {len(definitions)} task definition{'s' if len(definitions) != 1 else ''} in {result.region}"
        f" ({len(readable) - cached} described, {cached} from the cache"
        + (f", {len(unreadable)} could not be read" if unreadable else "")
        + ")",
        file=out,
    )
    if with_findings:
        print(file=out)
        rows = []
        for d in with_findings:
            worst_of: dict[str, str] = {}
            for f in d.findings:
                worst_of[f.check] = min(worst_of.get(f.check, f.severity), f.severity, key=_rank)
            checks = sorted(worst_of, key=lambda c: (_rank(worst_of[c]), c))
            rows.append(
                (
                    f"{d.family}:{d.revision}",
                    (worst_severity(d.findings) or "").upper(),
                    str(len(d.findings)),
                    ", ".join(checks),
                )
            )
        _table(("DEFINITION", "WORST", "FINDINGS", "CHECKS"), rows, out)
    clean = len(readable) - len(with_findings)
    print(file=out)
    print(f"{clean} definition{'s' if clean != 1 else ''} without findings.", file=out)

    per_check: dict[str, tuple[str, int, set[str]]] = {}
    for d in readable:
        for f in d.findings:
            severity, count, arns = per_check.get(f.check, (f.severity, 0, set()))
            worst = min(severity, f.severity, key=_rank)
            per_check[f.check] = (worst, count + 1, arns | {d.arn})
    if per_check:
        print(file=out)
        rows = [
            (check, severity, str(count), str(len(arns)))
            for check, (severity, count, arns) in sorted(per_check.items(), key=lambda kv: (_rank(kv[1][0]), kv[0]))
        ]
        _table(("CHECK", "SEVERITY", "FINDINGS", "DEFINITIONS"), rows, out)
        total = sum(count for _, count, _ in per_check.values())
        print(
            f"{total} finding{'s' if total != 1 else ''} in {len(with_findings)} definition"
            f"{'s' if len(with_findings) != 1 else ''}; --format json for the messages and fixes.",
            file=out,
        )
    exempted = sum(len(d.exempted) for d in readable)
    if exempted:
        print(f"{exempted} finding{'s' if exempted != 1 else ''} exempted by the ecsguard:ignore tag.", file=out)

    if unreadable:
        print(file=out)
        print("Could not be read (not checked):", file=out)
        for d in sorted(unreadable, key=lambda d: d.arn):
            print(f"  {d.arn}: {d.error}", file=out)

    if state_table:
        print(file=out)
        print(
            f"Since the last sweep (state table {state_table}): {len(result.new)} new, "
            f"{len(result.resolved)} resolved.",
            file=out,
        )
        for label, pairs in (("new", result.new), ("resolved", result.resolved)):
            listed = sorted(pairs)
            for arn, check_id in listed[:LISTED_CHANGES]:
                print(f"  {label}: {check_id} on {arn}", file=out)
            if len(listed) > LISTED_CHANGES:
                print(
                    f"  ... and {len(listed) - LISTED_CHANGES} more {label}",
                    file=out,
                )
    if result.calls:
        calls = ", ".join(f"{name} {count}" for name, count in sorted(result.calls.items()))
        print(f"AWS calls: {calls}", file=out)
