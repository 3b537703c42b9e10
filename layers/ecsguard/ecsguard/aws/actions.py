"""Actions: the only code in ecsguard that writes to AWS.

Each action is idempotent (a second delivery of the same event changes nothing) and returns an
:class:`ActionResult` that says what happened in words fit for the notification. A failed action
never raises past its caller: it is reported, and the finding is still notified.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from ..model import ActionResult
from ..policy import CREATED_BY_TAG, CREATED_BY_VALUE
from .clients import Clients

logger = logging.getLogger(__name__)


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
    except (ClientError, BotoCoreError) as exc:
        if (
            isinstance(exc, ClientError)
            and exc.response.get("Error", {}).get("Code") == "ResourceAlreadyExistsException"
        ):
            logger.info("log group already exists", extra={"log_group": name, "region": region})
            detail = f"log group {name} in {region} already existed"
            return ActionResult("create-log-group", target, ok=True, changed=False, detail=detail)
        logger.warning("create_log_group failed", extra={"log_group": name, "region": region, "error": _error(exc)})
        detail = f"could not create log group {name} in {region}: {_error(exc)}"
        return ActionResult("create-log-group", target, ok=False, changed=False, detail=detail)
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


# --------------------------------------------------------------------------------------------
# Secret migration (plaintext-secret=remediate). Orchestrated by ecsguard.flows.migration; every write
# to AWS happens here. Secret values pass through these functions as arguments only: they are
# never logged, never put in an ActionResult, and scrubbed from any error text.
# --------------------------------------------------------------------------------------------

SECRETSMANAGER = "secretsmanager"
SSM = "ssm"
SSM_STANDARD_LIMIT = 4096  # bytes; larger SecureString values need the advanced tier


@contextmanager
def quiet_wire_log() -> Iterator[None]:
    """botocore's DEBUG log prints request bodies; keep it quiet while a secret value is on the wire."""
    loggers = [logging.getLogger(name) for name in ("botocore", "boto3", "urllib3")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.INFO))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _safe_error(exc: Exception, *values: str) -> str:
    """:func:`_error`, but if any 8-character piece of a given value shows in it, only the error code."""
    text = _error(exc)
    windows = {text[i : i + 8] for i in range(max(len(text) - 7, 0))}
    for value in values:
        if value and (value in text or any(value[i : i + 8] in windows for i in range(max(len(value) - 7, 0)))):
            return (_code(exc) or type(exc).__name__) + ": <message withheld: it quoted the value>"
    return text


def _code(exc: Exception) -> str | None:
    return exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None


@dataclass(frozen=True, slots=True)
class StoredSecret:
    """Where a value went. ``previous`` is what a rollback restores; it never holds a value for Secrets Manager."""

    store: str
    name: str
    arn: str
    value_from: str
    version: str | None
    created: bool  # this attempt created the secret/parameter (rollback deletes it)
    changed: bool  # this attempt wrote a new version (False: it already held this value)
    previous_version: str | None = None  # Secrets Manager: the AWSCURRENT version before this attempt
    # SSM: the value the parameter held before this attempt overwrote it (memory only, for rollback).
    previous_value: str | None = field(default=None, repr=False)
    previous_known: bool = True  # False: an overwrite that a rollback cannot restore


class SecretStoreError(Exception):
    """Storing failed. ``str(exc)`` is safe to show: it never contains the value."""


def _owned(tags: list[dict]) -> bool:
    return any(t.get("Key") == CREATED_BY_TAG and t.get("Value") == CREATED_BY_VALUE for t in tags or [])


def store_secret(
    clients: Clients,
    *,
    region: str,
    store: str,
    name: str,
    value: str,
    kms_key_id: str | None,
    tags: dict[str, str],
    description: str,
    token: str,
    account: str,
    partition: str = "aws",
) -> StoredSecret:
    """Put ``value`` in Secrets Manager (``store='secretsmanager'``) or an SSM SecureString.

    Secrets Manager: CreateSecret, or PutSecretValue when ecsguard's secret of that name exists; ``token``
    (ClientRequestToken) makes a redelivery write nothing new; ``value_from`` pins the version id.
    SSM: PutParameter (tags, KeyId), or PutParameter Overwrite when the parameter exists and holds
    another value; ``value_from`` is the parameter ARN (ECS documents no version selector for SSM).
    Raises :class:`SecretStoreError` (value-free message) on failure.
    """
    all_tags = [{"Key": k, "Value": v} for k, v in {CREATED_BY_TAG: CREATED_BY_VALUE, **tags}.items()]
    try:
        with quiet_wire_log():
            if store == SECRETSMANAGER:
                return _store_secretsmanager(clients, region, name, value, kms_key_id, all_tags, description, token)
            return _store_ssm(
                clients, region, f"{partition}:ssm:{region}:{account}", name, value, kms_key_id, all_tags, description
            )
    except SecretStoreError:
        raise
    except (ClientError, BotoCoreError) as exc:
        raise SecretStoreError(_safe_error(exc, value)) from None


def _store_secretsmanager(clients, region, name, value, kms_key_id, tags, description, token) -> StoredSecret:
    sm = clients(SECRETSMANAGER, region)
    request = {"Name": name, "SecretString": value, "ClientRequestToken": token, "Description": description}
    if kms_key_id:
        request["KmsKeyId"] = kms_key_id
    try:
        response = sm.create_secret(**request, Tags=tags)
    except ClientError as exc:
        if _code(exc) != "ResourceExistsException":
            raise
    else:
        arn, version = response["ARN"], response["VersionId"]
        return StoredSecret(SECRETSMANAGER, name, arn, f"{arn}:::{version}", version, created=True, changed=True)
    described = sm.describe_secret(SecretId=name)
    if not _owned(described.get("Tags", [])):
        raise SecretStoreError(
            f"a secret named {name} already exists and was not created by ecsguard (no {CREATED_BY_TAG} tag); "
            "ecsguard does not write into it"
        )
    if described.get("DeletedDate"):
        raise SecretStoreError(f"secret {name} is scheduled for deletion; restore or purge it first")
    previous = next(
        (v for v, stages in (described.get("VersionIdsToStages") or {}).items() if "AWSCURRENT" in stages), None
    )
    response = sm.put_secret_value(SecretId=name, SecretString=value, ClientRequestToken=token)
    arn, version = response["ARN"], response["VersionId"]
    return StoredSecret(
        SECRETSMANAGER,
        name,
        arn,
        f"{arn}:::{version}",
        version,
        created=False,
        changed=version != previous,
        previous_version=previous,
    )


def _ssm_arn(scope: str, name: str) -> str:
    return f"arn:{scope}:parameter/{name.lstrip('/')}"


def _store_ssm(clients, region, scope, name, value, kms_key_id, tags, description) -> StoredSecret:
    ssm = clients(SSM, region)
    request = {"Name": name, "Value": value, "Type": "SecureString", "Description": description[:1024]}
    if kms_key_id:
        request["KeyId"] = kms_key_id
    if len(value.encode("utf-8")) > SSM_STANDARD_LIMIT:
        request["Tier"] = "Intelligent-Tiering"
    try:
        response = ssm.put_parameter(**request, Tags=tags)
    except ClientError as exc:
        if _code(exc) != "ParameterAlreadyExists":
            raise
    else:
        arn = _ssm_arn(scope, name)
        return StoredSecret(SSM, name, arn, arn, str(response.get("Version")), created=True, changed=True)
    existing_tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name).get("TagList", [])
    if not _owned(existing_tags):
        raise SecretStoreError(
            f"a parameter named {name} already exists and was not created by ecsguard (no {CREATED_BY_TAG} tag); "
            "ecsguard does not overwrite it"
        )
    previous_value: str | None = None
    previous_known = True
    try:
        current = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        previous_value = current.get("Value")
        arn = current.get("ARN") or _ssm_arn(scope, name)
        if previous_value == value:
            return StoredSecret(SSM, name, arn, arn, str(current.get("Version")), created=False, changed=False)
    except ClientError:
        previous_known = False  # no read access: the overwrite below cannot be undone by a rollback
        arn = _ssm_arn(scope, name)
    request.pop("Description", None)
    response = ssm.put_parameter(**request, Overwrite=True)
    return StoredSecret(
        SSM,
        name,
        arn,
        arn,
        str(response.get("Version")),
        created=False,
        changed=True,
        previous_value=previous_value,
        previous_known=previous_known,
    )


def rollback_secret(clients: Clients, *, region: str, stored: StoredSecret) -> str | None:
    """Undo what :func:`store_secret` did in this attempt. Returns None when undone, else why not."""
    if not stored.changed:
        return None
    try:
        with quiet_wire_log():
            if stored.store == SECRETSMANAGER:
                sm = clients(SECRETSMANAGER, region)
                if stored.created:
                    sm.delete_secret(SecretId=stored.arn, ForceDeleteWithoutRecovery=True)
                elif stored.previous_version:
                    sm.update_secret_version_stage(
                        SecretId=stored.arn,
                        VersionStage="AWSCURRENT",
                        MoveToVersionId=stored.previous_version,
                        RemoveFromVersionId=stored.version,
                    )
                return None
            ssm = clients(SSM, region)
            if stored.created:
                ssm.delete_parameter(Name=stored.name)
                return None
            if stored.previous_value is None or not stored.previous_known:
                return f"parameter {stored.name} was overwritten and its previous value could not be read to restore"
            ssm.put_parameter(Name=stored.name, Value=stored.previous_value, Type="SecureString", Overwrite=True)
            return None
    except (ClientError, BotoCoreError) as exc:
        return f"could not undo {stored.name}: {_safe_error(exc, stored.previous_value or '')}"


def describe_revision(clients: Clients, *, region: str, arn: str) -> dict:
    """DescribeTaskDefinition with tags (a read, kept here because migration decides on it).

    The response holds the plaintext values, so botocore's DEBUG wire log is kept quiet while it is read.
    """
    with quiet_wire_log():
        return clients("ecs", region).describe_task_definition(taskDefinition=arn, include=["TAGS"])


def find_remediated_revision(
    clients: Clients, *, region: str, family: str, old_arn: str, old_revision: int, limit: int = 10
) -> str | None:
    """The ARN of a newer revision of ``family`` tagged ``ecsguard:remediated-from=<old_arn>``, if any."""
    from ..policy import REMEDIATED_FROM_TAG

    ecs = clients("ecs", region)
    arns = ecs.list_task_definitions(familyPrefix=family, sort="DESC", maxResults=100).get("taskDefinitionArns", [])
    newer = [a for a in arns if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
    newer = [a for a in newer if int(a.rsplit(":", 1)[-1]) > old_revision][:limit]
    for arn in newer:
        with quiet_wire_log():
            tags = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]).get("tags") or []
        if any(t.get("key") == REMEDIATED_FROM_TAG and t.get("value") == old_arn for t in tags):
            return arn
    return None


def register_revision(clients: Clients, *, region: str, request: dict) -> str:
    """RegisterTaskDefinition; returns the new ARN. Raises ClientError/BotoCoreError."""
    with quiet_wire_log():
        response = clients("ecs", region).register_task_definition(**request)
    return response["taskDefinition"]["taskDefinitionArn"]


def delete_revision(clients: Clients, *, region: str, arn: str) -> ActionResult:
    """DeleteTaskDefinitions for one INACTIVE revision (only when the stack parameter allows it)."""
    try:
        response = clients("ecs", region).delete_task_definitions(taskDefinitions=[arn])
    except (ClientError, BotoCoreError) as exc:
        return ActionResult(
            "delete-revision", arn, ok=False, changed=False, detail=f"could not delete {arn}: {_error(exc)}"
        )
    failures = response.get("failures") or []
    if failures:
        reason = failures[0].get("reason") or failures[0].get("detail") or "unknown reason"
        return ActionResult("delete-revision", arn, ok=False, changed=False, detail=f"could not delete {arn}: {reason}")
    return ActionResult("delete-revision", arn, ok=True, detail=f"requested deletion of {arn} (DeleteTaskDefinitions)")


def services_using(
    clients: Clients, *, region: str, arn: str, max_clusters: int = 20, max_services: int = 200
) -> tuple[list[str], bool]:
    """``cluster/service`` names whose service or a deployment still uses ``arn``; (names, bound hit).

    Looks at no more than ``max_clusters`` clusters and ``max_services`` services in all; the second
    value says whether there were more it did not look at.
    """
    ecs = clients("ecs", region)
    clusters: list[str] = []
    bounded = False
    for page in ecs.get_paginator("list_clusters").paginate():
        clusters.extend(page.get("clusterArns", []))
        if len(clusters) >= max_clusters:
            bounded = len(clusters) > max_clusters or bool(page.get("nextToken"))
            clusters = clusters[:max_clusters]
            break
    found: list[str] = []
    budget = max_services
    for cluster in clusters:
        services: list[str] = []
        for page in ecs.get_paginator("list_services").paginate(cluster=cluster):
            services.extend(page.get("serviceArns", []))
            if len(services) > budget:
                break
        if len(services) > budget:
            bounded, services = True, services[:budget]
        budget -= len(services)
        for start in range(0, len(services), 10):
            described = ecs.describe_services(cluster=cluster, services=services[start : start + 10])
            for service in described.get("services", []):
                definitions = {service.get("taskDefinition")} | {
                    d.get("taskDefinition") for d in service.get("deployments", []) or []
                }
                if arn in definitions:
                    found.append(f"{cluster.rsplit('/', 1)[-1]}/{service.get('serviceName')}")
        if budget <= 0:
            bounded = bounded or cluster != clusters[-1]
            break
    return found, bounded


def resolve_kms_key_arn(clients: Clients, *, region: str, key_id: str) -> str | None:
    """The key ARN behind a key id, alias or ARN (IAM needs the key ARN for kms:Decrypt)."""
    if key_id.startswith("arn:") and ":key/" in key_id:
        return key_id
    try:
        return clients("kms", region).describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    except (ClientError, BotoCoreError, KeyError):
        return None


def put_execution_role_policy(
    clients: Clients, *, role_arn: str, policy_name: str, statements: list[dict]
) -> tuple[ActionResult, dict | None, bool]:
    """Merge ``statements`` (by Sid) into the role's inline policy ``policy_name``.

    Returns (result, the previous document or None, whether the policy existed) so a rollback can restore it.
    """
    iam = clients("iam")
    role = role_arn.rsplit("/", 1)[-1]
    previous: dict | None = None
    try:
        previous = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
        if isinstance(previous, str):
            previous = json.loads(unquote(previous))
    except ClientError as exc:
        if _code(exc) != "NoSuchEntity":
            return (
                ActionResult(
                    "grant-execution-role",
                    role_arn,
                    ok=False,
                    changed=False,
                    detail=f"could not read {policy_name} on {role_arn}: {_error(exc)}",
                ),
                None,
                False,
            )
    except BotoCoreError as exc:
        return ActionResult("grant-execution-role", role_arn, ok=False, changed=False, detail=_error(exc)), None, False
    merged = _merge_statements((previous or {}).get("Statement", []), statements)
    document = {"Version": "2012-10-17", "Statement": merged}
    try:
        iam.put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(document))
    except (ClientError, BotoCoreError) as exc:
        return (
            ActionResult(
                "grant-execution-role",
                role_arn,
                ok=False,
                changed=False,
                detail=f"could not put inline policy {policy_name} on {role_arn}: {_error(exc)}",
            ),
            previous,
            previous is not None,
        )
    return (
        ActionResult(
            "grant-execution-role",
            role_arn,
            ok=True,
            detail=f"granted: inline policy {policy_name} on {role_arn} now allows {json.dumps(statements)}",
        ),
        previous,
        previous is not None,
    )


def _merge_statements(existing: list | dict, new: list[dict]) -> list[dict]:
    existing = [existing] if isinstance(existing, dict) else list(existing or [])
    by_sid = {s.get("Sid"): s for s in existing if isinstance(s, dict) and s.get("Sid")}
    merged = [s for s in existing if not (isinstance(s, dict) and s.get("Sid") in {n.get("Sid") for n in new})]
    for statement in new:
        old = by_sid.get(statement.get("Sid"))
        if old and old.get("Action") == statement.get("Action"):
            resources = old.get("Resource", [])
            resources = [resources] if isinstance(resources, str) else list(resources)
            statement = {**statement, "Resource": sorted(set(resources) | set(statement["Resource"]))}
        merged.append(statement)
    return merged


def restore_execution_role_policy(
    clients: Clients, *, role_arn: str, policy_name: str, previous: dict | None
) -> str | None:
    """Undo :func:`put_execution_role_policy`: put back the previous document, or delete the new policy."""
    iam = clients("iam")
    role = role_arn.rsplit("/", 1)[-1]
    try:
        if previous is None:
            iam.delete_role_policy(RoleName=role, PolicyName=policy_name)
        else:
            iam.put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(previous))
    except (ClientError, BotoCoreError) as exc:
        return f"could not undo inline policy {policy_name} on {role_arn}: {_error(exc)}"
    return None


def stop_task(clients: Clients, *, region: str, cluster: str | None, task_arn: str, reason: str) -> ActionResult:
    """Block a launch: stop exactly this task (stopping an already stopped task changes nothing)."""
    request = {"task": task_arn, "reason": reason[:255]}  # StopTask: the reason is at most 255 characters
    if cluster:
        request["cluster"] = cluster
    try:
        response = clients("ecs", region).stop_task(**request)
    except (ClientError, BotoCoreError) as exc:
        return ActionResult(
            "stop-task", task_arn, ok=False, changed=False, detail=f"could not stop {task_arn}: {_error(exc)}"
        )
    status = response.get("task", {}).get("desiredStatus", "STOPPED")
    return ActionResult("stop-task", task_arn, ok=True, detail=f"stopped task {task_arn} (desired status {status})")


def publish_notification(
    clients: Clients, *, topic_arn: str, subject: str, message: str, attributes: dict[str, Any]
) -> str:
    """Publish one rendered notification (``MessageStructure=json``) to the topic; returns its message id.

    Errors propagate: a notification that cannot be sent fails the invocation, so Lambda retries it
    and the dead-letter queue keeps the event.
    """
    response = clients("sns", topic_arn.split(":")[3]).publish(
        TopicArn=topic_arn,
        Subject=subject,
        Message=message,
        MessageStructure="json",
        MessageAttributes=attributes,
    )
    return response["MessageId"]


# --------------------------------------------------------------------------------------------
# Security Hub (ECSGUARD_SECURITY_HUB=true): import ecsguard's findings in ASFF and resolve those that are
# gone. Orchestrated by ecsguard.flows.securityhub; the read of what is there is aws/securityhub.py.
# --------------------------------------------------------------------------------------------

SECURITY_HUB_BATCH = 100  # BatchImportFindings and BatchUpdateFindings: at most 100 findings a request


@dataclass(slots=True)
class SecurityHubWrite:
    """What a batch of Security Hub writes did: how many succeeded, and why the others failed (codes only)."""

    succeeded: int = 0
    requests: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (finding Id, error code)
    error: str | None = None  # a request that failed whole (Security Hub not enabled, access denied, ...)


def import_findings(clients: Clients, *, region: str, findings: list[dict]) -> SecurityHubWrite:
    """BatchImportFindings in chunks of 100. A failed request stops the rest (it would fail the same way)."""
    result = SecurityHubWrite()
    hub = clients("securityhub", region)
    for start in range(0, len(findings), SECURITY_HUB_BATCH):
        chunk = findings[start : start + SECURITY_HUB_BATCH]
        result.requests += 1
        try:
            response = hub.batch_import_findings(Findings=chunk)
        except (ClientError, BotoCoreError) as exc:
            result.error = _code(exc) or type(exc).__name__
            logger.warning("BatchImportFindings failed", extra={"region": region, "error": result.error})
            return result
        result.succeeded += int(response.get("SuccessCount", 0))
        result.failed += [
            (str(f.get("Id", "")), str(f.get("ErrorCode", "")))
            for f in response.get("FailedFindings", [])
            if isinstance(f, dict)
        ]
    return result


def resolve_workflow(clients: Clients, *, region: str, identifiers: list[dict[str, str]]) -> SecurityHubWrite:
    """BatchUpdateFindings Workflow.Status RESOLVED for archived findings ({"Id", "ProductArn"}), 100 at a time.

    BatchImportFindings cannot change Workflow once a finding exists (API reference), so this is the one call
    that marks what ecsguard archived as resolved in the investigation workflow too.
    """
    result = SecurityHubWrite()
    hub = clients("securityhub", region)
    for start in range(0, len(identifiers), SECURITY_HUB_BATCH):
        chunk = identifiers[start : start + SECURITY_HUB_BATCH]
        result.requests += 1
        try:
            response = hub.batch_update_findings(
                FindingIdentifiers=chunk,
                Workflow={"Status": "RESOLVED"},
            )
        except (ClientError, BotoCoreError) as exc:
            result.error = _code(exc) or type(exc).__name__
            logger.warning("BatchUpdateFindings failed", extra={"region": region, "error": result.error})
            return result
        result.succeeded += len(response.get("ProcessedFindings", []))
        result.failed += [
            (str(f.get("FindingIdentifier", {}).get("Id", "")), str(f.get("ErrorCode", "")))
            for f in response.get("UnprocessedFindings", [])
            if isinstance(f, dict)
        ]
    return result
