"""Facts: every read of the AWS account, behind one small interface.

:class:`AwsFacts` answers from AWS (read-only calls, cached for the lifetime of the object, which
is one invocation); :class:`StaticFacts` answers from memory for tests and for the CLI.
:func:`read_task_definition` is the flows' read of the definition an event names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from botocore.exceptions import ClientError, EndpointConnectionError

from ..events import SkipEvent
from ..model import TaskDefinition
from .clients import Clients

logger = logging.getLogger(__name__)

# Answers that mean "this account may not look there" (an SCP denying a region, an opt-in region
# not enabled): the check stays silent rather than guess, and the event is not retried.
_UNKNOWABLE = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure"}
)


class Facts(Protocol):
    def log_group_exists(self, region: str, name: str) -> bool | None:
        """True/False, or None when it cannot be known (region denied by an SCP, no endpoint...)."""
        ...


class AwsFacts:
    def __init__(self, clients: Clients) -> None:
        self._clients = clients
        self._log_groups: dict[tuple[str, str], bool | None] = {}

    def log_group_exists(self, region: str, name: str) -> bool | None:
        key = (region, name)
        if key not in self._log_groups:
            try:
                # A prefix query returns the exact name first when it exists (results are sorted by name).
                response = self._clients("logs", region).describe_log_groups(logGroupNamePrefix=name, limit=5)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in _UNKNOWABLE:
                    raise  # throttling and server errors: retried, then the dead-letter queue
                logger.warning(
                    "cannot read log groups", extra={"region": region, "error": exc.response["Error"]["Code"]}
                )
                self._log_groups[key] = None
            except EndpointConnectionError:
                logger.warning("no CloudWatch Logs endpoint", extra={"region": region})
                self._log_groups[key] = None
            else:
                groups = response.get("logGroups", [])
                self._log_groups[key] = any(group.get("logGroupName") == name for group in groups)
        return self._log_groups[key]


class StaticFacts:
    def __init__(self, log_groups: Iterable[tuple[str, str]] = ()) -> None:
        self.log_groups = set(log_groups)

    def log_group_exists(self, region: str, name: str) -> bool:
        return (region, name) in self.log_groups


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
