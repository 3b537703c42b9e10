"""Secrets: credentials written in plaintext where anyone with ecs:Describe* or CloudTrail read sees them.

The detection itself is :mod:`ecsguard.secretscan` (name + value rules, documented in
``docs/secrets.md``). This module walks a container definition the same way everywhere a value can
hide (``environment``, log driver ``options``, ``entryPoint``/``command``) and turns each match into
a finding that names the container, the field, the kind of credential and the rule that decided,
with a redacted hint and a fingerprint: never the value. :func:`secrets_in_text` does the same for
the name/value pairs of a file that could not be parsed as a task definition (``ecsguard scan``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator

from .. import secretscan
from ..model import Container, Finding, TaskDefinition
from .registry import CheckContext, check

DOCS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html"


def scan_container(container: Container) -> list[tuple[str, secretscan.SecretMatch]]:
    """Every (field, match) for plaintext credentials in one container definition.

    Also used for RunTask/StartTask ``containerOverrides`` (a :class:`Container` built from an
    override carries its ``environment`` and ``command``).
    """
    hits: list[tuple[str, secretscan.SecretMatch]] = []
    for variable in container.environment:
        match = secretscan.classify_variable(variable.name, variable.value)
        if match:
            hits.append((f"environment.{variable.name}", match))
    if container.log_configuration:
        for key, value in container.log_configuration.options.items():
            match = secretscan.classify_variable(key, value)
            if match:
                hits.append((f"logConfiguration.options.{key}", match))
    for attribute, args in (
        ("entryPoint", container.entry_point),
        ("command", container.command),
        ("healthCheck.command", container.health_check_command),  # e.g. CMD-SHELL curl -u user:password ...
    ):
        for index, match in secretscan.scan_arguments(args):
            hits.append((f"{attribute}[{index}]", match))
    return hits


def allowlisted(allowlist: frozenset[str] | set[str], field: str, match: secretscan.SecretMatch) -> bool:
    """A reviewer marked this name (case-insensitive) or this value fingerprint as not secret."""
    if not allowlist:
        return False
    lowered = {entry.strip().lower() for entry in allowlist}
    if match.fingerprint.lower() in lowered:
        return True
    if field.startswith(("environment.", "logConfiguration.options.")):
        name = field.split(".", 2)[-1] if field.startswith("logConfiguration.") else field.split(".", 1)[1]
        return name.lower() in lowered
    return False


def _article(kind: str) -> str:
    first = kind.split(" ", 1)[0]
    if first[:1].lower() in "aeiou":
        return "an"
    if first.isupper() and first[:1] in "FHLMNRSX" and len(first) > 1:
        return "an"  # an SMTP password, an RSA key, an HMAC key
    return "a"


def allowlist_hint(match: secretscan.SecretMatch) -> str:
    """How a reviewer silences this finding if it is not a credential (never revealing a guessable value)."""
    if match.published_fingerprint:
        return (
            f"If it is not a credential, add its fingerprint {match.published_fingerprint} "
            "(or the variable name) to the secret allowlist."
        )
    return (
        "If it is not a credential, add the variable name to the secret allowlist (no fingerprint is shown for a "
        "short or human-chosen value: its hash could be reversed by guessing)."
    )


def _how_to_move(field: str) -> str:
    if field.startswith("environment."):
        name = field.split(".", 1)[1]
        return (
            f"store the new value in AWS Secrets Manager or an SSM SecureString parameter, remove {name} from "
            f'`environment` and add it to the container\'s `secrets` as {{"name": "{name}", "valueFrom": '
            '"<secret or parameter ARN>"}; the execution role needs secretsmanager:GetSecretValue or '
            "ssm:GetParameters (and kms:Decrypt for a customer key) on it"
        )
    if field.startswith("logConfiguration.options."):
        key = field.split(".", 2)[2]
        return (
            f"store the new value in AWS Secrets Manager or an SSM SecureString parameter and move the {key} option "
            f'to `logConfiguration.secretOptions` as {{"name": "{key}", "valueFrom": "<secret or parameter ARN>"}}; '
            "the execution role needs read access to it"
        )
    return (
        "store the new value in AWS Secrets Manager or an SSM SecureString parameter, inject it through the "
        "container's `secrets` (`valueFrom`) as an environment variable, and have the command read that variable "
        "(for example `--password=$DB_PASSWORD` in a shell, or the program's own environment support) instead of "
        "carrying the value in the argument"
    )


@check(
    id="plaintext-secret",
    title="Credential in plaintext",
    severity="high",
    mistake=3,
    rationale=(
        "Values in environment, log driver options and command arguments are stored in the task definition "
        "and in CloudTrail; anyone with ecs:DescribeTaskDefinition or CloudTrail read access can read them."
    ),
    remediation=(
        "Rotate the credential now: it is already recorded in CloudTrail and in this revision. Store the new "
        "value in AWS Secrets Manager or an SSM SecureString parameter and reference it from the container's "
        "`secrets` (or `logConfiguration.secretOptions`) with `valueFrom`; give the execution role "
        "secretsmanager:GetSecretValue or ssm:GetParameters on it."
    ),
    docs=DOCS,
    remediable=True,
    config_rules=("ecs-no-environment-secrets",),
    security_hub=("ECS.8",),
    control_tower=("CT.ECS.PR.12",),
    prowler=("ecs_task_definitions_no_environment_secrets",),
)
def plaintext_secret(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    for container in task_definition.containers:
        for field, match in scan_container(container):
            if allowlisted(context.secret_allowlist, field, match):
                continue
            yield secret_finding(
                context,
                match,
                f"Container '{container.name}' has a plaintext credential in {field}: it looks like "
                f"{_article(match.kind)} {match.kind} (rule {match.rule}, {match.hint}).",
                container=container.name,
                field=field,
                remediation=(
                    "Rotate this credential now: it is already recorded in CloudTrail and in this task definition "
                    f"revision, so removing it is not enough. Then {_how_to_move(field)}. {allowlist_hint(match)}"
                ),
            )


def secret_finding(
    context: CheckContext,
    match: secretscan.SecretMatch,
    message: str,
    *,
    field: str,
    remediation: str,
    container: str | None = None,
) -> Finding:
    """A plaintext-secret finding for one match, wherever it was found (definition, launch, unreadable file).

    The one place that decides what of a match a finding carries: the rule, the redacted hint and the
    fingerprint only when publishing it cannot reveal the value.
    """
    return plaintext_secret.finding(
        context,
        message,
        container=container,
        field=field,
        remediation=remediation,
        rule=match.rule,
        evidence=match.hint,
        fingerprint=match.published_fingerprint,
    )


# {"name": "X", "value": "Y"} in either order, as environment entries are written in JSON and YAML flow style.
# Compiled on first use: the Lambda functions import this module and never scan text.
@functools.cache
def _pair_pattern() -> re.Pattern[str]:
    return re.compile(
        r'\{\s*"name"\s*:\s*"(?P<n1>(?:[^"\\]|\\.)*)"\s*,\s*"value"\s*:\s*"(?P<v1>(?:[^"\\]|\\.)*)"\s*\}'
        r'|\{\s*"value"\s*:\s*"(?P<v2>(?:[^"\\]|\\.)*)"\s*,\s*"name"\s*:\s*"(?P<n2>(?:[^"\\]|\\.)*)"\s*\}'
    )


def secrets_in_text(path: str, text: str, allowlist: frozenset[str] = frozenset()) -> list[Finding]:
    """plaintext-secret findings for the name/value pairs of a file that is not a valid document.

    Templates with an unquoted placeholder elsewhere still carry real values: a hard-coded password
    in a file the other checks cannot read is still a leak.
    """
    context = CheckContext(target=path, secret_allowlist=allowlist)
    found: list[Finding] = []
    for pair in _pair_pattern().finditer(text):
        try:
            name = json.loads(f'"{pair.group("n1") or pair.group("n2") or ""}"')
            value = json.loads(f'"{pair.group("v1") or pair.group("v2") or ""}"')
        except json.JSONDecodeError:
            continue
        match = secretscan.classify_variable(name, value)
        field = f"environment.{name}"
        if match is None or allowlisted(allowlist, field, match):
            continue
        found.append(
            secret_finding(
                context,
                match,
                f"A plaintext credential in {field} ({match.kind}; rule {match.rule}, {match.hint}). "
                "Found by a text scan: this file is not a valid document, so no other check ran on it.",
                field=field,
                remediation=(
                    "Rotate this credential if the file was ever used, and reference it from the container's `secrets` "
                    f"with `valueFrom` instead. {allowlist_hint(match)}"
                ),
            )
        )
    return found
