"""Typed, immutable models of what ecsguard checks.

What every flow fills and every renderer reads lives here too: :class:`Finding` (one problem),
:class:`ActionResult` (one thing ecsguard did) and :class:`Report` (one event's outcome).

A task definition reaches us in three JSON shapes and we read all of them:

* ``RegisterTaskDefinition`` input (``{"family": ..., "containerDefinitions": [...]}``), which is
  also what CloudTrail records in ``requestParameters``;
* ``DescribeTaskDefinition`` output (``{"taskDefinition": {...}, "tags": [...]}``), pasted
  describe output with ``null`` fields and read-only fields included;
* a bare JSON array of container definitions (the Terraform ``container_definitions`` shape),
  or a single container definition object.

Parsing is tolerant: values written by people contain ``null``, numbers as strings, units
(``"1 vcpu"``, ``".5 gb"``) and template placeholders. Anything that is not the expected type is
treated as absent rather than raising, because a checker that crashes on a real file is worse
than one that says less about it. Only input that is not a task definition at all raises
:class:`DocumentError`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ActionResult",
    "Container",
    "DocumentError",
    "EnvironmentVariable",
    "Finding",
    "LogConfiguration",
    "SecretReference",
    "TaskDefinition",
    "NetworkConfiguration",
    "StoppedContainer",
    "StoppedTask",
    "TaskLaunch",
    "Report",
    "parse_document",
]

# Fields of DescribeTaskDefinition output that RegisterTaskDefinition does not accept.
READ_ONLY_FIELDS = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
        "deleteRequestedAt",
    }
)


class DocumentError(ValueError):
    """The input is not a task definition in any shape we read. The message says why."""


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")


def _with_unit(value: Any, factors: Mapping[str, float]) -> int | None:
    """A number with an optional unit (``"1 vcpu"``, ``".5 gb"``), scaled by the unit's factor; None if unknown."""
    text = _str(value)
    match = _UNIT.match(text) if text is not None else None
    if not match:
        return None
    factor = factors.get(match.group(2).lower())
    number = float(match.group(1)) * factor if factor is not None else math.inf
    return int(number) if math.isfinite(number) else None  # "999...9 vcpu" (400 digits) is a float infinity


def parse_cpu_units(value: Any) -> int | None:
    """``256``, ``"256"``, ``"1 vcpu"``, ``".25 vCPU"`` -> CPU units (1 vCPU = 1024)."""
    return _with_unit(value, {"": 1, "units": 1, "vcpu": 1024})


def parse_memory_mib(value: Any) -> int | None:
    """``512``, ``"512"``, ``"1 GB"``, ``".5 gb"`` -> MiB (ECS treats GB as GiB)."""
    return _with_unit(value, {"": 1, "mb": 1, "mib": 1, "gb": 1024, "gib": 1024})


@dataclass(frozen=True, slots=True)
class EnvironmentVariable:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class SecretReference:
    """An entry of ``secrets`` or ``logConfiguration.secretOptions``: a name and its ``valueFrom``."""

    name: str
    value_from: str


@dataclass(frozen=True, slots=True)
class LogConfiguration:
    log_driver: str | None
    options: Mapping[str, str]
    secret_options: tuple[SecretReference, ...] = ()


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    image: str | None
    essential: bool | None = None
    environment: tuple[EnvironmentVariable, ...] = ()
    secrets: tuple[SecretReference, ...] = ()
    log_configuration: LogConfiguration | None = None
    command: tuple[str, ...] = ()
    entry_point: tuple[str, ...] = ()
    user: str | None = None
    privileged: bool | None = None
    readonly_root_filesystem: bool | None = None
    cpu: int | None = None
    memory: int | None = None
    memory_reservation: int | None = None
    environment_files: tuple[str, ...] = ()
    health_check_command: tuple[str, ...] = ()
    # linuxParameters.capabilities.add / .drop, upper-cased without a CAP_ prefix (as ECS/Docker accept both).
    capabilities_add: tuple[str, ...] = ()
    capabilities_drop: tuple[str, ...] = ()
    # repositoryCredentials.credentialsParameter: a private registry's credentials (needs the execution role).
    repository_credentials: str | None = None
    # The container's raw definition (read-only by convention) for checks that need a rarely used field.
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any], index: int = 0) -> Container:
        environment = tuple(
            EnvironmentVariable(name=_str(item.get("name")) or "", value=_str(item.get("value")) or "")
            for item in _list(data.get("environment"))
            if isinstance(item, Mapping)
        )
        secrets = tuple(
            SecretReference(name=_str(item.get("name")) or "", value_from=_str(item.get("valueFrom")) or "")
            for item in _list(data.get("secrets"))
            if isinstance(item, Mapping)
        )
        log_configuration = None
        raw_log = data.get("logConfiguration")
        if isinstance(raw_log, Mapping):
            options = raw_log.get("options")
            log_configuration = LogConfiguration(
                log_driver=_str(raw_log.get("logDriver")),
                options={
                    str(k): v
                    for k, v in ((k, _str(v)) for k, v in (options.items() if isinstance(options, Mapping) else ()))
                    if v is not None
                },
                secret_options=tuple(
                    SecretReference(name=_str(item.get("name")) or "", value_from=_str(item.get("valueFrom")) or "")
                    for item in _list(raw_log.get("secretOptions"))
                    if isinstance(item, Mapping)
                ),
            )
        return cls(
            name=_str(data.get("name")) or f"container-{index}",
            image=_str(data.get("image")),
            essential=_bool(data.get("essential")),
            environment=environment,
            secrets=secrets,
            log_configuration=log_configuration,
            command=tuple(s for s in map(_str, _list(data.get("command"))) if s is not None),
            entry_point=tuple(s for s in map(_str, _list(data.get("entryPoint"))) if s is not None),
            user=_str(data.get("user")),
            privileged=_bool(data.get("privileged")),
            readonly_root_filesystem=_bool(data.get("readonlyRootFilesystem")),
            cpu=parse_cpu_units(data.get("cpu")),
            memory=parse_memory_mib(data.get("memory")),
            memory_reservation=parse_memory_mib(data.get("memoryReservation")),
            health_check_command=tuple(
                s
                for s in map(
                    _str,
                    _list(data["healthCheck"].get("command")) if isinstance(data.get("healthCheck"), Mapping) else [],
                )
                if s is not None
            ),
            environment_files=tuple(
                v
                for v in (
                    _str(item.get("value")) for item in _list(data.get("environmentFiles")) if isinstance(item, Mapping)
                )
                if v
            ),
            capabilities_add=_capabilities(data, "add"),
            capabilities_drop=_capabilities(data, "drop"),
            repository_credentials=_str(data["repositoryCredentials"].get("credentialsParameter"))
            if isinstance(data.get("repositoryCredentials"), Mapping)
            else None,
            raw=dict(data),
        )


def _capabilities(data: Mapping[str, Any], which: str) -> tuple[str, ...]:
    linux = data.get("linuxParameters")
    capabilities = linux.get("capabilities") if isinstance(linux, Mapping) else None
    values = _list(capabilities.get(which)) if isinstance(capabilities, Mapping) else []
    return tuple(s.upper().removeprefix("CAP_") for s in map(_str, values) if s)


def _tags(value: Any) -> dict[str, str]:
    """ECS tags are ``[{"key": k, "value": v}]``; tolerate ``Key``/``Value`` and a plain mapping."""
    if isinstance(value, Mapping):
        return {str(k): _str(v) or "" for k, v in value.items()}
    tags: dict[str, str] = {}
    for item in _list(value):
        if isinstance(item, Mapping):
            key = _str(item.get("key", item.get("Key")))
            if key is not None:
                tags[key] = _str(item.get("value", item.get("Value"))) or ""
    return tags


# ECS family names: up to 255 letters, digits, hyphens and underscores.
_ARN_REVISION = re.compile(
    r"arn:aws[a-z-]*:ecs:([a-z0-9-]+):([0-9]{12}):task-definition/([A-Za-z0-9_-]{1,255}):([0-9]{1,10})"
)


@dataclass(frozen=True, slots=True)
class TaskDefinition:
    """One task definition revision (or a document that will become one)."""

    family: str | None
    containers: tuple[Container, ...]
    revision: int | None = None
    arn: str | None = None
    task_role_arn: str | None = None
    execution_role_arn: str | None = None
    network_mode: str | None = None
    requires_compatibilities: tuple[str, ...] = ()
    cpu: int | None = None
    memory: int | None = None
    status: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    pid_mode: str | None = None
    ipc_mode: str | None = None
    # runtimePlatform: operatingSystemFamily (LINUX, WINDOWS_SERVER_2022_CORE, ...) and cpuArchitecture.
    os_family: str | None = None
    cpu_architecture: str | None = None
    # The API-shaped dict this was read from (read-only by convention); used to register a
    # corrected revision that differs only where ecsguard changed it.
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        """``family:revision`` when both are known, else what we have."""
        if self.family and self.revision is not None:
            return f"{self.family}:{self.revision}"
        return self.family or "(unnamed task definition)"

    @property
    def region(self) -> str | None:
        match = _ARN_REVISION.fullmatch(self.arn or "")
        return match.group(1) if match else None

    @property
    def is_fargate(self) -> bool:
        return "FARGATE" in self.requires_compatibilities

    @property
    def is_windows(self) -> bool:
        """runtimePlatform says Windows (an unset platform is Linux, as ECS assumes)."""
        return (self.os_family or "").upper().startswith("WINDOWS")

    @classmethod
    def from_api(cls, data: Mapping[str, Any], tags: Any = None) -> TaskDefinition:
        """Read RegisterTaskDefinition input or the ``taskDefinition`` of describe output."""
        containers = tuple(
            Container.from_api(c, i)
            for i, c in enumerate(_list(data.get("containerDefinitions")))
            if isinstance(c, Mapping)
        )
        revision = data.get("revision")
        # A taskDefinitionArn that is not one (an object, 10,000 characters, a placeholder) is no ARN: it is never
        # shown, logged or acted on (deregistered) as if it named a revision.
        match = _ARN_REVISION.fullmatch(_str(data.get("taskDefinitionArn")) or "")
        arn = match.group(0) if match else None
        family = _str(data.get("family"))
        if match:
            family = family or match.group(3)
            if not isinstance(revision, int):
                revision = int(match.group(4))
        merged_tags = _tags(data.get("tags"))
        merged_tags.update(_tags(tags))
        platform = data.get("runtimePlatform") if isinstance(data.get("runtimePlatform"), Mapping) else {}
        return cls(
            family=family,
            containers=containers,
            revision=revision if isinstance(revision, int) and not isinstance(revision, bool) else None,
            arn=arn,
            task_role_arn=_str(data.get("taskRoleArn")),
            execution_role_arn=_str(data.get("executionRoleArn")),
            network_mode=_str(data.get("networkMode")),
            requires_compatibilities=tuple(s for s in map(_str, _list(data.get("requiresCompatibilities"))) if s),
            cpu=parse_cpu_units(data.get("cpu")),
            memory=parse_memory_mib(data.get("memory")),
            status=_str(data.get("status")),
            tags=merged_tags,
            pid_mode=_str(data.get("pidMode")),
            ipc_mode=_str(data.get("ipcMode")),
            os_family=_str(platform.get("operatingSystemFamily")),
            cpu_architecture=_str(platform.get("cpuArchitecture")),
            raw=dict(data),
        )

    def register_input(self) -> dict[str, Any]:
        """The RegisterTaskDefinition request that recreates this revision (read-only fields dropped, tags kept)."""
        request = {k: v for k, v in self.raw.items() if k not in READ_ONLY_FIELDS and v is not None}
        if self.tags:
            request["tags"] = [{"key": k, "value": v} for k, v in self.tags.items()]
        return request

    def iter_containers(self) -> Iterator[Container]:
        return iter(self.containers)


def parse_document(document: Any) -> TaskDefinition:
    """Read any of the accepted JSON shapes into a :class:`TaskDefinition`."""
    if isinstance(document, list):
        if not document:
            raise DocumentError("an empty JSON array has no container definitions")
        if not all(isinstance(item, Mapping) for item in document):
            raise DocumentError("a JSON array must hold container definition objects")
        return TaskDefinition.from_api({"containerDefinitions": document})
    if not isinstance(document, Mapping):
        raise DocumentError(f"expected a JSON object or array, found {type(document).__name__}")
    if isinstance(document.get("taskDefinition"), Mapping):
        return TaskDefinition.from_api(document["taskDefinition"], tags=document.get("tags"))
    if "containerDefinitions" in document:
        if not isinstance(document["containerDefinitions"], list):
            raise DocumentError("containerDefinitions must be a JSON array")
        return TaskDefinition.from_api(document)
    if "image" in document or ("name" in document and ("environment" in document or "logConfiguration" in document)):
        return TaskDefinition.from_api({"containerDefinitions": [document]})
    raise DocumentError(
        "not a task definition: expected containerDefinitions, a describe-task-definition "
        "output with taskDefinition, or an array of container definitions"
    )


# Maps whose keys are data (driver options, labels), not CloudFormation property names.
_CFN_DATA_MAPS = frozenset({"Options", "DockerLabels", "SystemControls"})


def _from_cloudformation(value: Any, *, keep_keys: bool = False) -> Any:
    """CloudFormation properties (PascalCase) -> the API's camelCase shape.

    ``Fn::Sub`` becomes its template string (its literal parts can still leak a credential) and
    ``Ref`` a ``${Name}`` placeholder; other intrinsic functions are values we cannot know (None).
    """
    if isinstance(value, list):
        return [_from_cloudformation(item) for item in value]
    if not isinstance(value, Mapping):
        return value
    if len(value) == 1:
        (key, inner), *_ = value.items()
        if key == "Fn::Sub":
            return inner if isinstance(inner, str) else (inner[0] if isinstance(inner, list) and inner else None)
        if key == "Ref":
            return f"${{{inner}}}"
        if key.startswith("Fn::"):
            return None
    converted = {}
    for key, inner in value.items():
        name = key if keep_keys or not key[:1].isupper() else key[:1].lower() + key[1:]
        converted[name] = _from_cloudformation(inner, keep_keys=key in _CFN_DATA_MAPS)
    return converted


def task_definitions_in(document: Any) -> list[tuple[str | None, TaskDefinition]]:
    """Every task definition a document holds, each with a label (None for the plain shapes).

    Besides the shapes :func:`parse_document` reads, a CloudFormation (SAM, CDK-synthesised)
    template yields one task definition per ``AWS::ECS::TaskDefinition`` resource, labelled with
    its logical id.
    """
    if isinstance(document, Mapping) and isinstance(document.get("Resources"), Mapping):
        found = [
            (str(logical_id), TaskDefinition.from_api(_from_cloudformation(resource.get("Properties") or {})))
            for logical_id, resource in document["Resources"].items()
            if isinstance(resource, Mapping) and resource.get("Type") == "AWS::ECS::TaskDefinition"
        ]
        if not found:
            raise DocumentError("a CloudFormation template with no AWS::ECS::TaskDefinition resource")
        return found
    return [(None, parse_document(document))]


@dataclass(frozen=True, slots=True)
class NetworkConfiguration:
    """The ``awsvpcConfiguration`` of a launch: where the task's network interface goes."""

    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    # ``assignPublicIp``: ENABLED -> True; DISABLED or absent (the ECS default) -> False.
    assign_public_ip: bool = False

    @classmethod
    def from_api(cls, data: Any) -> NetworkConfiguration | None:
        """``{"awsvpcConfiguration": {...}}`` (the request shape) or the inner object; None when absent."""
        if not isinstance(data, Mapping):
            return None
        inner = data.get("awsvpcConfiguration", data)
        if not isinstance(inner, Mapping):
            return None
        # Ids only (they reach EC2 filters, log lines and messages): anything else is treated as absent.
        subnets = tuple(s for s in _list(inner.get("subnets")) if isinstance(s, str) and _SUBNET_ID.fullmatch(s))
        groups = tuple(g for g in _list(inner.get("securityGroups")) if isinstance(g, str) and _GROUP_ID.fullmatch(g))
        if not subnets and not groups and "assignPublicIp" not in inner:
            return None
        public = inner.get("assignPublicIp")
        return cls(subnets, groups, isinstance(public, str) and public.upper() == "ENABLED")


FARGATE_CAPACITY_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
_SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8,17}")
_GROUP_ID = re.compile(r"sg-[0-9a-f]{8,17}")


@dataclass(frozen=True, slots=True)
class TaskLaunch:
    """A RunTask/StartTask/CreateService/UpdateService call: which definition, where, how, with which overrides.

    ``task_definition`` is what the launch runs: the ARN from the response when CloudTrail has it
    (the request may name only a family). ``service`` is set for CreateService/UpdateService, whose
    tasks the service scheduler starts later (``task_arns`` is then empty).
    """

    task_definition: str
    cluster: str | None = None
    launch_type: str | None = None
    container_overrides: tuple[Container, ...] = ()
    task_arns: tuple[str, ...] = ()
    started_by: str | None = None
    network: NetworkConfiguration | None = None
    capacity_providers: tuple[str, ...] = ()
    service: str | None = None

    @property
    def on_fargate(self) -> bool | None:
        """True on Fargate (launch type or every capacity provider), False on EC2/EXTERNAL, None when unknown."""
        if self.launch_type:
            return self.launch_type.upper() == "FARGATE"
        if self.capacity_providers:
            return all(p.upper() in FARGATE_CAPACITY_PROVIDERS for p in self.capacity_providers)
        return None


@dataclass(frozen=True, slots=True)
class StoppedContainer:
    """One container of a stopped task, as the ``ECS Task State Change`` event reports it."""

    name: str
    exit_code: int | None = None
    reason: str | None = None
    last_status: str | None = None
    image: str | None = None


@dataclass(frozen=True, slots=True)
class StoppedTask:
    """A task that reached STOPPED (EventBridge ``ECS Task State Change``): why, and where it ran.

    ``group`` is ``service:<name>`` for a service's task, ``family:<name>`` for a standalone one.
    ``subnets`` come from the task's ENI attachment (awsvpc).
    """

    task_arn: str
    task_definition_arn: str
    cluster_arn: str | None = None
    group: str | None = None
    started_by: str | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    launch_type: str | None = None
    capacity_provider: str | None = None
    cpu: str | None = None
    memory: str | None = None
    containers: tuple[StoppedContainer, ...] = ()
    subnets: tuple[str, ...] = ()
    started_at: str | None = None
    stopped_at: str | None = None
    # The service's awsvpcConfiguration (DescribeServices, read by the flow only for a network cause): the
    # event names the task's subnets but neither its security groups nor whether it had a public IP.
    security_groups: tuple[str, ...] = ()
    assign_public_ip: bool | None = None  # None: not known (a standalone task, or the service was not read)
    # De-duplication (the flow fills these from the state table): how many stops of this definition and
    # cause the message stands for (this one and those counted without a message since the previous one),
    # when that previous message was sent (None: this is the first), and until when further stops of the
    # same cause are counted rather than sent (None: no state table, every stop sends its own message).
    stops: int = 1
    previous_message_at: str | None = None
    counting_until: str | None = None
    availability_zone: str | None = None
    # Why the definition the task ran could not be read (the diagnosis then uses the event only), else None.
    definition_unreadable: str | None = None

    @property
    def service(self) -> str | None:
        return self.group.split(":", 1)[1] if self.group and self.group.startswith("service:") else None

    def summary(self) -> dict[str, Any]:
        """Identifiers, codes and exit codes for a result or a JSON document: never a reason text."""
        return {
            "taskArn": self.task_arn,
            "cluster": self.cluster_arn,
            "group": self.group,
            "service": self.service,
            "stopCode": self.stop_code,
            "launchType": self.launch_type,
            "capacityProvider": self.capacity_provider,
            "startedAt": self.started_at,
            "stoppedAt": self.stopped_at,
            "subnets": list(self.subnets),
            "containers": [
                {"name": c.name, "exitCode": c.exit_code, "lastStatus": c.last_status} for c in self.containers
            ],
            "stops": self.stops,
            "previousMessageAt": self.previous_message_at,
            "countingUntil": self.counting_until,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by one check in one place.

    ``field`` is a path inside the container definition such as ``environment.DB_PASSWORD`` or
    ``logConfiguration.options.splunk-token``. ``message`` and ``remediation`` are written for
    people and never contain a secret value; ``evidence`` may hold a redacted hint.
    """

    check: str
    severity: str
    target: str
    message: str
    remediation: str
    container: str | None = None
    field: str | None = None
    rule: str | None = None
    evidence: str | None = None
    fingerprint: str | None = None
    docs: str | None = None
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "target": self.target,
            "container": self.container,
            "field": self.field,
            "message": self.message,
            "remediation": self.remediation,
        }


@dataclass(frozen=True, slots=True)
class ActionResult:
    """One thing ecsguard did (or tried to do), in words fit for the notification; never a value."""

    action: str  # create-log-group | deregister-revision | migrate-secret | stop-task | ...
    target: str
    ok: bool
    detail: str
    changed: bool = True


@dataclass(slots=True)
class Report:
    """The outcome of one event: what was checked, what was found, what was done, what was sent.

    A flow fills it (findings first, then ``actions`` and ``message_id`` once it has acted and
    notified); the renderers read it. ``launch`` is set when the event was a task launch
    (RunTask/StartTask) rather than a registration.
    """

    task_definition: TaskDefinition
    account: str
    region: str
    actor: str
    event_time: str | None
    event_id: str | None
    findings: list[Finding]
    modes: Mapping[str, str]
    exempted: list[Finding] = field(default_factory=list)
    actions: list[ActionResult] = field(default_factory=list)
    message_id: str | None = None
    launch: TaskLaunch | None = None
    event_name: str | None = None  # the CloudTrail eventName of a launch (RunTask, StartTask, CreateService, ...)
    stopped: StoppedTask | None = None  # set by the stopped-task diagnosis flow
    duplicate: bool = False  # the state table already held this event's outcome: nothing done again

    @property
    def target(self) -> str:
        return self.task_definition.name

    def summary(self) -> dict[str, Any]:
        """What the handler returns (and the idempotency record stores): no secret values, no messages."""
        summary: dict[str, Any] = {
            "status": "checked",
            "taskDefinition": self.task_definition.arn or self.target,
            "findings": [
                {
                    "check": f.check,
                    "severity": f.severity,
                    "container": f.container,
                    "field": f.field,
                    "mode": self.modes.get(f.check),
                }
                for f in self.findings
            ],
            "exempted": sorted({f.check for f in self.exempted}),
            "unverified": sorted({f.check for f in self.findings if f.data.get("unverified")}),
            "actions": [dataclasses.asdict(a) for a in self.actions],
            "messageId": self.message_id,
        }
        if self.duplicate:
            summary["duplicate"] = True
        if self.launch is not None:
            summary["launch"] = {
                "eventName": self.event_name or "RunTask",
                "cluster": self.launch.cluster,
                "launchType": self.launch.launch_type,
                "tasks": list(self.launch.task_arns),
            }
            if self.launch.service:
                summary["launch"]["service"] = self.launch.service
        return summary
