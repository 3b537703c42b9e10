"""The ``ecsguard`` command: a thin layer over the flows and renderers.

* ``ecsguard scan FILE...``: run the checks on task-definition files before they are registered
  (exit 0 when nothing is at or above ``--fail-on``, 1 when something is, 2 an input could not be read).
* ``ecsguard deliver EVENT.json``: route an EventBridge event through the rule patterns of
  ``template.yaml`` and run the matching handler in-process against AWS or ``--endpoint-url``.
* ``ecsguard demo``: the whole flow against a local moto server.
* ``ecsguard checks``: the check catalogue.
* ``ecsguard sweep``: check what is already registered in a region, as the scheduled sweep does
  (exit 0 clean, 1 a finding at or above ``--fail-on``, 2 bad usage, 3 an AWS call failed).

One module per subcommand (:mod:`.scan`, :mod:`.deliver`, :mod:`.sweep`, :mod:`.catalogue`, :mod:`.demo`) and
what they share (:mod:`.common`). Nothing in ecsguard imports this package.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..policy import ConfigError
from .catalogue import cmd_checks
from .common import EXIT_FINDINGS, EXIT_INPUT
from .deliver import cmd_deliver
from .demo import cmd_demo
from .scan import cmd_scan
from .sweep import FORMATS as SWEEP_FORMATS
from .sweep import cmd_sweep
from .sweep import concurrency as sweep_concurrency


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecsguard", description="Guard Amazon ECS task definitions.")
    sub = parser.add_subparsers(dest="command", required=True)

    scan = sub.add_parser("scan", help="check task-definition files (no AWS access unless --aws)")
    scan.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="RegisterTaskDefinition input, describe output or a container array; - for stdin",
    )
    scan.add_argument(
        "--format", choices=("text", "json", "sarif"), default="text", help="sarif: for GitHub code scanning"
    )
    scan.add_argument("--modes", help="check modes, e.g. logging-disabled=off (default: ECSGUARD_MODES)")
    scan.add_argument(
        "--fail-on",
        choices=("critical", "high", "medium", "low", "info"),
        help="exit 1 when a finding is at or above this severity (default: ECSGUARD_NOTIFY_MIN_SEVERITY or medium)",
    )
    scan.add_argument(
        "--aws", action="store_true", help="also run the checks that read the account (read-only, your credentials)"
    )
    scan.add_argument("--profile", help="AWS profile for --aws")
    scan.add_argument("--region", help="region the definitions are registered in (default: the environment's)")
    scan.add_argument("--endpoint-url", help="with --aws: send every AWS call here (e.g. a moto server)")
    scan.set_defaults(func=cmd_scan)

    deliver_parser = sub.add_parser("deliver", help="run an EventBridge event through the stack's handler in-process")
    deliver_parser.add_argument("event", metavar="EVENT.json")
    deliver_parser.add_argument("--endpoint-url", help="send every AWS call here (e.g. a moto server)")
    deliver_parser.add_argument("--topic-arn", help="SNS topic for the notification (default: ECSGUARD_TOPIC_ARN)")
    deliver_parser.add_argument("--template", default="template.yaml", help="SAM template with the rule patterns")
    deliver_parser.add_argument("--format", choices=("text", "json"), default="text")
    deliver_parser.add_argument("--modes", help="check modes, e.g. plaintext-secret=block (default: ECSGUARD_MODES)")
    deliver_parser.add_argument(
        "--state-table",
        help="ecsguard's state table (default: ECSGUARD_STATE_TABLE): an event already handled is not handled again",
    )
    deliver_parser.add_argument(
        "--force", action="store_true", help="handle the event even if the state table says it was handled"
    )
    deliver_parser.add_argument("--verbose", action="store_true", help="print the handler's log lines to stderr")
    deliver_parser.set_defaults(func=cmd_deliver)

    sweep = sub.add_parser(
        "sweep",
        help="check what is already registered in a region (your credentials; nothing is changed or sent)",
        description="Check the task definitions already registered in a region with the full catalogue "
        "(nothing is changed or sent; with a state table, its cache is used and kept). Exit 0 clean, 1 a finding at or above --fail-on, "
        "2 bad usage, 3 an AWS call failed.",
    )
    sweep.add_argument("--region", help="the region to sweep (default: the profile's or the environment's)")
    sweep.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    sweep.add_argument("--endpoint-url", help="send every AWS call here (e.g. a moto server)")
    sweep.add_argument("--format", choices=SWEEP_FORMATS, default="text", help="sarif: for code-scanning dashboards")
    sweep.add_argument(
        "--fail-on",
        choices=("critical", "high", "medium", "low", "info"),
        help="exit 1 when a finding is at or above this severity (default: ECSGUARD_NOTIFY_MIN_SEVERITY or medium)",
    )
    sweep.add_argument(
        "--state-table",
        help="ecsguard's state table (default: ECSGUARD_STATE_TABLE): definitions read before are not read "
        "again, and the findings new and resolved since the last sweep are counted",
    )
    sweep.add_argument(
        "--all-revisions",
        action="store_true",
        help="every ACTIVE revision of every family (default: ECSGUARD_SWEEP_ALL_REVISIONS, else the latest ACTIVE "
        "revision of each family)",
    )
    sweep.add_argument(
        "--concurrency",
        type=sweep_concurrency,
        help="definitions read and checked at once, 1 to 64 (default: ECSGUARD_SWEEP_CONCURRENCY or 8; botocore's "
        "adaptive retries slow down when ECS throttles)",
    )
    sweep.add_argument("--modes", help="check modes, e.g. logging-disabled=off (default: ECSGUARD_MODES)")
    sweep.set_defaults(func=cmd_sweep)

    checks_parser = sub.add_parser("checks", help="list the checks")
    checks_parser.add_argument("--format", choices=("text", "json"), default="text")
    checks_parser.set_defaults(func=cmd_checks)

    demo = sub.add_parser("demo", help="the whole flow against a local moto server")
    demo.add_argument("--template", default="template.yaml")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"ecsguard: configuration error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # `ecsguard scan ... | head`: the reader left; not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FINDINGS
