"""The check registry: :func:`check` registers a function with its metadata in :data:`REGISTRY`.

A check is a pure function ``(task_definition, context) -> iterable of Finding`` registered with its
metadata by the :func:`check` decorator, so adding one never edits a central switch (the Cloud
Custodian registry idea) and its severity, rationale, fix and documentation link live next to it
(the Prowler metadata idea). One module per concern holds several small checks.

Checks never write to AWS. Those that need to know something about the account declare
``needs_facts=True`` and ask ``context.facts``; the ``ecsguard scan`` command runs without facts
and skips them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model import Finding, StoppedTask, TaskDefinition, TaskLaunch

if TYPE_CHECKING:
    from ..facts import Facts

SEVERITIES = ("critical", "high", "medium", "low", "info")
MODES = ("off", "notify", "remediate", "block")
# What a check looks at besides the task definition: "definition" (a registered or scanned definition, the
# default), "launch" (RunTask/StartTask/CreateService/UpdateService: ``context.launch`` is set) or "stopped"
# (the stopped-task diagnosis: ``context.stopped`` is set). Each flow runs the checks of its scope only.
SCOPES = ("definition", "launch", "stopped")


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check may use besides the task definition itself."""

    target: str
    facts: Facts | None = None
    # Event region: where the task definition lives (log groups default to it).
    region: str | None = None
    # Names (case-insensitive) and sha256 value fingerprints a reviewer marked as not secret.
    secret_allowlist: frozenset[str] = frozenset()
    options: Mapping[str, Any] = field(default_factory=dict)
    # Set for the checks of scope "launch" (the launch being checked) and "stopped" (the task that stopped).
    launch: TaskLaunch | None = None
    stopped: StoppedTask | None = None


CheckFunction = Callable[[TaskDefinition, CheckContext], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    title: str
    severity: str
    mistake: int
    rationale: str
    remediation: str
    docs: str
    default_mode: str
    function: CheckFunction
    needs_facts: bool = False
    # Modes other than off/notify this check supports (block is always possible for a definition).
    remediable: bool = False
    # What the check corresponds to elsewhere (for the parity table and docs/checks): AWS Config managed
    # rule identifiers, Security Hub control ids (ECS.n), Control Tower proactive control ids (CT.ECS.PR.n),
    # Prowler check ids. Empty when nothing corresponds.
    config_rules: tuple[str, ...] = ()
    security_hub: tuple[str, ...] = ()
    control_tower: tuple[str, ...] = ()
    prowler: tuple[str, ...] = ()
    # The AWS read calls the check may make through its facts ("ecr:DescribeImages"), for docs and budgets.
    aws_calls: tuple[str, ...] = ()
    scope: str = "definition"

    def finding(
        self,
        context: CheckContext,
        message: str,
        *,
        container: str | None = None,
        field: str | None = None,
        remediation: str | None = None,
        severity: str | None = None,
        **extra: Any,
    ) -> Finding:
        return Finding(
            check=self.id,
            severity=severity or self.severity,
            target=context.target,
            message=message,
            remediation=remediation or self.remediation,
            container=container,
            field=field,
            docs=self.docs,
            rule=extra.pop("rule", None),
            evidence=extra.pop("evidence", None),
            fingerprint=extra.pop("fingerprint", None),
            data=extra,
        )

    def unverified(
        self,
        context: CheckContext,
        what: str,
        *,
        container: str | None = None,
        field: str | None = None,
        reason: str = "",
    ) -> Finding:
        """A finding that says the check could not get its facts: never a silent pass, never a page.

        ``what`` says what could not be verified ("whether role x may read secret y"); ``reason`` says why
        (an error code, never a value). Severity ``info``, ``data["unverified"] = True``.
        """
        because = f" ({reason})" if reason else ""
        return self.finding(
            context,
            f"Could not verify {what}{because}.",
            container=container,
            field=field,
            severity="info",
            remediation=(
                "Nothing to fix in the task definition. ecsguard could not read what this check needs; give its role "
                "the read permission named in the reason, or check by hand."
            ),
            unverified=True,
        )

    def run(self, task_definition: TaskDefinition, context: CheckContext) -> list[Finding]:
        return list(self.function(task_definition, context))


REGISTRY: dict[str, Check] = {}


def check(
    *,
    id: str,
    title: str,
    severity: str,
    mistake: int,
    rationale: str,
    remediation: str,
    docs: str,
    default_mode: str = "notify",
    needs_facts: bool = False,
    remediable: bool = False,
    config_rules: tuple[str, ...] = (),
    security_hub: tuple[str, ...] = (),
    control_tower: tuple[str, ...] = (),
    prowler: tuple[str, ...] = (),
    aws_calls: tuple[str, ...] = (),
    scope: str = "definition",
) -> Callable[[CheckFunction], Check]:
    """Register a check function with its metadata; returns the :class:`Check`."""
    if severity not in SEVERITIES:
        raise ValueError(f"{id}: unknown severity {severity!r}")
    if scope not in SCOPES:
        raise ValueError(f"{id}: unknown scope {scope!r}")
    if default_mode not in MODES:
        raise ValueError(f"{id}: unknown mode {default_mode!r}")

    def decorate(function: CheckFunction) -> Check:
        if id in REGISTRY:
            raise ValueError(f"check {id!r} registered twice")
        registered = Check(
            id=id,
            title=title,
            severity=severity,
            mistake=mistake,
            rationale=rationale,
            remediation=remediation,
            docs=docs,
            default_mode=default_mode,
            function=function,
            needs_facts=needs_facts,
            remediable=remediable,
            config_rules=tuple(config_rules),
            security_hub=tuple(security_hub),
            control_tower=tuple(control_tower),
            prowler=tuple(prowler),
            aws_calls=tuple(aws_calls),
            scope=scope,
        )
        REGISTRY[id] = registered
        return registered

    return decorate


def run_checks(
    task_definition: TaskDefinition,
    context: CheckContext,
    *,
    enabled: Callable[[str], bool] = lambda _check_id: True,
    scope: str = "definition",
) -> list[Finding]:
    """Run every registered, enabled check of ``scope`` that the context can serve; findings in registry order."""
    findings: list[Finding] = []
    for registered in REGISTRY.values():
        if registered.scope != scope or not enabled(registered.id):
            continue
        if registered.needs_facts and context.facts is None:
            continue
        findings.extend(registered.run(task_definition, context))
    return findings
