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
from .events import correlation_id
from .policy import Settings

logger = Logger(service="ecsguard")

# botocore's DEBUG log echoes request and response bodies: DescribeTaskDefinition,
# RegisterTaskDefinition and DeregisterTaskDefinition carry the very values ecsguard must never
# log. Whatever the function's (or Lambda's advanced logging) level, the SDK stays at INFO.
for _sdk_logger in ("botocore", "boto3", "urllib3"):
    logging.getLogger(_sdk_logger).setLevel(logging.INFO)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
Process = Callable[..., dict[str, Any]]


def emit_metrics(result: dict[str, Any]) -> None:
    """CloudWatch metrics in embedded metric format (a log line, no API call, no permission), from the
    handler's summary: check ids and counts only, never a value.

    Findings (per check), ChecksUnverified, ActionsTaken, ActionsFailed, MessagesSent, EventsSkipped.
    Powertools Metrics is imported on the first event, not at cold start.
    """
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    counts: dict[str, float] = {}
    if result.get("status") == "skipped":
        counts["EventsSkipped"] = 1
    else:
        actions = result.get("actions") or []
        counts["ActionsTaken"] = sum(1 for a in actions if a.get("ok") and a.get("changed"))
        counts["ActionsFailed"] = sum(1 for a in actions if not a.get("ok"))
        counts["MessagesSent"] = 1 if result.get("messageId") else 0
        counts["ChecksUnverified"] = len(result.get("unverified") or [])
    for name, value in counts.items():
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace="ecsguard") as metric:
            metric.add_dimension(name="service", value="ecsguard")
    per_check: dict[str, int] = {}
    for finding in result.get("findings") or []:
        per_check[finding["check"]] = per_check.get(finding["check"], 0) + 1
    for check, value in sorted(per_check.items()):
        with single_metric(name="Findings", unit=MetricUnit.Count, value=value, namespace="ecsguard") as metric:
            metric.add_dimension(name="check", value=check)


def _make_handler(
    process: Process, settings: Settings | None, clients: Clients | None, metrics: bool = True
) -> Handler:
    settings = settings or Settings.from_env()
    clients = clients or Clients()
    from .aws.state import IdempotencyStore

    once = IdempotencyStore(settings.state_table, clients) if settings.state_table else None

    @logger.inject_lambda_context(log_event=False, clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # The event's id only when it is id-shaped: an object or 10,000 characters there never reach a log line.
        logger.set_correlation_id(correlation_id(event))
        if once is not None:
            once.context = context
        result = process(event, settings=settings, clients=clients, once=once)
        if metrics:
            try:
                emit_metrics(result)
            except Exception as exc:  # metrics must never fail an event that was handled
                logger.warning("metrics not emitted", extra={"error": type(exc).__name__})
        return result

    return handler


def make_registration_handler(
    settings: Settings | None = None, clients: Clients | None = None, *, metrics: bool = True
) -> Handler:
    """RegisterTaskDefinition: the checks of :mod:`ecsguard.checks` on the new revision.

    ``metrics=False`` (``ecsguard deliver``): no embedded-metric lines on standard output.
    """
    from .flows.registration import process_registration

    return _make_handler(process_registration, settings, clients, metrics)


def make_launch_handler(
    settings: Settings | None = None, clients: Clients | None = None, *, metrics: bool = True
) -> Handler:
    """RunTask/StartTask: plaintext credentials in container overrides (see :mod:`ecsguard.flows.launch`)."""
    from .flows.launch import process_launch

    return _make_handler(process_launch, settings, clients, metrics)


def make_stopped_handler(
    settings: Settings | None = None, clients: Clients | None = None, *, metrics: bool = True
) -> Handler:
    """ECS Task State Change (STOPPED): why the task stopped, once per cause (see :mod:`ecsguard.flows.stopped`)."""
    from .flows.stopped import process_stopped

    return _make_handler(process_stopped, settings, clients, metrics)


def make_sweep_handler(
    settings: Settings | None = None, clients: Clients | None = None, *, metrics: bool = False
) -> Handler:
    """The scheduled sweep: a Scheduled Event or ``{"action": "run"}`` sweeps the region in one invocation;
    ``plan`` / ``page`` / ``digest`` are the Step Functions steps (see :func:`ecsguard.flows.sweep.process_sweep`).

    It returns counts (never findings): the per-event metrics do not apply; the digest is the sweep's output.
    """
    from .flows.sweep import process_sweep

    return _make_handler(process_sweep, settings, clients, metrics)
