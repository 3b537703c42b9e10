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
from ..secretscan.core import _Lazy  # compiled on first use: the cold start loads every check module
from .logging import awslogs_destination, templated
from .registry import REGISTRY, CheckContext, check
from .resources import fargate_sizes

DOCS_STOPPED = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html"
DOCS_PULL = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html"
DOCS_INIT = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html"
DOCS_OOM = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/out-of-memory.html"

# Stops nobody needs to hear about: the service scheduler replacing or removing tasks (scale-in,
# deployments), StopTask by a person or a pipeline, capacity AWS reclaimed with notice (Fargate Spot, an
# instance being terminated, unhealthy infrastructure). The scheduler replaces what it needs; nothing in the
# definition is wrong.
ROUTINE_STOP_CODES = {
    "ServiceSchedulerInitiated": "the service scheduler stopped it (scale-in, a deployment or a failed health check)",
    "UserInitiated": "StopTask by a user or a pipeline",
    "SpotInterruption": "Fargate Spot reclaimed the capacity (a two-minute notice; the service replaces it)",
    "TerminationNotice": "its container instance or Fargate capacity was being terminated (the service replaces it)",
    "InfrastructureHealth": "ECS stopped it because the infrastructure under it was unhealthy (the service replaces it)",
}
# The same stops told by the reason ECS writes, for events without a stopCode (older agents) or with a code
# ecsguard does not know yet. Anchored on the text ECS itself generates, never on what an application printed.
# Load-balancer and container health-check failures are listed too: the task started, and why it was judged
# unhealthy (grace period, path, security group, a slow start) is not in the event; ECS's service events and the
# target group's UnHealthyHostCount alarm say more than ecsguard could.
_ROUTINE_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (_Lazy(pattern, re.IGNORECASE), why)
    for pattern, why in (
        (r"Scaling activity initiated by", "the service scheduler stopped it (scale-in or a deployment)"),
        (r"(?:Task )?stopped by user\b", "StopTask by a user or a pipeline"),
        (r"Your Spot Task was interrupted", "Fargate Spot reclaimed the capacity"),
        (r"Host EC2 \(instance i-[0-9a-f]+\) (?:stopped|terminated)", "its container instance stopped"),
        (r"Container instance deregistration forced", "its container instance was deregistered"),
        (r"(?:ECS is )?performing maintenance on the underlying infrastructure|scheduled for retirement",
         "AWS retired the task's Fargate infrastructure (the service replaces it)"),
        (r"Task failed (?:ELB|container) health checks",
         "not diagnosed: a health check failed after the task started (see the service's events)"),
        (r"(?:deployment )?circuit breaker", "the deployment circuit breaker rolled the deployment back"),
    )
)  # fmt: skip
# essential-container-exited reports a non-zero exit within this long of the task's start (or a task that never
# reached RUNNING): a crash at start is a configuration problem (command, variables, a dependency it cannot
# reach); an exit after hours of work is the application's own story and is not reported.
SOON_AFTER_START = timedelta(minutes=5)

# The error classes ECS (the Fargate agent, the EC2 container agent, the platform) writes at the head of a
# stoppedReason or a container's reason. Only these are ever named in a message: any other word of the reason
# text may be an application's own output.
ECS_ERROR_CLASSES = (
    "CannotPullContainerError",
    "ResourceInitializationError",
    "CannotStartContainerError",
    "CannotCreateContainerError",
    "ContainerRuntimeTimeoutError",
    "DockerTimeoutError",
    "ContainerRuntimeError",
    "CannotCreateVolumeError",
    "CannotInspectContainerError",
    "CannotStopContainerError",
    "InternalError",
    "OutOfMemoryError",
)
_CLASS = _Lazy(r"\b(" + "|".join(ECS_ERROR_CLASSES) + r")\b", re.IGNORECASE)
_CANONICAL = {name.lower(): name for name in ECS_ERROR_CLASSES}
_START_CLASSES = {
    "CannotStartContainerError",
    "CannotCreateContainerError",
    "ContainerRuntimeTimeoutError",
    "DockerTimeoutError",
    "ContainerRuntimeError",
    "CannotCreateVolumeError",
    "CannotInspectContainerError",
    "CannotStopContainerError",
    "InternalError",
}
_OOM = _Lazy(r"OutOfMemory", re.IGNORECASE)

# Before a reason is classified, what it names is taken out (images, URLs, ARNs, quoted names): a repository
# called "auth-denied", a tag "timeout" or a secret "prod/not-found" must not decide the cause. The patterns
# below then read only the structure of the message ECS wrote.
_SCRUB_URL = _Lazy(r"\b(?:https?|s3)://[^\s\"'<>]+", re.IGNORECASE)
_SCRUB_ARN = _Lazy(r"\barn:aws[a-z-]*:([a-z0-9-]+):[^\s\"',;()<>]*", re.IGNORECASE)
_SCRUB_QUOTED = _Lazy(r"'[^'\n]{0,300}'|\"[^\"\n]{0,300}\"|‘[^’\n]{0,300}’|“[^”\n]{0,300}”")
_SCRUB_IMAGE = _Lazy(
    r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+(?::[0-9]+)?/[\w./-]+(?::[\w][\w.-]*)?(?:@sha256:[0-9a-f]{64})?",
    re.IGNORECASE,
)
_SCRUB_NAMED = _Lazy(r"\b(pull access denied for|manifest for|repository)\s+(?!does\b|with\b|not\b)[^\s,]+", re.I)
_SCRUB_DIGEST = _Lazy(r"\bsha256:[0-9a-f]{64}\b", re.IGNORECASE)

_NETWORK = _Lazy(
    r"i/o timeout|timed? ?out\b|timeout|deadline exceeded|(?:request|context) cancel+ed|RequestCanceled|RequestError"
    r"|send request failed|connection (?:refused|reset|issue)|network connection|no route to host"
    r"|network is unreachable|no such host|server misbehaving|dial tcp|TLS handshake"
    r"|check your (?:task )?network configuration",
    re.IGNORECASE,
)
_DNS = _Lazy(r"no such host|server misbehaving|lookup \S+ on", re.IGNORECASE)
_RATE_LIMITED = _Lazy(r"toomanyrequests|too many requests|rate ?limit|\b429\b", re.IGNORECASE)
_DISK_FULL = _Lazy(r"no space left on device|disk quota exceeded", re.IGNORECASE)
_PLATFORM = _Lazy(
    r"no matching manifest|descriptor matching platform|no match for platform|does not match the specified platform"
    r"|cannot be used on this platform|image operating system",
    re.IGNORECASE,
)
_DENIED = _Lazy(
    r"not authori[sz]ed to perform|AccessDenied|\b40[13]\b|forbidden|unauthori[sz]ed|no basic auth credentials"
    r"|authorization token has expired|check that the role has the permissions|access to KMS is not allowed",
    re.IGNORECASE,
)
_DENIED_OR_MISSING = _Lazy(r"pull access denied|access to the resource is denied|\bdenied\b", re.IGNORECASE)
_NOT_FOUND_TEXT = (
    r"not found|manifest unknown|name unknown|does not exist|doesn't exist|can't find|cannot find|NotFound"
    r"|check whether the (?:image|secret) exists"
)
_NOT_FOUND = _Lazy(_NOT_FOUND_TEXT, re.IGNORECASE)
_IMAGE_EXISTS_HINT = _Lazy(r"check whether the image exists", re.IGNORECASE)
# The image layers: ECR serves them from S3 (the manifest was reached, the blobs were not).
_LAYERS = _Lazy(
    r"failed to copy|httpRead(?:er)?Seeker|\bblobs?\b|\blayers?\b|starport-layer-bucket|\.s3[.-]"
    r"|error pulling image conf|invalid memory address or nil pointer",
    re.IGNORECASE,
)

_LOGGER = _Lazy(
    r"logger args|logging driver|log ?stream|log group|CreateLogStream|CreateLogGroup|\blogs:|cloudwatch ?log",
    re.IGNORECASE,
)
_LOG_GROUP_MISSING = _Lazy(
    r"log group does not exist|specified log group|cannot find the Amazon CloudWatch log group|ResourceNotFoundException",
    re.IGNORECASE,
)
_CREATE_GROUP = _Lazy(r"CreateLogGroup", re.IGNORECASE)
_REGISTRY_AUTH = _Lazy(
    r"ecr registry auth|registry auth from (?:Amazon )?ECR|GetAuthorizationToken|registry auth from asm"
    r"|asm fetching secret|repositoryCredentials|credentialsParameter|private registry",
    re.IGNORECASE,
)
_SECRETS = _Lazy(
    r"secrets? from (?:asm|ssm|secrets manager)|retrieve secrets?|fetch(?:ing)? secrets?|pull (?:the )?secrets? from"
    r"|secrets ?manager|GetSecretValue|GetParameters?\b|\bssm\b|parameter store|systems manager|json key"
    r"|<secretsmanager-arn>|<ssm-arn>",
    re.IGNORECASE,
)
_KMS = _Lazy(r"\bkms\b|decrypt|ciphertext|customer master key|<kms-arn>", re.IGNORECASE)
_SECRET_INVALID = _Lazy(
    r"validation error|ValidationException|InvalidRequestException|invalid arn|malformed", re.IGNORECASE
)
_SECRET_MISSING = _Lazy(
    _NOT_FOUND_TEXT + r"|ParameterNotFound|invalid (?:ssm )?parameters?\b|did not contain json key"
    r"|staging label|AWSCURRENT",
    re.IGNORECASE,
)
_ENV_FILES = _Lazy(r"env(?:ironment)?[ -]?files?|envfile", re.IGNORECASE)
_S3_MISSING = _Lazy(r"NoSuchKey|NoSuchBucket|not found|does not exist", re.IGNORECASE)
_EFS = _Lazy(r"\befs\b|mount\.nfs|\bnfs4?\b|efs-utils|amazon-efs|\bfs-[0-9a-f]{8,17}\b", re.IGNORECASE)
_ENI = _Lazy(r"\bENI\b|network interface|netplugin", re.IGNORECASE)
_KILLED = _Lazy(r"signal: killed|pull command failed", re.IGNORECASE)

# Why a container could not start (CannotStartContainerError and its kin), read from the runtime's structure.
_START_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (_Lazy(pattern, re.IGNORECASE), cause)
    for pattern, cause in (
        (r"executable file not found|exec: .{0,80}no such file or directory|no such file or directory",
         "command-not-found"),
        (r"permission denied", "command-not-executable"),
        (r"unable to find user|no matching entries in passwd|no users found", "user-not-found"),
        (r"port is already allocated|address already in use", "port-in-use"),
        (r"no space left on device", "disk-full"),
        (r"\bmount\b|bind source path does not exist|not a directory", "mount"),
    )
)  # fmt: skip

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
# Exit codes of a container that ECS itself stopped (SIGTERM, then SIGKILL after stopTimeout) because another
# essential container had exited: consequences of the stop, not its cause.
_STOPPED_BY_ECS = (137, 143)


def error_kind(text: str | None) -> str | None:
    """pull | init | start | oom | None: what the first ECS error class of a reason says happened.

    Fargate writes ``CannotStartContainerError: ResourceInitializationError: ...`` for a container whose process
    could not be created (the first class decides: a start failure); a logging driver that cannot start is an
    initialization failure, whatever class carries it (on EC2 the Docker daemon reports a missing log group as
    ``CannotStartContainerError: ... failed to initialize logging driver``).
    """
    if not text:
        return None
    match = _CLASS.search(text)
    if match is None:
        return None
    first = _CANONICAL[match.group(1).lower()]
    if first == "CannotPullContainerError":
        return "pull"
    if first == "OutOfMemoryError":
        return "oom"
    if first == "InternalError":
        return "start"
    if first == "ResourceInitializationError" or _LOGGER.search(scrub(text)):
        return "init"
    return "start"


def _error_classes(texts: list[str]) -> bool:
    return any(_CLASS.search(t) for t in texts)


def _stopped_by_ecs(container: StoppedContainer) -> bool:
    return container.exit_code in _STOPPED_BY_ECS and not (container.reason and _OOM.search(container.reason))


def routine_stop(stopped: StoppedTask) -> str | None:
    """Why this stop needs no message (None when it may): a routine stop code or reason, or the task's work done.

    The task's work is done when every container exited 0, or some exited 0 and the rest were stopped by ECS as a
    consequence (SIGTERM 143, or SIGKILL 137 after stopTimeout, with no OutOfMemoryError): a batch job whose
    essential container finished, and its sidecars (an X-Ray daemon, Envoy, a FireLens router) stopped with it.
    """
    if stopped.stop_code in ROUTINE_STOP_CODES:
        return f"routine stop ({stopped.stop_code}): {ROUTINE_STOP_CODES[stopped.stop_code]}"
    texts = [stopped.stopped_reason or ""] + [c.reason or "" for c in stopped.containers]
    # A stop code decides; without one, the reason ECS wrote does, unless a container's reason shows an error.
    evidence = [c.reason for c in stopped.containers if c.reason and (_CLASS.search(c.reason) or _OOM.search(c.reason))]
    if (
        stopped.stop_code not in ("TaskFailedToStart", "EssentialContainerExited")
        and stopped.stopped_reason
        and not (evidence)
    ):
        for pattern, why in _ROUTINE_REASONS:
            if pattern.match(stopped.stopped_reason.strip()):
                return f"routine stop: {why}"
    if not stopped.containers or _error_classes(texts) or any(_OOM.search(t) for t in texts):
        return None
    exits = [c for c in stopped.containers if c.exit_code is not None]
    if exits and all(c.exit_code == 0 or _stopped_by_ecs(c) for c in exits) and any(c.exit_code == 0 for c in exits):
        return "routine stop: the essential container exited 0 (the task's work was done)"
    return None


def scrub(text: str, images: tuple[str, ...] = ()) -> str:
    """The reason with what it names replaced by placeholders (for classification; never shown either)."""
    for image in sorted({i for i in images if i}, key=len, reverse=True):
        text = text.replace(image, "<image>")
    text = _SCRUB_URL.sub("<url>", text)
    text = _SCRUB_ARN.sub(lambda m: f"<{m.group(1).lower()}-arn>", text)
    text = _SCRUB_IMAGE.sub("<image>", text)
    text = _SCRUB_NAMED.sub(lambda m: f"{m.group(1)} <image>", text)
    text = _SCRUB_DIGEST.sub("<digest>", text)
    return _SCRUB_QUOTED.sub("<name>", text)


def _images(task_definition: TaskDefinition | None, stopped: StoppedTask) -> tuple[str, ...]:
    found = [c.image for c in stopped.containers if c.image]
    if task_definition is not None:
        found += [c.image for c in task_definition.containers if c.image]
    return tuple(found)


def needs_service_network(stopped: StoppedTask) -> bool:
    """Does the diagnosis want the service's network configuration (a pull or start that timed out on awsvpc)?"""
    if routine_stop(stopped) or not stopped.subnets or not stopped.service:
        return False
    texts = [stopped.stopped_reason or ""] + [c.reason or "" for c in stopped.containers]
    images = _images(None, stopped)
    for text in texts:
        kind = error_kind(text)
        if kind == "pull" and pull_cause(scrub(text, images)) == "network":
            return True
        if kind == "init" and _NETWORK.search(scrub(text, images)):
            return True
    return False


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


# An image reference with a user:password@ prefix is not a valid reference, but a definition may hold one: never
# shown.
_USERINFO = _Lazy(r"^[^/@]*:[^/@]*@")


def _image(stopped: StoppedContainer | None, container: Container | None) -> str | None:
    # What ECS tried to pull (the event's image), else what the definition names.
    for image in ((stopped.image if stopped else None), (container.image if container else None)):
        if image and not templated(image) and not _USERINFO.match(image):
            return image
    return None


def _error_class(text: str, default: str) -> str:
    """The first ECS error class the reason names (only a known one is ever shown), else ``default``."""
    match = _CLASS.search(text)
    return _CANONICAL[match.group(1).lower()] if match else default


@dataclass(frozen=True, slots=True)
class _Failure:
    """A container (or the task) that failed with one error, and the text that says how (never shown).

    ``text`` is the reason with what it names taken out (:func:`scrub`); ``raw`` the reason itself, only ever
    searched for the references the *definition* names (a secret's valueFrom, a repositoryCredentials ARN).
    """

    name: str | None  # None: the task's stoppedReason names no container of the event
    text: str
    raw: str
    stopped: StoppedContainer | None
    container: Container | None


def _failures(task_definition: TaskDefinition, stopped: StoppedTask, kind: str) -> list[_Failure]:
    """Containers whose reason is an error of ``kind``; else the task's stoppedReason, on the container it names."""
    images = _images(task_definition, stopped)
    found = [
        _Failure(
            c.name, scrub(c.reason or "", images), c.reason or "", c, _definition_container(task_definition, c.name)
        )
        for c in stopped.containers
        if error_kind(c.reason) == kind
    ]
    if found or error_kind(stopped.stopped_reason) != kind:
        return found
    raw = stopped.stopped_reason or ""
    text = scrub(raw, images)
    # The task-level reason quotes the image it could not pull (or nothing): attribute it to that container.
    for container in task_definition.containers:
        if container.image and container.image in raw:
            event = next((c for c in stopped.containers if c.name == container.name), None)
            return [_Failure(container.name, text, raw, event, container)]
    for event in stopped.containers:
        if event.image and event.image in raw:
            return [_Failure(event.name, text, raw, event, _definition_container(task_definition, event.name))]
    return [_Failure(None, text, raw, None, None)]


def _who(failure: _Failure) -> str:
    return f"container '{failure.name}'" if failure.name else "a container"


def _region_of(task_definition: TaskDefinition, context: CheckContext) -> str | None:
    return context.region or task_definition.region


def _subnets(stopped: StoppedTask) -> str:
    return ", ".join(stopped.subnets) if stopped.subnets else "its subnet"


# ------------------------------------------------------------------------------------------- image-pull-failed


def pull_cause(text: str) -> str:
    """network | rate-limited | disk-full | platform | access-denied | not-found | other, for a
    CannotPullContainerError whose reason was :func:`scrub`-bed.

    Older agents wrap Docker's words (``pull access denied for x, repository does not exist or may require 'docker
    login'``: private or missing), newer ones say which (``Check that the role has the permissions``, ``Check
    whether the image exists``, ``There is a connection issue between the task and the registry``).
    """
    if _RATE_LIMITED.search(text):
        return "rate-limited"
    if _DISK_FULL.search(text):
        return "disk-full"
    if _PLATFORM.search(text):
        return "platform"
    if _IMAGE_EXISTS_HINT.search(text):
        return "not-found"
    if _DENIED.search(text):
        return "access-denied"
    if _NETWORK.search(text):
        return "network"
    if _DENIED_OR_MISSING.search(text):
        return "access-denied"
    if _NOT_FOUND.search(text):
        return "not-found"
    if _LAYERS.search(text):
        return "network"  # the runtime panicked reading layers: the S3 path (AWS's page: security group, route)
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
    for failure in _failures(task_definition, stopped, "pull"):
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
        if "@sha256:" in failure.raw and not (ref and ref.digest):
            message += (
                " ECS pins a service's tag to the digest it resolved at the deployment: that digest is gone (the tag "
                "was pushed again and the old image deleted), so every new task of this deployment fails until a "
                "new deployment resolves the tag again."
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
    if cause == "disk-full":
        if _on_fargate(stopped, task_definition):
            size = (task_definition.raw.get("ephemeralStorage") or {}).get("sizeInGiB") if task_definition.raw else None
            message = (
                f"{head} (CannotPullContainerError: no space left on device): the task's ephemeral storage "
                f"({size or 20} GiB) cannot hold the image's layers unpacked."
            )
            fix = (
                'Raise the definition\'s "ephemeralStorage": {"sizeInGiB": ...} (21 to 200 GiB on Fargate), or make '
                f"{reference} smaller (a slimmer base image, a multi-stage build); register the revision and update "
                "the service to it."
            )
        else:
            message = (
                f"{head} (CannotPullContainerError: no space left on device): the container instance's Docker "
                "storage is full (images and the logs of other containers fill the volume)."
            )
            fix = (
                "Free the instance's disk (docker system prune, or replace the instance), give the launch template a "
                "larger volume, lower ECS_IMAGE_CLEANUP_INTERVAL / ECS_IMAGE_MINIMUM_CLEANUP_AGE so the agent "
                'removes unused images sooner, and cap json-file logs with "max-size" or use awslogs.'
            )
        return message, fix, extra
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
        explicit = bool(_DENIED.search(failure.text))
        on_ec2 = not _on_fargate(stopped, task_definition)
        message = (
            f"{head} (CannotPullContainerError: access denied): the execution role {role} may not pull {reference}, "
            "or the repository's policy refuses it"
            + (" (the repository is in another account: its policy must allow the role)" if other_account else "")
            + (
                "."
                if explicit
                else "; or the repository or tag does not exist (Docker reports both as 'pull access denied')."
            )
        )
        if on_ec2:
            message += (
                " On EC2 the agent pulls with the execution role the definition names, else with the container "
                "instance role."
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
    if _DNS.search(failure.text):
        message += (
            " The registry's name did not resolve: the VPC needs enableDnsSupport and enableDnsHostnames, and interface "
            "endpoints need private DNS on."
        )
    elif ecr_region and _LAYERS.search(failure.raw):
        message += (
            f" ECR answered, but the image layers, which ECR serves from Amazon S3, could not be downloaded: the "
            f"subnet's route table needs the S3 gateway endpoint com.amazonaws.{ecr_region}.s3 (or a NAT route), and "
            "the security groups must allow outbound TCP 443 to S3."
        )
    if fargate:
        where = f"On Fargate the pull goes out of the task's own network interface in {_subnets(stopped)}"
    else:
        where = (
            "On EC2 the container instance pulls the image: the instance's subnet and security group decide, "
            "not the task's"
        )
    public = "assignPublicIp ENABLED" if fargate else "a public IP on the instance"
    if ecr_region:
        paths = (
            f"a public subnet (a 0.0.0.0/0 route to an internet gateway) with {public}, a 0.0.0.0/0 "
            f"route to a NAT gateway, or the interface endpoints com.amazonaws.{ecr_region}.ecr.api and "
            f"com.amazonaws.{ecr_region}.ecr.dkr (private DNS on, their security group allowing TCP 443 from the "
            f"task) plus the S3 gateway endpoint com.amazonaws.{ecr_region}.s3 on the subnet's route table (ECR "
            "serves the layers from S3)"
        )
    else:
        paths = (
            f"a public subnet (a 0.0.0.0/0 route to an internet gateway) with {public}, or a 0.0.0.0/0 "
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
        + (
            'a NAT gateway route, or run the service in a public subnet with "assignPublicIp": "ENABLED" in its '
            "awsvpcConfiguration; "
            if fargate
            else "a NAT gateway route, or public IPs on the container instances in a public subnet; "
        )
        + "allow outbound TCP 443 in the security groups. "
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


def init_cause(text: str, task_definition: TaskDefinition, raw: str | None = None) -> str:
    """What a ResourceInitializationError (or a logging driver that could not start) was about, from its
    :func:`scrub`-bed text (``raw``: the reason itself, searched only for the definition's repositoryCredentials).

    log-group | log-group-or-network | log-create-denied | log-access-denied | log-network | log-config |
    registry-auth-denied | registry-auth-network | secrets-kms | secrets-access-denied | secrets-invalid |
    secrets-not-found | secrets-network | secrets-other | env-files-denied | env-files-missing | env-files-network |
    efs | eni | network | other.
    """
    if _LOGGER.search(text):
        if _LOG_GROUP_MISSING.search(text):
            # Newer Fargate agents say "cannot find the log group ... There is a connection issue": either.
            return "log-group-or-network" if _NETWORK.search(text) else "log-group"
        if _DENIED.search(text):
            return "log-create-denied" if _CREATE_GROUP.search(text) else "log-access-denied"
        if _NETWORK.search(text) or _KILLED.search(text):
            return "log-network"
        return "log-config"
    credentials = {c.repository_credentials for c in task_definition.containers if c.repository_credentials}
    if _REGISTRY_AUTH.search(text) or any(arn in (raw or "") for arn in credentials):
        if _DENIED.search(text) or _SECRET_MISSING.search(text):
            return "registry-auth-denied"
        return "registry-auth-network" if _NETWORK.search(text) or _KILLED.search(text) else "registry-auth-denied"
    if _SECRETS.search(text):
        if _NETWORK.search(text) and not (_DENIED.search(text) or _SECRET_MISSING.search(text)):
            return "secrets-network"
        if _KMS.search(text):
            return "secrets-kms"
        if _DENIED.search(text):
            return "secrets-access-denied"
        if _SECRET_INVALID.search(text):
            return "secrets-invalid"
        if _SECRET_MISSING.search(text):
            return "secrets-not-found"
        if _KILLED.search(text):
            return "secrets-network"
        return "secrets-other"
    if _ENV_FILES.search(text):
        if _DENIED.search(text):
            return "env-files-denied"
        if _NETWORK.search(text):
            return "env-files-network"
        return "env-files-missing" if _S3_MISSING.search(text) else "env-files-denied"
    if _EFS.search(text):
        return "efs"
    if _ENI.search(text):
        return "eni"
    if _NETWORK.search(text) or _KILLED.search(text):
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
    failures = _failures(task_definition, stopped, "init")
    if not failures:
        yield from _failed_to_start(task_definition, context, stopped)
        return
    # One task-level error: ECS reports it on the task (and sometimes repeats it on each container).
    failure = failures[0]
    cause = init_cause(failure.text, task_definition, failure.raw)
    error = _error_class(failure.raw, "ResourceInitializationError")
    head = f"Task {_task_id(stopped)} never started: ECS could not prepare it ({error})"
    if cause == "log-group-or-network":
        # "cannot find the log group ... connection issue": the group is missing, or CloudWatch Logs unreachable.
        if missing_log_groups(task_definition, context) or context.facts is None:
            yield from _init_log_group(task_definition, context, stopped, head, maybe_network=True)
            return
        cause = "log-network"
    if cause == "log-group":
        yield from _init_log_group(task_definition, context, stopped, head)
        return
    message, fix, extra = _init_explanation(task_definition, context, stopped, failure, cause, head)
    severity = "medium" if cause == "eni" else None
    yield task_init_failed.finding(
        context, message, container=failure.name, remediation=fix, cause=cause, severity=severity, **extra
    )


_ENI_TIMEOUT = _Lazy(r"network interface provisioning|waiting for network interface|ENI", re.IGNORECASE)


def _failed_to_start(task_definition: TaskDefinition, context: CheckContext, stopped: StoppedTask) -> Iterator[Finding]:
    """TaskFailedToStart with no error class another check reads (such as ``Timeout waiting for network interface
    provisioning to complete.``): a task that cannot start is never passed over in silence."""
    if stopped.stop_code != "TaskFailedToStart":
        return
    texts = [stopped.stopped_reason or ""] + [c.reason or "" for c in stopped.containers]
    if any(error_kind(t) for t in texts):
        return  # image-pull-failed, essential-container-exited (a start error) or oom-killed say it
    head = f"Task {_task_id(stopped)} never started (TaskFailedToStart)"
    if _ENI_TIMEOUT.search(scrub(stopped.stopped_reason or "")):
        message = f"{head}: ECS could not attach its elastic network interface in {_subnets(stopped)} in time (awsvpc)."
        fix = (
            "Usually transient (the service retries). If it repeats: check that the subnets have free IPv4 addresses, "
            "that the account's network interface quota is not reached, and on EC2 that the instance type has ENIs "
            "to spare (or turn on awsvpcTrunking)."
        )
        cause = "eni"
    else:
        message = (
            f"{head}: ECS gave no error class ecsguard reads; the full reason is on the stopped task (ECS console, "
            "Tasks, Stopped, or aws ecs describe-tasks within an hour)."
        )
        fix = (
            "Read the stopped reason, then check in order: the images and the execution role, the log group, the "
            "secrets, the subnets' path to ECR, CloudWatch Logs and Secrets Manager or SSM."
        )
        cause = "failed-to-start"
    yield task_init_failed.finding(context, message, remediation=fix, cause=cause, severity="medium")


def _init_log_group(
    task_definition: TaskDefinition,
    context: CheckContext,
    stopped: StoppedTask,
    head: str,
    *,
    maybe_network: bool = False,
) -> Iterator[Finding]:
    missing = missing_log_groups(task_definition, context)
    unsure = (
        " ECS's words also allow that the task could not reach CloudWatch Logs: if the group exists, give the subnet "
        "the interface endpoint com.amazonaws.<region>.logs, a NAT route or a public IP."
        if maybe_network
        else ""
    )
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
            "exist, and awslogs-create-group is not set." + unsure.replace("<region>", region),
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
        named = _named_secrets(task_definition, failure.raw)
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
                f"({region}); a JSON key (:key::) must exist in the secret's value, and a secret created without a "
                "value has no AWSCURRENT version to read."
            )
        elif cause == "secrets-invalid":
            message = f"{head}: the valueFrom of {which} is not a reference Secrets Manager or SSM accepts."
            fix = (
                "Write valueFrom as a Secrets Manager ARN, optionally followed by :json-key:version-stage:version-id "
                "(leave unused parts empty, e.g. arn:...:secret:name-AbCdEf:password::), or as an SSM parameter name "
                "or ARN; register the revision and update the service to it."
            )
        elif cause == "secrets-other":
            message = (
                f"{head}: ECS could not fetch {which} for the task, and its words do not say whether the role, the "
                "reference or the network failed."
            )
            fix = (
                f"Check in order: {role_words} may read each valueFrom (secretsmanager:GetSecretValue or "
                "ssm:GetParameters, kms:Decrypt for a customer managed key); each secret or parameter exists in "
                f"{region}; the subnet reaches Secrets Manager or SSM (endpoint, NAT or public IP)."
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
    groups = sorted(
        {
            destination[1]
            for c in task_definition.containers
            if (destination := awslogs_destination(c, _region_of(task_definition, context)))
        }
    )
    named_groups = f" ({', '.join(groups)})" if groups else ""
    if cause == "log-access-denied":
        message = f"{head}: {role_words} may not write to the awslogs log group{named_groups} (logs:CreateLogStream)."
        fix = (
            f"Allow {role_words} logs:CreateLogStream and logs:PutLogEvents on the awslogs log group "
            "(AmazonECSTaskExecutionRolePolicy grants them)."
            if role
            else 'Add "executionRoleArn" to the definition: the awslogs driver writes with the execution role.'
        )
        return message, fix, extra
    if cause == "log-create-denied":
        message = (
            f"{head}: awslogs-create-group is set, and {role_words} may not create the log group{named_groups} "
            "(logs:CreateLogGroup)."
        )
        fix = (
            f"Allow {role_words} logs:CreateLogGroup (AmazonECSTaskExecutionRolePolicy does not grant it), or create "
            'the group yourself and drop "awslogs-create-group".'
        )
        return message, fix, extra
    if cause == "log-config":
        message = (
            f"{head}: the awslogs driver rejected its options{named_groups} (a missing or wrong awslogs-region, "
            "awslogs-group or awslogs-stream-prefix)."
        )
        fix = (
            'Give every awslogs container "awslogs-group", "awslogs-region" (the region of the group) and, on '
            'Fargate, "awslogs-stream-prefix"; placeholders must be filled in before the definition is registered.'
        )
        return message, fix, extra
    if cause in {"log-network", "network"}:
        service = "CloudWatch Logs" if cause == "log-network" else "an AWS service it needs to start"
        endpoint = f"com.amazonaws.{region}.logs" if cause == "log-network" else "the service's interface endpoint"
        message = f"{head}: the task could not reach {service} from {_subnets(stopped)} (a timeout)."
        if cause == "network":
            message = (
                f"{head}: fetching what the task needs to start (secrets, registry authorization) timed out or was "
                f"killed in {_subnets(stopped)}: the task cannot reach the AWS services from its subnet."
            )
            endpoint = (
                f"com.amazonaws.{region}.ecr.api, .ecr.dkr, .secretsmanager or .ssm (whichever the definition uses)"
            )
        fix = (
            f"Give the subnet a path: the interface endpoint {endpoint} (private DNS on, TCP 443 allowed from the task), "
            "a NAT gateway route, or a public subnet with assignPublicIp ENABLED."
        )
        return message, fix, extra
    if cause.startswith("env-files"):
        files = sorted({f for c in task_definition.containers for f in c.environment_files})
        shown = f" ({', '.join(files)})" if files else ""
        extra["environment_files"] = files
        if cause == "env-files-network":
            message = f"{head}: downloading the environmentFiles{shown} from S3 timed out in {_subnets(stopped)}."
            fix = (
                f"Give the subnet a path to S3: the gateway endpoint com.amazonaws.{region}.s3 on its route table, a "
                "NAT gateway route, or a public subnet with assignPublicIp ENABLED."
            )
        elif cause == "env-files-missing":
            message = f"{head}: an environmentFiles object{shown} does not exist in S3."
            fix = 'Upload the file, or correct its "value" (arn:aws:s3:::bucket/key, a .env file) in the definition.'
        else:
            message = f"{head}: {role_words} may not download the environmentFiles{shown}."
            fix = (
                f"Allow {role_words} s3:GetObject on each file and s3:GetBucketLocation on its bucket (and kms:Decrypt "
                "for a bucket encrypted with a customer managed key)."
            )
        return message, fix, extra
    if cause == "efs":
        volumes = [
            v.get("name")
            for v in (task_definition.raw.get("volumes") or [])
            if isinstance(v, Mapping) and v.get("efsVolumeConfiguration")
        ]
        shown = f" ({', '.join(str(v) for v in volumes if v)})" if volumes else ""
        message = f"{head}: ECS could not mount the task's EFS volume{shown}."
        fix = (
            "Check that the file system has a mount target in the task's Availability Zone and subnet, that the mount "
            "target's security group allows NFS (TCP 2049) from the task, that the VPC has DNS hostnames on, and, with "
            "IAM authorization or an access point, that the task role may mount it (elasticfilesystem:ClientMount)."
        )
        return message, fix, extra
    if cause == "eni":
        message = f"{head}: ECS could not set up the task's network interface in {_subnets(stopped)}."
        fix = (
            "Usually transient (the service retries). If it repeats: the subnets need free IPv4 addresses, and the "
            "account's network interface quota must not be reached."
        )
        return message, fix, extra
    message = (
        f"{head}. ECS's words do not say which resource failed in a way ecsguard reads; the full reason is on the "
        "stopped task (ECS console, Tasks, Stopped)."
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
    title="Task stopped: an essential container could not start, or exited with an error soon after it started",
    severity="info",
    mistake=7,
    rationale=(
        "An essential container that cannot start (CannotStartContainerError, CannotCreateContainerError, "
        "ContainerRuntimeTimeoutError, CannotCreateVolumeError) stops its task before it runs, and a service retries "
        "it forever: a command or entryPoint that is not in the image, a user the image does not have, a host port "
        "already taken on EC2, a full disk. Those findings are high (medium for a start that timed out; info for "
        "InternalError and the runtime's own faults, which nothing in the definition causes). An essential container "
        "that exits non-zero within five minutes of the task starting usually fails at start too (127: not found, "
        "126: not executable, a missing variable or secret, a dependency it cannot reach): informational, as only "
        "the application's log says why, and a crash after long work is the application's own story. Containers "
        "that ECS stopped because another essential container had exited (SIGTERM 143, SIGKILL 137 without "
        "OutOfMemoryError) are consequences and are not reported."
    ),
    remediation=(
        "Read the container's last log lines (its awslogs group and stream, or the FireLens destination), fix the "
        "command, the user, the variables or the dependency, register the revision and update the service."
    ),
    docs=DOCS_STOPPED,
    scope="stopped",
)
def essential_container_exited(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    stopped = context.stopped
    if stopped is None or routine_stop(stopped):
        return
    started = False
    for failure in _failures(task_definition, stopped, "start"):
        if failure.container is not None and not _essential(failure.container):
            continue
        started = True
        yield _start_finding(task_definition, context, stopped, failure)
    if started or stopped.stop_code not in (None, "EssentialContainerExited"):
        return  # TaskFailedToStart is image-pull-failed / task-init-failed; routine codes are routine
    ran = _ran_for(stopped)
    if stopped.started_at and ran is not None and ran > SOON_AFTER_START:
        return
    causes_of_stop = [
        c for c in stopped.containers if c.exit_code is not None and not _stopped_by_ecs(c) and not error_kind(c.reason)
    ]
    for event in stopped.containers:
        container = _definition_container(task_definition, event.name)
        if not _essential(container) or event.exit_code in (None, 0) or error_kind(event.reason):
            continue  # error_kind: oom-killed, or a start/pull/init error another check reports
        if _stopped_by_ecs(event) and causes_of_stop:
            continue  # ECS stopped it because another container exited first
        meaning = EXIT_CODES.get(event.exit_code) or (
            f"killed by signal {event.exit_code - 128}" if 128 < event.exit_code < 160 else "an application error"
        )
        when = (
            f"{_duration(ran)} after the task started"
            if stopped.started_at and ran is not None
            else "before the task ran"
        )
        yield essential_container_exited.finding(
            context,
            f"Essential container '{event.name}' exited with code {event.exit_code} ({meaning}) {when}, which stopped "
            f"task {_task_id(stopped)}.{_logs_of(task_definition, context, stopped, container, event.name)}",
            container=event.name,
            cause=f"exit-{event.exit_code}",
            exit_code=event.exit_code,
        )


def _logs_of(
    task_definition: TaskDefinition,
    context: CheckContext,
    stopped: StoppedTask,
    container: Container | None,
    name: str,
) -> str:
    destination = awslogs_destination(container, _region_of(task_definition, context)) if container else None
    if not destination:
        return ""
    prefix = container.log_configuration.options.get("awslogs-stream-prefix") if container.log_configuration else None
    stream = f", stream {prefix}/{name}/{_task_id(stopped)}" if prefix else ""
    return f" Its output is in log group '{destination[1]}' ({destination[0]}){stream}."


def start_cause(text: str) -> str:
    """Why a container could not start, from a :func:`scrub`-bed CannotStartContainerError (and kin)."""
    error = _error_class(text, "CannotStartContainerError")
    if error in {"InternalError", "CannotInspectContainerError", "CannotStopContainerError"}:
        return "runtime-error"
    if error in {"ContainerRuntimeTimeoutError", "DockerTimeoutError"}:
        return "start-timeout"
    if error == "CannotCreateVolumeError":
        return "volume"
    for pattern, cause in _START_CAUSES:
        if pattern.search(text):
            return cause
    return "cannot-start"


_START_WORDS = {
    "command-not-found": (
        "the command or entryPoint names a file that is not in the image",
        'Fix "command" / "entryPoint" of the container (the image\'s own ENTRYPOINT and CMD apply when they are '
        "unset): the program must exist in the image at that path or on its PATH; for a shell form, use "
        '["sh", "-c", "..."] and an image that has sh.',
    ),
    "command-not-executable": (
        "the command or entryPoint is not executable in the image",
        "Make the file executable in the image (chmod +x in the Dockerfile), or call it through its interpreter in "
        '"command" / "entryPoint".',
    ),
    "user-not-found": (
        'the "user" it runs as does not exist in the image',
        'Set "user" to a numeric UID:GID (e.g. "1000:1000"), or to a user the image\'s /etc/passwd defines.',
    ),
    "port-in-use": (
        "its host port is already taken on the container instance (bridge or host network mode)",
        'Use "hostPort": 0 (dynamic ports, with the load balancer\'s target group) or awsvpc networking, or place '
        "at most one such task per instance (a distinctInstance placement constraint).",
    ),
    "disk-full": (
        "the disk is full (no space left on device)",
        'On Fargate raise "ephemeralStorage"; on EC2 free or enlarge the instance\'s Docker volume and let the agent '
        "clean up images sooner.",
    ),
    "mount": (
        "a mount point or volume it needs could not be set up",
        'Check the container\'s "mountPoints" against the definition\'s "volumes" (the sourceVolume names, a bind '
        "mount's host path on EC2, an EFS volume's file system and access point).",
    ),
    "volume": (
        "ECS could not create a volume the definition declares (CannotCreateVolumeError)",
        'Check the definition\'s "volumes": a Docker volume driver that exists on the instance, an EFS file system '
        "reachable from the task, an EBS volume configuration the service allows.",
    ),
    "start-timeout": (
        "it did not reach RUNNING within the start timeout (a dependency it waits on, a slow start)",
        'Check its "dependsOn" conditions (a HEALTHY condition needs a healthCheck that passes), and raise '
        '"startTimeout" if the container needs longer to start.',
    ),
    "runtime-error": (
        "the container runtime or ECS reported an internal error; nothing in the definition causes it",
        "Let the service start another task; if it repeats on one container instance, drain and replace it, and "
        "contact AWS Support if it repeats on Fargate.",
    ),
    "cannot-start": (
        "the container runtime refused to start it",
        "Read the full reason on the stopped task (ECS console, Tasks, Stopped), then check the container's "
        '"command", "entryPoint", "user", "mountPoints" and "linuxParameters" against the image.',
    ),
}


def _start_finding(
    task_definition: TaskDefinition, context: CheckContext, stopped: StoppedTask, failure: _Failure
) -> Finding:
    cause = start_cause(failure.text)
    error = _error_class(failure.raw, "CannotStartContainerError")
    why, fix = _START_WORDS[cause]
    severity = {"runtime-error": "info", "start-timeout": "medium"}.get(cause, "high")
    image = _image(failure.stopped, failure.container)
    return essential_container_exited.finding(
        context,
        f"Task {_task_id(stopped)} never ran: essential {_who(failure)}"
        + (f" (image {image})" if image else "")
        + f" could not start ({error}): {why}.",
        container=failure.name,
        remediation=fix,
        severity=severity,
        cause=cause,
    )


def causes(findings: list[Finding]) -> list[str]:
    """``check:cause`` of each finding, sorted and unique: what a stop is counted under in the state table."""
    return sorted({f"{f.check}:{f.data.get('cause', '')}" for f in findings})
