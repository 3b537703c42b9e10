"""ecsguard's state: one DynamoDB table (``ECSGUARD_STATE_TABLE``) for everything it remembers.

Today it holds the idempotency records that absorb duplicate EventBridge deliveries (Powertools
idempotency, keyed on CloudTrail's ``eventID``); the role inventory, diagnosis de-duplication and
the sweep's cache are to live in the same table under their own key prefixes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..facts import Unknown
from .clients import Clients

# Runs ``work`` at most once per key (duplicate EventBridge deliveries) and returns its result.
Once = Callable[[str, Callable[[], dict[str, Any]]], dict[str, Any]]


class IdempotencyStore:
    """Runs a piece of work once per key, with Powertools idempotency on the state table.

    Built lazily: Powertools' idempotency utility and the DynamoDB client are only loaded the first
    time an event has something to act on or report, so clean definitions (most events) cost no
    DynamoDB calls and the cold start does not pay for them.
    """

    def __init__(self, table: str, clients: Clients) -> None:
        self._table = table
        self._clients = clients
        self._run: Callable[..., dict[str, Any]] | None = None
        self._config: Any = None
        self.context: Any = None

    def __call__(self, key: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if self._run is None:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            self._config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=24 * 3600)
            store = DynamoDBPersistenceLayer(table_name=self._table, boto3_client=self._clients("dynamodb"))

            @idempotent_function(data_keyword_argument="request", config=self._config, persistence_store=store)
            def run(request: dict[str, str], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
                return work()

            self._run = run
        if self.context is not None:
            self._config.register_lambda_context(self.context)
        return self._run(request={"key": key}, work=work)


class RoleInventoryFacts:
    """Mixin of :class:`ecsguard.aws.facts.AwsFacts`: the role -> families inventory in the state table."""

    def families_using_role(self, role_arn: str) -> frozenset[str] | Unknown:
        return Unknown("role inventory not implemented yet")
