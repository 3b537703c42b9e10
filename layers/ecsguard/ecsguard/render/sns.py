"""The SNS notification: one message per event with findings, rendered from a :class:`~ecsguard.model.Report`.

The message has a text body for people (email, chat), a JSON document for machines (SQS, Lambda,
HTTP/S subscribers, through ``MessageStructure=json``) and message attributes to filter on
(``severity``, ``checks``, ``account``, ``region``, ``action``). Findings are built without secret
values, so nothing here has any to redact; the tests prove it with canary values. Rendering only:
:func:`ecsguard.aws.actions.publish_notification` sends it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..checks import SEVERITIES, load_all
from ..model import Finding, Report

SUBJECT_LIMIT = 99  # SNS: ASCII, no line breaks, fewer than 100 characters
MESSAGE_LIMIT = 240_000  # SNS allows 256 KiB for the whole message; keep room for the envelope
IGNORE_HINT = "To exempt this task definition from a check, tag it ecsguard:ignore=<check-id>[,<check-id>] (or all)."
MACHINE_PROTOCOLS = ("sqs", "lambda", "http", "https", "firehose")


@dataclass(frozen=True, slots=True)
class Notification:
    subject: str
    text: str
    document: dict[str, Any]
    attributes: dict[str, dict[str, str]]


def _ascii(text: str) -> str:
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)


def worst_severity(severities: list[str]) -> str:
    return min(severities, key=SEVERITIES.index) if severities else "info"


def overall_action(report: Report) -> str:
    """One word for the ``action`` attribute: blocked, remediated, action-failed or notified."""
    stops = [r for r in report.actions if r.action == "stop-task"]  # a launch in block mode (ecsguard.flows.launch)
    if stops and all(r.ok for r in stops) and any(r.changed for r in stops):
        return "blocked"
    # A secret migration deregisters the leaking revision after registering its fix: that is remediated, not blocked.
    migrated = any(r.action == "register-revision" and r.ok and r.changed for r in report.actions)
    blocking = "block" in report.modes.values()
    deregistered = any(r.action == "deregister-revision" and r.ok and r.changed for r in report.actions)
    if deregistered and (blocking or not migrated):
        return "blocked"
    if any(not result.ok for result in report.actions):
        return "action-failed"
    if any(result.ok and result.changed for result in report.actions):
        return "remediated"
    return "notified"


def subject(report: Report) -> str:
    severity = worst_severity([f.severity for f in report.findings]).upper()
    count = len(report.findings)
    # The event parsers validate account and region; the subject keeps SNS's limit whatever a report holds.
    where = " ".join(part if len(part) <= 20 else part[:17] + "..." for part in (report.account, report.region))
    tail = f" - {count} finding{'s' if count != 1 else ''} ({where})"
    head = f"[ecsguard] {severity}: " + (f"{_event_name(report)[:40]} " if report.launch else "")
    room = SUBJECT_LIMIT - len(head) - len(tail)
    name = report.target if len(report.target) <= room else report.target[: max(room - 3, 1)] + "..."
    return _ascii(head + name + tail)[:SUBJECT_LIMIT]


def _event_name(report: Report) -> str:
    return report.event_name or "RunTask"


def _launch_lines(report: Report) -> list[str]:
    launch = report.launch
    if launch is None:
        return []
    how = launch.launch_type or ", ".join(launch.capacity_providers)
    lines = [
        f"Call:        {_event_name(report)}" + (f" ({how})" if how else ""),
        f"Cluster:     {launch.cluster or 'default'}",
    ]
    if launch.service:
        lines.append(f"Service:     {launch.service} (its tasks are started by the service scheduler)")
    else:
        tasks = list(launch.task_arns) or ["none (the call started no task)"]
        lines += [f"{'Tasks:' if i == 0 else '':13}{arn}" for i, arn in enumerate(tasks)]
    if launch.network is not None and launch.network.subnets:
        lines.append(f"Subnets:     {', '.join(launch.network.subnets)}")
        if launch.network.security_groups:
            lines.append(f"Groups:      {', '.join(launch.network.security_groups)}")
        lines.append(f"Public IP:   {'ENABLED' if launch.network.assign_public_ip else 'DISABLED'}")
    return lines


def _finding_document(report: Report, finding: Any) -> dict[str, Any]:
    check = load_all().get(finding.check)
    document = finding.to_dict()
    document.update(
        {
            "title": check.title if check else finding.check,
            "mode": report.modes.get(finding.check, "notify"),
            "rule": finding.rule,
            "evidence": finding.evidence,
            "fingerprint": finding.fingerprint,
            "docs": finding.docs,
        }
    )
    return {k: v for k, v in document.items() if v is not None}


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(])")


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE.split(text or "") if part.strip()]


def _where(finding: Finding) -> str:
    return ", ".join(
        part
        for part in (
            f"container {finding.container}" if finding.container else "",
            f"field {finding.field}" if finding.field else "",
        )
        if part
    )


def group_by_check(findings: Sequence[Finding]) -> list[list[Finding]]:
    """Findings grouped by check, worst group first (then in the order the checks first appear)."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.check, []).append(finding)
    ordered = sorted(
        enumerate(groups.values()),
        key=lambda item: (min(SEVERITIES.index(f.severity) for f in item[1] if f.severity in SEVERITIES), item[0]),
    )
    return [group for _, group in ordered]


def _placeholders(finding: Finding) -> list[tuple[str, str]]:
    """What differs between findings of one check: their own name, container and fingerprint."""
    pairs = []
    if finding.fingerprint:
        pairs.append((finding.fingerprint, "<fingerprint>"))
    # Only a data key is a finding's own name (environment.DB_PASSWORD, logConfiguration.options.token);
    # a field such as "user" or "linuxParameters.capabilities.add" is the same word in every finding's fix.
    field = finding.field or ""
    if re.search(r"(^|\.)(environment|options|secrets|secretOptions)\.[^.]+$", field):
        name = field.rsplit(".", 1)[-1]
        if len(name) >= 3:
            pairs.append((name, "<name>"))
    if finding.container and len(finding.container) >= 3:
        pairs.append((finding.container, "<container>"))
    return pairs


def _generic(sentence: str, finding: Finding) -> str:
    for value, placeholder in _placeholders(finding):
        sentence = sentence.replace(value, placeholder)
    return sentence


def _common_fix(group: Sequence[Finding], check: Any) -> tuple[str, list[list[str]]]:
    """(the fix every finding of the group shares, each finding's own extra sentences).

    Findings of one check usually share their fix word for word except for their own details (the
    variable name, the container, a fingerprint): those sentences are said once, with the detail as a
    placeholder, and what is really particular to a finding is said under it.
    """
    if len(group) == 1:
        return group[0].remediation, [[]]
    per_finding = [[_generic(s, f) for s in _sentences(f.remediation)] for f in group]
    common = [s for s in per_finding[0] if all(s in other for other in per_finding[1:])]
    if not common:
        return (check.remediation if check else ""), [_sentences(f.remediation) for f in group]
    extras = [
        [
            original
            for original, generic in zip(_sentences(f.remediation), generics, strict=True)
            if generic not in common
        ]
        for f, generics in zip(group, per_finding, strict=True)
    ]
    return " ".join(common), extras


def finding_lines(report: Report, findings: Sequence[Finding], *, min_severity: str = "medium") -> list[str]:
    """The findings for people: one block per check (why, fix, docs once), then where it applies.

    Checks at or above ``min_severity`` come first, in full; hardening advice below it follows in
    short form (it never sends a message on its own, but belongs in one that is sent).
    """
    threshold = SEVERITIES.index(min_severity) if min_severity in SEVERITIES else len(SEVERITIES)
    catalogue = load_all()
    lines: list[str] = []
    advice: list[list[Finding]] = []
    number = 0
    for group in group_by_check(findings):
        worst = worst_severity([f.severity for f in group])
        if SEVERITIES.index(worst) > threshold:
            advice.append(group)
            continue
        number += 1
        check = catalogue.get(group[0].check)
        mode = report.modes.get(group[0].check, "notify")
        count = f": {len(group)} findings" if len(group) > 1 else ""
        lines.append(
            f"{number}. [{worst.upper()}] {group[0].check}: {check.title if check else ''} (mode {mode}){count}"
        )
        if check and len(group) > 1:
            lines.append(f"   Why: {check.rationale}")
        fix, extras = _common_fix(group, check)
        for finding, extra in zip(group, extras, strict=True):
            bullet = "   - " if len(group) > 1 else "   "
            indent = "     " if len(group) > 1 else "   "
            where = _where(finding)
            if where:
                lines.append(f"{bullet}Where: {where}")
                lines.append(f"{indent}{finding.message}")
            else:
                lines.append(f"{bullet}{finding.message}")
            if finding.evidence and finding.evidence not in finding.message:
                lines.append(f"{indent}Evidence (redacted): {finding.evidence}")
            if extra:
                lines.append(f"{indent}{' '.join(extra)}")
            elif len(group) > 1 and finding.fingerprint and "<fingerprint>" in fix:
                lines.append(f"{indent}Fingerprint: {finding.fingerprint}")
        lines.append(f"   Fix: {fix}")
        if group[0].docs:
            lines.append(f"   Docs: {group[0].docs}")
        lines.append("")
    if advice:
        lines.append(f"Also found (below {min_severity}: advice that never sends a message on its own):")
        for group in advice:
            check = catalogue.get(group[0].check)
            places = sorted({f.container or f.field or "" for f in group} - {""})
            where = f" ({', '.join(places)})" if places else ""
            worst = worst_severity([f.severity for f in group])
            lines.append(f" - [{worst.upper()}] {group[0].check}: {check.title if check else group[0].message}{where}")
            if len(group) == 1 and check and group[0].data.get("unverified"):
                lines.append(f"   {group[0].message}")
        lines.append("")
    return lines


def _findings_and_actions(report: Report, findings: Sequence[Finding], more: int, min_severity: str) -> list[str]:
    """The body every message shares after its header: the findings, what ecsguard did, the exemption hint."""
    lines = finding_lines(report, findings, min_severity=min_severity)
    if more:
        lines += [f"... and {more} more finding{'s' if more != 1 else ''} (see the JSON message).", ""]
    if report.actions:
        lines.append("What ecsguard did:")
        lines += [f" - {'' if result.ok else 'FAILED: '}{result.detail}" for result in report.actions]
    else:
        lines.append("What ecsguard did: nothing changed (notify only).")
    return [*lines, "", IGNORE_HINT]


def render(report: Report, *, finding_limit: int = 100, min_severity: str = "medium") -> Notification:
    if report.stopped is not None:
        return render_stopped(report, finding_limit=finding_limit, min_severity=min_severity)
    findings = report.findings[:finding_limit]
    more = len(report.findings) - len(findings)
    action = overall_action(report)
    severity = worst_severity([f.severity for f in report.findings])
    td = report.task_definition
    launch = report.launch

    lines = [
        f"ecsguard found {len(report.findings)} problem{'s' if len(report.findings) != 1 else ''} "
        + (f"in task definition {report.target}." if launch is None else f"in a task launch of {report.target}."),
        "",
        f"Account:     {report.account}",
        f"Region:      {report.region}",
        f"Definition:  {td.arn or report.target}",
        *_launch_lines(report),
        f"{'Registered' if launch is None else 'Launched'} by {report.actor}"
        + (f" at {report.event_time}" if report.event_time else ""),
        f"Severity:    {severity}",
        f"Action:      {action}",
        "",
    ]
    lines += _findings_and_actions(report, findings, more, min_severity)

    document = {
        "version": "1",
        "source": "ecsguard",
        "account": report.account,
        "region": report.region,
        "eventId": report.event_id,
        "eventTime": report.event_time,
        "actor": report.actor,
        "taskDefinition": {"arn": td.arn, "family": td.family, "revision": td.revision},
        **(
            {
                "launch": {
                    "eventName": _event_name(report),
                    "cluster": launch.cluster,
                    "launchType": launch.launch_type,
                    "startedBy": launch.started_by,
                    "tasks": list(launch.task_arns),
                    **({"service": launch.service} if launch.service else {}),
                    **({"capacityProviders": list(launch.capacity_providers)} if launch.capacity_providers else {}),
                    **(
                        {
                            "network": {
                                "subnets": list(launch.network.subnets),
                                "securityGroups": list(launch.network.security_groups),
                                "assignPublicIp": "ENABLED" if launch.network.assign_public_ip else "DISABLED",
                            }
                        }
                        if launch.network is not None
                        else {}
                    ),
                }
            }
            if launch is not None
            else {}
        ),
        "severity": severity,
        "action": action,
        "findings": [_finding_document(report, f) for f in findings],
        "truncatedFindings": more,
        "actions": [
            {"action": r.action, "target": r.target, "ok": r.ok, "changed": r.changed, "detail": r.detail}
            for r in report.actions
        ],
    }
    checks = sorted({f.check for f in report.findings})
    attributes = {
        "severity": {"DataType": "String", "StringValue": severity},
        "checks": {"DataType": "String.Array", "StringValue": json.dumps(checks)},
        "account": {"DataType": "String", "StringValue": report.account},
        "region": {"DataType": "String", "StringValue": report.region},
        "action": {"DataType": "String", "StringValue": action},
    }
    notification = Notification(subject(report), "\n".join(lines), document, attributes)
    if finding_limit > 5 and len(message_body(notification).encode("utf-8")) > MESSAGE_LIMIT:
        return render(report, finding_limit=finding_limit // 2, min_severity=min_severity)
    return notification


def message_body(notification: Notification, *, chat: Mapping[str, Any] | None = None) -> str:
    """The ``Message`` for ``MessageStructure=json``: text for people, JSON for machine protocols.

    ``chat`` (ECSGUARD_CHAT_FORMAT, a custom notification from :func:`ecsguard.render.chat.render`) goes to
    the ``https`` protocol instead of the machine JSON: Amazon Q Developer in chat applications (AWS Chatbot)
    subscribes over HTTPS and shows only custom notifications. Every other protocol gets what it always got.
    """
    machine = json.dumps(notification.document, separators=(",", ":"))
    bodies = dict.fromkeys(MACHINE_PROTOCOLS, machine)
    if chat is not None:
        bodies["https"] = json.dumps(chat, separators=(",", ":"))
    return json.dumps({"default": notification.text, **bodies})


# --------------------------------------------------------------------------- stopped-task diagnosis


def _stopped_name(report: Report) -> str:
    """Who stopped, for people: the service, else the family."""
    stopped = report.stopped
    assert stopped is not None
    return stopped.service or report.task_definition.family or report.target


def stopped_subject(report: Report) -> str:
    """``[ecsguard] HIGH: web stopped: image-pull-failed (123456789012 us-east-1)``; ``stopped 23x`` for many stops."""
    stopped = report.stopped
    assert stopped is not None
    severity = worst_severity([f.severity for f in report.findings]).upper()
    checks = [group[0].check for group in group_by_check(report.findings)]
    what = checks[0] + (f" +{len(checks) - 1}" if len(checks) > 1 else "") if checks else "stopped"
    where = " ".join(part if len(part) <= 20 else part[:17] + "..." for part in (report.account, report.region))
    times = f" {stopped.stops}x" if stopped.stops > 1 else ""
    tail = f" stopped{times}: {what} ({where})"
    head = f"[ecsguard] {severity}: "
    room = SUBJECT_LIMIT - len(head) - len(tail)
    name = _stopped_name(report)
    name = name if len(name) <= room else name[: max(room - 3, 1)] + "..."
    return _ascii(head + name + tail)[:SUBJECT_LIMIT]


def _stops_line(report: Report) -> str:
    stopped = report.stopped
    assert stopped is not None
    if stopped.counting_until is None:
        return "1 (no state table is configured: every stop sends its own message)"
    since = f" since the previous message at {stopped.previous_message_at}" if stopped.previous_message_at else ""
    if stopped.stops > 1:
        counted = stopped.stops - 1
        first = f"{stopped.stops} stops of this definition for this cause{since}: this one and {counted} counted "
        first += "without a message"
    else:
        first = f"1 stop{since or ' (the first of this definition for this cause)'}"
    return f"{first}. Further stops for this cause are counted, not sent, until {stopped.counting_until}."


def render_stopped(report: Report, *, finding_limit: int = 100, min_severity: str = "medium") -> Notification:
    """The message for a stopped task: why it stopped, in ECS terms, with its fix, and how many stops it stands for.

    Reason texts from the event are never repeated (they may quote anything an application printed): the
    findings say what they mean.
    """
    stopped = report.stopped
    assert stopped is not None
    findings = report.findings[:finding_limit]
    more = len(report.findings) - len(findings)
    action = overall_action(report)
    severity = worst_severity([f.severity for f in report.findings])
    td = report.task_definition
    who = f"service {stopped.service}" if stopped.service else f"family {td.family or report.target}"
    checks = [group[0].check for group in group_by_check(report.findings)]
    definition = td.arn or stopped.task_definition_arn
    if stopped.definition_unreadable:
        definition += f" (not readable: {stopped.definition_unreadable}; diagnosed from the event only)"
    lines = [
        f"A task of {who} stopped: {', '.join(checks) or 'no known cause'}.",
        "",
        f"Account:     {report.account}",
        f"Region:      {report.region}",
        f"Cluster:     {stopped.cluster_arn or 'default'}",
        f"Task:        {stopped.task_arn}",
        f"Definition:  {definition}",
        f"Launch type: {stopped.launch_type or stopped.capacity_provider or 'unknown'}",
        f"Stop code:   {stopped.stop_code or 'none given'}",
        f"Stopped at:  {stopped.stopped_at or 'unknown'}"
        + (f" (started {stopped.started_at})" if stopped.started_at else " (never ran)"),
        f"Stops:       {_stops_line(report)}",
        f"Severity:    {severity}",
        f"Action:      {action}",
        "",
    ]
    lines += _findings_and_actions(report, findings, more, min_severity)

    document = {
        "version": "1",
        "source": "ecsguard",
        "kind": "stopped-task",
        "account": report.account,
        "region": report.region,
        "eventId": report.event_id,
        "eventTime": report.event_time,
        "taskDefinition": {"arn": td.arn, "family": td.family, "revision": td.revision},
        "stopped": {
            **stopped.summary(),
            "startedBy": stopped.started_by,
            "definitionUnreadable": stopped.definition_unreadable,
        },
        "severity": severity,
        "action": action,
        "findings": [_finding_document(report, f) for f in findings],
        "truncatedFindings": more,
        "actions": [
            {"action": r.action, "target": r.target, "ok": r.ok, "changed": r.changed, "detail": r.detail}
            for r in report.actions
        ],
    }
    attributes = {
        "severity": {"DataType": "String", "StringValue": severity},
        "checks": {"DataType": "String.Array", "StringValue": json.dumps(sorted(set(checks)))},
        "account": {"DataType": "String", "StringValue": report.account},
        "region": {"DataType": "String", "StringValue": report.region},
        "action": {"DataType": "String", "StringValue": action},
        "stops": {"DataType": "Number", "StringValue": str(stopped.stops)},
    }
    if stopped.service:
        attributes["service"] = {"DataType": "String", "StringValue": stopped.service}
    notification = Notification(stopped_subject(report), "\n".join(lines), document, attributes)
    if finding_limit > 5 and len(message_body(notification).encode("utf-8")) > MESSAGE_LIMIT:
        return render_stopped(report, finding_limit=finding_limit // 2, min_severity=min_severity)
    return notification
