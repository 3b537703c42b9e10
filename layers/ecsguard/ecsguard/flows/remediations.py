"""The one remediation registry: what ecsguard does about findings, by check id and mode.

* ``remediate``: a check id maps to its safe fix, registered with :func:`remediation` (create the
  missing log group; the opt-in secret migration). Adding a fix never edits a central switch.
* ``block``: for a registration, deregister exactly the offending revision; for a launch, stop
  exactly the tasks that call started. Nothing is ever deleted by a block.

Every write goes through :mod:`ecsguard.aws.actions`; this module decides, it does not call AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..aws import actions
from ..aws.clients import Clients
from ..model import ActionResult, Finding, Report, TaskDefinition
from ..policy import Settings
from .log_groups import create_log_groups

# check id -> remediation: (task definition, its findings for that check, settings, clients, region) -> results.
Remediation = Callable[[TaskDefinition, Sequence[Finding], Settings, Clients, str], list[ActionResult]]
REMEDIATIONS: dict[str, Remediation] = {}


def remediation(check_id: str) -> Callable[[Remediation], Remediation]:
    def register(function: Remediation) -> Remediation:
        REMEDIATIONS[check_id] = function
        return function

    return register


@remediation("log-group-missing")
def remediate_log_group_missing(
    task_definition: TaskDefinition, findings: Sequence[Finding], settings: Settings, clients: Clients, region: str
) -> list[ActionResult]:
    """Create each missing group (:func:`ecsguard.flows.log_groups.create_log_groups`, which the stopped-task
    diagnosis calls directly so that nothing else of this registry is reachable from that function)."""
    return create_log_groups(task_definition, findings, settings, clients, region)


@remediation("plaintext-secret")
def migrate_secrets(
    task_definition: TaskDefinition, findings: Sequence[Finding], settings: Settings, clients: Clients, region: str
) -> list[ActionResult]:
    """Move the values to a secret store (:mod:`ecsguard.flows.migration`), imported only when this opt-in mode runs."""
    from .migration import remediate_plaintext_secrets

    return remediate_plaintext_secrets(task_definition, findings, settings, clients, region)


def act_on_registration(report: Report, settings: Settings, clients: Clients) -> list[ActionResult]:
    """Run the fix of every finding whose check is in ``remediate``, then the block if any check is in ``block``."""
    td = report.task_definition
    results: list[ActionResult] = []
    by_check: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(finding)
    for check_id, findings in by_check.items():
        if settings.mode(check_id) == "remediate" and check_id in REMEDIATIONS:
            results.extend(REMEDIATIONS[check_id](td, findings, settings, clients, report.region))
    if any(settings.mode(check_id) == "block" for check_id in by_check):
        results.extend(deregister_offending_revision(report, clients, results))
    return results


def deregister_offending_revision(
    report: Report, clients: Clients, done: Sequence[ActionResult] = ()
) -> list[ActionResult]:
    """Block a registration: deregister exactly this revision, unless it is INACTIVE or already deregistered."""
    td = report.task_definition
    if not td.arn:
        return [
            ActionResult(
                "deregister-revision", td.name, ok=False, changed=False, detail="no revision ARN to deregister"
            )
        ]
    if td.status == "INACTIVE" or any(r.action == "deregister-revision" and r.target == td.arn and r.ok for r in done):
        return []
    return [actions.deregister_revision(clients, region=report.region, arn=td.arn)]


def stop_started_tasks(report: Report, clients: Clients, *, reason: str) -> list[ActionResult]:
    """Block a launch: stop exactly the tasks this call started (nothing else, nothing deleted)."""
    launch = report.launch
    if launch is None or not launch.task_arns:
        return [
            ActionResult(
                "stop-task",
                report.target,
                ok=True,
                changed=False,
                detail=f"nothing to stop: the {report.event_name or 'RunTask'} call started no task",
            )
        ]
    return [
        actions.stop_task(clients, region=report.region, cluster=launch.cluster, task_arn=arn, reason=reason)
        for arn in launch.task_arns
    ]
