"""``ecsguard scan FILE...``: every check that needs no AWS access, on files before they are registered.

Exit 0 clean, 1 findings, 2 an input could not be read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..flows.scan import scan_document, scan_text
from ..model import DocumentError, Finding
from ..policy import Settings
from ..render import terminal
from .common import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT, InputError, read_document, settings_from_args


def scan_paths(paths: Sequence[str], settings: Settings) -> tuple[list[Finding], list[str]]:
    """(findings, one error line per file that could not be read as a task definition)."""
    findings: list[Finding] = []
    errors: list[str] = []
    for path in paths:
        try:
            findings.extend(scan_document(path, read_document(path), settings))
        except InputError as exc:
            errors.append(str(exc))
            if exc.text is not None:
                findings.extend(scan_text(path, exc.text, settings))
        except DocumentError as exc:
            errors.append(f"{path}: {exc}")
    return findings, errors


def cmd_scan(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    findings, errors = scan_paths(args.files, settings)
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
    return EXIT_FINDINGS if findings else EXIT_CLEAN
