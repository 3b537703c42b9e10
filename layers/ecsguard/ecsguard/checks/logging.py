"""Logging: containers whose logs go nowhere, or whose task cannot start because of its log setup."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Container, Finding, TaskDefinition
from .registry import CheckContext, check

DOCS_AWSLOGS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"
DOCS_LOGCONFIG = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_storage"

_LOG_GROUP_NAME = re.compile(r"^[\.\-_/#A-Za-z0-9]{1,512}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
# Values a template engine or shell will fill in later (${x}, $X, {{x}}, <x>, %{x}, #{x}, __X__, or a bare
# ALL_CAPS word such as REGION): we cannot judge them, so checks about their value stay silent.
_TEMPLATED = re.compile(
    r"\$\{|\$[A-Za-z_]|\{\{|<[A-Za-z0-9_\- .]+>|\$\(|[%#]\{|%\(|__[A-Za-z0-9_]+__|^[A-Z][A-Z0-9_]*$"
)


def templated(value: str | None) -> bool:
    return bool(value) and bool(_TEMPLATED.search(value or ""))


def _awslogs(container: Container) -> dict[str, str] | None:
    config = container.log_configuration
    if config is None or (config.log_driver or "").lower() != "awslogs":
        return None
    return dict(config.options)


def awslogs_destination(container: Container, default_region: str | None) -> tuple[str, str] | None:
    """(region, log group) an awslogs container writes to, when both are known and concrete."""
    options = _awslogs(container)
    if options is None:
        return None
    group = options.get("awslogs-group")
    region = options.get("awslogs-region") or default_region
    if not group or not region or templated(group) or templated(region):
        return None
    if not _LOG_GROUP_NAME.match(group) or not _REGION.match(region):
        return None
    return region, group


@check(
    id="log-group-missing",
    title="awslogs log group does not exist",
    severity="high",
    mistake=1,
    rationale=(
        "The awslogs driver does not create the log group unless awslogs-create-group is set: the task fails to "
        "start with ResourceInitializationError and its logs are lost."
    ),
    remediation=(
        "Create the log group (ecsguard does this in remediate mode, with the stack's retention and KMS key), or set "
        "awslogs-create-group to true and allow logs:CreateLogGroup in the execution role."
    ),
    docs=DOCS_AWSLOGS,
    default_mode="remediate",
    needs_facts=True,
    remediable=True,
    aws_calls=("logs:DescribeLogGroups",),
)
def log_group_missing(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    assert context.facts is not None
    for container in task_definition.containers:
        destination = awslogs_destination(container, context.region or task_definition.region)
        if destination is None:
            continue
        options = _awslogs(container) or {}
        if (options.get("awslogs-create-group") or "").lower() == "true":
            continue  # ECS creates it at start; whether the role may do so is log-group-autocreate-denied.
        region, group = destination
        if context.facts.log_group_exists(region, group) is not False:
            continue  # exists, or cannot be known (region denied to ecsguard): never guess
        yield log_group_missing.finding(
            context,
            f"Container '{container.name}' sends logs to log group '{group}' in {region}, which does not exist: "
            "the task will fail to start.",
            container=container.name,
            field="logConfiguration.options.awslogs-group",
            region=region,
            log_group=group,
        )


@check(
    id="logging-disabled",
    title="Container has no log configuration",
    severity="low",
    mistake=1,
    rationale=(
        "Without a logConfiguration the container's output reaches no log service: on Fargate it is discarded, on "
        "EC2 it stays on the instance until the instance is replaced. Nothing to read when the task fails."
    ),
    remediation=(
        "Add a logConfiguration, for example the awslogs driver with awslogs-group, awslogs-region and "
        "awslogs-stream-prefix, or route logs through a FireLens sidecar."
    ),
    docs=DOCS_LOGCONFIG,
    config_rules=("ecs-task-definition-log-configuration",),
    security_hub=("ECS.9",),
    control_tower=("CT.ECS.PR.5",),
    prowler=("ecs_task_definitions_logging_enabled",),
)
def logging_disabled(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    # On Fargate nothing keeps the output; on EC2 Docker's default driver keeps it on the instance only.
    where = (
        "its output is discarded"
        if task_definition.is_fargate
        else "its output reaches no log service (on EC2 it stays on the container instance, "
        "with Docker's default driver, until the instance is replaced; on Fargate it is discarded)"
    )
    for container in task_definition.containers:
        config = container.log_configuration
        if config is None or not config.log_driver:
            yield logging_disabled.finding(
                context,
                f"Container '{container.name}' has no logConfiguration: {where}.",
                container=container.name,
                field="logConfiguration",
            )
        elif config.log_driver.lower() == "none":
            yield logging_disabled.finding(
                context,
                f"Container '{container.name}' uses the 'none' log driver: its output is discarded.",
                container=container.name,
                field="logConfiguration.logDriver",
            )


@check(
    id="awslogs-options-invalid",
    title="awslogs options that stop the task from starting",
    severity="medium",
    mistake=1,
    rationale="The awslogs driver needs an awslogs-group, a valid region when one is named, and a stream prefix on Fargate.",
    remediation="Set awslogs-group (and awslogs-stream-prefix on Fargate) and name a real AWS region in awslogs-region.",
    docs=DOCS_AWSLOGS,
)
def awslogs_options_invalid(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    for container in task_definition.containers:
        options = _awslogs(container)
        if options is None:
            continue
        problems: list[tuple[str, str]] = []
        group = options.get("awslogs-group")
        region = options.get("awslogs-region")
        if not group:
            problems.append(("awslogs-group", "awslogs-group is not set"))
        elif not templated(group) and not _LOG_GROUP_NAME.match(group):
            problems.append(("awslogs-group", "awslogs-group is not a valid log group name"))
        # A missing awslogs-region is not reported: the driver falls back to the task's region.
        if region and not templated(region) and not _REGION.match(region):
            problems.append(("awslogs-region", f"awslogs-region '{region}' is not an AWS region"))
        if task_definition.is_fargate and not options.get("awslogs-stream-prefix"):
            problems.append(("awslogs-stream-prefix", "awslogs-stream-prefix is required on Fargate"))
        mode = options.get("mode")
        if mode and not templated(mode) and mode not in {"blocking", "non-blocking"}:
            problems.append(("mode", f"mode '{mode}' is neither blocking nor non-blocking"))
        for option, problem in problems:
            yield awslogs_options_invalid.finding(
                context,
                f"Container '{container.name}': {problem}.",
                container=container.name,
                field=f"logConfiguration.options.{option}",
            )
