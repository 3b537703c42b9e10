"""The scan flow: task-definition documents checked before they are registered (``ecsguard scan``).

Without facts (the default) no AWS access: the checks that need the account are skipped. With facts
(``ecsguard scan --aws``) they run too, read-only. Nothing is acted on, nothing is sent.
A document that could not be parsed still gets the text-level secret scan, because a hard-coded
password in a file the other checks cannot read is still a leak.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..checks.secrets import secrets_in_text
from ..facts import Facts
from ..model import Finding, task_definitions_in
from ..policy import Settings, evaluate


def scan_document(
    path: str, document: Any, settings: Settings, *, facts: Facts | None = None, region: str | None = None
) -> list[Finding]:
    """Findings for every task definition in one parsed document; raises DocumentError if it holds none.

    ``region`` is where the definition would be registered (image-cross-region, log groups without
    an awslogs-region); a definition's own ARN wins when it has one.
    """
    findings: list[Finding] = []
    for resource, task_definition in task_definitions_in(document):
        kept, _exempted = evaluate(task_definition, settings, facts, task_definition.region or region, target=path)
        findings.extend(
            replace(finding, message=f"{finding.message} (resource {resource})") if resource else finding
            for finding in kept
        )
    return findings


def scan_text(path: str, text: str, settings: Settings) -> list[Finding]:
    """plaintext-secret findings for a file that is text but not a valid document."""
    if not settings.enabled("plaintext-secret"):
        return []
    return secrets_in_text(path, text, settings.secret_allowlist)
