"""Stopped-task diagnosis (scope "stopped"): why did that task stop, in ECS terms, and what fixes it?

The checks read ``context.stopped`` (the ``ECS Task State Change`` event of a task that reached STOPPED)
and the definition it ran (memory, images, log configuration, secrets, execution role):

* ``image-pull-failed``: ``CannotPullContainerError``: the pull timed out (the network path), the image or tag
  does not exist, the pull was denied (the execution role, the repository policy, registry credentials), a
  rate limit, or no variant for the task's platform;
* ``task-init-failed``: ``ResourceInitializationError``: the awslogs log group is missing (the flow then creates
  it, see :mod:`ecsguard.flows.stopped`), secrets cannot be fetched (permission, missing, KMS, no endpoint), the
  registry authorization fails, environment files cannot be downloaded;
* ``oom-killed``: an essential container exited 137 with ``OutOfMemoryError``, with the memory it had and a
  concrete larger size;
* ``essential-container-exited`` (info): an essential container exited non-zero within
  :data:`SOON_AFTER_START` of the task's start (a crash at start: a bad command, a missing variable).

Routine stops say nothing (:func:`routine_stop`): the service scheduler's scale-in and deployments, StopTask by
a user, Fargate Spot interruptions and instance termination notices, containers that exited 0.

The reasons in the event are free text that may quote anything an application printed, so no check ever
repeats them: messages name the error class ECS reports, the container, the image, the log group or the
secret reference as the *definition* names them, and say what each words means in ECS terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..facts import EcrImage, Unknown
from ..imageref import ImageRef, parse_image, task_platform
from ..model import Container, Finding, NetworkConfiguration, StoppedContainer, StoppedTask, TaskDefinition, TaskLaunch
from .logging import awslogs_destination, templated
from .registry import REGISTRY, CheckContext, check
from .resources import fargate_sizes

DOCS_STOPPED = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html"
DOCS_PULL = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html"
DOCS_INIT = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html"
DOCS_OOM = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html"

# Stops nobody needs to hear about: the service scheduler replacing or removing tasks (scale-in,
# deployments), StopTask by a person or a pipeline, capacity AWS reclaimed with notice (Fargate Spot, an
# instance being terminated). The scheduler replaces what it needs; nothing in the definition is wrong.
ROUTINE_STOP_CODES = {
    "ServiceSchedulerInitiated": "the service scheduler stopped it (scale-in or a deployment)",
    "UserInitiated": "StopTask by a user or a pipeline",
    "SpotInterruption": "Fargate Spot reclaimed the capacity (a two-minute notice; the service replaces it)",
    "TerminationNotice": "its container instance or Fargate capacity was being terminated (the service replaces it)",
}
# essential-container-exited reports a non-zero exit within this long of the task's start (or a task that never
# reached RUNNING): a crash at start is a configuration problem (command, variables, a dependency it cannot
# reach); an exit after hours of work is the application's own story and is not reported.
SOON_AFTER_START = timedelta(minutes=5)

_PULL_ERROR = re.compile(r"CannotPullContainerError", re.IGNORECASE)
_INIT_ERROR = re.compile(r"ResourceInitializationError", re.IGNORECASE)
_OOM = re.compile(r"OutOfMemory", re.IGNORECASE)
_NETWORK = re.compile(
    r"i/o timeout|timed out|timeout|deadline exceeded|request ?canceled|connection (?:refused|reset)|no route to host"
    r"|network is unreachable|no such host|dial tcp|check your task network configuration",
    re.IGNORECASE,
)
_RATE_LIMITED = re.compile(r"toomanyrequests|too many requests|rate limit", re.IGNORECASE)
_PLATFORM = re.compile(
    r"no matching manifest|descriptor matching platform|does not match the specified platform", re.IGNORECASE
)
_DENIED = re.compile(
    r"\b403\b|\b401\b|forbidden|access ?denied|denied|unauthori[sz]ed|not authorized|no basic auth credentials",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(
    r"not found|manifest unknown|name unknown|does not exist|can't find|cannot find|ParameterNotFound"
    r"|invalid parameters",
    re.IGNORECASE,
)
_LOGGER = re.compile(r"failed to validate logger args|log group|log stream|CreateLogStream", re.IGNORECASE)
_LOG_GROUP_MISSING = re.compile(r"log group does not exist|ResourceNotFoundException", re.IGNORECASE)
_REGISTRY_AUTH = re.compile(r"ecr registry auth|GetAuthorizationToken", re.IGNORECASE)
_SECRETS = re.compile(
    r"secrets? from (?:asm|ssm)|fetch secret|secrets manager|GetSecretValue|GetParameters|ssm", re.IGNORECASE
)
_KMS = re.compile(r"\bkms\b|decrypt", re.IGNORECASE)
_ENV_FILES = re.compile(r"env(?:ironment)? ?files?", re.IGNORECASE)
_ERROR_CLASS = re.compile(r"\b([A-Z][A-Za-z]{2,60}(?:Error|Exception))\b")

# What a common exit code means (Linux; 128 + N is "killed by signal N").
EXIT_CODES = {
    1: "an application error",
    2: "a shell or usage error",
    126: "the command is not executable",
    127: "the command was not found in the image",
    134: "aborted (SIGABRT)",
    137: "killed (SIGKILL)",
    139: "a segmentation fault (SIGSEGV)",
    143: "terminated (SIGTERM)",
}


def routine_stop(stopped: StoppedTask) -> str | None:
    """Why this stop needs no message (None when it may): a routine stop code, or every container exited 0."""
    if stopped.stop_code in ROUTINE_STOP_CODES:
        return f"routine stop ({stopped.stop_code}): {ROUTINE_STOP_CODES[stopped.stop_code]}"
    texts = [stopped.stopped_reason or ""] + [c.reason or "" for c in stopped.containers]
    failed = any(c.exit_code not in (None, 0) for c in stopped.containers)
    if stopped.containers and not failed and not any(_ERROR_CLASS.search(t) or _OOM.search(t) for t in texts):
        if all(c.exit_code == 0 for c in stopped.containers):
            return "routine stop: every container exited 0 (the task's work was done)"
    return None


def needs_service_network(stopped: StoppedTask) -> bool:
    """Does the diagnosis want the service's network configuration (a pull or start that timed out on awsvpc)?"""
    if routine_stop(stopped) or not stopped.subnets or not stopped.service:
        return False
    texts = [stopped.stopped_reason or ""] + [c.reason or "" for c in stopped.containers]
    return any((_PULL_ERROR.search(t) or _INIT_ERROR.search(t)) and _NETWORK.search(t) for t in texts)


def _task_id(stopped: StoppedTask) -> str:
    return stopped.task_arn.rsplit("/", 1)[-1]


def _on_fargate(stopped: StoppedTask, task_definition: TaskDefinition) -> bool:
    if stopped.launch_type:
        return stopped.launch_type.upper() == "FARGATE"
    if stopped.capacity_provider:
        return stopped.capacity_provider.upper() in {"FARGATE", "FARGATE_SPOT"}
    return task_definition.is_fargate and task_definition.requires_compatibilities == ("FARGATE",)


def _definition_container(task_definition: TaskDefinition, name: str) -> Container | None:
    return next((c for c in task_definition.containers if c.name == name), None)


def _essential(container: Container | None) -> bool:
    """ECS's default is essential; a container the definition does not describe (unreadable) counts as essential."""
    return container is None or container.essential is not False


def _image(stopped: StoppedContainer | None, container: Container | None) -> str | None:
    # What ECS tried to pull (the event's image), else what the definition names.
    for image in ((stopped.image if stopped else None), (container.image if container else None)):
        if image and not templated(image):
            return image
    return None


def _error_class(text: str, default: str) -> str:
    match = _ERROR_CLASS.search(text)
    return match.group(1) if match else default


@dataclass(frozen=True, slots=True)
class _Failure:
    """A container (or the task) that failed with one error, and the text that says how (never shown)."""

    name: str | None  # None: the task's stoppedReason names no container of the event
    text: str
    stopped: StoppedContainer | None
    container: Container | None


def _failures(task_definition: TaskDefinition, stopped: StoppedTask, error: re.Pattern[str]) -> list[_Failure]:
    """Containers whose reason carries ``error``; else the task's stoppedReason, on the container it names."""
    found = [
        _Failure(c.name, c.reason or "", c, _definition_container(task_definition, c.name))
        for c in stopped.containers
        if c.reason and error.search(c.reason)
    ]
    if found or not (stopped.stopped_reason and error.search(stopped.stopped_reason)):
        return found
    text = stopped.stopped_reason
    # The task-level reason quotes the image it could not pull (or nothing): attribute it to that container.
    for container in task_definition.containers:
        if container.image and container.image in text:
            event = next((c for c in stopped.containers if c.name == container.name), None)
            return [_Failure(container.name, text, event, container)]
    for event in stopped.containers:
        if event.image and event.image in text:
            return [_Failure(event.name, text, event, _definition_container(task_definition, event.name))]
    return [_Failure(None, text, None, None)]


def _who(failure: _Failure) -> str:
    return f"container '{failure.name}'" if failure.name else "a container"


def _region_of(task_definition: TaskDefinition, context: CheckContext) -> str | None:
    return context.region or task_definition.region


def _subnets(stopped: StoppedTask) -> str:
    return ", ".join(stopped.subnets) if stopped.subnets else "its subnet"


# ------------------------------------------------------------------------------------------- image-pull-failed


def pull_cause(text: str) -> str:
    """network | rate-limited | platform | access-denied | not-found | other, for a CannotPullContainerError."""
    if _RATE_LIMITED.search(text):
        return "rate-limited"
    if _PLATFORM.search(text):
        return "platform"
    if _DENIED.search(text):
        return "access-denied"
    if _NOT_FOUND.search(text):
        return "not-found"
    if _NETWORK.search(text):
        return "network"
    return "other"


@check(
    id="image-pull-failed",
    title="Task stopped: ECS could not pull a container image",
    severity="high",
    mistake=2,
    rationale=(
        "CannotPullContainerError stops a task before it starts, and a service retries it forever. The cause is one "
        "of: no network path from the task to the registry (a timeout: on Fargate the task's own subnet needs an "
        "internet gateway route plus a public IP, a NAT route, or for ECR the ecr.api and ecr.dkr interface "
        "endpoints with the S3 gateway endpoint; on EC2 the container instance's); the image or tag does not exist; "
        "the pull is denied (the execution role's ECR permissions, the repository policy, or a private registry's "
        "repositoryCredentials); a registry rate limit; or no image variant for the task's platform. For a timeout "
        "on Fargate ecsguard runs its launch check registry-unreachable on the task's subnets and includes its "
        "verdict."
    ),
    remediation=(
        "Fix what the message names: the subnet's path to the registry, the image tag, the execution role's "
        "ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer, or the registry credentials; "
        "then let the service start a new task (or force a new deployment)."
    ),
    docs=DOCS_PULL,
    scope="stopped",
    aws_calls=(
        "ecr:DescribeImages",
        "ec2:DescribeSubnets",
        "ec2:DescribeRouteTables",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeSecurityGroups",
        "ecr:DescribePullThroughCacheRules",
    ),
)
def image_pull_failed(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    stopped = context.stopped
    if stopped is None or routine_stop(stopped):
        return
    for failure in _failures(task_definition, stopped, _PULL_ERROR):
        cause = pull_cause(failure.text)
        image = _image(failure.stopped, failure.container)
        ref = parse_image(image)
        shown = f"image {image}" if image else "its image"
        head = f"Task {_task_id(stopped)} never started: ECS could not pull {shown} for {_who(failure)}"
        message, fix, extra = _pull_explanation(task_definition, context, stopped, failure, cause, ref, head)
        yield image_pull_failed.finding(
            context,
            message,
            container=failure.name,
            field="image",
            remediation=fix,
            cause=cause,
            image=image,
            **extra,
        )


def _pull_explanation(
    task_definition: TaskDefinition,
    context: CheckContext,
    stopped: StoppedTask,
    failure: _Failure,
    cause: str,
    ref: ImageRef | None,
    head: str,
) -> tuple[str, str, dict[str, Any]]:
    region = _region_of(task_definition, context)
    reference = ref.reference() if ref else "the image"
    extra: dict[str, Any] = {}
    if cause == "network":
        message, fix, extra = _pull_network(task_definition, context, stopped, failure, ref, head)
        return message, fix, extra
    if cause == "not-found":
        message = (
            f"{head} (CannotPullContainerError: not found): {reference} does not exist in "
            f"{ref.registry if ref else 'its registry'}. The tag was never pushed, has a typo, or was removed (an ECR "
            "lifecycle policy expires old images)."
        )
        confirmation = _ecr_confirmation(context, ref)
        if confirmation:
            message += " " + confirmation
        if ref and ref.is_ecr:
            fix = (
                f"Push {reference} (or pick a tag that exists: aws ecr describe-images --repository-name "
                f"{ref.repository} --region {ref.ecr_region}), register a revision that names it in container "
                f"'{failure.name or '<container>'}' \"image\", and update the service to that revision. Pin images "
                "by a tag your pipeline never reuses, or by digest, so a lifecycle rule cannot remove what runs."
            )
        else:
            fix = (
                f'Check the name and tag of {reference} in its registry, then register a revision whose "image" '
                "names one that exists, and update the service to it."
            )
        return message, fix, extra
    if cause == "access-denied":
        return _pull_denied(task_definition, stopped, failure, ref, head, region)
    if cause == "rate-limited":
        message = (
            f"{head} (CannotPullContainerError: too many requests): the registry refused the pull because of its rate "
            "limit (Docker Hub limits anonymous pulls per IP address; every Fargate task pulls afresh, and tasks "
            "behind one NAT gateway share its address)."
        )
        fix = (
            "Pull through Amazon ECR instead: create a pull-through cache rule for the upstream registry and point "
            '"image" at <account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<repository>:<tag>, or copy the image '
            "into your own ECR repository; or give the container repositoryCredentials of an authenticated account."
        )
        return message, fix, extra
    if cause == "platform":
        platform = task_platform(task_definition.os_family, task_definition.cpu_architecture)
        message = (
            f"{head} (CannotPullContainerError: no matching manifest): {reference} has no variant for the task's "
            f"platform {platform}."
        )
        fix = (
            f"Build and push {reference} for {platform} (docker buildx build --platform {platform}, or a multi-platform "
            'image), or set the definition\'s runtimePlatform ("cpuArchitecture": "ARM64" or "X86_64") to the '
            "platform the image was built for."
        )
        return message, fix, extra
    message = (
        f"{head} ({_error_class(failure.text, 'CannotPullContainerError')}). ECS did not say why in words ecsguard "
        "knows; the full reason is on the stopped task in the ECS console (Tasks, Stopped)."
    )
    return message, image_pull_failed.remediation, extra


def _ecr_confirmation(context: CheckContext, ref: ImageRef | None) -> str:
    if context.facts is None or ref is None or not ref.is_ecr:
        return ""
    answer = context.facts.ecr_image(ref.original)
    if isinstance(answer, Unknown) or answer is None:
        return ""
    assert isinstance(answer, EcrImage)
    if not answer.found:
        return f"ECR confirms it now: {answer.not_found_reason or 'ImageNotFoundException'}."
    return "ECR has it now: it was pushed after the task tried, so the next task should start."


def _pull_denied(
    task_definition: TaskDefinition,
    stopped: StoppedTask,
    failure: _Failure,
    ref: ImageRef | None,
    head: str,
    region: str | None,
) -> tuple[str, str, dict[str, Any]]:
    reference = ref.reference() if ref else "the image"
    role = task_definition.execution_role_arn
    credentials = failure.container.repository_credentials if failure.container else None
    if ref and ref.is_ecr:
        repository = f"arn:aws:ecr:{ref.ecr_region}:{ref.ecr_account}:repository/{ref.repository}"
        if not role:
            message = (
                f"{head} (CannotPullContainerError: access denied): the task definition has no executionRoleArn, and "
                f"ECS pulls a private ECR image ({reference}) with the execution role."
            )
            fix = (
                'Add "executionRoleArn": "arn:aws:iam::<account>:role/ecsTaskExecutionRole" to the definition (a role '
                "trusted by ecs-tasks.amazonaws.com with the AWS managed policy AmazonECSTaskExecutionRolePolicy), "
                "register the revision and update the service to it."
            )
            return message, fix, {"execution_role": None}
        other_account = bool(task_definition.arn) and f":{ref.ecr_account}:" not in (task_definition.arn or "")
        message = (
            f"{head} (CannotPullContainerError: access denied): the execution role {role} may not pull {reference}, "
            "or the repository's policy refuses it"
            + (" (the repository is in another account: its policy must allow the role)." if other_account else ".")
        )
        fix = (
            f'Allow the execution role {role} ecr:GetAuthorizationToken on "*" and ecr:BatchGetImage and '
            f"ecr:GetDownloadUrlForLayer on {repository} (the AWS managed policy AmazonECSTaskExecutionRolePolicy "
            "grants them), and make sure the repository policy does not deny the role (for a repository in another "
            "account, its policy must allow it). Then let the service start a new task."
        )
        return message, fix, {"execution_role": role, "repository": repository}
    registry = ref.registry if ref else "the registry"
    if credentials:
        message = (
            f"{head} (CannotPullContainerError: access denied): {registry} refused the credentials in the secret "
            f"{credentials} (repositoryCredentials), or the repository does not exist."
        )
        fix = (
            f'Make sure the secret {credentials} holds {{"username": ..., "password": ...}} of an account that may '
            f"pull {reference} and that the name and tag are right; the execution role"
            f"{' ' + role if role else ''} needs secretsmanager:GetSecretValue on it (and kms:Decrypt for a customer "
            "managed key)."
        )
        return message, fix, {"credentials": credentials}
    message = (
        f"{head} (CannotPullContainerError: access denied): {registry} refused an anonymous pull of {reference}: the "
        "repository is private, or does not exist under that name."
    )
    fix = (
        "For a private repository, store its username and password in a Secrets Manager secret and add to container "
        f'\'{failure.name or "<container>"}\' "repositoryCredentials": {{"credentialsParameter": "<secret ARN>"}} '
        "(the execution role needs secretsmanager:GetSecretValue on it); or copy the image into Amazon ECR. Otherwise "
        "correct the image name."
    )
    return message, fix, {}


def _pull_network(
    task_definition: TaskDefinition,
    context: CheckContext,
    stopped: StoppedTask,
    failure: _Failure,
    ref: ImageRef | None,
    head: str,
) -> tuple[str, str, dict[str, Any]]:
    region = _region_of(task_definition, context) or "<region>"
    reference = ref.reference() if ref else "the image"
    registry = ref.registry if ref else "its registry"
    fargate = _on_fargate(stopped, task_definition)
    message = f"{head} (CannotPullContainerError: the pull timed out): the task has no network path to {registry}."
    ecr_region = ref.ecr_region if ref and ref.is_ecr else None
    if fargate:
        where = f"On Fargate the pull goes out of the task's own network interface in {_subnets(stopped)}"
    else:
        where = (
            "On EC2 the container instance pulls the image: the instance's subnet and security group decide, "
            "not the task's"
        )
    if ecr_region:
        paths = (
            "a public subnet (a 0.0.0.0/0 route to an internet gateway) with assignPublicIp ENABLED, a 0.0.0.0/0 "
            f"route to a NAT gateway, or the interface endpoints com.amazonaws.{ecr_region}.ecr.api and "
            f"com.amazonaws.{ecr_region}.ecr.dkr (private DNS on, their security group allowing TCP 443 from the "
            f"task) plus the S3 gateway endpoint com.amazonaws.{ecr_region}.s3 on the subnet's route table (ECR "
            "serves the layers from S3)"
        )
    else:
        paths = (
            f"a public subnet (a 0.0.0.0/0 route to an internet gateway) with assignPublicIp ENABLED, or a 0.0.0.0/0 "
            f"route to a NAT gateway: no VPC endpoint reaches {registry} (an ECR pull-through cache rule would make "
            "it an ECR image)"
        )
    message += f" {where}; it needs {paths}, and outbound TCP 443 in its security groups."
    extra: dict[str, Any] = {}
    verdict = _network_verdict(task_definition, context, stopped) if fargate else None
    if verdict is not None:
        text, findings = verdict
        message += " " + text
        extra["network_verdict"] = findings
    fix = (
        f"Give {'the subnets ' + _subnets(stopped) if fargate and stopped.subnets else 'the subnet'} a path to "
        f"{registry}: "
        + (
            f"add the endpoints com.amazonaws.{ecr_region}.ecr.api and .ecr.dkr (private DNS on) and the S3 gateway "
            "endpoint on its route table, or "
            if ecr_region
            else ""
        )
        + "a NAT gateway route, or run the service in a public subnet with "
        '"assignPublicIp": "ENABLED" in its awsvpcConfiguration; allow outbound TCP 443 in the security groups. '
        f"ecsguard's launch check registry-unreachable checks this path when the service is created or updated "
        f"(region {region}, image {reference})."
    )
    return message, fix, extra


def _network_verdict(
    task_definition: TaskDefinition, context: CheckContext, stopped: StoppedTask
) -> tuple[str, list[str]] | None:
    """The launch check ``registry-unreachable`` on the task's subnets, when it exists and can be run here."""
    network_check = REGISTRY.get("registry-unreachable")
    if network_check is None or context.facts is None or not stopped.subnets:
        return None
    if stopped.assign_public_ip is None:
        return (
            "ecsguard did not run its registry-unreachable check on these subnets: the event does not say whether "
            "the task had a public IP (only a service's network configuration does).",
            [],
        )
    launch = TaskLaunch(
        task_definition=stopped.task_definition_arn,
        cluster=stopped.cluster_arn,
        launch_type=stopped.launch_type,
        network=NetworkConfiguration(stopped.subnets, stopped.security_groups, stopped.assign_public_ip),
        capacity_providers=(stopped.capacity_provider,) if stopped.capacity_provider else (),
        service=stopped.service,
    )
    sub_context = CheckContext(
        target=context.target,
        facts=context.facts,
        region=context.region,
        secret_allowlist=context.secret_allowlist,
        options=context.options,
        launch=launch,
    )
    findings = network_check.run(task_definition, sub_context)
    problems = [f for f in findings if f.check == "registry-unreachable" and not f.data.get("unverified")]
    unverified = [f for f in findings if f.data.get("unverified")]
    if problems:
        return "ecsguard's registry-unreachable check confirms it: " + " ".join(f.message for f in problems), [
            f.message for f in problems
        ]
    if unverified:
        return "ecsguard could not verify the path: " + " ".join(f.message for f in unverified), [
            f.message for f in unverified
        ]
    return (
        "ecsguard's registry-unreachable check finds a path from these subnets now: a route, NAT gateway or endpoint "
        "was added since, or the failure was transient (a registry or endpoint that did not answer, a DNS failure).",
        [],
    )


# ------------------------------------------------------------------------------------------- task-init-failed


def init_cause(text: str, task_definition: TaskDefinition) -> str:
    """log-group | log-access-denied | log-network | registry-auth-denied | registry-auth-network |
    secrets-kms | secrets-access-denied | secrets-not-found | secrets-network | env-files | network | other."""
    if _LOGGER.search(text):
        if _LOG_GROUP_MISSING.search(text):
            return "log-group"
        if _DENIED.search(text):
            return "log-access-denied"
        return "log-network" if _NETWORK.search(text) else "other"
    credentials = {c.repository_credentials for c in task_definition.containers if c.repository_credentials}
    if _REGISTRY_AUTH.search(text) or any(arn in text for arn in credentials):
        return "registry-auth-network" if _NETWORK.search(text) and not _DENIED.search(text) else "registry-auth-denied"
    if _SECRETS.search(text):
        if _KMS.search(text):
            return "secrets-kms"
        if _DENIED.search(text):
            return "secrets-access-denied"
        if _NOT_FOUND.search(text):
            return "secrets-not-found"
        if _NETWORK.search(text):
            return "secrets-network"
        return "other"
    if _ENV_FILES.search(text):
        return "env-files"
    if _NETWORK.search(text):
        return "network"
    return "other"


def missing_log_groups(task_definition: TaskDefinition, context: CheckContext) -> list[tuple[str, str, str]]:
    """(container, region, log group) of every awslogs container that does not create its own group.

    With facts, groups that exist now are left out (created since, or another container's group failed).
    """
    found = []
    for container in task_definition.containers:
        destination = awslogs_destination(container, _region_of(task_definition, context))
        if destination is None:
            continue
        options = container.log_configuration.options if container.log_configuration else {}
        if (options.get("awslogs-create-group") or "").lower() == "true":
            continue
        region, group = destination
        if context.facts is not None and context.facts.log_group_exists(region, group) is True:
            continue
        found.append((container.name, region, group))
    return found


@check(
    id="task-init-failed",
    title="Task stopped: ECS could not prepare its logs, secrets or registry access",
    severity="high",
    mistake=1,
    rationale=(
        "ResourceInitializationError stops a task before its containers start, and a service retries it forever: "
        "the awslogs log group does not exist (awslogs-create-group is not set), the execution role may not fetch a "
        "secret or decrypt it, the secret or parameter does not exist, the task cannot reach Secrets Manager, SSM, "
        "CloudWatch Logs or ECR from its subnet (no NAT, public IP or VPC endpoint), or the registry authorization "
        "fails. For a missing log group ecsguard creates it (remediate mode, the default, as log-group-missing "
        "does) so the service's next task starts."
    ),
    remediation=(
        "Fix what the message names (the log group, the execution role's permissions, the secret reference, the "
        "subnet's path to the service); then let the service start a new task (or force a new deployment)."
    ),
    docs=DOCS_INIT,
    default_mode="remediate",
    remediable=True,
    scope="stopped",
    aws_calls=("logs:DescribeLogGroups",),
)
def task_init_failed(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    stopped = context.stopped
    if stopped is None or routine_stop(stopped):
        return
    failures = _failures(task_definition, stopped, _INIT_ERROR)
    if not failures:
        return
    # One task-level error: ECS reports it on the task (and sometimes repeats it on each container).
    failure = failures[0]
    cause = init_cause(failure.text, task_definition)
    head = f"Task {_task_id(stopped)} never started: ECS could not prepare it (ResourceInitializationError)"
    if cause == "log-group":
        yield from _init_log_group(task_definition, context, stopped, head)
        return
    message, fix, extra = _init_explanation(task_definition, context, stopped, failure, cause, head)
    yield task_init_failed.finding(context, message, container=failure.name, remediation=fix, cause=cause, **extra)


def _init_log_group(
    task_definition: TaskDefinition, context: CheckContext, stopped: StoppedTask, head: str
) -> Iterator[Finding]:
    missing = missing_log_groups(task_definition, context)
    if not missing:
        yield task_init_failed.finding(
            context,
            f"{head}: its awslogs log group did not exist when the task started. "
            + (
                "Every group the definition names exists now (created since), so the next task should start."
                if context.facts is not None
                and any(
                    awslogs_destination(c, _region_of(task_definition, context)) for c in task_definition.containers
                )
                else "ecsguard could not tell which group: the definition names none it can read."
            ),
            field="logConfiguration.options.awslogs-group",
            remediation=(
                'Create the log group the awslogs driver names, or set "awslogs-create-group": "true" and allow '
                "logs:CreateLogGroup in the execution role."
            ),
            cause="log-group",
        )
        return
    for container, region, group in missing:
        yield task_init_failed.finding(
            context,
            f"{head}: container '{container}' sends its logs to log group '{group}' in {region}, which does not "
            "exist, and awslogs-create-group is not set.",
            container=container,
            field="logConfiguration.options.awslogs-group",
            remediation=(
                f"Create the log group '{group}' in {region} (ecsguard does in remediate mode, with the stack's "
                'retention and KMS key), or set "awslogs-create-group": "true" in the awslogs options and allow '
                "logs:CreateLogGroup in the execution role. The service's next task then starts."
            ),
            cause="log-group",
            region=region,
            log_group=group,
        )


def _named_secrets(task_definition: TaskDefinition, text: str) -> list[tuple[str, str]]:
    """(container, valueFrom) of the definition's secrets the reason names (references, never values)."""
    named = []
    for container in task_definition.containers:
        references = [*container.secrets]
        if container.log_configuration:
            references += container.log_configuration.secret_options
        for secret in references:
            value_from = secret.value_from
            base = ":".join(value_from.split(":")[:7]) if value_from.startswith("arn:") else value_from
            if value_from and (value_from in text or (len(base) > 12 and base in text)):
                named.append((container.name, value_from))
    return named


def _init_explanation(
    task_definition: TaskDefinition,
    context: CheckContext,
    stopped: StoppedTask,
    failure: _Failure,
    cause: str,
    head: str,
) -> tuple[str, str, dict[str, Any]]:
    role = task_definition.execution_role_arn
    role_words = f"the execution role {role}" if role else "the execution role (the definition names none)"
    region = _region_of(task_definition, context) or "<region>"
    extra: dict[str, Any] = {}
    if cause.startswith("secrets"):
        named = _named_secrets(task_definition, failure.text)
        count = sum(len(c.secrets) for c in task_definition.containers)
        which = (
            "secret " + ", ".join(f"{value_from} (container '{name}')" for name, value_from in named)
            if named
            else ("its secret" if count == 1 else f"one of its {count} secrets" if count else "a secret")
        )
        extra["secrets"] = [value_from for _, value_from in named]
        if cause == "secrets-access-denied":
            message = f"{head}: {role_words} may not read {which} (AccessDenied)."
            fix = (
                f"Allow {role_words} secretsmanager:GetSecretValue on the Secrets Manager secrets, or "
                'ssm:GetParameters on the SSM parameters, that the definition\'s "secrets" name (and kms:Decrypt on '
                "a customer managed key they use); or fix a valueFrom that names the wrong ARN."
                if role
                else 'Add "executionRoleArn" to the definition: ECS fetches "secrets" with the execution role.'
            )
        elif cause == "secrets-not-found":
            message = f"{head}: {which} does not exist (Secrets Manager or SSM Parameter Store found nothing there)."
            fix = (
                "Create the secret or parameter, or correct the valueFrom: a Secrets Manager ARN (with its random "
                "six-character suffix, or a partial ARN without it) or an SSM parameter name or ARN in this region "
                f"({region}); a JSON key (:key::) must exist in the secret's value."
            )
        elif cause == "secrets-kms":
            message = f"{head}: {which} is encrypted with a KMS key {role_words} may not use (kms:Decrypt)."
            fix = (
                f"Allow {role_words} kms:Decrypt on the secret's customer managed key (and the key policy must let "
                "the role use it); the AWS managed key aws/secretsmanager needs nothing extra."
            )
        else:
            message = (
                f"{head}: fetching {which} timed out: the task cannot reach Secrets Manager or SSM from "
                f"{_subnets(stopped)}."
            )
            fix = (
                f"Give the subnet a path to the service: the interface endpoints com.amazonaws.{region}.secretsmanager "
                f"and/or com.amazonaws.{region}.ssm (private DNS on, TCP 443 allowed from the task), a NAT gateway "
                "route, or a public subnet with assignPublicIp ENABLED."
            )
        return message, fix, extra
    if cause.startswith("registry-auth"):
        credentials = sorted({c.repository_credentials for c in task_definition.containers if c.repository_credentials})
        if cause == "registry-auth-network":
            message = (
                f"{head}: getting the registry authorization timed out: the task cannot reach the ECR API "
                f"(ecr.api) from {_subnets(stopped)}."
            )
            fix = (
                f"Add the interface endpoints com.amazonaws.{region}.ecr.api and .ecr.dkr (private DNS on) and the S3 "
                "gateway endpoint, or a NAT gateway route, or run in a public subnet with assignPublicIp ENABLED."
            )
        elif credentials:
            message = (
                f"{head}: {role_words} could not read the registry credentials "
                f"{', '.join(credentials)} (repositoryCredentials)."
            )
            fix = (
                f"Allow {role_words} secretsmanager:GetSecretValue on {', '.join(credentials)} (and kms:Decrypt on "
                "its customer managed key), and make sure the secret exists in this region."
            )
        else:
            message = f"{head}: {role_words} may not get an ECR authorization token (ecr:GetAuthorizationToken)."
            fix = (
                f'Allow {role_words} ecr:GetAuthorizationToken on "*" (with ecr:BatchGetImage and '
                "ecr:GetDownloadUrlForLayer on the repository): the AWS managed policy "
                "AmazonECSTaskExecutionRolePolicy grants them."
                if role
                else 'Add "executionRoleArn" to the definition: ECS authenticates to ECR with the execution role.'
            )
        extra["credentials"] = credentials
        return message, fix, extra
    if cause == "log-access-denied":
        message = f"{head}: {role_words} may not create the task's log stream (logs:CreateLogStream)."
        fix = (
            f"Allow {role_words} logs:CreateLogStream and logs:PutLogEvents on the awslogs log group "
            "(AmazonECSTaskExecutionRolePolicy grants them)."
        )
        return message, fix, extra
    if cause in {"log-network", "network"}:
        service = "CloudWatch Logs" if cause == "log-network" else "an AWS service it needs to start"
        endpoint = f"com.amazonaws.{region}.logs" if cause == "log-network" else "the service's interface endpoint"
        message = f"{head}: the task could not reach {service} from {_subnets(stopped)} (a timeout)."
        fix = (
            f"Give the subnet a path: the interface endpoint {endpoint} (private DNS on, TCP 443 allowed from the task), "
            "a NAT gateway route, or a public subnet with assignPublicIp ENABLED."
        )
        return message, fix, extra
    if cause == "env-files":
        files = sorted({f for c in task_definition.containers for f in c.environment_files})
        message = (
            f"{head}: ECS could not download the environmentFiles"
            + (f" ({', '.join(files)})" if files else "")
            + f" with {role_words}."
        )
        fix = (
            f"Allow {role_words} s3:GetObject on each file and s3:GetBucketLocation on its bucket, check that the "
            "objects exist, and that the task can reach S3 (the S3 gateway endpoint, a NAT or a public IP)."
        )
        extra["environment_files"] = files
        return message, fix, extra
    message = (
        f"{head} ({_error_class(failure.text, 'ResourceInitializationError')}). ECS did not say why in words "
        "ecsguard knows; the full reason is on the stopped task in the ECS console (Tasks, Stopped)."
    )
    return message, task_init_failed.remediation, extra


# ------------------------------------------------------------------------------------------------ oom-killed


def _next_fargate_size(
    cpu: int | None, memory: int, *, windows: bool, at_least: int | None = None
) -> tuple[int, int] | None:
    """The smallest valid Fargate size with more memory than ``memory`` (and at least ``at_least``), CPU kept
    when it offers one, else the next CPU up."""
    wanted = max(memory + 1, at_least or 0)
    for size_cpu, values in sorted(fargate_sizes(windows).items()):
        if cpu is not None and size_cpu < cpu:
            continue
        larger = next((v for v in values if v >= wanted), None)
        if larger is not None:
            return size_cpu, larger
    return None


def _round_up(value: int, step: int = 128) -> int:
    return -(-value // step) * step


@check(
    id="oom-killed",
    title="Task stopped: an essential container ran out of memory",
    severity="high",
    mistake=7,
    rationale=(
        "An essential container that exceeds its memory hard limit (or the task's memory) is killed by the kernel "
        "(exit code 137, OutOfMemoryError), which stops the whole task; a service starts another, which is killed "
        "the same way under the same load. The definition gives it too little memory for what it does. Severity "
        "high: the task stopped, as for a task that cannot start."
    ),
    remediation=(
        "Raise the container's memory hard limit (\"memory\") and the task's memory to the size the message names "
        "(on Fargate a valid task size), register the revision and update the service; or find why the application "
        "uses more memory than it did (a leak, a larger input, a JVM or runtime heap larger than the limit)."
    ),
    docs=DOCS_OOM,
    scope="stopped",
)
def oom_killed(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    stopped = context.stopped
    if stopped is None or routine_stop(stopped):
        return
    task_oom = bool(stopped.stopped_reason and _OOM.search(stopped.stopped_reason))
    for event in stopped.containers:
        container = _definition_container(task_definition, event.name)
        if not _essential(container) or event.exit_code not in (137, None):
            continue
        if not (event.reason and _OOM.search(event.reason)) and not (task_oom and event.exit_code == 137):
            continue
        yield _oom_finding(task_definition, context, stopped, event, container)


def _oom_finding(
    task_definition: TaskDefinition,
    context: CheckContext,
    stopped: StoppedTask,
    event: StoppedContainer,
    container: Container | None,
) -> Finding:
    fargate = _on_fargate(stopped, task_definition)
    windows = task_definition.is_windows
    task_memory = task_definition.memory
    if task_memory is None and stopped.memory and stopped.memory.isdigit():
        task_memory = int(stopped.memory)
    task_cpu = task_definition.cpu
    if task_cpu is None and stopped.cpu and stopped.cpu.isdigit():
        task_cpu = int(stopped.cpu)
    hard = container.memory if container else None
    soft = container.memory_reservation if container else None
    others = sum(
        (c.memory_reservation if c.memory_reservation is not None else (c.memory or 0))
        for c in task_definition.containers
        if c.name != event.name
    )
    have = []
    if hard is not None:
        have.append(f"a hard limit of {hard} MiB (memory)")
    if soft is not None:
        have.append(f"a reservation of {soft} MiB (memoryReservation)")
    had = " and ".join(have) if have else "no memory of its own (the task's memory bounds it)"
    task_words = f"{task_memory} MiB" if task_memory is not None else "no task-level memory"
    message = (
        f"Essential container '{event.name}' of task {_task_id(stopped)} was killed for running out of memory "
        f"(exit code 137, OutOfMemoryError), which stopped the task. It had {had}; the task had {task_words}"
        + (f" with {task_cpu} CPU units" if task_cpu is not None else "")
        + "."
    )
    suggestion: dict[str, Any] = {}
    steps = []
    limited_by_container = hard is not None and (task_memory is None or hard < task_memory)
    if limited_by_container:
        new_hard = _round_up(hard * 2)
        suggestion["container_memory"] = new_hard
        steps.append(f"raise \"memory\" of container '{event.name}' from {hard} to {new_hard} MiB")
        needed = new_hard + others
        if task_memory is not None and needed > task_memory:
            if fargate:
                size = _next_fargate_size(task_cpu, task_memory, windows=windows, at_least=needed)
                if size:
                    suggestion["task_cpu"], suggestion["task_memory"] = size
                    steps.append(f'raise the task to "cpu": "{size[0]}", "memory": "{size[1]}" (a valid Fargate size)')
            else:
                suggestion["task_memory"] = needed
                steps.append(f'raise the task-level "memory" to at least {needed} MiB')
    elif task_memory is not None:
        if fargate:
            size = _next_fargate_size(task_cpu, task_memory, windows=windows)
            if size:
                suggestion["task_cpu"], suggestion["task_memory"] = size
                steps.append(
                    f'raise the task\'s "memory" from {task_memory} to "{size[1]}"'
                    + (f' and its "cpu" to "{size[0]}"' if size[0] != task_cpu else "")
                    + f" (the next valid Fargate size{' for cpu ' + str(size[0]) if size[0] == task_cpu else ''})"
                )
            else:
                steps.append("split the work: the task already has the largest Fargate memory for its platform")
        else:
            new_memory = _round_up(task_memory * 2)
            suggestion["task_memory"] = new_memory
            steps.append(f'raise the task-level "memory" from {task_memory} to {new_memory} MiB')
        if hard is not None and hard >= task_memory:
            steps.append(f"and \"memory\" of container '{event.name}' with it")
    elif soft is not None:
        new_soft = _round_up(soft * 2)
        suggestion["container_reservation"] = new_soft
        steps.append(
            f"give container '{event.name}' a hard limit it fits in, such as \"memory\": {new_soft}, and raise "
            f'"memoryReservation" so the scheduler places it where that much is free (the instance ran out)'
        )
    else:
        steps.append(f'give container \'{event.name}\' a "memory" hard limit and the task a "memory" it fits in')
    fix = (
        "To give it room: "
        + ", ".join(steps)
        + "; register the revision and update the service. If memory grew without a change in load, look for a leak "
        "first (a JVM or Node heap set above the container's limit is killed the same way)."
    )
    return oom_killed.finding(
        context,
        message,
        container=event.name,
        field="memory",
        remediation=fix,
        cause="oom",
        container_memory=hard,
        container_reservation=soft,
        task_memory=task_memory,
        task_cpu=task_cpu,
        suggestion=suggestion,
    )


# ------------------------------------------------------------------------------------ essential-container-exited


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _ran_for(stopped: StoppedTask) -> timedelta | None:
    started, ended = _parse_time(stopped.started_at), _parse_time(stopped.stopped_at)
    if started is None or ended is None or started.tzinfo is None or ended.tzinfo is None:
        return None
    return ended - started


def _duration(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


@check(
    id="essential-container-exited",
    title="Task stopped: an essential container exited with an error soon after it started",
    severity="info",
    mistake=7,
    rationale=(
        "An essential container that exits non-zero stops its task; one that does so within five minutes of the task "
        "starting (or before the task ever ran) usually fails at start: a wrong command or entryPoint (127: not "
        "found, 126: not executable), a missing environment variable or secret, a dependency it cannot reach, too "
        "little CPU or memory to boot. Informational: only the application's log says why, and a crash after long "
        "work is the application's own story."
    ),
    remediation=(
        "Read the container's last log lines (its awslogs group and stream, or the FireLens destination), fix the "
        "command, the variables or the dependency, register the revision and update the service."
    ),
    docs=DOCS_STOPPED,
    scope="stopped",
)
def essential_container_exited(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    stopped = context.stopped
    if stopped is None or routine_stop(stopped):
        return
    if stopped.stop_code not in (None, "EssentialContainerExited"):
        return  # TaskFailedToStart is image-pull-failed / task-init-failed; routine codes are routine
    ran = _ran_for(stopped)
    if stopped.started_at and ran is not None and ran > SOON_AFTER_START:
        return
    for event in stopped.containers:
        container = _definition_container(task_definition, event.name)
        if not _essential(container) or event.exit_code in (None, 0):
            continue
        if event.reason and _OOM.search(event.reason):
            continue  # oom-killed
        meaning = EXIT_CODES.get(event.exit_code) or (
            f"killed by signal {event.exit_code - 128}" if 128 < event.exit_code < 160 else "an application error"
        )
        when = (
            f"{_duration(ran)} after the task started"
            if stopped.started_at and ran is not None
            else "before the task ran"
        )
        destination = awslogs_destination(container, _region_of(task_definition, context)) if container else None
        logs = (
            f" Its output is in log group '{destination[1]}' ({destination[0]})"
            + (
                f", stream {container.log_configuration.options['awslogs-stream-prefix']}/{event.name}/"
                f"{_task_id(stopped)}."
                if container
                and container.log_configuration
                and container.log_configuration.options.get("awslogs-stream-prefix")
                else "."
            )
            if destination
            else ""
        )
        yield essential_container_exited.finding(
            context,
            f"Essential container '{event.name}' exited with code {event.exit_code} ({meaning}) {when}, which stopped "
            f"task {_task_id(stopped)}.{logs}",
            container=event.name,
            cause=f"exit-{event.exit_code}",
            exit_code=event.exit_code,
        )


def causes(findings: list[Finding]) -> list[str]:
    """``check:cause`` of each finding, sorted and unique: what a stop is counted under in the state table."""
    return sorted({f"{f.check}:{f.data.get('cause', '')}" for f in findings})


def stop_summary(stopped: StoppedTask) -> Mapping[str, Any]:
    """The stopped task for a summary or a JSON document: identifiers, codes and exit codes, never a reason text."""
    return {
        "taskArn": stopped.task_arn,
        "cluster": stopped.cluster_arn,
        "group": stopped.group,
        "service": stopped.service,
        "stopCode": stopped.stop_code,
        "launchType": stopped.launch_type,
        "capacityProvider": stopped.capacity_provider,
        "startedAt": stopped.started_at,
        "stoppedAt": stopped.stopped_at,
        "subnets": list(stopped.subnets),
        "containers": [
            {"name": c.name, "exitCode": c.exit_code, "lastStatus": c.last_status} for c in stopped.containers
        ],
        "stops": stopped.stops,
        "previousMessageAt": stopped.previous_message_at,
        "countingUntil": stopped.counting_until,
    }
