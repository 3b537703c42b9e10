"""The guard pipeline for one task definition: checks -> policy -> actions -> notification.

Handlers call :func:`process_registration`; everything AWS-specific is reached through
:class:`~ecsguard.aws.Clients`, so the same code runs in Lambda, in ``ecsguard deliver`` and in tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from . import actions, notify
from .actions import ActionResult
from .aws import Clients
from .checks import CheckContext, run_checks
from .events import Registration, SkipEvent, parse_registration
from .facts import AwsFacts, Facts
from .model import Finding, TaskDefinition
from .policy import Settings, ignored_checks, is_exempt, registered_by_ecsguard

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Report:
    task_definition: TaskDefinition
    account: str
    region: str
    actor: str
    event_time: str | None
    event_id: str | None
    findings: list[Finding]
    modes: Mapping[str, str]
    exempted: list[Finding] = field(default_factory=list)
    actions: list[ActionResult] = field(default_factory=list)
    message_id: str | None = None

    @property
    def target(self) -> str:
        return self.task_definition.name

    def summary(self) -> dict[str, Any]:
        """What the handler returns (and the idempotency record stores): no secret values, no messages."""
        return {
            "status": "checked",
            "taskDefinition": self.task_definition.arn or self.target,
            "findings": [
                {
                    "check": f.check,
                    "severity": f.severity,
                    "container": f.container,
                    "field": f.field,
                    "mode": self.modes.get(f.check),
                }
                for f in self.findings
            ],
            "exempted": sorted({f.check for f in self.exempted}),
            "actions": [asdict(a) for a in self.actions],
            "messageId": self.message_id,
        }


# check id -> remediation: (task definition, its findings for that check, settings, clients, region) -> results.
Remediation = Callable[[TaskDefinition, Sequence[Finding], Settings, Clients, str], list[ActionResult]]
REMEDIATIONS: dict[str, Remediation] = {}


def remediation(check_id: str) -> Callable[[Remediation], Remediation]:
    def register(function: Remediation) -> Remediation:
        REMEDIATIONS[check_id] = function
        return function

    return register


@remediation("log-group-missing")
def _create_log_groups(
    task_definition: TaskDefinition, findings: Sequence[Finding], settings: Settings, clients: Clients, region: str
) -> list[ActionResult]:
    destinations = dict.fromkeys((f.data["region"], f.data["log_group"]) for f in findings)
    tags = {"ecsguard:task-definition": task_definition.arn or task_definition.name}
    return [
        actions.create_log_group(
            clients,
            region=group_region,
            name=group,
            retention_days=settings.log_retention_days,
            kms_key_arn=settings.log_kms_key_arn,
            tags=tags,
        )
        for group_region, group in destinations
    ]


@remediation("plaintext-secret")
def _migrate_secrets(
    task_definition: TaskDefinition, findings: Sequence[Finding], settings: Settings, clients: Clients, region: str
) -> list[ActionResult]:
    """Move the values to a secret store (ecsguard.migration), imported only when this opt-in mode runs."""
    from .migration import remediate_plaintext_secrets

    return remediate_plaintext_secrets(task_definition, findings, settings, clients, region)


def read_task_definition(clients: Clients, region: str, reference: str) -> TaskDefinition:
    """DescribeTaskDefinition (with tags) by ARN or family; SkipEvent when it no longer exists."""
    try:
        response = clients("ecs", region).describe_task_definition(taskDefinition=reference, include=["TAGS"])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in {"ClientException", "InvalidParameterException"}:
            raise SkipEvent(f"task definition {reference} cannot be read: {code}") from None
        raise
    return TaskDefinition.from_api(response["taskDefinition"], tags=response.get("tags"))


def evaluate(
    task_definition: TaskDefinition, settings: Settings, facts: Facts | None, region: str | None
) -> tuple[list[Finding], list[Finding]]:
    """(findings to act on, findings exempted by the ecsguard:ignore tag)."""
    context = CheckContext(
        target=task_definition.name, facts=facts, region=region, secret_allowlist=settings.secret_allowlist
    )
    findings = run_checks(task_definition, context, enabled=settings.enabled)
    ignored = ignored_checks(task_definition)
    kept = [f for f in findings if not is_exempt(f, ignored)]
    exempted = [f for f in findings if is_exempt(f, ignored)]
    return kept, exempted


def act(report: Report, settings: Settings, clients: Clients) -> list[ActionResult]:
    td = report.task_definition
    results: list[ActionResult] = []
    by_check: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(finding)
    for check_id, findings in by_check.items():
        if settings.mode(check_id) == "remediate" and check_id in REMEDIATIONS:
            results.extend(REMEDIATIONS[check_id](td, findings, settings, clients, report.region))
    blocking = sorted(check_id for check_id in by_check if settings.mode(check_id) == "block")
    if blocking:
        if (
            td.arn
            and td.status != "INACTIVE"
            and not any(r.action == "deregister-revision" and r.target == td.arn and r.ok for r in results)
        ):
            results.append(actions.deregister_revision(clients, region=report.region, arn=td.arn))
        elif not td.arn:
            results.append(
                ActionResult(
                    "deregister-revision", td.name, ok=False, changed=False, detail="no revision ARN to deregister"
                )
            )
    return results


# Runs ``work`` at most once per key (duplicate EventBridge deliveries) and returns its result.
Once = Callable[[str, Callable[[], dict[str, Any]]], dict[str, Any]]


def process_registration(
    event: Mapping[str, Any],
    *,
    settings: Settings,
    clients: Clients,
    facts: Facts | None = None,
    once: Once | None = None,
) -> dict[str, Any]:
    """Handle one RegisterTaskDefinition event end to end; returns a summary (never secret values).

    Checks always run (they only read). Actions and the notification run through ``once`` keyed on
    CloudTrail's eventID, so a duplicate delivery neither acts nor notifies twice; a clean
    definition never reaches it, which keeps the idempotency store off the common path.
    """
    try:
        registration: Registration = parse_registration(event)
        call = registration.call
        td = registration.task_definition
        if td is None:
            logger.info(
                "reading task definition",
                extra={"reason": registration.reason_incomplete, "reference": registration.arn},
            )
            td = read_task_definition(clients, call.region, registration.arn or "")
        if registered_by_ecsguard(td):
            raise SkipEvent(f"{td.name} was registered by ecsguard itself")
        if settings.family_exempt(td.family):
            raise SkipEvent(f"family {td.family} is exempt (ECSGUARD_EXEMPT_FAMILIES)")
    except SkipEvent as skip:
        logger.info("event skipped", extra={"reason": str(skip)})
        return {"status": "skipped", "reason": str(skip)}

    findings, exempted = evaluate(td, settings, facts or AwsFacts(clients), call.region)
    report = Report(
        task_definition=td,
        account=call.account,
        region=call.region,
        actor=call.actor,
        event_time=call.event_time,
        event_id=call.event_id,
        findings=findings,
        modes={f.check: settings.mode(f.check) for f in findings},
        exempted=exempted,
    )

    if findings:
        act_and_notify_once(
            report, lambda: act(report, settings, clients), settings=settings, clients=clients, once=once
        )
    logger.info(
        "task definition checked",
        extra={
            "task_definition": td.arn or td.name,
            "checks": sorted({f.check for f in findings}),
            "exempted": sorted({f.check for f in exempted}),
            "actions": [f"{a.action}:{'ok' if a.ok else 'failed'}" for a in report.actions],
            "message_id": report.message_id,
        },
    )
    return report.summary()


def act_and_notify_once(
    report: Report,
    take_actions: Callable[[], list[ActionResult]],
    *,
    settings: Settings,
    clients: Clients,
    once: Once | None,
) -> None:
    """Take the actions and publish the notification, once per CloudTrail eventID when ``once`` is set.

    A duplicate delivery gets the first delivery's outcome back (actions and message id) without
    acting or publishing again. Fills ``report.actions`` and ``report.message_id``.
    """

    def work() -> dict[str, Any]:
        report.actions = take_actions()
        if settings.topic_arn:
            topic_region = settings.topic_arn.split(":")[3]
            report.message_id = notify.publish(clients("sns", topic_region), settings.topic_arn, notify.render(report))
        else:
            logger.warning("findings not published: no topic configured (ECSGUARD_TOPIC_ARN)")
        return {"actions": [asdict(a) for a in report.actions], "messageId": report.message_id}

    outcome = once(report.event_id, work) if once and report.event_id else work()
    report.actions = [ActionResult(**a) for a in outcome["actions"]]
    report.message_id = outcome["messageId"]
