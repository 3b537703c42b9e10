"""CSV for ``ecsguard sweep --format csv``: one row per finding, for a spreadsheet or a data pipeline.

Columns: ``arn, family, revision, check, severity, container, field, message``; a header row first,
RFC 4180 quoting (the standard library's ``excel`` dialect: a cell with a comma, a quote or a line
break is quoted, quotes doubled, rows end with CRLF). Messages never hold a secret value (the checks
see to that); a cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return: a container or variable name chosen by whoever registered the
definition) is prefixed with ``'`` (OWASP's advice against CSV injection).

A renderer never imports a flow: this reads any objects with the attributes of a swept definition
(``arn``, ``family``, ``revision``, ``findings``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Protocol, TextIO

from ..model import Finding

COLUMNS = ("arn", "family", "revision", "check", "severity", "container", "field", "message")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class SweptRow(Protocol):
    """What a row is made of (``flows.sweep.SweptDefinition`` has it)."""

    @property
    def arn(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def revision(self) -> int: ...
    @property
    def findings(self) -> Sequence[Finding]: ...


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def rows(definitions: Iterable[SweptRow]) -> Iterable[tuple[str, ...]]:
    """The data rows (no header), in the order of the definitions and their findings."""
    for definition in definitions:
        for finding in definition.findings:
            yield tuple(
                _cell(value)
                for value in (
                    definition.arn,
                    definition.family,
                    definition.revision,
                    finding.check,
                    finding.severity,
                    finding.container,
                    finding.field,
                    finding.message,
                )
            )


def write(definitions: Iterable[SweptRow], out: TextIO) -> int:
    """Write the header and one row per finding to ``out``; returns the number of data rows."""
    writer = csv.writer(out, dialect="excel")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows(definitions):
        writer.writerow(row)
        count += 1
    return count
