"""The ``log-group-missing`` fix: create the missing CloudWatch Logs groups, the one way ecsguard does it.

Registered in :mod:`.remediations` for ``log-group-missing``; the stopped-task diagnosis calls it for a
``ResourceInitializationError`` caused by a missing group. Its own module, so a function that needs only
this fix carries only ``logs:`` write permissions.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..aws import actions
from ..aws.clients import Clients
from ..model import ActionResult, Finding, TaskDefinition
from ..policy import Settings


def create_log_groups(
    task_definition: TaskDefinition, findings: Sequence[Finding], settings: Settings, clients: Clients, region: str
) -> list[ActionResult]:
    """Create each missing group in the region its driver names, with the stack's retention and KMS key.

    ``findings`` carry ``data["region"]`` and ``data["log_group"]``; ``region`` (the event's) is unused here
    and kept for the remediation signature.
    """
    destinations = dict.fromkeys((f.data["region"], f.data["log_group"]) for f in findings)
    tags = {"ecsguard:task-definition": task_definition.arn or task_definition.name}
    return [
        actions.create_log_group(
            clients,
            region=group_region,
            name=group,
            retention_days=settings.log_retention_days,
            kms_key_arn=settings.log_kms_key_arn,
            tags=tags,
        )
        for group_region, group in destinations
    ]
