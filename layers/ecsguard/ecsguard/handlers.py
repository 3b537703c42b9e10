"""Lambda entry points. ``functions/<name>/app.py`` exposes one of these as ``lambda_handler``.

Each ``make_*`` builds a handler once per container: configuration is read and validated here
(a bad value fails the cold start with a message naming the variable), boto3 clients are cached
for the life of the container, and duplicate EventBridge deliveries are absorbed by Powertools
idempotency on ecsguard's state table, keyed on CloudTrail's ``eventID`` (around the actions and
the notification only), when a table is configured. Each factory imports only its own flow.
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
Process = Callable[..., dict[str, Any]]


def _make_handler(process: Process, settings: Settings | None, clients: Clients | None) -> Handler:
    settings = settings or Settings.from_env()
    clients = clients or Clients()
    from .aws.state import IdempotencyStore

    once = IdempotencyStore(settings.state_table, clients) if settings.state_table else None

    @logger.inject_lambda_context(log_event=False, clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if once is not None:
            once.context = context
        return process(event, settings=settings, clients=clients, once=once)

    return handler


def make_registration_handler(settings: Settings | None = None, clients: Clients | None = None) -> Handler:
    """RegisterTaskDefinition: the checks of :mod:`ecsguard.checks` on the new revision."""
    from .flows.registration import process_registration

    return _make_handler(process_registration, settings, clients)


def make_launch_handler(settings: Settings | None = None, clients: Clients | None = None) -> Handler:
    """RunTask/StartTask: plaintext credentials in container overrides (see :mod:`ecsguard.flows.launch`)."""
    from .flows.launch import process_launch

    return _make_handler(process_launch, settings, clients)
