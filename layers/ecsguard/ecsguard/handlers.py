"""Lambda entry points. ``functions/<name>/app.py`` exposes one of these as ``lambda_handler``.

Each ``make_*`` builds a handler once per container: configuration is read and validated here
(a bad value fails the cold start with a message naming the variable), boto3 clients are cached
for the life of the container, and duplicate EventBridge deliveries are absorbed by Powertools
idempotency keyed on CloudTrail's ``eventID`` when a table is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger

from .aws import Clients
from .guard import process_registration
from .launches import process_launch
from .policy import Settings

logger = Logger(service="ecsguard")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _deduplicated(process: Callable[..., dict[str, Any]], settings: Settings, clients: Clients):
    if not settings.idempotency_table:
        return process, None
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(event_key_jmespath="detail.eventID", expires_after_seconds=24 * 3600)
    store = DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=clients("dynamodb"))
    return idempotent_function(data_keyword_argument="event", config=config, persistence_store=store)(process), config


def make_registration_handler(settings: Settings | None = None, clients: Clients | None = None) -> Handler:
    settings = settings or Settings.from_env()
    clients = clients or Clients()
    run = partial(process_registration, settings=settings, clients=clients)

    def process(event: dict[str, Any]) -> dict[str, Any]:
        return run(event)

    process, config = _deduplicated(process, settings, clients)

    @logger.inject_lambda_context(log_event=False, clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if config is not None and context is not None:
            config.register_lambda_context(context)
        return process(event=event)

    return handler


def make_launch_handler(settings: Settings | None = None, clients: Clients | None = None) -> Handler:
    """RunTask/StartTask: plaintext credentials in container overrides (see :mod:`ecsguard.launches`)."""
    settings = settings or Settings.from_env()
    clients = clients or Clients()
    run = partial(process_launch, settings=settings, clients=clients)

    def process(event: dict[str, Any]) -> dict[str, Any]:
        return run(event)

    process, config = _deduplicated(process, settings, clients)

    @logger.inject_lambda_context(log_event=False, clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if config is not None and context is not None:
            config.register_lambda_context(context)
        return process(event=event)

    return handler
