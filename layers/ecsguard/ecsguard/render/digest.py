"""The sweep's digest: one SNS message per run, not one per definition.

Counts per check (worst first), what is new and what was resolved since the previous run, the worst
offenders (top 10 by severity, then number of findings), the definitions that could not be read and what
ecsguard did. Built from a sweep summary (``flows.sweep.summarize``: ARNs, check ids, counts and error
codes, never a message or a value), so nothing here can carry a secret. The first run of a region is the
baseline: it says so, and lists nothing as new. Rendering only; ``aws.actions.publish_notification`` sends it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..checks import SEVERITIES, load_all
from .sns import MESSAGE_LIMIT, SUBJECT_LIMIT, Notification, _ascii, message_body

__all__ = ["Digest", "Notification", "message_body", "render", "subject"]

LIST_LIMIT = 50  # lines per list in the text; the JSON document carries up to JSON_LIST_LIMIT
JSON_LIST_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Digest:
    account: str
    region: str
    run: str
    baseline: bool  # the first run of this region: everything is the baseline, nothing is "new"
    definitions: int
    cached: int
    with_findings: int
    findings: int
    exempted: int
    per_check: Mapping[str, Mapping[str, Any]]  # check -> {severity, definitions, findings}
    offenders: Sequence[Mapping[str, Any]]  # {arn, severity, findings, checks}
    unreadable: Sequence[Sequence[str]]  # [arn, error code]
    new: Sequence[Sequence[str]]  # [arn, check]
    resolved: Sequence[Sequence[str]]
    actions: Sequence[Mapping[str, Any]] = ()
    calls: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any], *, account: str, region: str, run: str, baseline: bool) -> Digest:
        return cls(
            account=account,
            region=region,
            run=run,
            baseline=baseline,
            definitions=int(summary.get("definitions", 0)),
            cached=int(summary.get("cached", 0)),
            with_findings=int(summary.get("withFindings", 0)),
            findings=int(summary.get("findings", 0)),
            exempted=int(summary.get("exempted", 0)),
            per_check=dict(summary.get("perCheck", {})),
            offenders=list(summary.get("offenders", [])),
            unreadable=[list(u) for u in summary.get("unreadable", [])],
            new=[] if baseline else [list(n) for n in summary.get("new", [])],
            resolved=[] if baseline else [list(r) for r in summary.get("resolved", [])],
            actions=list(summary.get("actions", [])),
            calls=dict(summary.get("calls", {})),
        )

    @property
    def severity(self) -> str:
        return min((c["severity"] for c in self.per_check.values()), key=SEVERITIES.index, default="info")

    @property
    def worth_sending(self) -> bool:
        """Anything found, changed, unreadable or done. A clean region where nothing changed sends nothing."""
        return bool(self.findings or self.new or self.resolved or self.unreadable or self.actions)

    @property
    def action(self) -> str:
        if any(not a.get("ok") for a in self.actions):
            return "action-failed"
        if any(a.get("ok") and a.get("changed") for a in self.actions):
            return "remediated"
        return "notified"

    def checks_worst_first(self) -> list[tuple[str, Mapping[str, Any]]]:
        return sorted(
            self.per_check.items(),
            key=lambda item: (SEVERITIES.index(item[1]["severity"]), -item[1]["definitions"], item[0]),
        )


def subject(digest: Digest) -> str:
    """``[ecsguard] HIGH: sweep: 42 of 300 definitions with findings, 3 new (123456789012 us-east-1)``."""
    where = " ".join(part if len(part) <= 20 else part[:17] + "..." for part in (digest.account, digest.region))
    changes = "baseline" if digest.baseline else f"{len(digest.new)} new, {len(digest.resolved)} resolved"
    text = (
        f"[ecsguard] {digest.severity.upper()}: sweep: {digest.with_findings} of {digest.definitions} "
        f"definitions with findings, {changes} ({where})"
    )
    return _ascii(text)[:SUBJECT_LIMIT]


def _pairs(pairs: Sequence[Sequence[str]], limit: int) -> list[str]:
    lines = [f" - {arn}: {check}" for arn, check in pairs[:limit]]
    if len(pairs) > limit:
        lines.append(f" ... and {len(pairs) - limit} more (see the JSON message)")
    return lines


def render(digest: Digest, *, min_severity: str = "medium", list_limit: int = LIST_LIMIT) -> Notification:
    catalogue = load_all()
    lines = [
        f"ecsguard swept {digest.definitions} task definition{'s' if digest.definitions != 1 else ''} in "
        f"{digest.region}: {digest.with_findings} with findings ({digest.findings} in all).",
        "",
        f"Account:     {digest.account}",
        f"Region:      {digest.region}",
        f"Run:         {digest.run}",
        f"Severity:    {digest.severity}",
        f"Action:      {digest.action}",
        f"Read:        {digest.definitions - digest.cached} described, {digest.cached} from the cache, "
        f"{len(digest.unreadable)} could not be read",
        "",
    ]
    if digest.baseline:
        lines += [
            "This is the first sweep of this region: everything below is the baseline; the next digest lists "
            "what is new and what was resolved since this one.",
            "",
        ]
    if digest.per_check:
        lines.append("Findings per check (worst first):")
        for check_id, entry in digest.checks_worst_first():
            check = catalogue.get(check_id)
            title = f" ({check.title})" if check else ""
            lines.append(
                f" - [{entry['severity'].upper()}] {check_id}{title}: {entry['definitions']} definition"
                f"{'s' if entry['definitions'] != 1 else ''}, {entry['findings']} finding"
                f"{'s' if entry['findings'] != 1 else ''}"
            )
        threshold = SEVERITIES.index(min_severity) if min_severity in SEVERITIES else len(SEVERITIES)
        if any(SEVERITIES.index(e["severity"]) > threshold for e in digest.per_check.values()):
            lines.append(f"   (checks below {min_severity} are hardening advice: they never page on their own)")
        lines.append("")
    else:
        lines += ["No findings.", ""]
    if not digest.baseline:
        lines.append(f"New since the last sweep: {len(digest.new) or 'none'}")
        lines += _pairs(digest.new, list_limit)
        lines.append(f"Resolved since the last sweep: {len(digest.resolved) or 'none'}")
        lines += _pairs(digest.resolved, list_limit)
        lines.append("")
    if digest.offenders:
        lines.append(f"Worst offenders (top {len(digest.offenders)}):")
        for number, offender in enumerate(digest.offenders, 1):
            lines.append(
                f" {number}. {offender['arn']}: {offender['severity'].upper()}, {offender['findings']} finding"
                f"{'s' if offender['findings'] != 1 else ''} ({', '.join(offender['checks'])})"
            )
        lines.append("")
    if digest.unreadable:
        lines.append(f"Could not be read ({len(digest.unreadable)}): checked again at the next sweep")
        lines += [f" - {arn}: {error}" for arn, error in digest.unreadable[:list_limit]]
        if len(digest.unreadable) > list_limit:
            lines.append(f" ... and {len(digest.unreadable) - list_limit} more (see the JSON message)")
        lines.append("")
    if digest.actions:
        lines.append("What ecsguard did:")
        lines += [f" - {'' if a.get('ok') else 'FAILED: '}{a.get('detail', '')}" for a in digest.actions[:list_limit]]
        if len(digest.actions) > list_limit:
            lines.append(f" ... and {len(digest.actions) - list_limit} more (see the JSON message)")
    else:
        lines.append(
            "What ecsguard did: nothing changed (a sweep creates missing log groups when log-group-missing is in "
            "remediate; it never deregisters an existing revision: block notifies)."
        )
    lines += [
        "",
        "Each definition's findings: `ecsguard sweep --region " + digest.region + "` (or the Lambda's log). "
        "To exempt a definition from a check, tag it ecsguard:ignore=<check-id>[,<check-id>] (or all).",
    ]
    json_limit = max(list_limit * 20, 1)
    document = {
        "version": "1",
        "source": "ecsguard",
        "kind": "digest",
        "account": digest.account,
        "region": digest.region,
        "run": digest.run,
        "baseline": digest.baseline,
        "severity": digest.severity,
        "action": digest.action,
        "definitions": digest.definitions,
        "cached": digest.cached,
        "withFindings": digest.with_findings,
        "findings": digest.findings,
        "exempted": digest.exempted,
        "checks": [{"check": c, **dict(e)} for c, e in digest.checks_worst_first()],
        "new": [{"taskDefinition": a, "check": c} for a, c in digest.new[:json_limit]],
        "resolved": [{"taskDefinition": a, "check": c} for a, c in digest.resolved[:json_limit]],
        "truncated": {
            "new": max(len(digest.new) - json_limit, 0),
            "resolved": max(len(digest.resolved) - json_limit, 0),
            "unreadable": max(len(digest.unreadable) - json_limit, 0),
            "actions": max(len(digest.actions) - json_limit, 0),
        },
        "offenders": [dict(o) for o in digest.offenders],
        "unreadable": [{"taskDefinition": a, "error": e} for a, e in digest.unreadable[:json_limit]],
        "actions": [dict(a) for a in digest.actions[:json_limit]],
        "calls": dict(digest.calls),
    }
    checks = [c for c, _ in digest.checks_worst_first()]
    attributes = {
        "severity": {"DataType": "String", "StringValue": digest.severity},
        "checks": {"DataType": "String.Array", "StringValue": json.dumps(checks)},
        "account": {"DataType": "String", "StringValue": digest.account},
        "region": {"DataType": "String", "StringValue": digest.region},
        "action": {"DataType": "String", "StringValue": digest.action},
        "kind": {"DataType": "String", "StringValue": "digest"},
    }
    notification = Notification(subject(digest), "\n".join(lines), document, attributes)
    if list_limit > 1 and len(message_body(notification).encode("utf-8")) > MESSAGE_LIMIT:
        return render(digest, min_severity=min_severity, list_limit=list_limit // 2)
    return notification
