"""The ``ecsguard`` command.

* ``ecsguard scan FILE...``: run every check that needs no AWS access on task-definition JSON
  files before they are registered (exit 0 clean, 1 findings, 2 an input could not be read).
* ``ecsguard deliver EVENT.json``: route an EventBridge event through the rule patterns of
  ``template.yaml`` and run the matching handler in-process against AWS or ``--endpoint-url``.
* ``ecsguard demo``: the whole flow against a local moto server.
* ``ecsguard checks``: the check catalogue.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from . import secretscan
from .checks import CheckContext, load_all, run_checks
from .model import DocumentError, Finding, task_definitions_in
from .policy import ConfigError, Settings, ignored_checks, is_exempt

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


class InputError(Exception):
    """A file that could not be read as a task definition; the message names the file and the problem.

    ``text`` is the file's text when it was readable text but not a valid document (a template, a
    merge conflict...): such files still get a text-level secret scan.
    """

    def __init__(self, message: str, text: str | None = None) -> None:
        super().__init__(message)
        self.text = text


def _hint(text: str, error: json.JSONDecodeError) -> str:
    """A human explanation of why real-world task-definition files fail to parse."""
    if re.search(r"^(<{7}|={7}|>{7})( |$)", text, re.M):
        return "it contains git merge-conflict markers (<<<<<<<, =======, >>>>>>>): resolve the conflict first"
    first = text.lstrip()[:1]
    if first and first not in "[{":
        return "it does not start with JSON (text before the first '{' or '['): keep only the JSON document"
    line = text.splitlines()[error.lineno - 1] if 0 < error.lineno <= len(text.splitlines()) else ""
    if re.search(r"(^|\s)//", line) or re.search(r"/\*", line):
        return "it contains comments (// or /* */), which JSON does not allow"
    if re.search(r"\{\{[#/^]", text):
        return "it contains template block helpers ({{#if}} ...): render the template first"
    if re.search(r"(:\s*|\[\s*)(\$\{|\{\{|<[A-Za-z_])", line):
        return "it contains an unquoted template placeholder: render the template first, or quote the placeholder"
    if re.search(r"\$\{|%\{|\{\{", text):
        return "it looks like an unrendered template (${...}, %{...} or {{...}}): render it first"
    return "it is not valid JSON"


def read_document(path: str) -> Any:
    """Read one JSON file (``-`` = standard input); raise :class:`InputError` naming the problem."""
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(
            f"{path}: the file is UTF-16 encoded (byte-order mark), not UTF-8; convert it, "
            f"for example: iconv -f UTF-16 -t UTF-8 {path}"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    if path.lower().endswith((".yaml", ".yml")):
        return _read_yaml(path, text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: {_hint(text, exc)} (line {exc.lineno}, column {exc.colno}: {exc.msg})", text=text
        ) from None


def _read_yaml(path: str, text: str) -> Any:
    """A YAML task definition (``--cli-input-yaml``) or CloudFormation template."""
    import yaml

    from .rules import load_yaml

    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InputError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}", text=text) from None


# {"name": "X", "value": "Y"} in either order, as environment entries are written in JSON and YAML flow style.
_PAIR = re.compile(
    r'\{\s*"name"\s*:\s*"(?P<n1>(?:[^"\\]|\\.)*)"\s*,\s*"value"\s*:\s*"(?P<v1>(?:[^"\\]|\\.)*)"\s*\}'
    r'|\{\s*"value"\s*:\s*"(?P<v2>(?:[^"\\]|\\.)*)"\s*,\s*"name"\s*:\s*"(?P<n2>(?:[^"\\]|\\.)*)"\s*\}'
)


def secrets_in_text(path: str, text: str, settings: Settings) -> list[Finding]:
    """plaintext-secret findings for the name/value pairs of a file that is not a valid document.

    Templates with an unquoted placeholder elsewhere still carry real values: a hard-coded password
    in a file the other checks cannot read is still a leak.
    """
    from .checks.secrets import allowlist_hint, allowlisted, secret_finding

    context = CheckContext(target=path, secret_allowlist=settings.secret_allowlist)
    found: list[Finding] = []
    for pair in _PAIR.finditer(text):
        try:
            name = json.loads(f'"{pair.group("n1") or pair.group("n2") or ""}"')
            value = json.loads(f'"{pair.group("v1") or pair.group("v2") or ""}"')
        except json.JSONDecodeError:
            continue
        match = secretscan.classify_variable(name, value)
        field = f"environment.{name}"
        if match is None or allowlisted(settings.secret_allowlist, field, match):
            continue
        found.append(
            secret_finding(
                context,
                match,
                f"A plaintext credential in {field} ({match.kind}; rule {match.rule}, {match.hint}). "
                "Found by a text scan: this file is not a valid document, so no other check ran on it.",
                field=field,
                remediation=(
                    "Rotate this credential if the file was ever used, and reference it from the container's `secrets` "
                    f"with `valueFrom` instead. {allowlist_hint(match)}"
                ),
            )
        )
    return found


def scan_paths(paths: Sequence[str], settings: Settings) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    errors: list[str] = []
    for path in paths:
        try:
            task_definitions = task_definitions_in(read_document(path))
        except InputError as exc:
            errors.append(str(exc))
            if exc.text is not None and settings.enabled("plaintext-secret"):
                findings.extend(secrets_in_text(path, exc.text, settings))
            continue
        except DocumentError as exc:
            errors.append(f"{path}: {exc}")
            continue
        for resource, task_definition in task_definitions:
            context = CheckContext(target=path, secret_allowlist=settings.secret_allowlist)
            ignored = ignored_checks(task_definition)
            for finding in run_checks(task_definition, context, enabled=settings.enabled):
                if not is_exempt(finding, ignored):
                    findings.append(
                        replace(finding, message=f"{finding.message} (resource {resource})") if resource else finding
                    )
    return findings, errors


def _print_findings_text(findings: Sequence[Finding], out) -> None:
    for finding in findings:
        where = "  ".join(
            part for part in (finding.container and f"container={finding.container}", finding.field) if part
        )
        print(f"{finding.target}: {finding.severity.upper()} {finding.check}  {where}", file=out)
        print(f"    {finding.message}", file=out)
        if finding.evidence and finding.evidence not in finding.message:
            print(f"    evidence (redacted): {finding.evidence}", file=out)
        print(f"    fix: {finding.remediation}", file=out)


def cmd_scan(args: argparse.Namespace) -> int:
    settings = _settings(args)
    findings, errors = scan_paths(args.files, settings)
    for error in errors:
        print(f"ecsguard: error: {error}", file=sys.stderr)
    if args.format == "json":
        json.dump({"findings": [f.to_dict() for f in findings]}, sys.stdout, indent=2)
        print()
    elif args.format == "sarif":
        from . import sarif

        texts = {}
        for path in {f.target for f in findings}:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                texts[path] = Path(path).read_bytes().decode("utf-8-sig")
        json.dump(sarif.render(findings, load_all(), texts), sys.stdout, indent=2)
        print()
    else:
        _print_findings_text(findings, sys.stdout)
        files = len(args.files) - len(errors)
        print(
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''} in {files} file{'s' if files != 1 else ''}"
            + (f"; {len(errors)} file{'s' if len(errors) != 1 else ''} could not be read" if errors else ""),
            file=sys.stdout,
        )
    if errors:
        return EXIT_INPUT
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def _settings(args: argparse.Namespace, **overrides: str) -> Settings:
    environ = dict(os.environ)
    if getattr(args, "modes", None):
        environ["ECSGUARD_MODES"] = args.modes
    environ.update({k: v for k, v in overrides.items() if v})
    return Settings.from_env(environ)


# Folder of a function under functions/ -> factory of its handler in ecsguard.handlers.
HANDLER_FACTORIES = {"register_task_definition": "make_registration_handler", "run_task": "make_launch_handler"}


def lambda_context(name: str) -> Any:
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
    from .aws import Clients
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
        handler = getattr(handlers, factory_name)(settings=settings, clients=clients)
        results.append((route, handler(event, lambda_context(route.function))))
    return results


def cmd_deliver(args: argparse.Namespace) -> int:
    try:
        event = read_document(args.event)
    except InputError as exc:
        print(f"ecsguard: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if not Path(args.template).is_file():
        print(f"ecsguard: error: {args.template}: template not found (use --template PATH)", file=sys.stderr)
        return EXIT_INPUT
    _quiet_logs(args.verbose)
    settings = _settings(args, ECSGUARD_TOPIC_ARN=args.topic_arn)
    results = deliver(event, template_path=args.template, endpoint_url=args.endpoint_url, settings=settings)
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
        print(f"Matched rule {route.function}/{route.rule} -> {route.code_uri}{route.handler}")
        if result.get("status") != "checked":
            print(f"  {result.get('status')}: {result.get('reason', '')}")
            continue
        print(f"  Task definition: {result['taskDefinition']}")
        findings = result.get("findings", [])
        print(
            f"  Findings: {len(findings)}"
            + (f" (exempted by tag: {', '.join(result['exempted'])})" if result.get("exempted") else "")
        )
        for f in findings:
            where = " ".join(p for p in (f.get("container"), f.get("field")) if p)
            print(f"    {f['severity'].upper():8} {f['check']:24} {where}  [mode {f.get('mode')}]")
        print(f"  Actions: {len(result.get('actions', []))}")
        for a in result.get("actions", []):
            print(f"    {'ok' if a['ok'] else 'FAILED'}: {a['detail']}")
        print(f"  SNS message id: {result.get('messageId') or '(none: nothing to report)'}")
    return EXIT_CLEAN if results else EXIT_FINDINGS


class _CurrentStderr:
    """Whatever sys.stderr is at write time (it is replaced under test runners and redirections)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _quiet_logs(verbose: bool) -> None:
    """Send the handler's structured logs to stderr (stdout is the command's output), WARNING unless --verbose."""
    from .handlers import logger

    handler = logger.registered_handler
    if hasattr(handler, "setStream"):
        handler.setStream(_CurrentStderr())
    logger.setLevel("DEBUG" if verbose else "WARNING")


def cmd_checks(args: argparse.Namespace) -> int:
    checks = load_all()
    if args.format == "json":
        json.dump(
            [
                {
                    "id": c.id,
                    "title": c.title,
                    "severity": c.severity,
                    "mistake": c.mistake,
                    "defaultMode": c.default_mode,
                    "needsAws": c.needs_facts,
                    "remediable": c.remediable,
                    "rationale": c.rationale,
                    "remediation": c.remediation,
                    "docs": c.docs,
                }
                for c in checks.values()
            ],
            sys.stdout,
            indent=2,
        )
        print()
        return 0
    for c in checks.values():
        print(f"{c.id:26} {c.severity:8} default {c.default_mode:9} {'(needs AWS) ' if c.needs_facts else ''}{c.title}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(template_path=args.template, keep_server=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecsguard", description="Guard Amazon ECS task definitions.")
    sub = parser.add_subparsers(dest="command", required=True)

    scan = sub.add_parser("scan", help="check task-definition JSON files (no AWS access)")
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
    scan.set_defaults(func=cmd_scan)

    deliver_parser = sub.add_parser("deliver", help="run an EventBridge event through the stack's handler in-process")
    deliver_parser.add_argument("event", metavar="EVENT.json")
    deliver_parser.add_argument("--endpoint-url", help="send every AWS call here (e.g. a moto server)")
    deliver_parser.add_argument("--topic-arn", help="SNS topic for the notification (default: ECSGUARD_TOPIC_ARN)")
    deliver_parser.add_argument("--template", default="template.yaml", help="SAM template with the rule patterns")
    deliver_parser.add_argument("--format", choices=("text", "json"), default="text")
    deliver_parser.add_argument("--modes", help="check modes, e.g. plaintext-secret=block (default: ECSGUARD_MODES)")
    deliver_parser.add_argument("--verbose", action="store_true", help="print the handler's log lines to stderr")
    deliver_parser.set_defaults(func=cmd_deliver)

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


if __name__ == "__main__":
    sys.exit(main())
