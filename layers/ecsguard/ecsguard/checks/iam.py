"""IAM (mistake 4): the task's two roles, what they may do, and whether ECS can fetch what the task needs.

Two roles act for a task. The *execution role* is used by the ECS (or Fargate) agent to start it: pull
a private image, write awslogs, fetch ``secrets``, registry credentials and environment files. The
*task role* is what the application's code gets. Pure checks (run by ``ecsguard scan`` too):

* ``execution-role-missing``: the definition needs an execution role it does not name;
* ``task-role-is-execution-role``: the application gets the agent's permissions.

Checks that read the account (the Lambda, ``scan --aws``):

* ``task-role-shared``: other families use the same task role (ecsguard's inventory in its state table);
* ``role-overprivileged``: administrator-like policies, or secret reads on every resource;
* ``secret-access-denied``: the execution role may not read a referenced secret or parameter (IAM's
  policy simulation, the source of truth), or its KMS key;
* ``secret-reference-missing``: a referenced secret or parameter does not exist (metadata only);
* ``log-group-autocreate-denied``: ``awslogs-create-group`` is set but the execution role may not create
  the group.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..facts import RoleFacts, Unknown
from ..imageref import parse_image
from ..model import Container, Finding, TaskDefinition
from .logging import DOCS_AWSLOGS, awslogs_destination, templated
from .registry import CheckContext, check

DOCS_EXECUTION_ROLE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"
DOCS_TASK_ROLE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html"
DOCS_ROLE_PRACTICES = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-iam-roles.html"
DOCS_SECRETS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html"

# Where the agent pulls private ECR images and writes awslogs with the execution role (on EC2 the container
# instance role does both). Secrets, registry credentials and environment files need it everywhere.
_AGENT_USES_EXECUTION_ROLE = frozenset({"FARGATE", "EXTERNAL", "MANAGED_INSTANCES"})

_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ALL_CAPS = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
_MAX_LISTED = 10

# AWS managed policies that make a role an administrator, or able to make itself one.
ADMIN_POLICIES = frozenset(
    {
        "AdministratorAccess",
        "PowerUserAccess",
        "IAMFullAccess",
        "AWSOrganizationsFullAccess",
        "AdministratorAccess-Amplify",
        "AdministratorAccess-AWSElasticBeanstalk",
    }
)
# What reads a secret's value: on every resource, it reads every secret of the account.
SECRET_READ_ACTIONS = (
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
)


# ---------------------------------------------------------------------------------------------- helpers


def role_name(value: str | None) -> str | None:
    """The role name a ``taskRoleArn``/``executionRoleArn`` names (an ARN or, as ECS accepts, a bare name).

    None for a placeholder (``${ROLE}``, ``<taskRoleArn>``, ``PLACEHOLDER_ROLE``) or anything else that is not
    a role. A placeholder in the account alone (``arn:aws:iam::${ACCOUNT}:role/app``) still names the role.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            return None
        name = parts[5].rsplit("/", 1)[-1]
    else:
        name = value
    if not _ROLE_NAME.match(name) or templated(name):
        return None
    return name


def task_account(td: TaskDefinition) -> str | None:
    """The account the definition lives in: from its ARN, else from a concrete role ARN."""
    for arn in (td.arn, td.execution_role_arn, td.task_role_arn):
        parts = (arn or "").split(":")
        if len(parts) > 4 and parts[0] == "arn" and _ACCOUNT.match(parts[4]):
            return parts[4]
    return None


def _partition(td: TaskDefinition) -> str:
    for arn in (td.arn, td.execution_role_arn, td.task_role_arn):
        parts = (arn or "").split(":")
        if len(parts) > 1 and parts[0] == "arn" and parts[1].startswith("aws"):
            return parts[1]
    return "aws"


def role_arn(td: TaskDefinition, value: str | None) -> str | None:
    """A concrete ARN for the role ``value`` names, usable in AWS calls; None when it cannot be known."""
    name = role_name(value)
    if name is None or value is None:
        return None
    value = value.strip()
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        return value if _ACCOUNT.match(parts[4]) else None
    account = task_account(td)
    return f"arn:{_partition(td)}:iam::{account}:role/{name}" if account else None


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    return shown + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


def _is_private_ecr(image: str | None) -> bool:
    """A private ECR image, also when its account or region is still a placeholder (it is ECR all the same)."""
    ref = parse_image(image)
    if ref is not None:
        return ref.is_ecr
    host = (image or "").split("/", 1)[0].lower()
    return "/" in (image or "") and bool(re.search(r"\.dkr[.-]ecr(-fips)?\.", host)) and "amazonaws" in host


def _placeholder_reference(value: str) -> bool:
    """A ``valueFrom`` not to judge. A bare ALL_CAPS word is a real SSM parameter name here, not a variable."""
    return templated(value) and not _ALL_CAPS.match(value)


def _launch_types(td: TaskDefinition) -> frozenset[str]:
    """What the definition may run on: requiresCompatibilities, else EC2 (what ECS assumes)."""
    declared = frozenset(c.upper() for c in td.requires_compatibilities)
    return declared or frozenset({"EC2"})


def _declares_task_fields(td: TaskDefinition) -> bool:
    """A whole definition, not a bare container array (the Terraform shape keeps the roles elsewhere)."""
    return any(key != "containerDefinitions" for key in td.raw)


# ---------------------------------------------------------------------------------------------- references


@dataclass(frozen=True, slots=True)
class SecretRef:
    """One ``valueFrom`` (or registry credentials parameter), read the way ECS reads it."""

    container: str
    field: str  # secrets.DB_PASSWORD, logConfiguration.secretOptions.splunk-token, repositoryCredentials...
    label: str  # what the person paged recognises: the variable or option name
    value_from: str
    service: str  # "secretsmanager" | "ssm"
    name: str  # secret name (as written: maybe a partial ARN's name) or parameter name
    region: str | None
    account: str | None
    arn: str | None  # the ARN IAM authorizes (for a secret, without json-key; None when it needs a lookup)
    version_stage: str | None = None
    version_id: str | None = None

    @property
    def kind(self) -> str:
        return "Secrets Manager secret" if self.service == "secretsmanager" else "SSM parameter"

    @property
    def action(self) -> str:
        return "secretsmanager:GetSecretValue" if self.service == "secretsmanager" else "ssm:GetParameters"


def parse_reference(
    value_from: str,
    *,
    region: str | None,
    account: str | None,
    partition: str = "aws",
    bare_name_service: str = "ssm",
    container: str = "",
    field: str = "",
    label: str = "",
) -> SecretRef | None:
    """Read a ``valueFrom``; None for a placeholder or for what is neither a secret nor a parameter.

    * ``arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf[:json-key[:version-stage[:version-id]]]``
      (a partial ARN, without ``-AbCdEf``, is accepted by ECS and DescribeSecret alike);
    * ``arn:aws:ssm:<region>:<account>:parameter/<name>`` (``parameter/a/b`` names ``/a/b``);
    * a bare name: an SSM parameter of the task's region (``secrets``, ``secretOptions``), or a Secrets
      Manager secret of the task's region (``repositoryCredentials``: ``bare_name_service``).
    """
    value = value_from.strip()
    if not value or _placeholder_reference(value):
        return None
    common = {"container": container, "field": field, "label": label, "value_from": value_from}
    if value.startswith("arn:"):
        parts = value.split(":")
        if len(parts) < 6:
            return None
        arn_partition, service, arn_region, arn_account = parts[1], parts[2], parts[3] or region, parts[4] or None
        if service == "secretsmanager" and len(parts) >= 7 and parts[5] == "secret" and parts[6]:
            extras = parts[7:10] + [""] * 3
            full = ":".join(parts[:7])
            return SecretRef(
                **common,
                service="secretsmanager",
                name=parts[6],
                region=arn_region,
                account=arn_account,
                arn=full if _SECRET_SUFFIX.search(parts[6]) else None,  # a partial ARN needs DescribeSecret
                version_stage=extras[1] or None,
                version_id=extras[2] or None,
            )
        resource = ":".join(parts[5:])
        if service == "ssm" and resource.startswith("parameter/") and len(resource) > len("parameter/"):
            rest = resource[len("parameter/") :]
            return SecretRef(
                **common,
                service="ssm",
                name=f"/{rest}" if "/" in rest else rest,
                region=arn_region,
                account=arn_account,
                arn=f"arn:{arn_partition}:ssm:{arn_region}:{arn_account}:parameter/{rest}"
                if arn_region and arn_account
                else None,
            )
        return None
    if bare_name_service == "secretsmanager":
        return SecretRef(**common, service="secretsmanager", name=value, region=region, account=account, arn=None)
    arn = f"arn:{partition}:ssm:{region}:{account}:parameter/{value.removeprefix('/')}" if region and account else None
    return SecretRef(**common, service="ssm", name=value, region=region, account=account, arn=arn)


def references(td: TaskDefinition, region: str | None) -> Iterator[SecretRef]:
    """Every secret or parameter the execution role must read for this definition to start."""
    account, partition = task_account(td), _partition(td)
    for container in td.containers:
        items: list[tuple[str, str, str, str]] = [
            (f"secrets.{s.name}", s.name, s.value_from, "ssm") for s in container.secrets if s.value_from
        ]
        if container.log_configuration is not None:
            items += [
                (f"logConfiguration.secretOptions.{s.name}", s.name, s.value_from, "ssm")
                for s in container.log_configuration.secret_options
                if s.value_from
            ]
        if container.repository_credentials:
            items.append(
                (
                    "repositoryCredentials.credentialsParameter",
                    "repositoryCredentials",
                    container.repository_credentials,
                    "secretsmanager",
                )
            )
        for field, label, value_from, bare in items:
            ref = parse_reference(
                value_from,
                region=region,
                account=account,
                partition=partition,
                bare_name_service=bare,
                container=container.name,
                field=field,
                label=label,
            )
            if ref is not None:
                yield ref


def _metadata(context: CheckContext, ref: SecretRef) -> Any:
    """The facts' secret metadata when they have it (AwsFacts), else a stand-in built from ``secret_exists``."""
    facts = context.facts
    assert facts is not None
    read = getattr(facts, "secret_metadata", None)
    if callable(read):
        return read(ref.value_from, ref.region, service=ref.service)
    exists = facts.secret_exists(ref.value_from, ref.region or "")
    if isinstance(exists, Unknown):
        return exists
    return _Known(ref.service, exists=bool(exists), arn=ref.arn)


@dataclass(frozen=True, slots=True)
class _Known:
    """What a facts object without ``secret_metadata`` can say: existence only."""

    service: str
    exists: bool
    arn: str | None = None
    kms_key: str | None = None
    kms_key_reason: str | None = None
    deleted: bool = False
    version_ids: frozenset[str] = frozenset()
    version_stages: frozenset[str] = frozenset()


def _where(ref: SecretRef) -> str:
    what = f"{ref.kind} '{ref.name}'"
    return f"{what} in {ref.region}" if ref.region else what


# ---------------------------------------------------------------------------------------------- pure checks


def _needs_execution_role(td: TaskDefinition, container: Container) -> list[str]:
    """Why this container needs an execution role on the launch types the definition declares."""
    reasons: list[str] = []
    names = [s.name for s in container.secrets if s.value_from]
    if names:
        reasons.append(f"reads {_plural(len(names), 'secret')} in `secrets` ({_listed(names)})")
    log = container.log_configuration
    if log is not None and any(s.value_from for s in log.secret_options):
        reasons.append("reads logConfiguration.secretOptions")
    if container.repository_credentials:
        reasons.append("uses repositoryCredentials (private registry authentication)")
    if container.environment_files:
        reasons.append("loads environmentFiles from S3")
    if _launch_types(td) & _AGENT_USES_EXECUTION_ROLE:
        if _is_private_ecr(container.image):
            reasons.append("pulls a private ECR image")
        if log is not None and (log.log_driver or "").lower() == "awslogs":
            reasons.append("sends logs with awslogs")
    return reasons


@check(
    id="execution-role-missing",
    title="The task needs an execution role and has none",
    severity="high",
    mistake=4,
    rationale=(
        "The execution role is what the ECS or Fargate agent uses to start the task. Without one, a task that "
        "references secrets or parameters, private registry credentials or S3 environment files fails to start "
        "on any launch type (ResourceInitializationError), and on Fargate, ECS Anywhere or Managed Instances one "
        "that pulls a private ECR image or logs with awslogs fails too (CannotPullContainerError, "
        "ResourceInitializationError). On EC2 the container instance role pulls ECR images and writes awslogs, "
        "so those two alone are not reported there. A bare array of container definitions (the Terraform shape) "
        "carries no roles and is not judged."
    ),
    remediation=(
        'Add "executionRoleArn": "arn:aws:iam::<account>:role/ecsTaskExecutionRole" to the task definition: a '
        "role trusted by ecs-tasks.amazonaws.com with the AWS managed policy AmazonECSTaskExecutionRolePolicy "
        "(ECR pulls, awslogs) and, for secrets, secretsmanager:GetSecretValue / ssm:GetParameters (and "
        "kms:Decrypt for a customer managed key) on the ARNs the definition references."
    ),
    docs=DOCS_EXECUTION_ROLE,
)
def execution_role_missing(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    td = task_definition
    if (td.execution_role_arn or "").strip() or not _declares_task_fields(td):
        return
    needs = [(c.name, reasons) for c in td.containers if (reasons := _needs_execution_role(td, c))]
    if not needs:
        return
    launch = "/".join(sorted(_launch_types(td)))
    what = "; ".join(f"container '{name}' {_and(reasons)}" for name, reasons in needs)
    account = task_account(td) or "<account>"
    yield execution_role_missing.finding(
        context,
        f"The task definition has no executionRoleArn, but ECS needs one to start it on {launch}: {what}. "
        "The task will fail to start.",
        container=needs[0][0] if len(needs) == 1 else None,
        field="executionRoleArn",
        remediation=(
            f'Add "executionRoleArn": "arn:aws:iam::{account}:role/ecsTaskExecutionRole" (a role trusted by '
            "ecs-tasks.amazonaws.com with the AWS managed policy AmazonECSTaskExecutionRolePolicy); for secrets, "
            'also allow it {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameters"], '
            '"Resource": [<the valueFrom ARNs>]} (and kms:Decrypt on a customer managed key).'
        ),
        containers=[name for name, _ in needs],
    )


@check(
    id="task-role-is-execution-role",
    title="The task role is the execution role",
    severity="medium",
    mistake=4,
    rationale=(
        "taskRoleArn is what the application's code gets; executionRoleArn is what ECS uses to start the task. "
        "When they are the same role, code in every container (and anyone who gets into one) can do what the "
        "agent can: pull any image and read every secret and parameter the role allows, not only this "
        "definition's, and every permission added for the application is given to the agent too. Roles are "
        "compared by name (IAM role names are unique in an account and ECS accepts a bare name)."
    ),
    remediation=(
        "Create a separate task role with only what the application calls, trusted by ecs-tasks.amazonaws.com, "
        "and set it as taskRoleArn; keep the execution role for ECS. If the application calls no AWS API, "
        "remove taskRoleArn."
    ),
    docs=DOCS_ROLE_PRACTICES,
)
def task_role_is_execution_role(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    td = task_definition
    task, execution = role_name(td.task_role_arn), role_name(td.execution_role_arn)
    if task is None or execution is None or task.lower() != execution.lower():
        return
    family = td.family or "<family>"
    account = task_account(td) or "<account>"
    yield task_role_is_execution_role.finding(
        context,
        f"taskRoleArn and executionRoleArn are the same role '{task}': the application code in every container "
        "gets the permissions ECS uses to start the task (pulling images, reading every secret and parameter "
        "the role can read, not only this definition's), and whatever the application needs is granted to the "
        "agent too.",
        field="taskRoleArn",
        remediation=(
            f'Create a task role for the application only, e.g. "taskRoleArn": '
            f'"arn:aws:iam::{account}:role/{family}-task" (trusted by ecs-tasks.amazonaws.com, with only the '
            f"actions and resources the code calls), and keep '{execution}' as executionRoleArn; remove "
            "taskRoleArn if the application calls no AWS API."
        ),
        role=task,
    )


# ---------------------------------------------------------------------------------------------- inventory


@check(
    id="task-role-shared",
    title="The task role is shared with other task-definition families",
    severity="low",
    mistake=4,
    rationale=(
        "A task role shared by several services widens the blast radius: whoever compromises one of them gets "
        "the permissions all of them need, and the role grows to the union of what each one asked for. It is "
        "a standing condition rather than a break, and common, so it rides along in messages (low) instead of "
        "paging on every deployment. ecsguard knows the families it has seen registered with each role "
        "(its state table's inventory, in this region); the definition's own family is not counted."
    ),
    remediation=(
        "Give each family its own task role with only the permissions that service needs (one role per service, "
        "trusted by ecs-tasks.amazonaws.com), then remove the permissions the others no longer need."
    ),
    docs=DOCS_ROLE_PRACTICES,
    needs_facts=True,
    aws_calls=("dynamodb:GetItem",),
)
def task_role_shared(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    assert context.facts is not None
    td = task_definition
    name, arn = role_name(td.task_role_arn), role_arn(td, td.task_role_arn)
    if name is None:
        return
    if arn is None:
        yield task_role_shared.unverified(
            context,
            f"whether task role '{name}' is shared",
            field="taskRoleArn",
            reason="the role's account is unknown",
        )
        return
    families = context.facts.families_using_role(arn)
    if isinstance(families, Unknown):
        yield task_role_shared.unverified(
            context,
            f"whether task role '{name}' is shared with other task-definition families",
            field="taskRoleArn",
            reason=families.reason,
        )
        return
    others = sorted(f for f in families if f != td.family)
    if not others:
        return
    family = td.family or "<family>"
    suggested = f"{family}-task" if f"{family}-task".lower() != name.lower() else f"{family}-task-role"
    yield task_role_shared.finding(
        context,
        f"Task role '{name}' is also the task role of {_plural(len(others), 'other family', 'other families')} ecsguard has seen "
        f"({_listed(others)}): whoever compromises any one of these services gets the permissions all of them "
        "need.",
        field="taskRoleArn",
        remediation=(
            f'Give {family} its own task role, e.g. "taskRoleArn": "arn:aws:iam::{task_account(td) or "<account>"}:'
            f"role/{suggested}\", with only the permissions {family} uses; then remove from '{name}' what the "
            "other families do not need."
        ),
        role=arn,
        families=others,
    )


# ---------------------------------------------------------------------------------------------- policies


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _wild(pattern: str, value: str) -> bool:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one; actions compare case-insensitively."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def _every_resource(statement: Mapping[str, Any]) -> bool:
    """The statement applies to every resource: ``"*"`` or a NotResource (what AWS Config and Prowler count)."""
    if "NotResource" in statement:
        return True
    return any(isinstance(r, str) and r.strip() in {"*", "*:*", "*/*"} for r in _list(statement.get("Resource")))


def _every_resource_of(statement: Mapping[str, Any]) -> frozenset[str]:
    """Services every resource of which the statement covers (``arn:aws:secretsmanager:*:*:secret:*``,
    ``arn:aws:kms:us-east-1:111122223333:key/*``); ``"*"`` for every resource at all."""
    if _every_resource(statement):
        return frozenset({"*"})
    services = set()
    for resource in _list(statement.get("Resource")):
        parts = resource.split(":", 5) if isinstance(resource, str) else []
        if len(parts) == 6 and parts[0] == "arn" and re.fullmatch(r"[a-z-]*[/:]?\*", parts[5]):
            services.add(parts[2].lower())
    return frozenset(services)


def _reads_everywhere(statement: Mapping[str, Any], patterns: list[str], *, negated: bool = False) -> set[str]:
    """The secret reads a statement's actions (or, ``negated``, its NotAction) cover on every resource."""
    scope = _every_resource_of(statement)
    covered = set()
    for action in SECRET_READ_ACTIONS:
        if not ("*" in scope or action.split(":")[0] in scope):
            continue
        matched = any(_wild(p, action) for p in patterns)
        if matched != negated:
            covered.add(action)
    return covered


@dataclass(frozen=True, slots=True)
class _Broad:
    kind: str  # "admin" | "secrets"
    where: str  # "AWS managed policy AdministratorAccess", "inline policy 'app'"
    detail: str  # what it allows, for the message


def _policy_label(policy: Any) -> str:
    if policy.arn is None:
        return f"inline policy '{policy.name}'"
    return f"{'AWS' if policy.aws_managed else 'customer'} managed policy {policy.name}"


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in _list(document.get("Statement")) if isinstance(s, Mapping)]


def broad_grants(role: RoleFacts) -> list[_Broad]:
    """What makes a role over-privileged, per policy.

    * admin: an AWS managed policy of :data:`ADMIN_POLICIES` (by ARN), or an Allow statement on every resource
      with ``"Action": "*"``, ``"iam:*"`` or any ``NotAction`` (everything but a few). Conditions are not
      considered here, as AWS Config's iam-policy-no-statements-with-admin-access and Prowler's admin checks
      do not: a condition on ``*`` rarely makes it less than an administrator.
    * secrets: an Allow statement on every resource, with no Condition, that allows one of
      :data:`SECRET_READ_ACTIONS` (also through a wildcard such as ``ssm:Get*`` or ``kms:*``), unless an
      unconditioned Deny on every resource in any of the role's policies takes that action away again.
    """
    found: list[_Broad] = []
    denied: set[str] = set()
    for policy in role.policies:
        for statement in _statements(policy.document):
            if statement.get("Effect") == "Deny" and not statement.get("Condition"):
                if "NotAction" in statement:
                    denied |= _reads_everywhere(statement, _strings(statement.get("NotAction")), negated=True)
                else:
                    denied |= _reads_everywhere(statement, _strings(statement.get("Action")))
    for policy in role.policies:
        label = _policy_label(policy)
        if policy.arn and policy.aws_managed and policy.arn.rsplit("/", 1)[-1] in ADMIN_POLICIES:
            found.append(_Broad("admin", label, ""))
            continue
        reads: set[str] = set()
        admin: str | None = None
        for statement in _statements(policy.document):
            if statement.get("Effect") != "Allow":
                continue
            actions = _strings(statement.get("Action"))
            if _every_resource(statement):
                if "NotAction" in statement:
                    kept = ", ".join(_strings(statement.get("NotAction"))) or "nothing"
                    admin = f'allows every action except {kept} on "Resource": "*"'
                    break
                wildcard = next((a for a in actions if a.strip() in {"*", "*:*"} or a.strip().lower() == "iam:*"), None)
                if wildcard is not None:
                    admin = f'allows "Action": "{wildcard}" on "Resource": "*"'
                    break
            if statement.get("Condition"):
                continue  # a condition (kms:ViaService, a resource tag...) narrows "*": not every secret
            reads |= _reads_everywhere(statement, actions)
        if admin is not None:
            found.append(_Broad("admin", label, admin))
            continue
        reads -= denied
        if reads:
            ordered = [x for x in SECRET_READ_ACTIONS if x in reads]
            found.append(_Broad("secrets", label, f"allows {', '.join(ordered)} on every resource"))
    return found


def _strings(value: Any) -> list[str]:
    return [v for v in _list(value) if isinstance(v, str)]


_LOWER = {"critical": "high", "high": "medium", "medium": "low", "low": "low", "info": "info"}


@check(
    id="role-overprivileged",
    title="Task or execution role with administrator-like or every-secret permissions",
    severity="high",
    mistake=4,
    rationale=(
        "The task role is what code in the containers (and anyone who gets into one) can use. Administrator-like "
        'access (AdministratorAccess, PowerUserAccess, IAMFullAccess..., "Action": "*", "iam:*" or NotAction on '
        '"*") turns a compromised container into a compromised account (high); reading every secret '
        '(secretsmanager:GetSecretValue, ssm:GetParameter*, kms:Decrypt on "Resource": "*" without a condition) '
        "exposes every credential in the account (medium). The execution role is only used by the ECS agent, "
        "whose credentials containers never see, so the same grants there weigh one step less (medium, low), "
        "and a permissions boundary, which caps what the policies grant, lowers them one more step. Service "
        'wildcards such as "s3:*" are not judged here (AWS Config iam-policy-no-statements-with-full-access and '
        "Security Hub IAM.21 cover them account-wide). The admin verdict equals AWS Config's "
        "iam-policy-no-statements-with-admin-access, Security Hub IAM.1, Control Tower CT.IAM.PR.1/CT.IAM.PR.2 "
        "and Prowler's iam_*_policy_no_administrative_privileges, applied to inline, customer and AWS managed "
        "policies alike; Prowler's iam_role_administratoraccess_policy skips roles trusted by a service (every "
        "ECS role), ecsguard does not. The kms:Decrypt part matches Security Hub KMS.1/KMS.2 (Config "
        "iam-customer-policy-blocked-kms-actions, iam-inline-policy-blocked-kms-actions) for unconditioned "
        "statements."
    ),
    remediation=(
        "Detach administrator-like policies and replace broad statements with the actions and resource ARNs the "
        'application calls, e.g. {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": '
        '"arn:aws:secretsmanager:<region>:<account>:secret:<service>/*"}; IAM Access Analyzer can generate a '
        "policy from the role's CloudTrail activity."
    ),
    docs=DOCS_TASK_ROLE,
    needs_facts=True,
    config_rules=(
        "iam-policy-no-statements-with-admin-access",
        "iam-policy-blacklisted-check",
        "iam-customer-policy-blocked-kms-actions",
        "iam-inline-policy-blocked-kms-actions",
    ),
    prowler=(
        "iam_inline_policy_no_administrative_privileges",
        "iam_customer_attached_policy_no_administrative_privileges",
        "iam_aws_attached_policy_no_administrative_privileges",
        "iam_role_administratoraccess_policy",
    ),
    aws_calls=(
        "iam:GetRole",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
    ),
)
def role_overprivileged(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    assert context.facts is not None
    td = task_definition
    roles: dict[str, tuple[str, str]] = {}  # ARN -> (what it is, field)
    for value, what, field in (
        (td.task_role_arn, "task role", "taskRoleArn"),
        (td.execution_role_arn, "execution role", "executionRoleArn"),
    ):
        arn = role_arn(td, value)
        if arn is None:
            continue
        if arn.lower() in (known.lower() for known in roles):
            roles = {k: ("task and execution role", v[1]) for k, v in roles.items()}
            continue
        roles[arn] = (what, field)
    for arn, (what, field) in roles.items():
        name = arn.rsplit("/", 1)[-1]
        facts = context.facts.role(arn)
        if isinstance(facts, Unknown):
            yield role_overprivileged.unverified(
                context, f"the permissions of {what} '{name}'", field=field, reason=facts.reason
            )
            continue
        if not facts.exists:
            continue  # a role that does not exist grants nothing (ECS will fail to assume it)
        broad = broad_grants(facts)
        is_task = what.startswith("task")
        for kind in ("admin", "secrets"):
            grants = [b for b in broad if b.kind == kind]
            if not grants:
                continue
            severity = ("high" if is_task else "medium") if kind == "admin" else ("medium" if is_task else "low")
            capped = ""
            if facts.permissions_boundary:
                severity = _LOWER[severity]
                boundary = facts.permissions_boundary.rsplit("/", 1)[-1]
                capped = f" A permissions boundary ({boundary}) caps this; ecsguard did not evaluate it."
            where = "; ".join(f"{g.where} {g.detail}".strip() for g in grants)
            if kind == "admin":
                impact = (
                    "code in any container of this task, or anyone who gets into one, can do almost anything in "
                    "the account"
                    if is_task
                    else "ECS needs only to pull images, write logs and read this task's secrets, and anyone who "
                    "may register a task definition with this role gets the rest"
                )
                message = f"The {what} '{name}' has administrator-like permissions ({where}): {impact}.{capped}"
                fix = (
                    f"Detach administrator-like policies from '{name}' and allow only the actions and resource ARNs "
                    'it needs, e.g. {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": '
                    '"arn:aws:s3:::<bucket>/*"}; IAM Access Analyzer can generate a policy from its CloudTrail '
                    "activity."
                )
            else:
                impact = (
                    "the application, or anyone who gets into one of its containers, can read every secret and "
                    "parameter of the account, not only its own"
                    if is_task
                    else "any task definition that names this execution role can be given any secret of the account"
                )
                message = f"The {what} '{name}' may read every secret ({where}): {impact}.{capped}"
                fix = (
                    f'In \'{name}\', replace "Resource": "*" with the ARNs it reads, e.g. '
                    '{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": '
                    f'"arn:aws:secretsmanager:<region>:{arn.split(":")[4]}:secret:{td.family or "<service>"}/*"}} '
                    '(kms:Decrypt on the key ARNs, or with a "kms:ViaService" condition).'
                )
            yield role_overprivileged.finding(
                context,
                message,
                field=field,
                severity=severity,
                remediation=fix,
                role=arn,
                policies=[g.where for g in grants],
                kind=kind,
            )


# ---------------------------------------------------------------------------------------------- secrets


def _decision_text(decision: str) -> str:
    if decision == "explicitDeny":
        return "explicitly denied (a Deny in its policies, its permissions boundary or an SCP)"
    return "not allowed (no policy of the role allows it, or its permissions boundary or an SCP does not)"


@check(
    id="secret-access-denied",
    title="The execution role may not read a referenced secret or parameter",
    severity="high",
    mistake=4,
    rationale=(
        "ECS reads every `secrets` valueFrom, logConfiguration.secretOptions and repositoryCredentials with the "
        "execution role before the containers start: secretsmanager:GetSecretValue on the secret, "
        "ssm:GetParameters on the parameter, and kms:Decrypt on a customer managed KMS key. One denial and the "
        "task fails with ResourceInitializationError. ecsguard asks IAM's policy simulator, which evaluates the "
        "role's identity policies, its permissions boundary and the account's SCPs (not resource policies or "
        "RCPs), and reads the key policy when only it could grant kms:Decrypt. A reference that does not exist "
        "is secret-reference-missing; a definition with no execution role is execution-role-missing."
    ),
    remediation=(
        "Allow the execution role to read each reference, e.g. "
        '{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameters"], "Resource": '
        "[<the secret and parameter ARNs>]}, plus kms:Decrypt on a customer managed key, and remove any Deny "
        "that covers them."
    ),
    docs=DOCS_EXECUTION_ROLE,
    needs_facts=True,
    aws_calls=(
        "iam:SimulatePrincipalPolicy",
        "secretsmanager:DescribeSecret",
        "ssm:DescribeParameters",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "iam:GetRole",
    ),
)
def secret_access_denied(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    assert context.facts is not None
    td = task_definition
    region = context.region or td.region
    refs = list(references(td, region))
    name = role_name(td.execution_role_arn)
    if not refs or name is None:
        return  # nothing to read, no execution role (execution-role-missing) or a placeholder
    arn = role_arn(td, td.execution_role_arn)
    if arn is None:
        yield secret_access_denied.unverified(
            context, f"whether execution role '{name}' may read the task's secrets", reason="its account is unknown"
        )
        return
    # Only what exists can be simulated meaningfully (what does not is secret-reference-missing).
    targets: list[tuple[SecretRef, Any]] = []
    for ref in refs:
        metadata = _metadata(context, ref)
        if isinstance(metadata, Unknown):
            targets.append((ref, None))
        elif metadata.exists and not metadata.deleted:
            targets.append((ref, metadata))
    resources = {ref: (metadata.arn if metadata is not None and metadata.arn else ref.arn) for ref, metadata in targets}
    simulated = [(ref, metadata) for ref, metadata in targets if resources[ref]]
    for ref, _ in targets:
        if not resources[ref]:
            yield secret_access_denied.unverified(
                context,
                f"whether execution role '{name}' may read {ref.field} ({_where(ref)})",
                container=ref.container,
                field=ref.field,
                reason="its full ARN is unknown",
            )
    if not simulated:
        return
    actions = sorted({ref.action for ref, _ in simulated})
    decisions = context.facts.simulate(arn, actions, sorted({resources[ref] or "" for ref, _ in simulated}))
    if isinstance(decisions, Unknown):
        role = context.facts.role(arn)
        if isinstance(role, RoleFacts) and not role.exists:
            yield secret_access_denied.finding(
                context,
                f"The execution role '{name}' does not exist: ECS cannot read the task's "
                f"{_plural(len(simulated), 'secret')} and the task will fail to start.",
                field="executionRoleArn",
                remediation=f"Create the role '{name}' (trusted by ecs-tasks.amazonaws.com) or name an existing one.",
                role=arn,
            )
            return
        yield secret_access_denied.unverified(
            context,
            f"whether execution role '{name}' may read the task's {_plural(len(simulated), 'secret')}",
            field="executionRoleArn",
            reason=decisions.reason,
        )
        return
    role_account = arn.split(":")[4]
    kms_groups: dict[tuple[str, str], list[tuple[SecretRef, str]]] = {}
    for ref, metadata in simulated:
        resource = resources[ref] or ""
        decision = decisions.get(f"{ref.action} {resource}", "unknown")
        if decision in {"implicitDeny", "explicitDeny"}:
            yield secret_access_denied.finding(
                context,
                f"Container '{ref.container}': the execution role '{name}' may not read {ref.field} "
                f"({_where(ref)}): {ref.action} on {resource} is {_decision_text(decision)}. The task will fail "
                "to start with ResourceInitializationError.",
                container=ref.container,
                field=ref.field,
                remediation=(
                    f'Add to the execution role \'{name}\': {{"Effect": "Allow", "Action": "{ref.action}", '
                    f'"Resource": "{resource}"}}'
                    + (" and remove the Deny that covers it." if decision == "explicitDeny" else ".")
                ),
                role=arn,
                action=ref.action,
                resource=resource,
                decision=decision,
            )
            continue
        if decision != "allowed":
            yield secret_access_denied.unverified(
                context,
                f"whether execution role '{name}' may read {ref.field} ({_where(ref)})",
                container=ref.container,
                field=ref.field,
                reason=f"{ref.action}: the policies depend on a condition the simulation could not evaluate",
            )
            continue
        if ref.account and ref.account != role_account:
            yield secret_access_denied.unverified(
                context,
                f"whether the resource policy of {ref.field} ({_where(ref)}, account {ref.account}) lets "
                f"execution role '{name}' read it",
                container=ref.container,
                field=ref.field,
                reason="another account's resource policy cannot be read",
            )
        if metadata is not None and metadata.kms_key:
            kms_groups.setdefault((ref.service, ref.region or ""), []).append((ref, metadata.kms_key))
        elif metadata is not None and metadata.kms_key_reason:
            yield secret_access_denied.unverified(
                context,
                f"whether execution role '{name}' may decrypt {ref.field} ({_where(ref)})",
                container=ref.container,
                field=ref.field,
                reason=metadata.kms_key_reason,
            )
    for (service, key_region), pairs in kms_groups.items():
        via = f"{service}.{key_region}.amazonaws.com"
        keys = sorted({key for _, key in pairs})
        answer = context.facts.simulate(arn, ["kms:Decrypt"], keys, context={"kms:ViaService": via})  # type: ignore[call-arg]
        for ref, key in pairs:
            decision = answer.get(f"kms:Decrypt {key}", "unknown") if not isinstance(answer, Unknown) else "unknown"
            if decision in {"implicitDeny", "explicitDeny"}:
                yield secret_access_denied.finding(
                    context,
                    f"Container '{ref.container}': the execution role '{name}' may read {ref.field} "
                    f"({_where(ref)}) but not decrypt it: kms:Decrypt on its KMS key {key} is "
                    f"{_decision_text(decision)}, and the key policy does not name the role. The task will fail "
                    "to start with ResourceInitializationError.",
                    container=ref.container,
                    field=ref.field,
                    remediation=(
                        f'Add to the execution role \'{name}\': {{"Effect": "Allow", "Action": "kms:Decrypt", '
                        f'"Resource": "{key}", "Condition": {{"StringEquals": {{"kms:ViaService": "{via}"}}}}}} '
                        "(or name the role in the key policy)."
                    ),
                    role=arn,
                    action="kms:Decrypt",
                    resource=key,
                    decision=decision,
                )
            elif decision != "allowed":
                reason = answer.reason if isinstance(answer, Unknown) else "kms:Decrypt: not decidable"
                yield secret_access_denied.unverified(
                    context,
                    f"whether execution role '{name}' may decrypt {ref.field} with KMS key {key}",
                    container=ref.container,
                    field=ref.field,
                    reason=reason,
                )


@check(
    id="secret-reference-missing",
    title="A referenced secret or parameter does not exist",
    severity="high",
    mistake=4,
    rationale=(
        "ECS fetches every valueFrom (secrets, logConfiguration.secretOptions) and repositoryCredentials before "
        "the containers start: a secret or parameter that does not exist, is scheduled for deletion, or lacks "
        "the version stage or id the reference names stops the task with ResourceInitializationError. ecsguard "
        "looks with metadata calls only (DescribeSecret, DescribeParameters) and never reads a value. A name "
        "is an SSM parameter of the task's region, as ECS reads it; a secret in another account is reported "
        "as not verifiable unless its resource policy lets ecsguard describe it."
    ),
    remediation=(
        "Create the secret or parameter, or correct valueFrom: the ARN of a Secrets Manager secret "
        "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf, optionally followed by "
        ":<json-key>:<version-stage>:<version-id>) or the name or ARN of an SSM parameter."
    ),
    docs=DOCS_SECRETS,
    needs_facts=True,
    aws_calls=("secretsmanager:DescribeSecret", "ssm:DescribeParameters", "kms:DescribeKey"),
)
def secret_reference_missing(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    assert context.facts is not None
    td = task_definition
    for ref in references(td, context.region or td.region):
        metadata = _metadata(context, ref)
        if isinstance(metadata, Unknown):
            yield secret_reference_missing.unverified(
                context,
                f"whether {ref.field} ({_where(ref)}) exists",
                container=ref.container,
                field=ref.field,
                reason=metadata.reason,
            )
            continue
        problem = None
        if not metadata.exists:
            problem = "which does not exist"
        elif metadata.deleted:
            problem = "which is scheduled for deletion and can no longer be read"
        elif ref.version_id and metadata.version_ids and ref.version_id not in metadata.version_ids:
            problem = f"which has no version id {ref.version_id}"
        elif ref.version_stage and metadata.version_stages and ref.version_stage not in metadata.version_stages:
            problem = f"which has no version stage {ref.version_stage}"
        if problem is None:
            continue
        yield secret_reference_missing.finding(
            context,
            f"Container '{ref.container}': {ref.field} refers to {_where(ref)}, {problem}: the task will fail to "
            "start with ResourceInitializationError.",
            container=ref.container,
            field=ref.field,
            remediation=(
                f"Create the {ref.kind} '{ref.name}'"
                + (f" in {ref.region}" if ref.region else "")
                + " (or restore it), or point valueFrom at one that exists: a Secrets Manager secret ARN "
                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf[:json-key:version-stage:"
                "version-id]) or an SSM parameter name or ARN."
            ),
            service=ref.service,
            reference=ref.value_from,
        )


# ---------------------------------------------------------------------------------------------- logs


@check(
    id="log-group-autocreate-denied",
    title="awslogs-create-group is set but the execution role may not create the group",
    severity="high",
    mistake=1,
    rationale=(
        "With awslogs-create-group set to true, ECS asks CloudWatch Logs to create the log group when the task "
        "starts, with the execution role (the container instance role on EC2 when the task has no execution "
        "role). If the role may not call logs:CreateLogGroup on that group, the task fails to start with "
        "ResourceInitializationError. ecsguard asks IAM's policy simulator (identity policies, permissions "
        "boundary, SCPs)."
    ),
    remediation=(
        'Allow the execution role {"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": '
        '"arn:aws:logs:<region>:<account>:log-group:<group>:*"}, or create the group beforehand (ecsguard\'s '
        "log-group-missing does in remediate mode) and remove awslogs-create-group."
    ),
    docs=DOCS_AWSLOGS,
    needs_facts=True,
    aws_calls=("iam:SimulatePrincipalPolicy", "iam:GetRole"),
)
def log_group_autocreate_denied(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    assert context.facts is not None
    td = task_definition
    wanted: list[tuple[Container, str, str]] = []
    for container in td.containers:
        config = container.log_configuration
        if config is None or (config.log_driver or "").lower() != "awslogs":
            continue
        if (config.options.get("awslogs-create-group") or "").strip().lower() != "true":
            continue
        destination = awslogs_destination(container, context.region or td.region)
        if destination is not None:
            wanted.append((container, *destination))
    if not wanted:
        return
    name = role_name(td.execution_role_arn)
    if not (td.execution_role_arn or "").strip():
        if _launch_types(td) & _AGENT_USES_EXECUTION_ROLE:
            return  # execution-role-missing says it
        for container, region, group in wanted:
            yield log_group_autocreate_denied.unverified(
                context,
                f"whether the container instance role may create log group '{group}' in {region}",
                container=container.name,
                field="logConfiguration.options.awslogs-create-group",
                reason="the task has no execution role, so ECS uses the EC2 instance's role, which ecsguard cannot see",
            )
        return
    arn = role_arn(td, td.execution_role_arn)
    if name is None or arn is None:
        return  # a placeholder role
    partition, account = arn.split(":")[1], arn.split(":")[4]

    def group_arns(region: str, group: str) -> tuple[str, str]:
        base = f"arn:{partition}:logs:{region}:{account}:log-group:{group}"
        return base, f"{base}:*"

    resources = sorted({r for _, region, group in wanted for r in group_arns(region, group)})
    decisions = context.facts.simulate(arn, ["logs:CreateLogGroup"], resources)
    if isinstance(decisions, Unknown):
        role = context.facts.role(arn)
        missing = isinstance(role, RoleFacts) and not role.exists
        for container, region, group in wanted:
            if missing:
                yield log_group_autocreate_denied.finding(
                    context,
                    f"Container '{container.name}' sets awslogs-create-group, but the execution role '{name}' does "
                    "not exist: the task will fail to start.",
                    container=container.name,
                    field="executionRoleArn",
                    remediation=f"Create the role '{name}' (trusted by ecs-tasks.amazonaws.com) or name an existing one.",
                    role=arn,
                )
            else:
                yield log_group_autocreate_denied.unverified(
                    context,
                    f"whether execution role '{name}' may create log group '{group}' in {region}",
                    container=container.name,
                    field="logConfiguration.options.awslogs-create-group",
                    reason=decisions.reason,
                )
        return
    for container, region, group in wanted:
        answers = [decisions.get(f"logs:CreateLogGroup {r}", "unknown") for r in group_arns(region, group)]
        if "allowed" in answers:
            continue
        field = "logConfiguration.options.awslogs-create-group"
        if all(a in {"implicitDeny", "explicitDeny"} for a in answers):
            decision = "explicitDeny" if "explicitDeny" in answers else "implicitDeny"
            yield log_group_autocreate_denied.finding(
                context,
                f"Container '{container.name}' sets awslogs-create-group to true, but the execution role '{name}' "
                f"may not create log group '{group}' in {region}: logs:CreateLogGroup is "
                f"{_decision_text(decision)}. The task will fail to start with ResourceInitializationError.",
                container=container.name,
                field=field,
                remediation=(
                    f'Add to the execution role \'{name}\': {{"Effect": "Allow", "Action": "logs:CreateLogGroup", '
                    f'"Resource": "{group_arns(region, group)[1]}"}}, or create the log group beforehand and remove '
                    "awslogs-create-group."
                ),
                role=arn,
                log_group=group,
                region=region,
                decision=decision,
            )
        else:
            yield log_group_autocreate_denied.unverified(
                context,
                f"whether execution role '{name}' may create log group '{group}' in {region}",
                container=container.name,
                field=field,
                reason="logs:CreateLogGroup: the policies depend on a condition the simulation could not evaluate",
            )
