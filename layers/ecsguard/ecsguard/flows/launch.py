"""The launch flow: RunTask / StartTask / CreateService / UpdateService -> checks -> policy -> stop -> notification.

A launch is checked for what it adds to the task definition, which was checked when it was registered:

* ``plaintext-secret`` over ``overrides.containerOverrides`` (RunTask/StartTask: environment values, command
  arguments), recorded in CloudTrail and in the task's overrides for anyone with ``ecs:DescribeTasks``;
* the checks of scope ``launch`` (:mod:`ecsguard.checks.network`): can the task reach its image registries
  (and CloudWatch Logs, Secrets Manager, SSM) from the subnets, route tables, endpoints and security groups
  the call names? Only awsvpc launches that may run on Fargate (EC2 pulls through the instance).

Handlers call :func:`process_launch`, which mirrors :func:`ecsguard.flows.registration.process_registration`:

* skip failed calls, foreign events, exempt families (``ECSGUARD_EXEMPT_FAMILIES``), UpdateService calls that
  change neither the definition, the network nor the capacity;
* the launched definition is the one in the response (``tasks[].taskDefinitionArn``, ``service.taskDefinition``);
  it is read (DescribeTaskDefinition with tags) when a check needs it or a finding must honour its
  ``ecsguard:ignore`` tag: a clean RunTask with no network to judge costs no AWS read;
* ``block`` stops exactly the tasks this call started and never touches a service (for CreateService and
  UpdateService ecsguard notifies); ``remediate`` cannot fix a launch, so it notifies;
* one SNS message per event with findings, through :mod:`ecsguard.flows.act_and_notify`."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.clients import Clients
from ..aws.facts import read_task_definition
from ..checks import REGISTRY, CheckContext, load_all
from ..checks.secrets import allowlisted, scan_container, secret_finding
from ..events import TASK_EVENT_NAMES, Launch, SkipEvent, parse_launch, service_launch, split_task_definition
from ..facts import Facts
from ..model import ActionResult, Container, Finding, Report, TaskDefinition, TaskLaunch
from ..policy import Settings, evaluate, ignored_checks, is_exempt
from .act_and_notify import Once, act_and_notify_once
from .remediations import stop_started_tasks

logger = logging.getLogger(__name__)

CHECK_ID = "plaintext-secret"


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
    return dataclasses.replace(launch, container_overrides=overrides)


def read_service(clients: Clients, region: str, launch: TaskLaunch, event_name: str) -> TaskLaunch:
    """DescribeServices for what CloudTrail left out of a service call's response (only then).

    SkipEvent when the service no longer exists (nothing runs it); AWS errors propagate, so the invocation
    fails and is retried rather than judging a launch whose definition and network are unknown.
    """
    kwargs: dict[str, Any] = {"services": [launch.service]}
    if launch.cluster:
        kwargs["cluster"] = launch.cluster
    try:
        response = clients("ecs", region).describe_services(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in {"ClientException", "InvalidParameterException", "ClusterNotFoundException"}:
            raise SkipEvent(f"{event_name}: service {launch.service} cannot be read: {code}") from None
        raise  # throttling, access denied, server errors: the invocation fails and is retried
    services = [s for s in response.get("services", []) if isinstance(s, Mapping) and s.get("status") != "INACTIVE"]
    if not services:
        raise SkipEvent(f"{event_name}: service {launch.service} no longer exists")
    found = service_launch(event_name, {}, {"service": services[0]})
    return TaskLaunch(
        task_definition=launch.task_definition or found.task_definition,
        cluster=found.cluster or launch.cluster,
        launch_type=found.launch_type or launch.launch_type,
        network=launch.network or found.network,
        capacity_providers=launch.capacity_providers or found.capacity_providers,
        service=found.service or launch.service,
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


def launch_checks() -> list[str]:
    """The ids of the checks of scope ``launch`` (the network checks), in registry order."""
    return [check.id for check in load_all().values() if check.scope == "launch"]


def network_applies(launch: TaskLaunch) -> bool:
    """Whether the network checks can apply: an awsvpc network configuration, not on EC2/EXTERNAL."""
    return launch.network is not None and bool(launch.network.subnets) and launch.on_fargate is not False


def block(report: Report, clients: Clients, checks: list[str]) -> list[ActionResult]:
    """Stop exactly the tasks this call started (nothing else, nothing deleted); a service is never touched."""
    if checks == [CHECK_ID]:
        reason = f"ecsguard: plaintext credential in {report.event_name} container overrides (check {CHECK_ID})"
    else:
        reason = f"ecsguard: {report.event_name} blocked (checks {', '.join(checks)})"
    return stop_started_tasks(report, clients, reason=reason)


def effective_mode(mode: str, launch: TaskLaunch) -> str:
    """What a check's mode can do for a launch: remediate has nothing to fix; block needs tasks to stop."""
    if mode == "remediate":
        return (
            "notify"  # the value was passed at run time and is already recorded; a network is not ecsguard's to change
        )
    if mode == "block" and launch.service:
        return "notify"  # the service scheduler starts the tasks: ecsguard never stops a service's tasks or the service
    return mode


def _network_findings(
    td: TaskDefinition, launch: TaskLaunch, *, settings: Settings, facts: Facts, region: str
) -> tuple[list[Finding], list[Finding]]:
    """The launch checks' findings (and those the ecsguard:ignore tag exempts)."""
    if not td.containers:
        # The definition could not be read: no image, log configuration or secret to judge. Never a silent pass.
        context = CheckContext(target=td.name, region=region, launch=launch)
        check = REGISTRY["registry-unreachable"]
        if not settings.enabled(check.id):
            return [], []
        return [
            check.unverified(
                context, "whether the task can reach its image registries", reason="task definition not readable"
            )
        ], []
    return evaluate(td, settings, facts, region, scope="launch", launch=launch, target=td.name)


def process_launch(
    event: Mapping[str, Any],
    *,
    settings: Settings,
    clients: Clients,
    facts: Facts | None = None,
    once: Once | None = None,
) -> dict[str, Any]:
    """Handle one launch event end to end; returns a summary (never secret values).

    The override scan only reads the event. The network checks read the launched definition and the
    network (subnets, route tables, endpoints, security groups). Stopping tasks and the notification run
    through ``once`` keyed on CloudTrail's eventID, so a duplicate delivery neither acts nor notifies twice;
    a clean launch never reaches it (no idempotency-store call on the common path).
    """
    try:
        parsed: Launch = parse_launch(event)
        call, launch = parsed.call, parsed.launch
        if parsed.service_incomplete:
            logger.info("reading the service", extra={"reason": parsed.service_incomplete})
            launch = read_service(clients, call.region, launch, call.event_name)
        family, revision = split_task_definition(launch.task_definition)
        if family is None:
            raise SkipEvent(f"{call.event_name} event names no readable task definition")
        if settings.family_exempt(family):
            raise SkipEvent(f"family {family} is exempt (ECSGUARD_EXEMPT_FAMILIES)")
        scan_secrets = call.event_name in TASK_EVENT_NAMES and settings.enabled(CHECK_ID)
        network = network_applies(launch) and any(settings.enabled(c) for c in launch_checks())
        if not scan_secrets and not network:
            why = (
                "no awsvpc network to judge on Fargate"
                if call.event_name not in TASK_EVENT_NAMES
                else "plaintext-secret is off (ECSGUARD_MODES) and there is no awsvpc network to judge on Fargate"
            )
            raise SkipEvent(f"{call.event_name}: nothing to check ({why})")
    except SkipEvent as skip:
        logger.info("event skipped", extra={"reason": str(skip)})
        return {"status": "skipped", "reason": str(skip)}

    if parsed.reason_incomplete and scan_secrets:
        logger.info("reading task overrides", extra={"reason": parsed.reason_incomplete})
        launch = read_overrides(clients, call.region, launch)

    td = TaskDefinition(
        family=family,
        containers=(),
        revision=revision,
        arn=launch.task_definition if launch.task_definition.startswith("arn:") else None,
    )
    findings = (
        scan_overrides(launch, event_name=call.event_name, target=td.name, settings=settings) if scan_secrets else []
    )
    exempted: list[Finding] = []
    if findings or network:
        td = _describe(clients, call.region, launch.task_definition, td)
        ignored = ignored_checks(td)
        exempted = [f for f in findings if is_exempt(f, ignored)]
        findings = [f for f in findings if not is_exempt(f, ignored)]
    if network:
        from ..aws.facts import LaunchFacts

        found, set_aside = _network_findings(
            td, launch, settings=settings, facts=facts or LaunchFacts(clients), region=call.region
        )
        findings += found
        exempted += set_aside

    modes = {f.check: effective_mode(settings.mode(f.check), launch) for f in findings}
    report = Report(
        task_definition=td,
        account=call.account,
        region=call.region,
        actor=call.actor,
        event_time=call.event_time,
        event_id=call.event_id,
        findings=findings,
        modes=modes,
        exempted=exempted,
        launch=launch,
        event_name=call.event_name,
    )
    blocking = sorted({check for check, mode in modes.items() if mode == "block"})

    if findings:
        act_and_notify_once(
            report,
            lambda: block(report, clients, blocking) if blocking else [],
            settings=settings,
            clients=clients,
            once=once,
        )
    logger.info(
        "task launch checked",
        extra={
            "event_name": call.event_name,
            "task_definition": td.arn or td.name,
            "ecs_service": launch.service,
            "tasks": list(launch.task_arns),
            "checks": sorted({f.check for f in findings}),
            "fields": [f.field for f in findings],
            "exempted": sorted({f.check for f in exempted}),
            "actions": [f"{a.action}:{'ok' if a.ok else 'failed'}" for a in report.actions],
            "message_id": report.message_id,
        },
    )
    return report.summary()
