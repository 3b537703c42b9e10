"""The scan flow: task-definition documents checked before they are registered (``ecsguard scan``).

No AWS access: the checks that need facts are skipped, nothing is acted on, nothing is sent.
A document that could not be parsed still gets the text-level secret scan, because a hard-coded
password in a file the other checks cannot read is still a leak.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..checks.secrets import secrets_in_text
from ..model import Finding, task_definitions_in
from ..policy import Settings, evaluate


def scan_document(path: str, document: Any, settings: Settings) -> list[Finding]:
    """Findings for every task definition in one parsed document; raises DocumentError if it holds none."""
    findings: list[Finding] = []
    for resource, task_definition in task_definitions_in(document):
        kept, _exempted = evaluate(task_definition, settings, None, None, target=path)
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
