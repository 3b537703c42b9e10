"""Chat: the AWS Chatbot / Amazon Q Developer in chat applications "custom notification" for a Report.

Amazon Q Developer in chat applications (formerly AWS Chatbot) subscribes to the SNS topic over HTTPS and
renders a message in Slack, Microsoft Teams or Amazon Chime only when it is a custom notification (its admin
guide, "Custom notifications", event schema)::

    {"version": "1.0", "source": "custom", "id": ...,
     "content": {"textType": "client-markdown", "title": ..., "description": ..., "nextSteps": [...],
                 "keywords": [...]},
     "metadata": {"threadId": ..., "summary": ..., "eventType": ..., "relatedResources": [...],
                  "additionalContext": {...}}}

``version`` must be ``1.0`` and ``source`` ``custom``; ``textType`` ``client-markdown`` is the only type it
supports (the chat platform's own markdown). With ``ECSGUARD_CHAT_FORMAT`` set, :func:`ecsguard.render.sns.
message_body` gives the ``https`` protocol this document instead of the machine JSON.

The guide documents no length limits in what ecsguard could read; the limits below are ecsguard's own, chosen
to fit a Slack section (3,000 characters) and a Teams card, so a message is never cut by the platform in the
middle of a fix: the title at most 250 characters, the description at most 3,000, at most 5 next steps of at
most 500 characters each, at most 10 keywords. Messages never hold a secret value (the findings do not).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..checks import SEVERITIES, load_all
from ..model import Finding, Report
from .sns import IGNORE_HINT, group_by_check, overall_action, stopped_subject, subject, worst_severity

VERSION = "1.0"
SOURCE = "custom"
TEXT_TYPE = "client-markdown"
EVENT_TYPE = "ecsguard-finding"
TITLE_LIMIT = 250
DESCRIPTION_LIMIT = 3000
NEXT_STEPS = 5
NEXT_STEP_LIMIT = 500
KEYWORDS = 10
KEYWORD_LIMIT = 64
PER_CHECK = 3  # findings listed under one check before "and N more"

EMOJI = {
    "critical": ":rotating_light:",
    "high": ":rotating_light:",
    "medium": ":warning:",
    "low": ":information_source:",
    "info": ":information_source:",
}


def _cut(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def code(text: str) -> str:
    """Inline code in chat markdown: a backtick inside would end it early, so it becomes a quote."""
    return "`" + (text or "").replace("`", "'").replace("\n", " ") + "`"


def plain(text: str) -> str:
    """One line of prose for chat: no line breaks, no stray markdown from the message itself."""
    return " ".join((text or "").replace("`", "'").replace("*", "").split())


def notification(
    *,
    title: str,
    description: str,
    next_steps: Sequence[str] = (),
    keywords: Sequence[str] = (),
    id: str | None = None,
    thread_id: str | None = None,
    summary: str | None = None,
    event_type: str = EVENT_TYPE,
    related_resources: Sequence[str] = (),
    context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A custom notification within ecsguard's limits (for a Report here, and for the sweep digest)."""
    content: dict[str, Any] = {
        "textType": TEXT_TYPE,
        "title": _cut(title, TITLE_LIMIT),
        "description": _cut(description, DESCRIPTION_LIMIT),
    }
    steps = [_cut(step, NEXT_STEP_LIMIT) for step in next_steps if step][:NEXT_STEPS]
    if steps:
        content["nextSteps"] = steps
    words = list(dict.fromkeys(_cut(w, KEYWORD_LIMIT) for w in keywords if w))[:KEYWORDS]
    if words:
        content["keywords"] = words
    metadata: dict[str, Any] = {"eventType": event_type}
    if thread_id:
        metadata["threadId"] = thread_id
    if summary:
        metadata["summary"] = _cut(summary, TITLE_LIMIT)
    if related_resources:
        metadata["relatedResources"] = list(dict.fromkeys(related_resources))[:10]
    if context:
        metadata["additionalContext"] = {str(k): str(v) for k, v in context.items() if v is not None}
    document: dict[str, Any] = {"version": VERSION, "source": SOURCE}
    if id:
        document["id"] = id
    document["content"] = content
    document["metadata"] = metadata
    return document


def _where(finding: Finding) -> str:
    parts = [code(finding.container) if finding.container else "", code(finding.field) if finding.field else ""]
    return " ".join(p for p in parts if p)


def _fits(lines: list[str], extra: str) -> bool:
    return len("\n".join([*lines, extra])) <= DESCRIPTION_LIMIT - 80  # room for the "and N more" line


def render(report: Report, *, min_severity: str = "medium") -> dict[str, Any]:
    """The custom notification for one event's Report (a registration, a launch or a stopped task)."""
    catalogue = load_all()
    severity = worst_severity([f.severity for f in report.findings])
    action = overall_action(report)
    td = report.task_definition
    threshold = SEVERITIES.index(min_severity) if min_severity in SEVERITIES else len(SEVERITIES)
    count = len(report.findings)
    if report.stopped is not None:
        head = f"{report.stopped.service or td.family or report.target} stopped"
    elif report.launch is not None:
        head = f"{report.event_name or 'RunTask'} of {report.target}"
    else:
        head = report.target
    title = (
        f"{EMOJI.get(severity, '')} [{severity.upper()}] ecsguard: {head} - {count} finding{'s' if count != 1 else ''}"
    ).strip()

    lines = [
        f"*Account* {report.account}  *Region* {report.region}  *Action* {action}",
        f"*Definition* {code(td.arn or report.target)}",
    ]
    if report.launch is None and report.stopped is None and report.actor:
        lines.append(f"*Registered by* {code(report.actor)}")
    if report.stopped is not None and report.stopped.stops > 1:
        lines.append(f"*Stops* {report.stopped.stops} of this cause since the previous message")
    lines.append("")
    steps: list[str] = []
    advice: list[str] = []
    omitted = 0
    for group in group_by_check(report.findings):
        worst = worst_severity([f.severity for f in group])
        check = catalogue.get(group[0].check)
        name = check.title if check else group[0].check
        if worst in SEVERITIES and SEVERITIES.index(worst) > threshold:
            places = sorted({f.container or "" for f in group} - {""})
            shown = ", ".join(places[:3]) + (f" +{len(places) - 3}" if len(places) > 3 else "")
            advice.append(f"{group[0].check}" + (f" ({shown})" if places else ""))
            continue
        block = [
            f"*[{worst.upper()}] {group[0].check}*: {plain(name)}" + (f" ({len(group)})" if len(group) > 1 else "")
        ]
        for finding in group[:PER_CHECK]:
            where = _where(finding)
            block.append(f"• {where + ': ' if where else ''}{_cut(plain(finding.message), 300)}")
        if len(group) > PER_CHECK:
            block.append(f"• … and {len(group) - PER_CHECK} more")
        text = "\n".join(block)
        if _fits(lines, text):
            lines.append(text)
        else:
            omitted += len(group)
        fix = group[0].remediation if len(group) == 1 or not check else check.remediation
        steps.append(f"{group[0].check}: {plain(fix)}" + (f" Docs: {group[0].docs}" if group[0].docs else ""))
    if advice:
        line = "_Also (advice below " + min_severity + "):_ " + ", ".join(advice)
        if _fits(lines, line):
            lines.append(line)
    if report.actions:
        done = "; ".join(("" if a.ok else "FAILED: ") + plain(a.detail) for a in report.actions)
        line = f"*ecsguard did:* {done}"
        lines.append(_cut(line, max(DESCRIPTION_LIMIT - len("\n".join(lines)) - 80, 40)))
    if omitted:
        lines.append(f"_… and {omitted} more finding{'s' if omitted != 1 else ''}: see the e-mail or JSON message._")
    lines.append(f"_{IGNORE_HINT}_")

    checks = [group[0].check for group in group_by_check(report.findings)]
    family = td.family or report.target
    thread = hashlib.sha256(f"{report.account}/{report.region}/{family}".encode()).hexdigest()[:32]
    return notification(
        title=title,
        description="\n".join(lines),
        next_steps=steps,
        keywords=[severity, *checks, report.region],
        id=report.event_id,
        thread_id=f"ecsguard-{thread}",
        summary=stopped_subject(report) if report.stopped is not None else subject(report),
        related_resources=[td.arn] if td.arn else (),
        context={
            "account": report.account,
            "region": report.region,
            "severity": severity,
            "action": action,
            "checks": ",".join(sorted(set(checks))),
            "taskDefinition": td.arn or report.target,
        },
    )


def render_digest(digest: Any, *, min_severity: str = "medium") -> dict[str, Any]:
    """The custom notification for the sweep's digest (:class:`ecsguard.render.digest.Digest`)."""
    checks = sorted(
        digest.per_check.items(),
        key=lambda item: (SEVERITIES.index(item[1].get("severity", "info")) if item[1].get("severity") in SEVERITIES
                          else len(SEVERITIES), item[0]),
    )  # fmt: skip
    severity = str(checks[0][1].get("severity", "info")) if checks else "info"
    title = (
        f"{EMOJI.get(severity, '')} [{severity.upper()}] ecsguard sweep {digest.account} {digest.region}: "
        f"{digest.findings} finding{'s' if digest.findings != 1 else ''} in {digest.with_findings} of "
        f"{digest.definitions} definitions"
    ).strip()
    lines = [
        f"*New* {'baseline run' if digest.baseline else len(digest.new)}  *Resolved* {len(digest.resolved)}  "
        f"*Unreadable* {len(digest.unreadable)}  *Exempted* {digest.exempted}",
        "",
    ]
    for check, counts in checks:
        line = (
            f"• *[{str(counts.get('severity', '')).upper()}] {check}*: {counts.get('findings', 0)} in "
            f"{counts.get('definitions', 0)} definitions"
        )
        if _fits(lines, line):
            lines.append(line)
    if digest.offenders:
        lines.append("*Worst offenders*")
        for offender in digest.offenders[:5]:
            line = f"• {code(str(offender.get('arn', '')))}: {offender.get('findings', 0)} ({offender.get('severity', '')})"
            if _fits(lines, line):
                lines.append(line)
    steps = []
    catalogue = load_all()
    for check, _ in checks[:NEXT_STEPS]:
        known = catalogue.get(check)
        if known is not None:
            steps.append(f"{check}: {plain(known.remediation)} Docs: {known.docs}")
    return notification(
        title=title,
        description="\n".join(lines),
        next_steps=steps,
        keywords=[severity, "sweep", *(c for c, _ in checks), digest.region],
        id=f"ecsguard-sweep-{digest.run}",
        thread_id=f"ecsguard-sweep-{digest.account}-{digest.region}",
        summary=title,
        event_type="ecsguard-sweep-digest",
        context={"account": digest.account, "region": digest.region, "run": digest.run, "severity": severity},
    )
