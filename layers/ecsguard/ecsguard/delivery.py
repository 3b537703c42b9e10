"""Deliver an EventBridge event the way the deployed stack would, in-process.

:func:`deliver` routes the event through the rule patterns of ``template.yaml`` and runs each
matching function's handler against AWS (or any endpoint, such as a moto server). ``ecsguard
deliver`` and ``ecsguard demo`` both use it; so do the integration tests.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from .policy import Settings

# Folder of a function under functions/ -> factory of its handler in ecsguard.handlers.
HANDLER_FACTORIES = {
    "register_task_definition": "make_registration_handler",
    "run_task": "make_launch_handler",
    "task_stopped": "make_stopped_handler",
    "sweep": "make_sweep_handler",
}


def lambda_context(name: str) -> Any:
    """A stand-in for the Lambda context object, enough for Powertools and idempotency."""
    return SimpleNamespace(
        function_name=name,
        function_version="$LATEST",
        memory_limit_in_mb=256,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        aws_request_id="ecsguard-deliver",
        log_group_name=f"/aws/lambda/{name}",
        log_stream_name="local",
        get_remaining_time_in_millis=lambda: 60_000,
    )


def deliver(
    event: Any, *, template_path: str, endpoint_url: str | None, settings: Settings
) -> list[tuple[Any, dict[str, Any]]]:
    """Route ``event`` through the template's rules and run each matching handler; [(route, result)]."""
    from . import handlers
    from .aws.clients import Clients
    from .rules import load_template, route_event

    template = load_template(template_path)
    matched = route_event(template, event)
    results = []
    clients = Clients(endpoint_url=endpoint_url)
    for route in matched:
        factory_name = HANDLER_FACTORIES.get(route.folder)
        if factory_name is None:
            results.append((route, {"status": "no-handler", "reason": f"no in-process handler for {route.folder}"}))
            continue
        handler = getattr(handlers, factory_name)(settings=settings, clients=clients, metrics=False)
        results.append((route, handler(event, lambda_context(route.function))))
    return results
