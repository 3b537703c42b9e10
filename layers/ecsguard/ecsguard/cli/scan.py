"""``ecsguard scan FILE...``: the checks on task-definition files before they are registered.

Without ``--aws``, every check that needs no AWS access; with ``--aws`` (the user's credentials,
``--profile``, ``--region``, ``--endpoint-url``) the ones that read the account too, read-only.
Exit 0 when no finding is at or above ``--fail-on`` (default: NotifyMinSeverity, ``medium``; lower
findings are printed but do not fail a CI gate), 1 when one is, 2 when an input or AWS could not be read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..checks import SEVERITIES
from ..facts import Facts
from ..flows.scan import scan_document, scan_text
from ..model import DocumentError, Finding
from ..policy import Settings
from ..render import terminal
from .common import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT, InputError, aws_error, read_document, settings_from_args


def scan_paths(
    paths: Sequence[str], settings: Settings, *, facts: Facts | None = None, region: str | None = None
) -> tuple[list[Finding], list[str]]:
    """(findings, one error line per file that could not be read as a task definition)."""
    findings: list[Finding] = []
    errors: list[str] = []
    for path in paths:
        try:
            findings.extend(scan_document(path, read_document(path), settings, facts=facts, region=region))
        except InputError as exc:
            errors.append(str(exc))
            if exc.text is not None:
                findings.extend(scan_text(path, exc.text, settings))
        except DocumentError as exc:
            errors.append(f"{path}: {exc}")
    return findings, errors


def _aws_facts(args: argparse.Namespace) -> tuple[Facts, str | None]:
    """AwsFacts with the user's credentials (``--profile``, ``--region``, ``--endpoint-url``)."""
    import boto3

    from ..aws.clients import Clients
    from ..aws.facts import AwsFacts

    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    return AwsFacts(Clients(session=session, endpoint_url=args.endpoint_url)), session.region_name


def cmd_scan(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    facts, region = None, args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if args.aws:
        try:
            facts, region = _aws_facts(args)
        except Exception as exc:  # ProfileNotFound and friends: one line, never a traceback
            print(f"ecsguard: error: cannot use AWS ({type(exc).__name__}: {exc})", file=sys.stderr)
            return EXIT_INPUT
    elif args.profile or args.endpoint_url:
        print("ecsguard: error: --profile and --endpoint-url need --aws", file=sys.stderr)
        return EXIT_INPUT
    try:
        findings, errors = scan_paths(args.files, settings, facts=facts, region=region)
    except Exception as exc:
        if facts is None:
            raise
        from botocore.exceptions import BotoCoreError, ClientError  # only --aws can raise these

        if not isinstance(exc, (BotoCoreError, ClientError)):
            raise
        print(f"ecsguard: error: {aws_error(exc)}", file=sys.stderr)
        return EXIT_INPUT
    for error in errors:
        print(f"ecsguard: error: {error}", file=sys.stderr)
    if args.format == "json":
        json.dump({"findings": [f.to_dict() for f in findings]}, sys.stdout, indent=2)
        print()
    elif args.format == "sarif":
        from ..checks import load_all
        from ..render import sarif

        texts = {}
        for path in {f.target for f in findings}:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                texts[path] = Path(path).read_bytes().decode("utf-8-sig")
        json.dump(sarif.render(findings, load_all(), texts), sys.stdout, indent=2)
        print()
    else:
        terminal.print_findings(findings, sys.stdout)
        files = len(args.files) - len(errors)
        print(
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''} in {files} file{'s' if files != 1 else ''}"
            + (f"; {len(errors)} file{'s' if len(errors) != 1 else ''} could not be read" if errors else ""),
            file=sys.stdout,
        )
    if errors:
        return EXIT_INPUT
    fail_on = args.fail_on or settings.notify_min_severity
    failing = [
        f for f in findings if f.severity in SEVERITIES and SEVERITIES.index(f.severity) <= SEVERITIES.index(fail_on)
    ]
    return EXIT_FINDINGS if failing else EXIT_CLEAN
