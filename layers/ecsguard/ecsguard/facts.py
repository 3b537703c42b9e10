"""Facts: everything checks may ask about the AWS account, behind one small interface.

:class:`AwsFacts` answers from AWS (read-only calls, cached for the lifetime of the object, which
is one invocation); :class:`StaticFacts` answers from memory for tests and for the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .aws import Clients


class Facts(Protocol):
    def log_group_exists(self, region: str, name: str) -> bool: ...


class AwsFacts:
    def __init__(self, clients: Clients) -> None:
        self._clients = clients
        self._log_groups: dict[tuple[str, str], bool] = {}

    def log_group_exists(self, region: str, name: str) -> bool:
        key = (region, name)
        if key not in self._log_groups:
            # A prefix query returns the exact name first when it exists (results are sorted by name).
            response = self._clients("logs", region).describe_log_groups(logGroupNamePrefix=name, limit=5)
            self._log_groups[key] = any(group.get("logGroupName") == name for group in response.get("logGroups", []))
        return self._log_groups[key]


class StaticFacts:
    def __init__(self, log_groups: Iterable[tuple[str, str]] = ()) -> None:
        self.log_groups = set(log_groups)

    def log_group_exists(self, region: str, name: str) -> bool:
        return (region, name) in self.log_groups
