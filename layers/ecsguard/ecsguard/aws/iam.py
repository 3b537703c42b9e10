"""IAM and secret-metadata facts: role policies, policy simulation, whether a secret exists. Reads only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..facts import RoleFacts, Unknown


class IamFacts:
    """Mixin of :class:`ecsguard.aws.facts.AwsFacts`; uses ``self._clients``."""

    def role(self, role_arn: str) -> RoleFacts | Unknown:
        return Unknown("IAM role facts not implemented yet")

    def simulate(self, role_arn: str, actions: Iterable[str], resources: Iterable[str]) -> Mapping[str, str] | Unknown:
        return Unknown("IAM policy simulation not implemented yet")

    def secret_exists(self, value_from: str, region: str) -> bool | Unknown:
        return Unknown("secret metadata not implemented yet")
