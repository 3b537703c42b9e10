"""The stopped-task diagnosis flow: ECS Task State Change (STOPPED) -> diagnosis checks -> one message per cause.

Handlers call :func:`process_stopped`:

* skip what is not a stopped task, exempt families (``ECSGUARD_EXEMPT_FAMILIES``) and routine stops (the service
  scheduler's scale-in and deployments, StopTask by a user, Fargate Spot interruptions and termination notices,
  every container exiting 0) before any AWS call: most stops are routine and cost nothing;
* read the definition the task ran (DescribeTaskDefinition with tags, for ``ecsguard:ignore``). A revision that
  no longer exists or that ecsguard may not read does not lose the diagnosis: the checks use what the event says
  (containers, images, exit codes, the task's memory) and the message says the definition could not be read.
  Throttling and server errors fail the invocation (retried, then the dead-letter queue);
* for a pull or start that timed out in a service's awsvpc subnets, read the service's network configuration
  (DescribeServices: security groups, assignPublicIp) so the launch check ``registry-unreachable`` can judge the
  path;
* run the checks of scope ``stopped`` through :func:`ecsguard.policy.evaluate` (modes, the ``ecsguard:ignore`` tag);
* de-duplicate in the state table: at most one message per task definition (in its service or family group) and
  cause within ``ECSGUARD_DIAGNOSIS_WINDOW_MINUTES`` (default 60). The first stop sends at once ("1 stop"); later
  stops of that window are counted; the first stop after the window sends again and says how many stops it stands
  for (it and those counted since the previous message). Without a state table every stop sends its own message;
* act and notify through :func:`ecsguard.flows.act_and_notify.act_and_notify_once` (keyed on the event's id). The
  one action: ``task-init-failed`` for a missing log group creates it, as ``log-group-missing`` does (same
  retention, KMS key and tags), when ``task-init-failed`` is in remediate mode (the default) and
  ``log-group-missing`` is not off or notify. A counted stop whose group is still missing creates it too, without a
  message. ``block`` means nothing for a task that has already stopped: it notifies.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.clients import Clients
from ..aws.errors import UNKNOWABLE, error_code
from ..aws.facts import DiagnosisFacts, Facts, read_task_definition
from ..aws.state import StopCount, count_stop, diagnosis_key
from ..checks.diagnosis import causes, needs_service_network, routine_stop
from ..events import SkipEvent, TaskStopped, parse_task_stopped, split_task_definition
from ..model import ActionResult, Finding, NetworkConfiguration, Report, StoppedTask, TaskDefinition
from ..policy import Settings, belongs_to_stack, evaluate, registered_by_ecsguard
from .act_and_notify import Once, act_and_notify_once
from .log_groups import create_log_groups

logger = logging.getLogger(__name__)

STOPPED_CHECKS = ("image-pull-failed", "task-init-failed", "oom-killed", "essential-container-exited")
EVENT_NAME = "TaskStopped"


def _definition(clients: Clients, region: str, task: StoppedTask) -> tuple[TaskDefinition, str | None]:
    """The revision the task ran (with tags), or a bare one and why it could not be read."""
    family, revision = split_task_definition(task.task_definition_arn)
    try:
        return read_task_definition(clients, region, task.task_definition_arn), None
    except SkipEvent as reason:
        why = str(reason)
    except ClientError as exc:
        if error_code(exc) not in UNKNOWABLE:
            raise  # throttling, server errors: the invocation fails and is retried
        why = f"ecs:DescribeTaskDefinition: {error_code(exc)}"
    logger.warning("stopped task's definition not readable; diagnosing from the event", extra={"reason": why})
    return TaskDefinition(family=family, containers=(), revision=revision, arn=task.task_definition_arn), why


def _with_service_network(clients: Clients, region: str, task: StoppedTask) -> StoppedTask:
    """The service's security groups and assignPublicIp (DescribeServices); the task unchanged if unreadable."""
    try:
        kwargs: dict[str, Any] = {"services": [task.service]}
        if task.cluster_arn:
            kwargs["cluster"] = task.cluster_arn
        services = clients("ecs", region).describe_services(**kwargs).get("services", [])
    except (ClientError, BotoCoreError) as exc:
        logger.warning("service network configuration not readable", extra={"error": type(exc).__name__})
        return task
    network = next(
        (
            NetworkConfiguration.from_api(s.get("networkConfiguration"))
            for s in services
            if s.get("networkConfiguration")
        ),
        None,
    )
    if network is None:
        return task
    return dataclasses.replace(task, security_groups=network.security_groups, assign_public_ip=network.assign_public_ip)


def _mode(check_id: str, findings: list[Finding], settings: Settings) -> str:
    """What ecsguard does about a check's findings on a stopped task: remediate (create a log group) or notify."""
    mode = settings.mode(check_id)
    if check_id != "task-init-failed" or mode != "remediate":
        return "notify"  # the task has stopped: there is nothing to block, and no other cause has a safe fix
    if settings.mode("log-group-missing") in ("off", "notify"):
        return "notify"  # the operator does not want ecsguard to create log groups
    if not any(f.data.get("log_group") for f in findings):
        return "notify"
    return "remediate"


def create_missing_log_groups(report: Report, settings: Settings, clients: Clients) -> list[ActionResult]:
    """The ``log-group-missing`` remediation for the log groups ``task-init-failed`` found missing."""
    if report.modes.get("task-init-failed") != "remediate":
        return []
    findings = [f for f in report.findings if f.check == "task-init-failed" and f.data.get("log_group")]
    if not findings:
        return []
    return create_log_groups(report.task_definition, findings, settings, clients, report.region)


def process_stopped(
    event: Mapping[str, Any],
    *,
    settings: Settings,
    clients: Clients,
    once: Once | None = None,
    facts: Facts | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """Handle one ECS Task State Change (STOPPED) event end to end; returns a summary (never a reason text)."""
    try:
        parsed: TaskStopped = parse_task_stopped(event)
        task: StoppedTask = parsed.task
        family, _revision = split_task_definition(task.task_definition_arn)
        if settings.family_exempt(family):
            raise SkipEvent(f"family {family} is exempt (ECSGUARD_EXEMPT_FAMILIES)")
        routine = routine_stop(task)
        if routine:
            raise SkipEvent(routine)
        if not any(settings.enabled(check_id) for check_id in STOPPED_CHECKS):
            raise SkipEvent("every stopped-task diagnosis check is off (ECSGUARD_MODES)")
        td, unreadable = _definition(clients, parsed.region, task)
        if registered_by_ecsguard(td) or belongs_to_stack(td, settings.stack_name):
            raise SkipEvent(f"{td.name} is ecsguard's own")
    except SkipEvent as skip:
        logger.info("event skipped", extra={"reason": str(skip)})
        return {"status": "skipped", "reason": str(skip)}

    region = parsed.region
    if needs_service_network(task):
        task = _with_service_network(clients, region, task)
    if unreadable:
        task = dataclasses.replace(task, definition_unreadable=unreadable)
    findings, exempted = evaluate(
        td,
        settings,
        facts or DiagnosisFacts(clients),
        region,
        scope="stopped",
        stopped=task,
    )
    by_check: dict[str, list[Finding]] = {}
    for finding in findings:
        by_check.setdefault(finding.check, []).append(finding)
    modes = {check_id: _mode(check_id, group, settings) for check_id, group in by_check.items()}

    count: StopCount | None = None
    paging = [f for f in findings if settings.pages(f.severity)]
    if findings and settings.state_table and (paging or "remediate" in modes.values()):
        key = diagnosis_key(
            cluster=task.cluster_arn, group=task.group, revision=td.name, causes=causes(paging or findings)
        )
        count = count_stop(
            clients,
            settings.state_table,
            key,
            event_id=parsed.event_id,
            task_arn=task.task_arn,
            window_s=settings.diagnosis_window_minutes * 60,
            now=now,
        )
        task = dataclasses.replace(
            task, stops=count.stops, previous_message_at=count.previous_message_at, counting_until=count.window_end
        )
    report = Report(
        task_definition=td,
        account=parsed.account,
        region=region,
        actor=task.started_by or "ECS",
        event_time=task.stopped_at or parsed.time,
        event_id=parsed.event_id,
        findings=findings,
        modes=modes,
        exempted=exempted,
        event_name=EVENT_NAME,
        stopped=task,
    )
    if findings and (count is None or count.send):
        act_and_notify_once(
            report,
            lambda: create_missing_log_groups(report, settings, clients),
            settings=settings,
            clients=clients,
            once=once,
        )
    elif findings:
        # Counted, not sent: a log group still missing is still created (the next task needs it), quietly.
        report.actions = create_missing_log_groups(report, settings, clients)

    summary = report.summary()
    summary["stopped"] = task.summary()
    if count is not None:
        summary["diagnosis"] = {"outcome": count.outcome, "stops": count.stops, "countingUntil": count.window_end}
    if unreadable:
        summary["definitionUnreadable"] = unreadable
    logger.info(
        "stopped task diagnosed",
        extra={
            "task": task.task_arn,
            "task_definition": td.arn or td.name,
            "stop_code": task.stop_code,
            "checks": causes(findings),
            "exempted": sorted({f.check for f in exempted}),
            "outcome": count.outcome if count else "no-state-table" if findings else "nothing-found",
            "stops": task.stops,
            "actions": [f"{a.action}:{'ok' if a.ok else 'failed'}" for a in report.actions],
            "message_id": report.message_id,
        },
    )
    return summary
