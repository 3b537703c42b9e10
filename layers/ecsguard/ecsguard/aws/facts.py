"""AwsFacts: the :class:`ecsguard.facts.Facts` interface answered from AWS, read-only.

Answers are cached for the lifetime of the object (one invocation); facts that cannot change
(an image by digest) or change rarely (a role's policies) are also cached per container, bounded
in time. Each concern's reads live in its own mixin: :mod:`.ecr` (images, pull-through cache),
:mod:`.iam` (roles, policy simulation, secret metadata), :mod:`.state` (the role inventory).
:func:`read_task_definition` is the flows' read of the definition an event names.
"""

from __future__ import annotations

import logging

from botocore.exceptions import ClientError, EndpointConnectionError

from ..events import SkipEvent
from ..facts import Facts, StaticFacts, Unknown
from ..model import TaskDefinition
from .clients import Clients
from .ecr import EcrFacts, PullThroughCacheFacts
from .errors import UNKNOWABLE, region_known, unknown_from
from .iam import IamFacts
from .network import NetworkFacts
from .state import RoleInventoryFacts

__all__ = [
    "UNKNOWABLE",
    "AwsFacts",
    "Facts",
    "LaunchFacts",
    "StaticFacts",
    "Unknown",
    "read_task_definition",
    "unknown_from",
]

logger = logging.getLogger(__name__)

# Answers that mean "this account may not look there" (an SCP denying a region, an opt-in region
# not enabled): the check stays silent rather than guess, and the event is not retried.
_UNKNOWABLE = UNKNOWABLE


class LogGroupFacts:
    """Whether a CloudWatch Logs group exists (a mixin; uses ``self._clients``), cached per object."""

    _clients: Clients

    def log_group_exists(self, region: str, name: str) -> bool | None:
        cache: dict[tuple[str, str], bool | None] = self.__dict__.setdefault("_log_groups", {})
        key = (region, name)
        if key not in cache:
            try:
                # A prefix query returns the exact name first when it exists (results are sorted by name).
                response = self._clients("logs", region).describe_log_groups(logGroupNamePrefix=name, limit=5)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in _UNKNOWABLE:
                    raise  # throttling and server errors: retried, then the dead-letter queue
                logger.warning(
                    "cannot read log groups", extra={"region": region, "error": exc.response["Error"]["Code"]}
                )
                cache[key] = None
            except EndpointConnectionError:
                if region_known(self._clients, "logs", region):
                    raise  # a real region that did not answer: transient, retried (never a false clean)
                logger.warning("no CloudWatch Logs endpoint: not a region this SDK knows", extra={"region": region})
                cache[key] = None
            else:
                groups = response.get("logGroups", [])
                cache[key] = any(group.get("logGroupName") == name for group in groups)
        return cache[key]


class AwsFacts(LogGroupFacts, EcrFacts, PullThroughCacheFacts, IamFacts, RoleInventoryFacts):
    """Every fact a registered definition's checks read (the registration function)."""

    def __init__(self, clients: Clients, *, state_table: str | None = None) -> None:
        self._clients = clients
        self._state_table = state_table


class LaunchFacts(PullThroughCacheFacts, NetworkFacts):
    """The facts the launch checks read (subnets, routes, endpoints, security groups, pull-through cache
    rules), and no other: the launch function's role carries only these reads."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients


class DiagnosisFacts(LogGroupFacts, EcrFacts, PullThroughCacheFacts, NetworkFacts):
    """The facts the stopped-task diagnosis reads: log groups, ECR images (does the image exist?) and the
    network path of a timed-out pull; not the IAM and secret reads of registration."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients


def read_task_definition(clients: Clients, region: str, reference: str) -> TaskDefinition:
    """DescribeTaskDefinition (with tags) by ARN or family; SkipEvent when it no longer exists."""
    try:
        response = clients("ecs", region).describe_task_definition(taskDefinition=reference, include=["TAGS"])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in {"ClientException", "InvalidParameterException"}:
            raise SkipEvent(f"task definition {reference} cannot be read: {code}") from None
        raise
    return TaskDefinition.from_api(response["taskDefinition"], tags=response.get("tags"))
