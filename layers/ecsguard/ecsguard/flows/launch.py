"""The RunTask / StartTask flow: overrides -> policy -> stop -> notification.

A launch is checked for one thing: plaintext credentials in ``overrides.containerOverrides``
(environment values, command arguments). The task definition itself was checked when it was
registered; what a launch adds is what the caller passed at run time, and that is recorded in
CloudTrail (request and response) and in the task's own overrides for anyone with
``ecs:DescribeTasks``. Handlers call :func:`process_launch`, which mirrors
:func:`ecsguard.flows.registration.process_registration`:

* skip failed calls, foreign events, exempt families (``ECSGUARD_EXEMPT_FAMILIES``);
* scan each container override with the ``plaintext-secret`` check's scanner and metadata, so a
  finding looks the same as one on a definition (field ``overrides.containerOverrides[web].environment.X``);
* only when there are findings, read the task definition (DescribeTaskDefinition with tags) to
  honour its ``ecsguard:ignore`` tag and name its revision: one AWS read per clean event at most;
* ``block`` stops exactly the tasks this call started; ``remediate`` cannot fix a launch (the value
  was passed at run time and is already recorded), so it notifies;
* one SNS message per event with findings, through :mod:`ecsguard.flows.act_and_notify`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.clients import Clients
from ..aws.facts import read_task_definition
from ..checks import CheckContext
from ..checks.secrets import allowlisted, scan_container, secret_finding
from ..events import Launch, SkipEvent, parse_launch
from ..model import ActionResult, Container, Finding, Report, TaskDefinition, TaskLaunch
from ..policy import Settings, ignored_checks, is_exempt
from .act_and_notify import Once, act_and_notify_once
from .remediations import stop_started_tasks

logger = logging.getLogger(__name__)

CHECK_ID = "plaintext-secret"
_TASK_DEFINITION = re.compile(r"^(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/)?([^:/]+)(?::(\d+))?$")


def remediation(event_name: str, container: str, field: str) -> str:
    """What the owner should do about one override field (words only, never the value)."""
    if field.startswith("environment."):
        name = field.split(".", 1)[1]
        move = (
            f"remove {name} from the override and add it to container '{container}' of the task definition under "
            f'`secrets` as {{"name": "{name}", "valueFrom": "<secret or parameter ARN>"}}'
        )
    else:
        move = (
            f"inject it through the `secrets` of container '{container}' in the task definition (`valueFrom`) as an "
            "environment variable and have the command read that variable instead of carrying the value"
        )
    return (
        f"Rotate this credential now: it is recorded in CloudTrail (the {event_name} request and response) and "
        "in the task's overrides, which anyone with ecs:DescribeTasks can read, so stopping the task is not enough. "
        "Do not pass secrets as overrides (container overrides cannot carry `secrets`): store the new value in AWS "
        f"Secrets Manager or an SSM SecureString parameter, {move}, register that revision and launch it without "
        "the override. The execution role needs secretsmanager:GetSecretValue or ssm:GetParameters (and kms:Decrypt "
        "for a customer key) on it."
    )


def split_task_definition(reference: str) -> tuple[str | None, int | None]:
    """``family``, ``family:7`` or a task-definition ARN -> (family, revision or None)."""
    match = _TASK_DEFINITION.match(reference)
    if not match:
        return None, None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def scan_overrides(launch: TaskLaunch, *, event_name: str, target: str, settings: Settings) -> list[Finding]:
    """``plaintext-secret`` findings for the container overrides of one launch (no values in them)."""
    context = CheckContext(target=target, secret_allowlist=settings.secret_allowlist)
    findings: list[Finding] = []
    for override in launch.container_overrides:
        for field, match in scan_container(override):
            if allowlisted(settings.secret_allowlist, field, match):
                continue
            findings.append(
                secret_finding(
                    context,
                    match,
                    f"The {event_name} call passed a plaintext credential to container '{override.name}' in its "
                    f"override {field}: {match.kind} (rule {match.rule}, {match.hint}).",
                    container=override.name,
                    field=f"overrides.containerOverrides[{override.name}].{field}",
                    remediation=remediation(event_name, override.name, field),
                )
            )
    return findings


def read_overrides(clients: Clients, region: str, launch: TaskLaunch) -> TaskLaunch:
    """DescribeTasks for the overrides CloudTrail left out (only then); the launch unchanged on failure."""
    try:
        kwargs: dict[str, Any] = {"tasks": list(launch.task_arns[:100])}
        if launch.cluster:
            kwargs["cluster"] = launch.cluster
        tasks = clients("ecs", region).describe_tasks(**kwargs).get("tasks", [])
    except (ClientError, BotoCoreError) as exc:
        logger.warning("overrides could not be read back", extra={"error": type(exc).__name__})
        return launch
    items = next((task.get("overrides", {}).get("containerOverrides") for task in tasks if task.get("overrides")), None)
    if not isinstance(items, list):
        return launch
    overrides = tuple(Container.from_api(item, i) for i, item in enumerate(items) if isinstance(item, Mapping))
    return TaskLaunch(
        task_definition=launch.task_definition,
        cluster=launch.cluster,
        launch_type=launch.launch_type,
        container_overrides=overrides,
        task_arns=launch.task_arns,
        started_by=launch.started_by,
    )


def _describe(clients: Clients, region: str, reference: str, fallback: TaskDefinition) -> TaskDefinition:
    """The launched definition with its tags; the fallback (no tags) when it cannot be read."""
    try:
        return read_task_definition(clients, region, reference)
    except SkipEvent as reason:
        logger.warning("launched task definition not readable; its tags are unknown", extra={"reason": str(reason)})
    except (ClientError, BotoCoreError) as exc:
        logger.warning(
            "launched task definition not readable; its tags are unknown", extra={"error": type(exc).__name__}
        )
    return fallback


def block(report: Report, clients: Clients) -> list[ActionResult]:
    """Stop exactly the tasks this call started (nothing else, nothing deleted)."""
    reason = f"ecsguard: plaintext credential in {report.event_name} container overrides (check {CHECK_ID})"
    return stop_started_tasks(report, clients, reason=reason)


def process_launch(
    event: Mapping[str, Any], *, settings: Settings, clients: Clients, once: Once | None = None
) -> dict[str, Any]:
    """Handle one RunTask/StartTask event end to end; returns a summary (never secret values).

    The scan always runs (it only reads the event). Stopping tasks and the notification run through
    ``once`` keyed on CloudTrail's eventID, so a duplicate delivery neither acts nor notifies twice;
    a clean launch never reaches it (no idempotency-store call on the common path).
    """
    try:
        parsed: Launch = parse_launch(event)
        call, launch = parsed.call, parsed.launch
        family, revision = split_task_definition(launch.task_definition)
        if settings.family_exempt(family):
            raise SkipEvent(f"family {family} is exempt (ECSGUARD_EXEMPT_FAMILIES)")
        if not settings.enabled(CHECK_ID):
            raise SkipEvent(f"{CHECK_ID} is off (ECSGUARD_MODES): nothing to check in a launch")
    except SkipEvent as skip:
        logger.info("event skipped", extra={"reason": str(skip)})
        return {"status": "skipped", "reason": str(skip)}

    if parsed.reason_incomplete:
        logger.info("reading task overrides", extra={"reason": parsed.reason_incomplete})
        launch = read_overrides(clients, call.region, launch)

    td = TaskDefinition(
        family=family,
        containers=(),
        revision=revision,
        arn=launch.task_definition if launch.task_definition.startswith("arn:") else None,
    )
    findings = scan_overrides(launch, event_name=call.event_name, target=td.name, settings=settings)
    exempted: list[Finding] = []
    if findings:
        td = _describe(clients, call.region, launch.task_definition, td)
        ignored = ignored_checks(td)
        exempted = [f for f in findings if is_exempt(f, ignored)]
        findings = [f for f in findings if not is_exempt(f, ignored)]

    mode = settings.mode(CHECK_ID)
    effective = "notify" if mode == "remediate" else mode  # nothing to fix in a launch: the value is recorded
    report = Report(
        task_definition=td,
        account=call.account,
        region=call.region,
        actor=call.actor,
        event_time=call.event_time,
        event_id=call.event_id,
        findings=findings,
        modes={f.check: effective for f in findings},
        exempted=exempted,
        launch=launch,
        event_name=call.event_name,
    )

    if findings:
        act_and_notify_once(
            report,
            lambda: block(report, clients) if effective == "block" else [],
            settings=settings,
            clients=clients,
            once=once,
        )
    logger.info(
        "task launch checked",
        extra={
            "event_name": call.event_name,
            "task_definition": td.arn or td.name,
            "tasks": list(launch.task_arns),
            "checks": sorted({f.check for f in findings}),
            "fields": [f.field for f in findings],
            "exempted": sorted({f.check for f in exempted}),
            "actions": [f"{a.action}:{'ok' if a.ok else 'failed'}" for a in report.actions],
            "message_id": report.message_id,
        },
    )
    return report.summary()
