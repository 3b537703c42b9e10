"""EventBridge / CloudTrail envelope -> models.

The event is a trigger, not the truth. CloudTrail drops fields that are too large (the field is
replaced by ``{"omitted": true, ...}``), failed calls carry ``errorCode`` and no response, and the
same event can be delivered twice. Every function here raises :class:`SkipEvent` with a one-line
reason for input it will not act on; callers log that line and return cleanly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import Container, TaskDefinition, TaskLaunch

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


def _actor(detail: Mapping[str, Any]) -> str:
    identity = detail.get("userIdentity")
    if not isinstance(identity, Mapping):
        return "unknown"
    issuer = (
        identity.get("sessionContext", {}).get("sessionIssuer", {})
        if isinstance(identity.get("sessionContext"), Mapping)
        else {}
    )
    return str(
        identity.get("arn")
        or (issuer.get("arn") if isinstance(issuer, Mapping) else None)
        or identity.get("principalId")
        or identity.get("invokedBy")
        or identity.get("type")
        or "unknown"
    )


def parse_api_call(event: Any, *, expected_source: str = "ecs.amazonaws.com") -> ApiCall:
    """Read the CloudTrail envelope; raise :class:`SkipEvent` for anything else."""
    if not isinstance(event, Mapping):
        raise SkipEvent(f"event is a {type(event).__name__}, not a JSON object")
    if event.get("detail-type") != CLOUDTRAIL_DETAIL_TYPE:
        raise SkipEvent(f"detail-type {event.get('detail-type')!r} is not {CLOUDTRAIL_DETAIL_TYPE!r}")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise SkipEvent("event has no detail object")
    source = detail.get("eventSource")
    if source != expected_source:
        raise SkipEvent(f"eventSource {source!r} is not {expected_source!r}")
    name = detail.get("eventName")
    if not isinstance(name, str) or not name:
        raise SkipEvent("event has no eventName")
    region = detail.get("awsRegion") or event.get("region")
    account = detail.get("recipientAccountId") or event.get("account")
    if not region or not account:
        raise SkipEvent("event names no region or account")
    request = detail.get("requestParameters")
    response = detail.get("responseElements")
    return ApiCall(
        event_id=str(detail.get("eventID") or event.get("id") or ""),
        event_name=name,
        event_source=source,
        region=str(region),
        account=str(account),
        actor=_actor(detail),
        event_time=detail.get("eventTime") or event.get("time"),
        error_code=detail.get("errorCode") or None,
        request_parameters=request if isinstance(request, Mapping) else None,
        response_elements=response if isinstance(response, Mapping) else None,
        envelope_id=event.get("id"),
    )


def _omitted(value: Any) -> bool:
    """True when CloudTrail truncated this part (``{"omitted": true, "originalSize": N}``)."""
    return isinstance(value, Mapping) and value.get("omitted") in (True, "true")


REDACTED = "HIDDEN_DUE_TO_SECURITY_REASONS"


def _redacted(value: Any) -> bool:
    """CloudTrail replaces parameters it considers sensitive with a marker; the real value must be read back."""
    if isinstance(value, str):
        return value == REDACTED
    if isinstance(value, Mapping):
        return any(_redacted(v) for v in value.values())
    if isinstance(value, list):
        return any(_redacted(v) for v in value)
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
    if not isinstance(arn, str) or not arn:
        arn = None

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
    if arn is None and request and not _omitted(request) and isinstance(request.get("family"), str):
        # Without the response we do not know the revision; describing the family gives the latest, which
        # is the one just registered unless another registration raced it.
        arn = request["family"]
    if arn is None:
        raise SkipEvent(f"{reason}, and the event names no task definition to read")
    return Registration(call, arn, None, reason)


# --------------------------------------------------------------------------- RunTask / StartTask

LAUNCH_EVENT_NAMES = ("RunTask", "StartTask")


@dataclass(frozen=True, slots=True)
class Launch:
    """What a RunTask/StartTask event tells us: the call and the launch it made."""

    call: ApiCall
    launch: TaskLaunch
    # Why the container overrides could not be read from the event (then they must be re-read), else None.
    reason_incomplete: str | None = None


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


def parse_launch(event: Any) -> Launch:
    """Read a RunTask/StartTask event; raise :class:`SkipEvent` for failed calls and foreign events.

    The overrides come from ``requestParameters`` (what the caller sent) and, when CloudTrail
    truncated the request, from the tasks in ``responseElements`` (ECS echoes them per task). A call
    that started no task and carries no overrides has nothing to check or stop and is skipped.
    """
    call = parse_api_call(event)
    if call.event_name not in LAUNCH_EVENT_NAMES:
        raise SkipEvent(f"eventName {call.event_name!r} is not RunTask or StartTask")
    if call.error_code:
        raise SkipEvent(f"{call.event_name} failed with {call.error_code}: no task was started")

    sent = _mapping(call.request_parameters)
    request = sent or {}
    response = _mapping(call.response_elements) or {}
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
    launch = TaskLaunch(
        task_definition=task_definition,
        cluster=cluster if isinstance(cluster, str) and cluster else None,
        launch_type=launch_type if isinstance(launch_type, str) and launch_type else None,
        container_overrides=tuple(Container.from_api(item, index) for index, item in enumerate(overrides)),
        task_arns=task_arns,
        started_by=started_by if isinstance(started_by, str) and started_by else None,
    )
    return Launch(call, launch, reason)
