"""The checks: one module per concern, each holding several small pure checks with their metadata.

* :mod:`.registry`: :func:`check` (the decorator that registers a check with its id, severity,
  mistake number, rationale, fix and docs link), :class:`CheckContext`, :func:`run_checks`;
* :mod:`.logging`: ``log-group-missing``, ``logging-disabled``, ``awslogs-options-invalid``;
* :mod:`.secrets`: ``plaintext-secret``.

:func:`load_all` imports every concern module (registration happens at import) and returns the
registry; :func:`run_checks` runs every registered, enabled check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..model import Finding, TaskDefinition
from .registry import MODES, REGISTRY, SCOPES, SEVERITIES, Check, CheckContext, CheckFunction, check
from .registry import run_checks as _run_registered

__all__ = [
    "MODES",
    "REGISTRY",
    "SCOPES",
    "SEVERITIES",
    "Check",
    "CheckContext",
    "CheckFunction",
    "check",
    "load_all",
    "run_checks",
]

# The concern modules, in the order their checks run and are listed.
CONCERNS = ("logging", "secrets", "iam", "images", "resources", "runtime", "storage", "network", "diagnosis")


def load_all() -> Mapping[str, Check]:
    """Import every concern module (registration happens at import) and return the registry."""
    import importlib

    for concern in CONCERNS:
        importlib.import_module(f"{__name__}.{concern}")
    return REGISTRY


def run_checks(
    task_definition: TaskDefinition,
    context: CheckContext,
    *,
    enabled: Callable[[str], bool] = lambda _check_id: True,
    scope: str = "definition",
) -> list[Finding]:
    """Run every registered, enabled check of ``scope`` that the context can serve; findings in registry order."""
    load_all()
    return _run_registered(task_definition, context, enabled=enabled, scope=scope)
