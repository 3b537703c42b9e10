"""What every ``ecsguard`` subcommand shares: exit codes, reading input files, settings from flags."""

from __future__ import annotations

import argparse
import codecs
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from ..policy import Settings

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT, EXIT_RETRY = 0, 1, 2, 3


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
    except RecursionError:
        raise InputError(f"{path}: the JSON is nested too deeply to read") from None
    except ValueError as exc:
        if not isinstance(exc, json.JSONDecodeError):  # e.g. an integer of more than 4,300 digits
            raise InputError(f"{path}: not a task definition: {exc}") from None
        raise InputError(
            f"{path}: {_hint(text, exc)} (line {exc.lineno}, column {exc.colno}: {exc.msg})", text=text
        ) from None


def _read_yaml(path: str, text: str) -> Any:
    """A YAML task definition (``--cli-input-yaml``) or CloudFormation template."""
    import yaml

    from ..rules import load_yaml

    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InputError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}", text=text) from None
    except RecursionError:
        raise InputError(f"{path}: the YAML is nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise InputError(f"{path}: not a task definition: {exc}") from None


def settings_from_args(args: argparse.Namespace, **overrides: str) -> Settings:
    environ = dict(os.environ)
    if getattr(args, "modes", None):
        environ["ECSGUARD_MODES"] = args.modes
    environ.update({k: v for k, v in overrides.items() if v})
    return Settings.from_env(environ)


def aws_error(exc: Exception) -> str:
    """One line for a failed AWS call: the operation and the error code, never a traceback or a value."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        operation = getattr(exc, "operation_name", "an AWS call")
        return f"{operation} failed: {error.get('Code', 'Error')} ({error.get('Message', '')})".strip()
    return f"AWS could not be reached: {type(exc).__name__}: {exc}"
