"""IAM and secret-metadata facts: role policies, policy simulation, whether a secret exists. Reads only.

What each answer costs, at most, and how long it is kept:

* :meth:`IamFacts.role`: ``iam:GetRole``, ``iam:ListRolePolicies`` (paginated) and one ``iam:GetRolePolicy``
  per inline policy, ``iam:ListAttachedRolePolicies`` (paginated) and ``iam:GetPolicy`` +
  ``iam:GetPolicyVersion`` (the default version) per attached policy. A role is kept for the invocation and,
  per :class:`~ecsguard.aws.clients.Clients` (that is: per Lambda container), for five minutes; a managed
  policy's default version likewise, so a policy attached to many roles is read once.
* :meth:`IamFacts.simulate`: one ``iam:SimulatePrincipalPolicy`` (paginated) for every action and resource
  not asked before in this invocation, with the given condition keys. What IAM's simulator includes: the
  role's identity-based policies (inline and managed), its permissions boundary and the Organizations SCPs
  of the account. What it cannot include for a role: resource-based policies (a secret's resource policy,
  a KMS key policy) and RCPs. For ``kms:Decrypt`` that IAM alone does not allow on a key of the role's own
  account, the key policy is read (``kms:GetKeyPolicy``) because a key policy that names the role grants
  it on its own. A decision that depends on a condition key the simulation did not have is ``unknown``.
* :meth:`IamFacts.secret_metadata` / :meth:`IamFacts.secret_exists`: ``secretsmanager:DescribeSecret`` or
  ``ssm:DescribeParameters`` (a Name filter, paginated, at most :data:`SSM_MAX_PAGES` pages), plus
  ``kms:DescribeKey`` when the secret names its KMS key by a customer alias. Never ``GetSecretValue``,
  never ``GetParameter(s)``: ecsguard does not read secret values. Kept for the invocation.

Errors: a definite "you may not look there" (AccessDenied...) becomes :class:`~ecsguard.facts.Unknown`; a
role, secret or parameter that does not exist is an answer (``exists=False``); throttling and server errors
propagate, so the invocation fails and is retried.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from ..facts import PolicyDocument, RoleFacts, Unknown
from .errors import TimedCache, error_code, region_known, unknown_from

logger = logging.getLogger(__name__)

# The same set as ecsguard.aws.facts.UNKNOWABLE, copied: aws/facts.py imports this module, so importing it
# back would close an import circle (the shared helper belongs in aws/clients.py).
# Answers that mean the request itself cannot be judged (a malformed ARN, a name IAM rejects): not a retry.
_INVALID = frozenset(
    {"InvalidInput", "ValidationError", "ValidationException", "InvalidParameterException", "InvalidRequestException"}
)

ROLE_TTL_S = 300.0
POLICY_TTL_S = 300.0
SSM_MAX_PAGES = 10
# The decisions IAM's simulator returns, and the one ecsguard adds when a condition key was missing.
DECISIONS = frozenset({"allowed", "implicitDeny", "explicitDeny", "unknown"})

_ROLE_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$")
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[\w-]+$")
_AWS_ALIAS = re.compile(r"(^|:)alias/aws/")


@dataclass(frozen=True, slots=True)
class SecretMetadata:
    """What a ``valueFrom`` names, read without its value (``DescribeSecret`` / ``DescribeParameters``).

    Not part of :class:`ecsguard.facts.Facts` (yet): checks reach it through ``getattr`` and fall back to
    :meth:`~ecsguard.facts.Facts.secret_exists` when the facts object has no ``secret_metadata``.
    """

    service: str  # "secretsmanager" | "ssm"
    exists: bool
    arn: str | None = None  # the full ARN IAM authorizes (a secret's ARN with its suffix, a parameter's ARN)
    name: str | None = None
    # The customer managed KMS key (ARN) the execution role needs kms:Decrypt on; None for the AWS managed key.
    kms_key: str | None = None
    kms_key_reason: str | None = None  # why the key could not be resolved, when kms_key is None for that reason
    deleted: bool = False  # scheduled for deletion: it exists, but nothing can read it
    version_ids: frozenset[str] = frozenset()
    version_stages: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Located:
    service: str
    region: str | None
    account: str | None
    identifier: str  # SecretId for DescribeSecret (ARN without the json-key suffix), or the parameter name
    partition: str = "aws"


def locate(value_from: str, region: str | None, service: str | None = None) -> _Located | None:
    """Where a ``valueFrom`` points, the way ECS reads it; None for what is neither a secret nor a parameter.

    A Secrets Manager ARN may end with ``:json-key:version-stage:version-id`` (dropped here); a partial ARN
    (no ``-AbCdEf`` suffix) is what DescribeSecret accepts too. An SSM ARN ``...:parameter/a/b`` names
    ``/a/b``; a bare name is an SSM parameter in the task's region, unless ``service`` says it is a Secrets
    Manager secret's name (``repositoryCredentials``). (The same reading as the checks' own, in
    :mod:`ecsguard.checks.iam`: aws/ may not import checks/, so it is written twice.)
    """
    value = value_from.strip()
    if not value:
        return None
    if not value.startswith("arn:"):
        return _Located("secretsmanager" if service == "secretsmanager" else "ssm", region, None, value)
    parts = value.split(":")
    if len(parts) < 6:
        return None
    partition, service, arn_region, account = parts[1], parts[2], parts[3] or region, parts[4] or None
    if service == "secretsmanager" and len(parts) >= 7 and parts[5] == "secret" and parts[6]:
        return _Located("secretsmanager", arn_region, account, ":".join(parts[:7]), partition)
    resource = ":".join(parts[5:])
    if service == "ssm" and resource.startswith("parameter/") and len(resource) > len("parameter/"):
        rest = resource[len("parameter/") :]
        return _Located("ssm", arn_region, account, f"/{rest}" if "/" in rest else rest, partition)
    return None


# Per Clients object (one per Lambda container, one per test): roles, managed policies and the caller's
# account, with their expiry. Weak keys: a Clients that is gone takes its answers with it.
_TIMED = TimedCache()


def clear_caches() -> None:
    """Forget everything cached for the container's life (tests)."""
    _TIMED.clear()


def _document(value: Any) -> Mapping[str, Any]:
    """A policy document as IAM returns it: boto3 decodes it to a dict; raw API answers are URL-encoded JSON."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(urllib.parse.unquote(value))
        except ValueError:
            return {}
        return parsed if isinstance(parsed, Mapping) else {}
    return {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _iam_match(pattern: str, value: str) -> bool:
    """IAM's wildcards (``*`` any run, ``?`` one character), case-insensitive as IAM matches actions."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def _key_policy_grants(policy: Mapping[str, Any], role_arn: str) -> str:
    """``allowed`` if the key policy itself grants the role kms:Decrypt, ``unknown`` if only under a condition.

    A statement for the account (``:root``) only delegates to IAM, which already said no; ``"*"`` with a
    condition (the usual kms:CallerAccount + kms:ViaService statement of AWS managed keys) is not judged.
    """
    answer = "implicitDeny"
    for statement in _as_list(policy.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow" or "NotPrincipal" in statement:
            continue
        if not any(isinstance(a, str) and _iam_match(a, "kms:Decrypt") for a in _as_list(statement.get("Action"))):
            continue
        principal = statement.get("Principal")
        names = (
            [principal]
            if principal == "*"
            else _as_list(principal.get("AWS"))
            if isinstance(principal, Mapping)
            else []
        )
        if not any(name == "*" or name == role_arn for name in names):
            continue
        if statement.get("Condition"):
            answer = "unknown"
            continue
        return "allowed"
    return answer


class IamFacts:
    """Mixin of :class:`ecsguard.aws.facts.AwsFacts`; uses ``self._clients``."""

    _clients: Any

    def _iam_invocation(self, name: str) -> dict[Any, Any]:
        """This invocation's cache ``name`` (an AwsFacts lives for one invocation)."""
        caches = self.__dict__.setdefault("_iam_caches", {})
        return caches.setdefault(name, {})

    # ------------------------------------------------------------------ roles

    def role(self, role_arn: str) -> RoleFacts | Unknown:
        """The role's inline and attached policy documents (default versions) and its permissions boundary."""
        cache = self._iam_invocation("roles")
        if role_arn not in cache:
            cached = _TIMED.get(self._clients, ("role", role_arn))
            if cached is None:
                cached = self._read_role(role_arn)
                if isinstance(cached, RoleFacts):
                    _TIMED.put(self._clients, ("role", role_arn), cached, ROLE_TTL_S)
            cache[role_arn] = cached
        return cache[role_arn]

    def _read_role(self, role_arn: str) -> RoleFacts | Unknown:
        match = _ROLE_ARN.match(role_arn)
        if not match:
            return Unknown(f"{role_arn!r} is not an IAM role ARN")
        name = match.group(3)
        iam = self._clients("iam")
        try:
            role = iam.get_role(RoleName=name)["Role"]
            if not str(role.get("Arn", "")).split(":")[4:5] == [match.group(2)]:
                return Unknown(f"role {name} is in another account than ecsguard's")
            policies: list[PolicyDocument] = []
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
                for policy_name in page.get("PolicyNames", []):
                    response = iam.get_role_policy(RoleName=name, PolicyName=policy_name)
                    policies.append(
                        PolicyDocument(name=policy_name, document=_document(response.get("PolicyDocument")))
                    )
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
                for attached in page.get("AttachedPolicies", []):
                    policies.append(self._managed_policy(iam, attached["PolicyArn"], attached.get("PolicyName")))
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return RoleFacts(arn=role_arn, exists=False)
            unknown = unknown_from(exc, also=_INVALID, call=f"iam:{exc.operation_name}")
            if unknown is None:
                raise
            logger.warning("cannot read role", extra={"role": role_arn, "error": unknown.reason})
            return unknown
        boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        return RoleFacts(arn=str(role["Arn"]), exists=True, policies=tuple(policies), permissions_boundary=boundary)

    def _managed_policy(self, iam: Any, arn: str, name: str | None) -> PolicyDocument:
        cached = _TIMED.get(self._clients, ("policy", arn))
        if cached is None:
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"].get("Document")
            cached = PolicyDocument(
                name=name or arn.rsplit("/", 1)[-1],
                document=_document(document),
                arn=arn,
                aws_managed=":iam::aws:policy/" in arn,
            )
            _TIMED.put(self._clients, ("policy", arn), cached, POLICY_TTL_S)
        return cached

    # ------------------------------------------------------------------ simulation

    def simulate(
        self,
        role_arn: str,
        actions: Iterable[str],
        resources: Iterable[str],
        *,
        context: Mapping[str, str] | None = None,
    ) -> Mapping[str, str] | Unknown:
        """``"<action> <resource>"`` -> allowed | implicitDeny | explicitDeny | unknown, for every pair.

        ``context`` gives condition keys (``kms:ViaService``...) the way the real request carries them.
        """
        actions, resources = list(dict.fromkeys(actions)), list(dict.fromkeys(resources))
        if not actions or not resources:
            return {}
        entries = tuple(sorted((context or {}).items()))
        failures = self._iam_invocation("simulation failures")
        if (role_arn, entries) in failures:
            return failures[(role_arn, entries)]
        cache = self._iam_invocation("decisions")
        wanted = [(a, r) for a in actions for r in resources]
        missing = [(a, r) for a, r in wanted if (role_arn, a, r, entries) not in cache]
        if missing:
            ask_actions = list(dict.fromkeys(a for a, _ in missing))
            ask_resources = list(dict.fromkeys(r for _, r in missing))
            answer = self._simulate_call(role_arn, ask_actions, ask_resources, entries)
            if isinstance(answer, Unknown):
                failures[(role_arn, entries)] = answer
                return answer
            for (action, resource), decision in answer.items():
                cache[(role_arn, action, resource, entries)] = decision
        return {f"{a} {r}": cache.get((role_arn, a, r, entries), "unknown") for a, r in wanted}

    def _simulate_call(
        self, role_arn: str, actions: list[str], resources: list[str], entries: tuple[tuple[str, str], ...]
    ) -> dict[tuple[str, str], str] | Unknown:
        request: dict[str, Any] = {"PolicySourceArn": role_arn, "ActionNames": actions, "ResourceArns": resources}
        if entries:
            request["ContextEntries"] = [
                {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"} for k, v in entries
            ]
        decisions: dict[tuple[str, str], str] = {}
        try:
            for page in self._clients("iam").get_paginator("simulate_principal_policy").paginate(**request):
                for result in page.get("EvaluationResults", []):
                    action = result.get("EvalActionName", "")
                    specific = result.get("ResourceSpecificResults") or []
                    rows = [
                        (s.get("EvalResourceName"), s.get("EvalResourceDecision"), s.get("MissingContextValues"))
                        for s in specific
                    ] or [
                        (result.get("EvalResourceName"), result.get("EvalDecision"), result.get("MissingContextValues"))
                    ]
                    for resource, decision, missing in rows:
                        if decision != "allowed" and missing:
                            decision = "unknown"  # the denial may only be a condition the simulation could not see
                        decisions[(action, resource or "*")] = decision if decision in DECISIONS else "unknown"
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return Unknown("iam:SimulatePrincipalPolicy: NoSuchEntity (the role does not exist)")
            unknown = unknown_from(exc, also=_INVALID, call="iam:SimulatePrincipalPolicy")
            if unknown is None:
                raise
            logger.warning("cannot simulate role policies", extra={"role": role_arn, "error": unknown.reason})
            return unknown
        # A key policy can grant a role of its own account kms:Decrypt without any IAM policy.
        role_account = role_arn.split(":")[4:5]
        for (action, resource), decision in list(decisions.items()):
            if (
                action.lower() == "kms:decrypt"
                and decision == "implicitDeny"
                and _KEY_ARN.match(resource)
                and resource.split(":")[4:5] == role_account
            ):
                decisions[(action, resource)] = self._key_policy_decision(resource, role_arn)
        return decisions

    def _key_policy_decision(self, key_arn: str, role_arn: str) -> str:
        region = key_arn.split(":")[3]
        try:
            response = self._clients("kms", region).get_key_policy(KeyId=key_arn, PolicyName="default")
        except ClientError as exc:
            if error_code(exc) == "NotFoundException":
                return "implicitDeny"  # no such key: IAM's answer stands (and the secret cannot be decrypted)
            if unknown_from(exc, also=_INVALID, call="kms:GetKeyPolicy") is None:
                raise
            return "unknown"
        except EndpointConnectionError:
            return "unknown"
        return _key_policy_grants(_document(response.get("Policy")), role_arn)

    # ------------------------------------------------------------------ secrets and parameters

    def secret_exists(self, value_from: str, region: str) -> bool | Unknown:
        """Whether a ``valueFrom`` exists and can be read at all (a secret scheduled for deletion cannot)."""
        metadata = self.secret_metadata(value_from, region)
        if isinstance(metadata, Unknown):
            return metadata
        return metadata.exists and not metadata.deleted

    def secret_metadata(
        self, value_from: str, region: str | None, *, service: str | None = None
    ) -> SecretMetadata | Unknown:
        """The secret or parameter a ``valueFrom`` names, by metadata only; cached for the invocation.

        ``service="secretsmanager"`` reads a bare name as a secret's (``repositoryCredentials``), not a parameter's.
        """
        located = locate(value_from, region, service)
        if located is None:
            return Unknown(f"{value_from!r} is neither a Secrets Manager secret nor an SSM parameter")
        if not located.region:
            return Unknown(f"no region to look for {located.identifier} in")
        cache = self._iam_invocation("secrets")
        key = (located.service, located.region, located.identifier)
        if key not in cache:
            try:
                if located.service == "secretsmanager":
                    cache[key] = self._describe_secret(located)
                else:
                    cache[key] = self._describe_parameter(located)
            except EndpointConnectionError:
                if region_known(self._clients, located.service, located.region):
                    raise  # a real region that did not answer: transient, the invocation is retried
                cache[key] = Unknown(f"{located.service}: no endpoint known in {located.region}")
        return cache[key]

    def _describe_secret(self, located: _Located) -> SecretMetadata | Unknown:
        assert located.region
        try:
            response = self._clients("secretsmanager", located.region).describe_secret(SecretId=located.identifier)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return SecretMetadata("secretsmanager", exists=False)
            unknown = unknown_from(exc, also=_INVALID, call="secretsmanager:DescribeSecret")
            if unknown is None:
                raise
            own = self._account() if located.account else None
            if located.account and own and located.account != own:
                return Unknown(f"{unknown.reason}: the secret is in account {located.account}")
            return unknown
        arn = str(response.get("ARN") or located.identifier)
        arn_parts = arn.split(":")
        stages = {stage for stages in (response.get("VersionIdsToStages") or {}).values() for stage in stages}
        kms_key, reason = self._kms_key(
            response.get("KmsKeyId"), located.region, arn_parts[4] if len(arn_parts) > 4 else None, located.partition
        )
        return SecretMetadata(
            "secretsmanager",
            exists=True,
            arn=arn,
            name=response.get("Name"),
            kms_key=kms_key,
            kms_key_reason=reason,
            deleted=response.get("DeletedDate") is not None,
            version_ids=frozenset(response.get("VersionIdsToStages") or {}),
            version_stages=frozenset(stages),
        )

    def _describe_parameter(self, located: _Located) -> SecretMetadata | Unknown:
        assert located.region
        own = self._account() if located.account else None
        if located.account and own and located.account != own:
            return Unknown(f"the parameter is in account {located.account}; ecsguard reads only its own account")
        name = located.identifier
        client = self._clients("ssm", located.region)
        found: Mapping[str, Any] | None = None
        try:
            pages = client.get_paginator("describe_parameters").paginate(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
            )
            for number, page in enumerate(pages, start=1):
                found = next((p for p in page.get("Parameters", []) if p.get("Name") == name), None)
                if found is not None:
                    break
                if number >= SSM_MAX_PAGES:  # DescribeParameters may answer filters with empty pages
                    return Unknown(f"ssm:DescribeParameters: no answer for {name} in {SSM_MAX_PAGES} pages")
        except ClientError as exc:
            unknown = unknown_from(exc, also=_INVALID, call="ssm:DescribeParameters")
            if unknown is None:
                raise
            return unknown
        if found is None:
            return SecretMetadata("ssm", exists=False)
        arn = found.get("ARN")  # DescribeParameters says it; older answers (and moto) do not
        if not isinstance(arn, str) or not arn:
            account = located.account or own or self._account()
            arn = f"arn:{located.partition}:ssm:{located.region}:{account}:parameter/{name.removeprefix('/')}"
        account = arn.split(":")[4] if arn.count(":") >= 5 else located.account
        kms_key, reason = (
            self._kms_key(found.get("KeyId"), located.region, account, located.partition)
            if found.get("Type") == "SecureString"
            else (None, None)
        )
        return SecretMetadata("ssm", exists=True, arn=arn, name=name, kms_key=kms_key, kms_key_reason=reason)

    def _kms_key(self, key_id: Any, region: str, account: str | None, partition: str) -> tuple[str | None, str | None]:
        """(customer managed key ARN, None), (None, None) for an AWS managed key, or (None, why) when unknown."""
        if not isinstance(key_id, str) or not key_id or _AWS_ALIAS.search(key_id):
            return None, None  # no key named: the AWS managed key (aws/secretsmanager, aws/ssm)
        if _KEY_ARN.match(key_id):
            return key_id, None
        if re.fullmatch(r"(mrk-)?[0-9a-f-]{32,36}", key_id) and account:
            return f"arn:{partition}:kms:{region}:{account}:key/{key_id}", None
        cache = self._iam_invocation("keys")
        if (region, key_id) not in cache:
            try:
                metadata = self._clients("kms", region).describe_key(KeyId=key_id)["KeyMetadata"]
            except ClientError as exc:
                unknown = unknown_from(exc, also=_INVALID, call="kms:DescribeKey")
                if unknown is None and error_code(exc) != "NotFoundException":
                    raise
                cache[(region, key_id)] = (None, unknown.reason if unknown else f"kms:DescribeKey: {error_code(exc)}")
            else:
                aws_managed = metadata.get("KeyManager") == "AWS"
                cache[(region, key_id)] = (None if aws_managed else metadata.get("Arn"), None)
        return cache[(region, key_id)]

    def _account(self) -> str | None:
        """ecsguard's own account (``sts:GetCallerIdentity``, needs no permission), once per container."""
        cached = _TIMED.get(self._clients, ("account",))
        if cached is None:
            try:
                cached = str(self._clients("sts").get_caller_identity()["Account"])
            except (ClientError, EndpointConnectionError):
                return None
            _TIMED.put(self._clients, ("account",), cached, 24 * 3600.0)
        return cached
