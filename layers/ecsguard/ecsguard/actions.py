"""Actions: the only code in ecsguard that writes to AWS.

Each action is idempotent (a second delivery of the same event changes nothing) and returns an
:class:`ActionResult` that says what happened in words fit for the notification. A failed action
never raises past its caller: it is reported, and the finding is still notified.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from .aws import Clients
from .policy import CREATED_BY_TAG, CREATED_BY_VALUE

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ActionResult:
    action: str  # create-log-group | deregister-revision | migrate-secret | ...
    target: str
    ok: bool
    detail: str
    changed: bool = True


def _error(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    return type(exc).__name__


def create_log_group(
    clients: Clients,
    *,
    region: str,
    name: str,
    retention_days: int,
    kms_key_arn: str | None = None,
    tags: dict[str, str] | None = None,
) -> ActionResult:
    target = f"{region}:{name}"
    logs = clients("logs", region)
    request: dict = {"logGroupName": name, "tags": {CREATED_BY_TAG: CREATED_BY_VALUE, **(tags or {})}}
    if kms_key_arn:
        request["kmsKeyId"] = kms_key_arn
    try:
        logs.create_log_group(**request)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceAlreadyExistsException":
            logger.info("log group already exists", extra={"log_group": name, "region": region})
            return ActionResult(
                "create-log-group",
                target,
                ok=True,
                changed=False,
                detail=f"log group {name} in {region} already existed",
            )
        logger.warning("create_log_group failed", extra={"log_group": name, "region": region, "error": _error(exc)})
        return ActionResult(
            "create-log-group",
            target,
            ok=False,
            changed=False,
            detail=f"could not create log group {name} in {region}: {_error(exc)}",
        )
    except BotoCoreError as exc:
        return ActionResult(
            "create-log-group",
            target,
            ok=False,
            changed=False,
            detail=f"could not create log group {name} in {region}: {_error(exc)}",
        )
    retention = "never expire"
    if retention_days:
        try:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
            retention = f"{retention_days}-day retention"
        except (ClientError, BotoCoreError) as exc:
            retention = f"retention not set ({_error(exc)})"
    encryption = f", encrypted with {kms_key_arn}" if kms_key_arn else ""
    return ActionResult(
        "create-log-group", target, ok=True, detail=f"created log group {name} in {region} ({retention}{encryption})"
    )


def deregister_revision(clients: Clients, *, region: str, arn: str) -> ActionResult:
    """Block: deregister exactly this revision (it becomes INACTIVE; nothing is deleted)."""
    try:
        response = clients("ecs", region).deregister_task_definition(taskDefinition=arn)
    except (ClientError, BotoCoreError) as exc:
        return ActionResult(
            "deregister-revision", arn, ok=False, changed=False, detail=f"could not deregister {arn}: {_error(exc)}"
        )
    status = response.get("taskDefinition", {}).get("status", "INACTIVE")
    return ActionResult("deregister-revision", arn, ok=True, detail=f"deregistered {arn} (now {status})")
