"""EventBridge / CloudTrail envelope -> models.

The event is a trigger, not the truth. CloudTrail drops fields that are too large (the field is
replaced by ``{"omitted": true, ...}``), failed calls carry ``errorCode`` and no response, and the
same event can be delivered twice. Every function here raises :class:`SkipEvent` with a one-line
reason for input it will not act on; callers log that line and return cleanly.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .model import Container, NetworkConfiguration, TaskDefinition, TaskLaunch

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"


class SkipEvent(Exception):
    """This event is not one ecsguard acts on. ``str(exc)`` is the reason, safe to log."""


@dataclass(frozen=True, slots=True)
class ApiCall:
    event_id: str
    event_name: str
    event_source: str
    region: str
    account: str
    actor: str
    event_time: str | None
    error_code: str | None
    request_parameters: Mapping[str, Any] | None
    response_elements: Mapping[str, Any] | None
    envelope_id: str | None = None  # EventBridge's id; event_id is CloudTrail's id of the API call


# What the envelope's own fields look like. Every field ecsguard copies out of an event (into a log line,
# a skip reason, a notification, the SNS subject or attributes, an AWS call) must be short, printable ASCII
# of the expected shape whatever arrives; a value of another type or shape is treated as absent, never
# str()-ed (a dict or a list there may hold anything, credentials included) and never truncated into
# something that looks valid. A credential-shaped string (spaces, !, #, %...) matches none of these.
_ACCOUNT = re.compile(r"[0-9]{12}")
_EVENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # CloudTrail's and EventBridge's ids are UUIDs
_EVENT_NAME = re.compile(r"[A-Za-z0-9]{1,128}")
_ERROR_CODE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_WORDS = re.compile(r"[A-Za-z0-9._:/-]{1,64}(?: [A-Za-z0-9._:/-]{1,64}){0,7}")  # what a skip reason may echo
_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:[A-Za-z0-9+=,.@:/_-]{1,1024}")
_IDENTITY = re.compile(r"[A-Za-z0-9+=,.@:/_-]{1,256}(?: [A-Za-z0-9+=,.@:/_-]{1,64})?")  # "AWS Internal" too
_TASK_DEFINITION_REFERENCE = re.compile(
    r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/[A-Za-z0-9_-]{1,255}:[0-9]{1,10}|[A-Za-z0-9_-]{1,255}"
)
_ECS_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")  # a cluster or service name
_TIME_LIMIT = 64


def _valid(value: Any, pattern: re.Pattern[str]) -> str | None:
    """``value`` when it is a string that matches ``pattern`` in full, else None."""
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


def _shown(value: Any) -> str:
    """A value of the event for a skip reason: quoted when it is a short plain word or phrase, else its kind."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if _WORDS.fullmatch(value) else f"(a {len(value)}-character string)"
    return f"(a JSON {'object' if isinstance(value, Mapping) else type(value).__name__})"


@functools.cache
def _region_patterns() -> tuple[re.Pattern[str], ...]:
    """The region names of every partition botocore knows (aws, aws-cn, aws-us-gov, the ISO ones...)."""
    from botocore.loaders import create_loader

    partitions = create_loader().load_data("partitions")["partitions"]
    return tuple(re.compile(partition["regionRegex"], re.ASCII) for partition in partitions)


def is_region(value: Any) -> bool:
    """Is ``value`` an AWS region name (``us-east-1``, ``cn-north-1``, ``us-gov-west-1``...)?

    A name of a known partition's shape, as botocore resolves endpoints: a region newer than the SDK
    still passes, ``['us-east-1']``, ``us-east-1x`` or ``*`` do not.
    """
    return (
        isinstance(value, str) and len(value) <= 32 and any(pattern.fullmatch(value) for pattern in _region_patterns())
    )


def _event_time(value: Any) -> str | None:
    """CloudTrail's ``eventTime`` (ISO 8601) as it came, when it is one; else None."""
    if not isinstance(value, str) or len(value) > _TIME_LIMIT or not value.isascii() or not value.isprintable():
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return None
    return value


def _actor(detail: Mapping[str, Any]) -> str:
    """Who made the call: the first identity field of the expected shape, else ``unknown``."""
    identity = detail.get("userIdentity")
    if not isinstance(identity, Mapping):
        return "unknown"
    context = identity.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, Mapping) else None
    candidates = (
        _valid(identity.get("arn"), _ARN),
        _valid(issuer.get("arn"), _ARN) if isinstance(issuer, Mapping) else None,
        _valid(identity.get("principalId"), _IDENTITY),
        _valid(identity.get("invokedBy"), _IDENTITY),
        _valid(identity.get("type"), _IDENTITY),
    )
    return next((candidate for candidate in candidates if candidate), "unknown")


def correlation_id(event: Any) -> str | None:
    """The id to correlate an event's log lines by: CloudTrail's eventID, else EventBridge's id, when id-shaped.

    For the handlers' logger (``Logger.set_correlation_id``): a JMESPath such as ``detail.eventID || id``
    takes whatever the event holds there, an object or 10,000 characters included, into every log line.
    """
    if not isinstance(event, Mapping):
        return None
    detail = event.get("detail")
    return (_valid(detail.get("eventID"), _EVENT_ID) if isinstance(detail, Mapping) else None) or _valid(
        event.get("id"), _EVENT_ID
    )


def parse_api_call(event: Any, *, expected_source: str = "ecs.amazonaws.com") -> ApiCall:
    """Read the CloudTrail envelope; raise :class:`SkipEvent` for anything else."""
    if not isinstance(event, Mapping):
        raise SkipEvent(f"event is a {type(event).__name__}, not a JSON object")
    if event.get("detail-type") != CLOUDTRAIL_DETAIL_TYPE:
        raise SkipEvent(f"detail-type {_shown(event.get('detail-type'))} is not {CLOUDTRAIL_DETAIL_TYPE!r}")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise SkipEvent("event has no detail object")
    source = detail.get("eventSource")
    if source != expected_source:
        raise SkipEvent(f"eventSource {_shown(source)} is not {expected_source!r}")
    name = _valid(detail.get("eventName"), _EVENT_NAME)
    if name is None:
        raise SkipEvent(f"event has no eventName (found {_shown(detail.get('eventName'))})")
    # Every AWS call ecsguard makes for an event goes to its region, so a region that is not one is never
    # used: EventBridge delivers a CloudTrail event only in the region of the call, and sets the envelope's
    # own ``region`` itself, so when CloudTrail's awsRegion is unusable the envelope's is the same region.
    # When neither is a region the event is not a genuine CloudTrail record (or is corrupted): it is skipped
    # with a log line rather than checked in this function's own region, where the family it names may be
    # another definition altogether. The account is not used for calls (they go to the function's own
    # account) but is shown and filtered on, so it gets the same treatment.
    region = next((r for r in (detail.get("awsRegion"), event.get("region")) if is_region(r)), None)
    account = next((a for a in (detail.get("recipientAccountId"), event.get("account")) if _valid(a, _ACCOUNT)), None)
    if region is None:
        raise SkipEvent(
            f"event names no AWS region (awsRegion {_shown(detail.get('awsRegion'))}, "
            f"region {_shown(event.get('region'))})"
        )
    if account is None:
        raise SkipEvent(
            f"event names no 12-digit account (recipientAccountId {_shown(detail.get('recipientAccountId'))}, "
            f"account {_shown(event.get('account'))})"
        )
    request = detail.get("requestParameters")
    response = detail.get("responseElements")
    envelope_id = _valid(event.get("id"), _EVENT_ID)
    error = detail.get("errorCode")
    return ApiCall(
        event_id=_valid(detail.get("eventID"), _EVENT_ID) or envelope_id or "",
        event_name=name,
        event_source=source,
        region=region,
        account=account,
        actor=_actor(detail),
        event_time=_event_time(detail.get("eventTime")) or _event_time(event.get("time")),
        # Any errorCode means the call failed (there is nothing to check); only a code-shaped one is repeated.
        error_code=(_valid(error, _ERROR_CODE) or "an unreadable errorCode") if error else None,
        request_parameters=request if isinstance(request, Mapping) else None,
        response_elements=response if isinstance(response, Mapping) else None,
        envelope_id=envelope_id,
    )


def _omitted(value: Any) -> bool:
    """True when CloudTrail truncated this part (``{"omitted": true, "originalSize": N}``)."""
    return isinstance(value, Mapping) and value.get("omitted") in (True, "true")


REDACTED = "HIDDEN_DUE_TO_SECURITY_REASONS"


def _redacted(value: Any) -> bool:
    """CloudTrail replaces parameters it considers sensitive with a marker; the real value must be read back.

    Walked without recursion: a JSON document nested deeper than Python's recursion limit still parses.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item == REDACTED:
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _complete_containers(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(c, Mapping) and not _omitted(c) for c in value)


@dataclass(frozen=True, slots=True)
class Registration:
    """What a RegisterTaskDefinition event tells us."""

    call: ApiCall
    arn: str | None
    # The full definition when the event carries it whole; None when it must be re-read.
    task_definition: TaskDefinition | None
    reason_incomplete: str | None = None


def parse_registration(event: Any) -> Registration:
    call = parse_api_call(event)
    if call.event_name != "RegisterTaskDefinition":
        raise SkipEvent(f"eventName {call.event_name!r} is not RegisterTaskDefinition")
    if call.error_code:
        raise SkipEvent(f"RegisterTaskDefinition failed with {call.error_code}: no revision was registered")

    response = call.response_elements
    request = call.request_parameters
    response_td = response.get("taskDefinition") if response and not _omitted(response) else None
    arn = response_td.get("taskDefinitionArn") if isinstance(response_td, Mapping) else None
    arn = _valid(arn, _TASK_DEFINITION_REFERENCE)  # it may be read back (DescribeTaskDefinition) and logged

    reason = None
    if response is None:
        reason = "responseElements is missing"
    elif _omitted(response):
        reason = "CloudTrail omitted responseElements (too large)"
    elif not isinstance(response_td, Mapping) or _omitted(response_td):
        reason = "responseElements has no complete taskDefinition"
    elif not _complete_containers(response_td.get("containerDefinitions")):
        reason = "responseElements.taskDefinition.containerDefinitions is truncated or missing"
    elif _redacted(response_td):
        reason = "CloudTrail redacted values in responseElements"
    if reason is None:
        assert isinstance(response_td, Mapping)
        tags = response.get("tags") if response else None
        if tags is None and request and not _omitted(request):
            tags = request.get("tags")
        return Registration(call, arn, TaskDefinition.from_api(response_td, tags=tags))
    if arn is None and request and not _omitted(request) and _valid(request.get("family"), _TASK_DEFINITION_REFERENCE):
        # Without the response we do not know the revision; describing the family gives the latest, which
        # is the one just registered unless another registration raced it.
        arn = request["family"]
    if arn is None:
        raise SkipEvent(f"{reason}, and the event names no task definition to read")
    return Registration(call, arn, None, reason)


# --------------------------------------------------------------------------- RunTask / StartTask / services

_TASK_DEFINITION_PARTS = re.compile(r"^(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/)?([^:/]+)(?::(\d+))?$")


def split_task_definition(reference: str) -> tuple[str | None, int | None]:
    """``family``, ``family:7`` or a task-definition ARN -> (family, revision or None)."""
    match = _TASK_DEFINITION_PARTS.match(reference)
    if not match:
        return None, None
    return match.group(1), int(match.group(2)) if match.group(2) else None


TASK_EVENT_NAMES = ("RunTask", "StartTask")
SERVICE_EVENT_NAMES = ("CreateService", "UpdateService")
LAUNCH_EVENT_NAMES = TASK_EVENT_NAMES + SERVICE_EVENT_NAMES


@dataclass(frozen=True, slots=True)
class Launch:
    """What a launch event tells us: the call and the launch it made.

    RunTask/StartTask start tasks now; CreateService/UpdateService tell the service scheduler which
    definition to run, where and how (``launch.service`` set, no task ARNs).
    """

    call: ApiCall
    launch: TaskLaunch
    # Why the container overrides could not be read from the event (then they must be re-read), else None.
    reason_incomplete: str | None = None
    # UpdateService without the service in its response: what must be read back (DescribeServices), else None.
    service_incomplete: str | None = None


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) and not _omitted(value) else None


def _override_list(overrides: Any) -> list[Mapping[str, Any]] | None:
    """``overrides.containerOverrides`` as a list of objects; None when it is absent or truncated."""
    overrides = _mapping(overrides)
    if overrides is None:
        return None
    items = overrides.get("containerOverrides")
    if not isinstance(items, list) or any(_omitted(item) for item in items) or _redacted(items):
        return None
    return [item for item in items if isinstance(item, Mapping)]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def capacity_providers(strategy: Any) -> tuple[str, ...]:
    """The capacity provider names of a ``capacityProviderStrategy`` list (empty when absent or malformed)."""
    if not isinstance(strategy, list):
        return ()
    names = (item.get("capacityProvider") for item in strategy if isinstance(item, Mapping))
    return tuple(name for name in names if isinstance(name, str) and name)


# UpdateService changes that change what the service's next tasks run or where: anything else (a desired
# count from Application Auto Scaling, deployment settings, tags) is not a launch ecsguard checks. The
# template's rule filters on the same fields; this keeps `ecsguard deliver` and direct invocations honest.
SERVICE_LAUNCH_FIELDS = ("taskDefinition", "networkConfiguration", "capacityProviderStrategy", "launchType")


def service_launch(event_name: str, request: Mapping[str, Any], response: Mapping[str, Any]) -> TaskLaunch:
    """The launch a CreateService/UpdateService call describes: the service's definition, network and capacity.

    The service in the response is the truth after the call (its ``taskDefinition`` is an ARN with a
    revision even when the request named a family); the request fills what a truncated response lacks.
    """
    service = _mapping(response.get("service")) or {}
    reference = _text(service.get("taskDefinition")) or _text(request.get("taskDefinition"))
    network = NetworkConfiguration.from_api(_mapping(service.get("networkConfiguration"))) or (
        NetworkConfiguration.from_api(_mapping(request.get("networkConfiguration")))
    )
    providers = capacity_providers(service.get("capacityProviderStrategy")) or capacity_providers(
        request.get("capacityProviderStrategy")
    )
    # Names and ARNs only (they reach log lines, the message and DescribeServices): anything else is absent.
    name = next(
        (
            v
            for v in (service.get("serviceArn"), request.get("serviceName"), request.get("service"))
            if _valid(v, _ARN) or _valid(v, _ECS_NAME)
        ),
        None,
    )
    cluster = next(
        (v for v in (service.get("clusterArn"), request.get("cluster")) if _valid(v, _ARN) or _valid(v, _ECS_NAME)),
        None,
    )
    return TaskLaunch(
        task_definition=reference or "",
        cluster=cluster,
        launch_type=_text(service.get("launchType")) or _text(request.get("launchType")),
        network=network,
        capacity_providers=providers,
        service=name,
    )


def parse_launch(event: Any) -> Launch:
    """Read a RunTask/StartTask/CreateService/UpdateService event; :class:`SkipEvent` for what is not a launch.

    The overrides come from ``requestParameters`` (what the caller sent) and, when CloudTrail
    truncated the request, from the tasks in ``responseElements`` (ECS echoes them per task). A call
    that started no task and carries no overrides has nothing to check or stop and is skipped. A
    service call is a launch when it creates a service or changes its definition, network or capacity.
    """
    call = parse_api_call(event)
    if call.event_name not in LAUNCH_EVENT_NAMES:
        raise SkipEvent(f"eventName {call.event_name!r} is not RunTask, StartTask, CreateService or UpdateService")
    if call.error_code:
        what = "no task was started" if call.event_name in TASK_EVENT_NAMES else "the service was not changed"
        raise SkipEvent(f"{call.event_name} failed with {call.error_code}: {what}")

    sent = _mapping(call.request_parameters)
    request = sent or {}
    response = _mapping(call.response_elements) or {}

    if call.event_name in SERVICE_EVENT_NAMES:
        if (
            call.event_name == "UpdateService"
            and sent is not None
            and not any(f in request for f in SERVICE_LAUNCH_FIELDS)
        ):
            raise SkipEvent("UpdateService changed neither the task definition, the network nor the capacity")
        launch = service_launch(call.event_name, request, response)
        incomplete = None
        if not launch.task_definition or launch.network is None and not _mapping(response.get("service")):
            incomplete = "CloudTrail omitted the service from the response"
            if not launch.service:
                raise SkipEvent(f"{call.event_name} event names no service")
        return Launch(call, launch, None, incomplete)

    raw_tasks = response.get("tasks")
    tasks = [t for t in raw_tasks if isinstance(t, Mapping) and not _omitted(t)] if isinstance(raw_tasks, list) else []
    task_arns = tuple(arn for arn in (task.get("taskArn") for task in tasks) if isinstance(arn, str) and arn)
    first: Mapping[str, Any] = tasks[0] if tasks else {}

    # What the caller sent; None when the request is missing, truncated, or its overrides are.
    overrides = (_override_list(request.get("overrides")) if "overrides" in request else []) if sent else None
    if overrides is None:
        overrides = _override_list(first.get("overrides"))  # ECS echoes them on every started task
    reason = None
    if overrides is None:
        overrides = []
        if task_arns:
            reason = "CloudTrail omitted or redacted the overrides in the request and the started tasks"

    task_definition = first.get("taskDefinitionArn") or request.get("taskDefinition")
    if not isinstance(task_definition, str) or not task_definition:
        raise SkipEvent(f"{call.event_name} event names no task definition")
    if not task_arns and not overrides:
        failures = response.get("failures")
        detail = f" ({len(failures)} failure{'s' if len(failures) != 1 else ''})" if isinstance(failures, list) else ""
        raise SkipEvent(f"{call.event_name} started no task{detail} and carries no overrides: nothing to check")

    cluster = first.get("clusterArn") or request.get("cluster")
    launch_type = request.get("launchType") or first.get("launchType")
    started_by = request.get("startedBy") or first.get("startedBy")
    # The capacity provider the task landed on (the cluster's default strategy when the request named none).
    providers = capacity_providers(request.get("capacityProviderStrategy")) or tuple(
        name for name in (task.get("capacityProviderName") for task in tasks) if isinstance(name, str) and name
    )
    launch = TaskLaunch(
        task_definition=task_definition,
        cluster=cluster if isinstance(cluster, str) and cluster else None,
        launch_type=launch_type if isinstance(launch_type, str) and launch_type else None,
        container_overrides=tuple(Container.from_api(item, index) for index, item in enumerate(overrides)),
        task_arns=task_arns,
        started_by=started_by if isinstance(started_by, str) and started_by else None,
        network=NetworkConfiguration.from_api(_mapping(request.get("networkConfiguration"))),
        capacity_providers=tuple(dict.fromkeys(providers)),
    )
    return Launch(call, launch, reason)


# --------------------------------------------------------------------------- ECS Task State Change (STOPPED)

TASK_STATE_CHANGE_DETAIL_TYPE = "ECS Task State Change"
TASK_STATE_CHANGE_SOURCE = "aws.ecs"

_TASK_ARN = re.compile(r"arn:aws[a-z-]*:ecs:([a-z0-9-]+):([0-9]{12}):task/[A-Za-z0-9_-]{1,255}(?:/[A-Za-z0-9]{1,64})?")
_CLUSTER_ARN = re.compile(r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}")
_REVISION_ARN = re.compile(r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/[A-Za-z0-9_-]{1,255}:[0-9]{1,10}")
_GROUP = re.compile(r"(?:service|family):[A-Za-z0-9_-]{1,255}")
_STOP_CODE = re.compile(r"[A-Za-z]{1,64}")
_STATUS = re.compile(r"[A-Z_]{1,32}")
_CONTAINER_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_IMAGE_REFERENCE = re.compile(r"[A-Za-z0-9._:/@+-]{1,1024}")
_STARTED_BY = re.compile(r"[A-Za-z0-9._:/#-]{1,128}")
_SUBNET = re.compile(r"subnet-[0-9a-f]{8,17}")
_ZONE = re.compile(r"[a-z0-9-]{1,32}")
_TASK_SIZE = re.compile(r"[0-9]{1,7}")
# stoppedReason and a container's reason are free text that may quote anything (an application's own output,
# a URL with credentials): they are kept, bounded, for the diagnosis checks to classify and are never copied
# into a message, a log line or an attribute.
REASON_LIMIT = 8192


@dataclass(frozen=True, slots=True)
class TaskStopped:
    """What an ``ECS Task State Change`` event with ``lastStatus`` STOPPED tells us."""

    event_id: str  # EventBridge's id of this state change (a retry of the same delivery keeps it)
    account: str
    region: str
    time: str | None
    task: Any  # ecsguard.model.StoppedTask


def _reason(value: Any) -> str | None:
    return value[:REASON_LIMIT] if isinstance(value, str) and value else None


def _exit_code(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -(2**31) <= value < 2**32 else None


def _subnets(attachments: Any) -> tuple[str, ...]:
    """The subnets of the task's ENI attachments (awsvpc): ``details`` ``[{"name": "subnetId", "value": ...}]``."""
    found: list[str] = []
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, Mapping) or str(attachment.get("type", "")).lower() not in {"eni", ""}:
            continue
        for item in attachment.get("details") if isinstance(attachment.get("details"), list) else []:
            if isinstance(item, Mapping) and item.get("name") == "subnetId":
                subnet = _valid(item.get("value"), _SUBNET)
                if subnet:
                    found.append(subnet)
    return tuple(dict.fromkeys(found))


def parse_task_stopped(event: Any) -> TaskStopped:
    """Read an ``ECS Task State Change`` event of a task that reached STOPPED; :class:`SkipEvent` for anything else.

    Every field copied out of the event is validated for its shape (an ARN, a subnet id, a stop code...);
    a value of another type or shape is treated as absent. The reasons are free text, kept for
    classification only (:data:`REASON_LIMIT` characters) and never repeated.
    """
    from .model import StoppedContainer, StoppedTask

    if not isinstance(event, Mapping):
        raise SkipEvent(f"event is a {type(event).__name__}, not a JSON object")
    if event.get("source") != TASK_STATE_CHANGE_SOURCE:
        raise SkipEvent(f"source {_shown(event.get('source'))} is not {TASK_STATE_CHANGE_SOURCE!r}")
    if event.get("detail-type") != TASK_STATE_CHANGE_DETAIL_TYPE:
        raise SkipEvent(f"detail-type {_shown(event.get('detail-type'))} is not {TASK_STATE_CHANGE_DETAIL_TYPE!r}")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise SkipEvent("event has no detail object")
    if detail.get("lastStatus") != "STOPPED":
        raise SkipEvent(f"lastStatus {_shown(detail.get('lastStatus'))} is not 'STOPPED': the task has not stopped")
    task_match = _TASK_ARN.fullmatch(detail["taskArn"]) if isinstance(detail.get("taskArn"), str) else None
    if task_match is None:
        raise SkipEvent(f"event has no task ARN (found {_shown(detail.get('taskArn'))})")
    definition = _valid(detail.get("taskDefinitionArn"), _REVISION_ARN)
    if definition is None:
        raise SkipEvent(f"event names no task definition revision (found {_shown(detail.get('taskDefinitionArn'))})")
    # EventBridge sets region and account itself; the task's ARN says the same for a genuine event.
    region = next((r for r in (event.get("region"), task_match.group(1)) if is_region(r)), None)
    account = next((a for a in (event.get("account"), task_match.group(2)) if _valid(a, _ACCOUNT)), None)
    if region is None:
        raise SkipEvent(f"event names no AWS region (region {_shown(event.get('region'))})")
    if account is None:
        raise SkipEvent(f"event names no 12-digit account (account {_shown(event.get('account'))})")
    event_id = _valid(event.get("id"), _EVENT_ID)
    if event_id is None:
        raise SkipEvent(f"event has no id (found {_shown(event.get('id'))})")

    containers = []
    for item in detail.get("containers") if isinstance(detail.get("containers"), list) else []:
        if not isinstance(item, Mapping):
            continue
        name = _valid(item.get("name"), _CONTAINER_NAME)
        if name is None:
            continue
        containers.append(
            StoppedContainer(
                name=name,
                exit_code=_exit_code(item.get("exitCode")),
                reason=_reason(item.get("reason")),
                last_status=_valid(item.get("lastStatus"), _STATUS),
                image=_valid(item.get("image"), _IMAGE_REFERENCE),
            )
        )
    task = StoppedTask(
        task_arn=task_match.group(0),
        task_definition_arn=definition,
        cluster_arn=_valid(detail.get("clusterArn"), _CLUSTER_ARN),
        group=_valid(detail.get("group"), _GROUP),
        started_by=_valid(detail.get("startedBy"), _STARTED_BY),
        stop_code=_valid(detail.get("stopCode"), _STOP_CODE),
        stopped_reason=_reason(detail.get("stoppedReason")),
        launch_type=_valid(detail.get("launchType"), _STATUS),
        capacity_provider=_valid(detail.get("capacityProviderName"), _CONTAINER_NAME),
        cpu=_valid(detail.get("cpu"), _TASK_SIZE),
        memory=_valid(detail.get("memory"), _TASK_SIZE),
        containers=tuple(containers),
        subnets=_subnets(detail.get("attachments")),
        started_at=_event_time(detail.get("startedAt")),
        stopped_at=_event_time(detail.get("stoppedAt")) or _event_time(event.get("time")),
        availability_zone=_valid(detail.get("availabilityZone"), _ZONE),
    )
    return TaskStopped(
        event_id=event_id, account=account, region=region, time=_event_time(event.get("time")), task=task
    )
