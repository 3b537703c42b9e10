"""Secret migration: move plaintext credentials out of a task definition (``plaintext-secret=remediate``).

Planning is pure (:func:`plan_migration`, :func:`build_request`): from a revision and its
``plaintext-secret`` findings it decides what can move where and builds the RegisterTaskDefinition
request of the corrected revision. :func:`remediate_plaintext_secrets` carries the plan out through
:mod:`ecsguard.aws.actions` (the only module that writes to AWS), in an order that leaves nothing half done:

1. re-read the leaking revision; stop if it is no longer ACTIVE or ecsguard already registered its fix;
2. store every value (Secrets Manager or SSM SecureString), rolling back on the first failure;
3. grant the execution role read access, when the stack allows it (rolled back if a later step fails);
4. register the corrected revision, tagged ``ecsguard:remediated-from=<old arn>`` (the loop guard);
   if that fails, delete the secrets this attempt created and report that nothing changed;
5. deregister the leaking revision (and delete it, when the stack allows it);
6. report the services still running the leaking revision and the execution-role statement.

What cannot be moved automatically (credentials in ``command``/``entryPoint`` arguments, a container
that already has a ``secrets`` entry of that name, duplicate entries with different values) stops the
whole migration: a new revision that still leaks would look like a fix and is not one. So does a
definition without an execution role, since the new revision could not fetch its secrets.

Values are read from ``task_definition.raw`` at the moment they are stored and go nowhere else: not
into the plan, a log line, an :class:`~ecsguard.model.ActionResult` or an exception message.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws import actions
from ..aws.actions import StoredSecret
from ..aws.clients import Clients
from ..model import ActionResult, TaskDefinition
from ..policy import REMEDIATED_FROM_TAG, Settings

logger = logging.getLogger(__name__)

CHECK_ID = "plaintext-secret"
TASK_DEFINITION_TAG = "ecsguard:task-definition"
STATEMENT_SID = "EcsguardReadMigratedSecrets"
KMS_STATEMENT_SID = "EcsguardDecryptMigratedSecrets"
MAX_TAGS = 50  # ECS: at most 50 tags per resource
ROTATE = (
    "Rotate the credential: it remains in CloudTrail history and in the old revision (INACTIVE revisions can "
    "still be described). Put the new value in the secret ecsguard created; new tasks read it at start."
)

# Characters each store accepts in a name (anything else becomes "_").
_SECRETSMANAGER_NAME = re.compile(r"[^A-Za-z0-9/_+=.@-]")
_SSM_NAME = re.compile(r"[^A-Za-z0-9/_.-]")
_SECRETSMANAGER_NAME_MAX = 512
_SSM_NAME_MAX = 1011
_ARN = re.compile(r"^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):task-definition/([^:]+):(\d+)$")

_ENVIRONMENT = re.compile(r"^environment\.(?P<name>.+)$")
_LOG_OPTION = re.compile(r"^logConfiguration\.options\.(?P<name>.+)$")
_ARGUMENT = re.compile(r"^(?P<attribute>command|entryPoint)\[(?P<index>\d+)\]$")


@dataclass(frozen=True, slots=True)
class MovedEntry:
    """One value to move. Holds no value: only where it is and where it goes."""

    container: str
    kind: str  # "environment" -> secrets, "log-option" -> logConfiguration.secretOptions
    name: str  # the variable name or log driver option key (also the name in secrets/secretOptions)
    field: str  # the finding's field, e.g. environment.DB_PASSWORD
    secret_name: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.container, self.kind, self.name)

    @property
    def where(self) -> str:
        place = "environment variable" if self.kind == "environment" else "log driver option"
        return f"container {self.container} {place} {self.name}"


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    old_arn: str | None
    family: str | None
    store: str
    entries: tuple[MovedEntry, ...] = ()
    # Why nothing may be migrated (empty when the plan can be carried out).
    blockers: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.blockers and bool(self.entries)


def _sanitise(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub("_", text).strip("/") or "_"


def secret_name(prefix: str, family: str, container: str, name: str, store: str = "secretsmanager") -> str:
    """``<prefix><family>/<container>/<NAME>`` with characters the store rejects replaced by ``_``.

    SSM names that contain ``/`` must start with ``/``; Secrets Manager names must not. Both keep the
    prefix's own slashes (``ecsguard/``, ``/platform/ecsguard/``).
    """
    pattern = _SSM_NAME if store == "ssm" else _SECRETSMANAGER_NAME
    clean_prefix = re.sub(r"/+", "/", pattern.sub("_", prefix or ""))
    parts = [_sanitise(part, pattern).replace("/", "_") for part in (family, container, name)]
    full = re.sub(r"/+", "/", clean_prefix + "/".join(parts))
    if store == "ssm":
        full = "/" + full.lstrip("/")
        return full[:_SSM_NAME_MAX]
    return full.lstrip("/")[:_SECRETSMANAGER_NAME_MAX]


def _containers(raw: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found = {}
    for index, container in enumerate(raw.get("containerDefinitions") or []):
        if isinstance(container, Mapping):
            found[str(container.get("name") or f"container-{index}")] = container
    return found


def _env_values(container: Mapping[str, Any], name: str) -> list[str]:
    return [
        str(item.get("value") if item.get("value") is not None else "")
        for item in container.get("environment") or []
        if isinstance(item, Mapping) and item.get("name") == name
    ]


def _secret_names(container: Mapping[str, Any]) -> set[str]:
    return {str(item.get("name")) for item in container.get("secrets") or [] if isinstance(item, Mapping)}


def _log_configuration(container: Mapping[str, Any]) -> Mapping[str, Any]:
    config = container.get("logConfiguration")
    return config if isinstance(config, Mapping) else {}


def plan_migration(task_definition: TaskDefinition, findings: Sequence[Any], settings: Settings) -> MigrationPlan:
    """What to move where, or why nothing may move. Pure: reads only the definition and the findings."""
    td = task_definition
    store = settings.secret_store
    raw = td.raw
    blockers: list[str] = []
    if not td.arn or not _ARN.match(td.arn):
        blockers.append("the revision ARN is not known, so there is nothing to replace")
    if not td.execution_role_arn:
        blockers.append(
            "the task definition has no execution role (executionRoleArn), so a revision that reads its "
            "credentials from secrets could not fetch them at start; add an execution role first"
        )
    containers = _containers(raw)
    entries: dict[tuple[str, str, str], MovedEntry] = {}
    for finding in findings:
        if getattr(finding, "check", CHECK_ID) != CHECK_ID:
            continue
        container_name, where = finding.container or "", finding.field or ""
        container = containers.get(container_name)
        env, option, argument = _ENVIRONMENT.match(where), _LOG_OPTION.match(where), _ARGUMENT.match(where)
        if argument:
            blockers.append(
                f"container {container_name} has a credential in {where}: ecsguard cannot move command-line "
                "arguments; pass it as a secret environment variable and reference that in the command instead"
            )
            continue
        if container is None:
            blockers.append(f"container {container_name} of {where} is not in the revision as registered")
            continue
        if env:
            name = env.group("name")
            values = _env_values(container, name)
            if not values:
                blockers.append(f"container {container_name} has no environment variable {name} to move")
                continue
            if len(set(values)) > 1:
                blockers.append(
                    f"container {container_name} defines environment variable {name} {len(values)} times with "
                    "different values; ecsguard cannot tell which one the task uses"
                )
                continue
            if name in _secret_names(container):
                blockers.append(
                    f"container {container_name} already has a secrets entry named {name}; ecsguard will not replace it"
                )
                continue
            kind = "environment"
        elif option:
            name = option.group("name")
            config = _log_configuration(container)
            options = config.get("options") if isinstance(config.get("options"), Mapping) else {}
            if name not in options:
                blockers.append(f"container {container_name} has no log driver option {name} to move")
                continue
            secret_options = {
                str(item.get("name")) for item in config.get("secretOptions") or [] if isinstance(item, Mapping)
            }
            if name in secret_options:
                blockers.append(f"container {container_name} already has a log driver secretOptions entry named {name}")
                continue
            kind = "log-option"
        else:
            blockers.append(f"container {container_name}: ecsguard does not know how to move {where or 'a value'}")
            continue
        key = (container_name, kind, name)
        if key not in entries:
            entries[key] = MovedEntry(
                container=container_name,
                kind=kind,
                name=name,
                field=where,
                secret_name=secret_name(settings.secret_name_prefix, td.family or "", container_name, name, store),
            )
    # Two entries whose names sanitise to the same secret would overwrite each other.
    by_name: dict[str, list[MovedEntry]] = {}
    for entry in entries.values():
        by_name.setdefault(entry.secret_name, []).append(entry)
    for name, clash in by_name.items():
        if len(clash) > 1:
            blockers.append(f"{', '.join(e.where for e in clash)} would share the secret name {name}")

    tags = {k: v for k, v in td.tags.items() if not k.lower().startswith("aws:")}
    tags[REMEDIATED_FROM_TAG] = td.arn or ""
    if len(tags) > MAX_TAGS:
        blockers.append(
            f"the revision has {len(tags) - 1} tags; the corrected one needs room for {REMEDIATED_FROM_TAG}"
        )
    if not entries and not blockers:
        blockers.append("no plaintext-secret finding names an entry to move")
    return MigrationPlan(
        old_arn=td.arn,
        family=td.family,
        store=store,
        entries=tuple(entries.values()),
        blockers=tuple(dict.fromkeys(blockers)),
        tags=tags,
    )


def read_value(task_definition: TaskDefinition, entry: MovedEntry) -> str:
    """The plaintext value of ``entry``, read from the revision itself at the moment it is stored."""
    container = _containers(task_definition.raw)[entry.container]
    if entry.kind == "environment":
        return _env_values(container, entry.name)[0]
    return str(_log_configuration(container)["options"][entry.name])


def build_request(
    task_definition: TaskDefinition, plan: MigrationPlan, value_from: Mapping[tuple[str, str, str], str]
) -> dict[str, Any]:
    """The RegisterTaskDefinition request of the corrected revision.

    Identical to the leaking revision's own request except: each moved environment variable is removed from
    ``environment`` and appended to ``secrets``; each moved log option is removed from
    ``logConfiguration.options`` and appended to ``secretOptions``; tags gain ``ecsguard:remediated-from``.
    """
    request = copy.deepcopy(task_definition.register_input())
    moved: dict[str, list[MovedEntry]] = {}
    for entry in plan.entries:
        moved.setdefault(entry.container, []).append(entry)
    for index, container in enumerate(request.get("containerDefinitions") or []):
        name = str(container.get("name") or f"container-{index}")
        for entry in moved.get(name, []):
            reference = {"name": entry.name, "valueFrom": value_from[entry.key]}
            if entry.kind == "environment":
                container["environment"] = [
                    item for item in container.get("environment") or [] if item.get("name") != entry.name
                ]
                container["secrets"] = [*(container.get("secrets") or []), reference]
            else:
                config = container["logConfiguration"]
                config["options"] = {k: v for k, v in config.get("options", {}).items() if k != entry.name}
                config["secretOptions"] = [*(config.get("secretOptions") or []), reference]
    request["tags"] = [{"key": k, "value": v} for k, v in plan.tags.items()]
    return request


def execution_role_statements(store: str, resources: Sequence[str], kms_key_arn: str | None) -> list[dict[str, Any]]:
    """The IAM statements that let the execution role read exactly the migrated secrets."""
    action = "secretsmanager:GetSecretValue" if store == "secretsmanager" else "ssm:GetParameters"
    statements: list[dict[str, Any]] = [
        {"Sid": STATEMENT_SID, "Effect": "Allow", "Action": action, "Resource": sorted(set(resources))}
    ]
    if kms_key_arn:
        statements.append(
            {"Sid": KMS_STATEMENT_SID, "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [kms_key_arn]}
        )
    return statements


def request_token(old_arn: str, entry: MovedEntry) -> str:
    """A ClientRequestToken that is the same on every delivery of the same revision (Secrets Manager idempotency)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ecsguard:{old_arn}#{entry.container}#{entry.kind}#{entry.name}"))


def _store_label(store: str) -> str:
    return "Secrets Manager secret" if store == "secretsmanager" else "SSM SecureString parameter"


def _fail(action: str, target: str, detail: str) -> list[ActionResult]:
    return [ActionResult(action, target, ok=False, changed=False, detail=detail)]


def _rollback(
    clients: Clients, region: str, stored: Sequence[StoredSecret], grant: tuple[str, str, dict | None] | None
) -> str:
    problems = []
    for item in reversed(stored):
        problem = actions.rollback_secret(clients, region=region, stored=item)
        if problem:
            problems.append(problem)
    if grant is not None:
        role_arn, policy_name, previous = grant
        problem = actions.restore_execution_role_policy(
            clients, role_arn=role_arn, policy_name=policy_name, previous=previous
        )
        if problem:
            problems.append(problem)
    undone = [s.name for s in stored if s.changed]
    if problems:
        return "Rollback incomplete, fix by hand: " + "; ".join(problems) + "."
    if undone:
        return f"Rolled back what this attempt wrote ({', '.join(undone)}): nothing was changed."
    return "Nothing was changed."


def remediate_plaintext_secrets(
    task_definition: TaskDefinition, findings: Sequence[Any], settings: Settings, clients: Clients, region: str
) -> list[ActionResult]:
    """The ``plaintext-secret`` remediation registered in :data:`ecsguard.flows.remediations.REMEDIATIONS`. Never raises."""
    target = task_definition.arn or task_definition.name
    try:
        return _remediate(task_definition, findings, settings, clients, region)
    except Exception as exc:  # a bug or an unexpected error must not crash-loop or leak: report the type only
        logger.error(
            "secret migration failed unexpectedly", extra={"task_definition": target, "error": type(exc).__name__}
        )
        return _fail("migrate-secret", target, f"secret migration stopped on an unexpected {type(exc).__name__}")


def _remediate(
    event_td: TaskDefinition, findings: Sequence[Any], settings: Settings, clients: Clients, region: str
) -> list[ActionResult]:
    old_arn = event_td.arn
    match = _ARN.match(old_arn or "")
    if not old_arn or not match:
        return _fail("migrate-secret", event_td.name, "not migrated: the revision ARN is not known")
    partition, arn_region, account = match.group(1), match.group(2), match.group(3)
    region = arn_region or region

    # 1. The event is a trigger, not the truth: read the revision as it is now.
    try:
        described = actions.describe_revision(clients, region=region, arn=old_arn)
    except (ClientError, BotoCoreError) as exc:
        return _fail("migrate-secret", old_arn, f"not migrated: could not read {old_arn}: {actions._error(exc)}")
    td = TaskDefinition.from_api(described["taskDefinition"], tags=described.get("tags"))
    if td.status and td.status != "ACTIVE":
        return [
            ActionResult(
                "migrate-secret",
                old_arn,
                ok=True,
                changed=False,
                detail=f"not migrated again: {old_arn} is already {td.status} (handled by an earlier delivery "
                "or by its owner)",
            )
        ]
    try:
        existing = actions.find_remediated_revision(
            clients, region=region, family=td.family or "", old_arn=old_arn, old_revision=td.revision or 0
        )
    except (ClientError, BotoCoreError) as exc:
        return _fail("migrate-secret", old_arn, f"not migrated: could not list revisions: {actions._error(exc)}")
    if existing:
        return [
            ActionResult(
                "migrate-secret",
                old_arn,
                ok=True,
                changed=False,
                detail=f"not migrated again: ecsguard already registered {existing} to replace {old_arn}; "
                f"{old_arn} is still ACTIVE (deregister it once services use {existing})",
            )
        ]

    plan = plan_migration(td, findings, settings)
    if not plan.ok:
        return _fail(
            "migrate-secret",
            old_arn,
            "not migrated, nothing was changed: " + "; ".join(plan.blockers) + ". " + ROTATE,
        )

    # 2. Store every value. The first failure undoes what this attempt wrote.
    label = _store_label(plan.store)
    stored: list[StoredSecret] = []
    by_key: dict[tuple[str, str, str], StoredSecret] = {}
    for entry in plan.entries:
        try:
            item = actions.store_secret(
                clients,
                region=region,
                store=plan.store,
                name=entry.secret_name,
                value=read_value(td, entry),
                kms_key_id=settings.secret_kms_key_id,
                tags={TASK_DEFINITION_TAG: old_arn},
                description=f"Moved by ecsguard from {old_arn}, {entry.where}",
                token=request_token(old_arn, entry),
                account=account,
                partition=partition,
            )
        except actions.SecretStoreError as exc:
            return _fail(
                "migrate-secret",
                old_arn,
                f"could not store {entry.where} in {label} {entry.secret_name}: {exc}. "
                + _rollback(clients, region, stored, None)
                + f" {old_arn} is unchanged and still ACTIVE.",
            )
        stored.append(item)
        by_key[entry.key] = item

    # 3. Execution role statement (granted only when the stack allows it).
    kms_arn = None
    if settings.secret_kms_key_id:
        kms_arn = actions.resolve_kms_key_arn(clients, region=region, key_id=settings.secret_kms_key_id)
    statements = execution_role_statements(plan.store, [s.arn for s in stored], kms_arn)
    role_arn = td.execution_role_arn or ""
    policy_name = f"ecsguard-secrets-{td.family}"[:128]
    grant_result: ActionResult | None = None
    grant_undo: tuple[str, str, dict | None] | None = None
    if settings.grant_execution_role:
        grant_result, previous, _existed = actions.put_execution_role_policy(
            clients, role_arn=role_arn, policy_name=policy_name, statements=statements
        )
        if not grant_result.ok:
            return [
                grant_result,
                *_fail(
                    "migrate-secret",
                    old_arn,
                    "not migrated: the execution role could not be granted read access. "
                    + _rollback(clients, region, stored, None)
                    + f" {old_arn} is unchanged and still ACTIVE.",
                ),
            ]
        grant_undo = (role_arn, policy_name, previous)

    # 4. Register the corrected revision.
    request = build_request(td, plan, {key: item.value_from for key, item in by_key.items()})
    try:
        new_arn = actions.register_revision(clients, region=region, request=request)
    except (ClientError, BotoCoreError) as exc:
        return _fail(
            "register-revision",
            old_arn,
            f"could not register the corrected revision of {td.family}: {actions._error(exc)}. "
            + _rollback(clients, region, stored, grant_undo)
            + f" {old_arn} is unchanged and still ACTIVE.",
        )

    results: list[ActionResult] = []
    for entry in plan.entries:
        item = by_key[entry.key]
        version = f" (version {item.version})" if item.store == "secretsmanager" else ""
        how = "moved" if item.changed else "already stored"
        results.append(
            ActionResult(
                "migrate-secret",
                item.arn,
                ok=True,
                changed=item.changed,
                detail=f"{how} {entry.where} to {label} {item.arn}{version}; the new revision reads it with "
                f"valueFrom {item.value_from}",
            )
        )
    results.append(
        ActionResult(
            "register-revision",
            new_arn,
            ok=True,
            detail=f"registered {new_arn}: identical to {old_arn} except that "
            f"{', '.join(e.name for e in plan.entries)} now come from valueFrom; tagged "
            f"{REMEDIATED_FROM_TAG}={old_arn}",
        )
    )

    # 5. Deregister (and optionally delete) the leaking revision.
    with actions.quiet_wire_log():  # the DeregisterTaskDefinition response echoes the whole old revision
        deregistered = actions.deregister_revision(clients, region=region, arn=old_arn)
    if not deregistered.ok:
        deregistered = ActionResult(
            "deregister-revision",
            old_arn,
            ok=False,
            changed=False,
            detail=f"{deregistered.detail}. The new revision {new_arn} is correct; the leaking {old_arn} is still "
            "ACTIVE: deregister it by hand",
        )
    results.append(deregistered)
    if deregistered.ok and settings.delete_leaking_revision:
        results.append(actions.delete_revision(clients, region=region, arn=old_arn))

    # 6. What the owner still has to do.
    results.append(_services_result(clients, region, old_arn, new_arn))
    statement_json = json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))
    if grant_result is not None:
        results.append(grant_result)
    else:
        results.append(
            ActionResult(
                "execution-role-statement",
                role_arn,
                ok=True,
                changed=False,
                detail=f"not granted (GrantExecutionRole is false): the execution role {role_arn} needs this "
                f"policy to start the new revision: {statement_json}",
            )
        )
    results.append(ActionResult("rotate-credential", old_arn, ok=True, changed=False, detail=ROTATE))
    logger.info(
        "secrets migrated",
        extra={
            "task_definition": old_arn,
            "new_revision": new_arn,
            "moved": [e.field for e in plan.entries],
            "store": plan.store,
        },
    )
    return results


def _services_result(clients: Clients, region: str, old_arn: str, new_arn: str) -> ActionResult:
    try:
        services, bounded = actions.services_using(clients, region=region, arn=old_arn)
    except (ClientError, BotoCoreError) as exc:
        return ActionResult(
            "find-services",
            old_arn,
            ok=True,
            changed=False,
            detail=f"could not list the services that use {old_arn} ({actions._error(exc)}): check them yourself",
        )
    more = " (only the first 20 clusters / 200 services were looked at; there are more)" if bounded else ""
    if not services:
        return ActionResult("find-services", old_arn, ok=True, changed=False, detail=f"no service runs {old_arn}{more}")
    return ActionResult(
        "find-services",
        old_arn,
        ok=True,
        changed=False,
        detail=f"services still running {old_arn}: {', '.join(services)}{more}. ecsguard does not touch services: "
        f"update them to {new_arn} (running tasks keep the old values until replaced)",
    )


__all__ = [
    "MigrationPlan",
    "MovedEntry",
    "build_request",
    "execution_role_statements",
    "plan_migration",
    "read_value",
    "remediate_plaintext_secrets",
    "secret_name",
]
