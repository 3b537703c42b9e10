"""Lambda entry points. ``functions/<name>/app.py`` exposes one of these as ``lambda_handler``.

Each ``make_*`` builds a handler once per container: configuration is read and validated here
(a bad value fails the cold start with a message naming the variable), boto3 clients are cached
for the life of the container, and duplicate EventBridge deliveries are absorbed by Powertools
idempotency keyed on CloudTrail's ``eventID`` (around the actions and the notification only) when
a table is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from .aws import Clients
from .policy import Settings

logger = Logger(service="ecsguard")

# botocore's DEBUG log echoes request and response bodies: DescribeTaskDefinition,
# RegisterTaskDefinition and DeregisterTaskDefinition carry the very values ecsguard must never
# log. Whatever the function's (or Lambda's advanced logging) level, the SDK stays at INFO.
for _sdk_logger in ("botocore", "boto3", "urllib3"):
    logging.getLogger(_sdk_logger).setLevel(logging.INFO)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class IdempotencyStore:
    """Runs a piece of work once per key, with Powertools idempotency on DynamoDB.

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


Process = Callable[..., dict[str, Any]]


def _make_handler(process: Process, settings: Settings | None, clients: Clients | None) -> Handler:
    settings = settings or Settings.from_env()
    clients = clients or Clients()
    once = IdempotencyStore(settings.idempotency_table, clients) if settings.idempotency_table else None

    @logger.inject_lambda_context(log_event=False, clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if once is not None:
            once.context = context
        return process(event, settings=settings, clients=clients, once=once)

    return handler


def make_registration_handler(settings: Settings | None = None, clients: Clients | None = None) -> Handler:
    """RegisterTaskDefinition: the checks of :mod:`ecsguard.checks` on the new revision."""
    from .guard import process_registration  # each function imports only its own flow

    return _make_handler(process_registration, settings, clients)


def make_launch_handler(settings: Settings | None = None, clients: Clients | None = None) -> Handler:
    """RunTask/StartTask: plaintext credentials in container overrides (see :mod:`ecsguard.launches`)."""
    from .launches import process_launch

    return _make_handler(process_launch, settings, clients)
