"""``ecsguard deliver EVENT.json``: run an EventBridge event through the stack's handler in-process.

The event is routed by the rule patterns of ``template.yaml`` (:func:`ecsguard.delivery.deliver`)
and handled against AWS or ``--endpoint-url``, exactly as the deployed function would handle it.
Exit 0 handled, 1 no rule matched, 2 bad input, 3 an AWS call failed (the event was not handled: retry it).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from ..delivery import deliver
from ..render import terminal
from .common import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INPUT,
    EXIT_RETRY,
    InputError,
    aws_error,
    read_document,
    settings_from_args,
)


def cmd_deliver(args: argparse.Namespace) -> int:
    try:
        event = read_document(args.event)
    except InputError as exc:
        print(f"ecsguard: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if not Path(args.template).is_file():
        print(f"ecsguard: error: {args.template}: template not found (use --template PATH)", file=sys.stderr)
        return EXIT_INPUT
    quiet_logs(args.verbose)
    settings = settings_from_args(args, ECSGUARD_TOPIC_ARN=args.topic_arn, ECSGUARD_STATE_TABLE=args.state_table)
    if args.force:
        settings = replace(settings, state_table=None)  # handle it again: act and notify whatever was done before
    try:
        results = deliver(event, template_path=args.template, endpoint_url=args.endpoint_url, settings=settings)
    except (BotoCoreError, ClientError) as exc:
        # What Lambda would retry and then dead-letter: one line, and an exit code of its own.
        print(f"ecsguard: error: {aws_error(exc)}; the event was not handled, retry it", file=sys.stderr)
        return EXIT_RETRY
    if args.format == "json":
        json.dump(
            {"matched": [{"function": r.function, "rule": r.rule, "result": res} for r, res in results]},
            sys.stdout,
            indent=2,
            default=str,
        )
        print()
    elif not results:
        print("No rule in the template matches this event: the deployed stack would not be invoked.")
    for route, result in results if args.format == "text" else ():
        terminal.print_delivery(route, result, sys.stdout)
        if result.get("duplicate"):
            print(
                f"  Already handled: the state table {settings.state_table} holds this event's outcome, so nothing was "
                "done or sent again (the actions and message id above are from the first time). Use --force to "
                "handle it again."
            )
    return EXIT_CLEAN if results else EXIT_FINDINGS


class _CurrentStderr:
    """Whatever sys.stderr is at write time (it is replaced under test runners and redirections)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def quiet_logs(verbose: bool) -> None:
    """Send the handler's structured logs to stderr (stdout is the command's output), WARNING unless --verbose."""
    from ..handlers import logger

    handler = logger.registered_handler
    if hasattr(handler, "setStream"):
        handler.setStream(_CurrentStderr())
    logger.setLevel("DEBUG" if verbose else "WARNING")
