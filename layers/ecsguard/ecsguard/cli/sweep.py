"""``ecsguard sweep``: the scheduled sweep from a laptop or CI, over what is registered in a region.

The same code as the scheduled function (:func:`ecsguard.flows.sweep.sweep`): the latest ACTIVE
revision of every family (``--all-revisions`` or ``ECSGUARD_SWEEP_ALL_REVISIONS``: every ACTIVE revision), read with bounded concurrency,
the full catalogue with the account's facts, the ``ecsguard:ignore`` tag honoured. With a state table
(``--state-table`` or ``ECSGUARD_STATE_TABLE``) definitions read before come from its cache and the
findings new and resolved since the previous sweep are counted; without one every definition is read.
Nothing is remediated, blocked or sent; the only writes go to the state table (its cache, the new/resolved
bookkeeping and the role inventory), and only when one is configured.

Output (stdout): ``text`` a table, ``json`` the findings document of ``ecsguard scan`` with the
task-definition ARN as ``target``, ``sarif`` the SARIF of ``scan`` with the ARN as artifact location,
``csv`` one row per finding. A progress bar goes to stderr when stderr is a terminal, never when piped.

Exit 0 when no finding is at or above ``--fail-on`` (default NotifyMinSeverity, ``medium``), 1 when one
is, 2 bad usage or configuration, 3 an AWS call failed: the sweep did not run, or some definitions could
not be read (they are named; retry).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TextIO

from ..checks import SEVERITIES
from ..model import Finding
from ..policy import SWEEP_CONCURRENCY_MAX, Settings
from ..render import terminal
from .common import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT, EXIT_RETRY, aws_error, settings_from_args

FORMATS = ("text", "json", "sarif", "csv")
EXIT_INTERRUPTED = 130  # Ctrl-C: what a shell reports for SIGINT


def concurrency(text: str) -> int:
    """``--concurrency``: a whole number from 1 to SWEEP_CONCURRENCY_MAX (argparse turns the ValueError into a
    usage error, exit 2)."""
    value = int(text)
    if not 1 <= value <= SWEEP_CONCURRENCY_MAX:
        raise ValueError(text)
    return value


concurrency.__name__ = f"concurrency (1 to {SWEEP_CONCURRENCY_MAX})"  # what argparse names in "invalid ... value"


class ProgressBar:
    """``[#####.....] 120/400 task definitions`` on one terminal line, redrawn at most ten times a second.

    The sweep calls it from its worker threads, hence the lock. :meth:`close` erases the line so the
    bar never mixes with the output.
    """

    def __init__(self, out: TextIO, width: int = 30, interval: float = 0.1) -> None:
        self._out = out
        self._width = width
        self._interval = interval
        self._lock = threading.Lock()
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            now = time.monotonic()
            if done < total and now - self._last < self._interval:
                return
            self._last = now
            filled = self._width * done // total if total > 0 else self._width
            self._out.write(f"\r[{'#' * filled}{'.' * (self._width - filled)}] {done}/{total} task definitions")
            self._out.flush()
            self._drawn = True

    def close(self) -> None:
        with self._lock:
            if self._drawn:
                self._out.write("\r\x1b[2K")
                self._out.flush()
                self._drawn = False


def run_sweep(
    clients: Any,
    region: str,
    settings: Settings,
    *,
    concurrency: int,
    progress: Callable[[int, int], None] | None,
) -> Any:
    """The flow (imported here: it loads boto3 and the whole catalogue only when a sweep runs). It lists the
    region itself (``settings.sweep_all_revisions``: every ACTIVE revision), so a whole-region sweep is what the
    state table records as the region's latest run (new / resolved are counted against it)."""
    from ..flows import sweep as flow

    return flow.sweep(clients, region, settings, concurrency=concurrency, progress=progress)


def _findings(result: Any) -> list[Finding]:
    """Every finding of the readable definitions, each with its definition's ARN as target."""
    return [
        finding if finding.target == definition.arn else replace(finding, target=definition.arn)
        for definition in result.definitions
        if definition.error is None
        for finding in definition.findings
    ]


def _sarif(findings: Sequence[Finding], unreadable: Sequence[Any]) -> dict[str, Any]:
    """scan's SARIF (the ARN is each result's artifact location); unreadable definitions as tool notifications."""
    from ..checks import load_all
    from ..render import sarif

    log = sarif.render(findings, load_all(), {})
    if unreadable:
        log["runs"][0]["invocations"] = [
            {
                "executionSuccessful": False,
                "toolExecutionNotifications": [
                    {
                        "level": "error",
                        "message": {"text": f"{d.arn} could not be read ({d.error}): it was not checked."},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": d.arn}}}],
                    }
                    for d in unreadable
                ],
            }
        ]
    return log


def _print(args: argparse.Namespace, result: Any, settings: Settings, out: TextIO) -> None:
    findings = _findings(result)
    unreadable = [d for d in result.definitions if d.error is not None]
    if args.format == "json":
        json.dump({"findings": [f.to_dict() for f in findings]}, out, indent=2)
        print(file=out)
    elif args.format == "sarif":
        json.dump(_sarif(findings, unreadable), out, indent=2)
        print(file=out)
    elif args.format == "csv":
        from ..render import csv

        csv.write([d for d in result.definitions if d.error is None], out)  # the ARN column is the definition's
    else:
        terminal.print_sweep(result, out, state_table=settings.state_table)


def cmd_sweep(args: argparse.Namespace) -> int:
    settings = settings_from_args(
        args,
        ECSGUARD_STATE_TABLE=args.state_table,
        ECSGUARD_SWEEP_ALL_REVISIONS="true" if args.all_revisions else "",
    )
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from ..aws.clients import Clients

    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    except BotoCoreError as exc:  # ProfileNotFound and friends: a usage error, one line
        print(f"ecsguard: error: cannot use AWS ({type(exc).__name__}: {exc})", file=sys.stderr)
        return EXIT_INPUT
    region = args.region or session.region_name or os.environ.get("AWS_REGION")
    if not region:
        print("ecsguard: error: no region to sweep: use --region or set AWS_REGION", file=sys.stderr)
        return EXIT_INPUT
    clients = Clients(session=session, endpoint_url=args.endpoint_url)
    progress = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    # The flow's log lines are for the deployed function; here only its warnings reach stderr (stdout is the output).
    core_logger = logging.getLogger("ecsguard")
    previous_level = core_logger.level
    core_logger.setLevel(max(logging.WARNING, core_logger.getEffectiveLevel()))
    try:
        result = run_sweep(
            clients, region, settings, concurrency=args.concurrency or settings.sweep_concurrency, progress=progress
        )
    except (BotoCoreError, ClientError) as exc:
        if progress:
            progress.close()
        print(f"ecsguard: error: {aws_error(exc)}; nothing was swept, retry", file=sys.stderr)
        return EXIT_RETRY
    except KeyboardInterrupt:
        if progress:
            progress.close()
        print("ecsguard: interrupted: nothing was printed", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        core_logger.setLevel(previous_level)
    if progress:
        progress.close()

    _print(args, result, settings, sys.stdout)
    unreadable = [d for d in result.definitions if d.error is not None]
    if unreadable:
        if args.format != "text":  # the table lists them; machine formats keep stdout clean
            for d in unreadable:
                print(f"ecsguard: error: {d.arn} could not be read ({d.error}): not checked", file=sys.stderr)
        print(
            f"ecsguard: error: {len(unreadable)} task definition{'s' if len(unreadable) != 1 else ''} "
            f"of {len(result.definitions)} could not be read: the sweep is incomplete, retry",
            file=sys.stderr,
        )
        return EXIT_RETRY
    fail_on = args.fail_on or settings.notify_min_severity
    failing = any(
        f.severity in SEVERITIES and SEVERITIES.index(f.severity) <= SEVERITIES.index(fail_on)
        for f in _findings(result)
    )
    return EXIT_FINDINGS if failing else EXIT_CLEAN
