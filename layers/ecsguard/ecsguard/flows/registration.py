"""The RegisterTaskDefinition flow: event -> task definition -> checks -> policy -> actions -> notification.

Handlers call :func:`process_registration`; everything AWS-specific is reached through
:class:`~ecsguard.aws.Clients`, so the same code runs in Lambda, in ``ecsguard deliver`` and in tests.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..aws.clients import Clients
from ..aws.facts import AwsFacts, Facts, read_task_definition
from ..aws.state import record_task_role
from ..events import Registration, SkipEvent, parse_registration
from ..model import Report
from ..policy import Settings, belongs_to_stack, evaluate, registered_by_ecsguard
from .act_and_notify import Once, act_and_notify_once
from .remediations import act_on_registration

logger = logging.getLogger(__name__)


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
        if belongs_to_stack(td, settings.stack_name):
            raise SkipEvent(f"{td.name} belongs to ecsguard's own stack {settings.stack_name}")
        if settings.family_exempt(td.family):
            raise SkipEvent(f"family {td.family} is exempt (ECSGUARD_EXEMPT_FAMILIES)")
    except SkipEvent as skip:
        logger.info("event skipped", extra={"reason": str(skip)})
        return {"status": "skipped", "reason": str(skip)}

    findings, exempted = evaluate(
        td, settings, facts or AwsFacts(clients, state_table=settings.state_table), call.region
    )
    if settings.security_hub:  # ECSGUARD_SECURITY_HUB: the revision's findings beside Security Hub's own controls
        from .securityhub import sync_findings

        outcome = sync_findings(clients, call.region, call.account, [(td, findings)])
        if outcome.errors:
            logger.warning("Security Hub import incomplete", extra={"errors": list(outcome.errors)})
    if settings.state_table and td.family:
        # After the checks: task-role-shared compared against the inventory as it was before this revision.
        record_task_role(
            clients,
            settings.state_table,
            role=td.task_role_arn,
            family=td.family,
            revision_arn=td.arn,
            account=call.account,
        )
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
            report,
            lambda: act_on_registration(report, settings, clients),
            settings=settings,
            clients=clients,
            once=once,
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
