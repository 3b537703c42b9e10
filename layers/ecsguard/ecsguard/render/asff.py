"""AWS Security Finding Format (ASFF) for Security Hub: one ecsguard finding -> one Security Hub finding.

Rendering only: :mod:`ecsguard.flows.securityhub` decides what to import or archive and
:mod:`ecsguard.aws.actions` sends it (``BatchImportFindings``). Field names and limits follow the botocore
model of ``AwsSecurityFinding`` (required: SchemaVersion, Id, ProductArn, GeneratorId, AwsAccountId,
CreatedAt, UpdatedAt, Title, Description, Resources; the Security Hub user guide's "Required top-level ASFF
attributes" adds Severity and Types) and the API reference (Title <= 256, Description <= 1024,
Recommendation.Text <= 512, Id and GeneratorId <= 512, ProductFields <= 50 pairs of key <= 128 and value
<= 2048 characters, Resources 1..32).

Choices:

* ``Id`` is deterministic (``ecsguard/<region>/<task-definition ARN>/<check>/<container>/<field hash>``), so
  importing the same finding again updates it instead of duplicating it.
* ``GeneratorId`` is ``ecsguard/<check id>``; ``ProductName`` and ``CompanyName`` are ``ecsguard`` (a custom
  integration may set them): one filter (ProductName = ecsguard) shows every ecsguard finding.
* Severity and Types are sent both at the top level and in ``FindingProviderFields`` (the API reference: a
  provider updates them through FindingProviderFields after creation).
* The related Security Hub controls, AWS Config rules, Control Tower controls and Prowler checks of the check
  go in ``ProductFields`` (``ecsguard/RelatedSecurityHubControls`` = ``ECS.8``...), not in
  ``Compliance.RelatedRequirements`` or ``Compliance.SecurityControlId``: those describe the regulatory
  requirements of a Security Hub control and Security Hub's own control ids, and an ecsguard finding is not a
  control finding. In ProductFields they are searchable (a ProductFields filter) and say "this is the ecsguard
  finding that corresponds to ECS.8", so nobody mistakes the two for duplicates; the Description says it too.
* Nothing of the task definition's values goes in: Resources[].Details carries the family, roles, network
  mode, sizes and each container's name and image only (no environment, command, options or secrets), and
  ecsguard's messages never hold a secret value. The redacted ``evidence`` hint is left out too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from .. import __version__
from ..checks import Check, load_all
from ..model import Finding, TaskDefinition

SCHEMA_VERSION = "2018-10-08"
PRODUCT_NAME = "ecsguard"
COMPANY_NAME = "ecsguard"
GENERATOR_PREFIX = "ecsguard/"
ID_PREFIX = "ecsguard/"
FIELD_PREFIX = "ecsguard/"
CONTENT_HASH_FIELD = "ecsguard/ContentHash"
RESOURCE_TYPE = "AwsEcsTaskDefinition"

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 1024
RECOMMENDATION_LIMIT = 512
ID_LIMIT = 512
PRODUCT_FIELD_VALUE_LIMIT = 2048

SEVERITY_LABELS = {"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "INFORMATIONAL"}
BEST_PRACTICES = "Software and Configuration Checks/AWS Security Best Practices"
# Checks whose findings are also a credential exposure (Types taxonomy: namespace/category).
EXTRA_TYPES = {"plaintext-secret": ("Sensitive Data Identifications/Passwords",)}

_PARTITION = re.compile(r"^arn:(aws[a-z-]*):")


def partition_of(arn: str | None) -> str:
    match = _PARTITION.match(arn or "")
    return match.group(1) if match else "aws"


def product_arn(region: str, account: str, partition: str = "aws") -> str:
    """The default product of the account: what a custom integration imports findings as."""
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def _short_hash(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _id_part(text: str) -> str:
    """A piece of the finding Id: printable, no slash (it separates the parts)."""
    return "".join(ch if 32 < ord(ch) < 127 and ch != "/" else "_" for ch in text) or "-"


def finding_id(region: str, arn: str, finding: Finding) -> str:
    """``ecsguard/<region>/<td-arn>/<check>/<container>/<field-hash>``, at most 512 characters.

    The field goes in as a hash (a field path names a variable, and the Id must stay short); a container name
    that would overflow the limit goes in as a hash too, and so, last, would the ARN.
    """
    field = _short_hash(finding.field or "")
    container = _id_part(finding.container or "-")
    candidate = f"{ID_PREFIX}{_id_part(region)}/{arn}/{_id_part(finding.check)}/{container}/{field}"
    if len(candidate) > ID_LIMIT:
        candidate = f"{ID_PREFIX}{_id_part(region)}/{arn}/{_id_part(finding.check)}/{_short_hash(container)}/{field}"
    if len(candidate) > ID_LIMIT:
        candidate = f"{ID_PREFIX}{_id_part(region)}/{_short_hash(arn, 64)}/{_short_hash(candidate, 64)}"
    return candidate


def _cut(text: str, limit: int) -> str:
    text = " ".join((text or "").split()) or "-"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _related(check: Check | None) -> dict[str, str]:
    if check is None:
        return {}
    pairs = {
        "RelatedSecurityHubControls": check.security_hub,
        "RelatedConfigRules": check.config_rules,
        "RelatedControlTowerControls": check.control_tower,
        "RelatedProwlerChecks": check.prowler,
    }
    return {f"{FIELD_PREFIX}{key}": ",".join(values) for key, values in pairs.items() if values}


def _related_sentence(check: Check | None) -> str:
    if check is None:
        return ""
    parts = []
    if check.security_hub:
        parts.append("Security Hub control " + ", ".join(check.security_hub))
    if check.config_rules:
        parts.append("AWS Config rule " + ", ".join(check.config_rules))
    return f" Corresponds to {'; '.join(parts)} (ecsguard's verdict; see its rationale)." if parts else ""


def _details(td: TaskDefinition) -> dict[str, Any]:
    """Resources[].Details.AwsEcsTaskDefinition: what names the definition, never a value of it."""
    details: dict[str, Any] = {
        "Family": td.family,
        "TaskRoleArn": td.task_role_arn,
        "ExecutionRoleArn": td.execution_role_arn,
        "NetworkMode": td.network_mode,
        "Cpu": str(td.cpu) if td.cpu is not None else None,
        "Memory": str(td.memory) if td.memory is not None else None,
        "RequiresCompatibilities": list(td.requires_compatibilities) or None,
        "PidMode": td.pid_mode,
        "IpcMode": td.ipc_mode,
        "Status": td.status,
        "ContainerDefinitions": [
            {k: v for k, v in {"Name": c.name, "Image": c.image}.items() if v} for c in td.containers[:32]
        ]
        or None,
    }
    return {k: v for k, v in details.items() if v not in (None, "", [])}


def content_hash(asff: Mapping[str, Any]) -> str:
    """A hash of what a person would see change (not the timestamps): an unchanged finding is not re-imported."""
    stable = {k: v for k, v in asff.items() if k not in {"CreatedAt", "UpdatedAt", "FirstObservedAt", "ProductFields"}}
    fields = {k: v for k, v in (asff.get("ProductFields") or {}).items() if k != CONTENT_HASH_FIELD}
    return _short_hash(json.dumps({**stable, "ProductFields": fields}, sort_keys=True, default=str), 32)


def to_asff(
    finding: Finding,
    *,
    arn: str,
    account: str,
    region: str,
    created_at: str,
    updated_at: str,
    task_definition: TaskDefinition | None = None,
    check: Check | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    """One Security Hub finding (ACTIVE, Compliance FAILED; NOT_AVAILABLE for a "could not verify")."""
    check = check or load_all().get(finding.check)
    partition = partition_of(arn)
    unverified = bool(finding.data.get("unverified"))
    label = SEVERITY_LABELS.get(finding.severity, "MEDIUM")
    types = [BEST_PRACTICES, *EXTRA_TYPES.get(finding.check, ())]
    severity = {"Label": label, "Original": finding.severity}
    where = ", ".join(
        part
        for part in (
            f"container {finding.container}" if finding.container else "",
            f"field {finding.field}" if finding.field else "",
        )
        if part
    )
    title = (check.title if check else finding.check) + (f" ({finding.container})" if finding.container else "")
    description = f"{finding.message}{_related_sentence(check)}"
    product_fields = {
        "ProviderName": PRODUCT_NAME,
        "ProviderVersion": __version__,
        f"{FIELD_PREFIX}CheckId": finding.check,
        f"{FIELD_PREFIX}Severity": finding.severity,
        f"{FIELD_PREFIX}Container": finding.container,
        f"{FIELD_PREFIX}Field": finding.field,
        f"{FIELD_PREFIX}Rule": finding.rule,
        f"{FIELD_PREFIX}Mistake": str(check.mistake) if check else None,
        f"{FIELD_PREFIX}Where": where,
        f"{FIELD_PREFIX}Unverified": "true" if unverified else None,
        **_related(check),
    }
    resource: dict[str, Any] = {"Type": RESOURCE_TYPE, "Id": arn, "Partition": partition, "Region": region}
    if task_definition is not None:
        details = _details(task_definition)
        if details:
            resource["Details"] = {"AwsEcsTaskDefinition": details}
    compliance: dict[str, Any] = {"Status": "NOT_AVAILABLE" if unverified else "FAILED"}
    if unverified:
        compliance["StatusReasons"] = [
            {"ReasonCode": "ECSGUARD_UNVERIFIED", "Description": _cut(finding.message, 2048)}
        ]
    asff: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": id or finding_id(region, arn, finding),
        "ProductArn": product_arn(region, account, partition),
        "ProductName": PRODUCT_NAME,
        "CompanyName": COMPANY_NAME,
        "GeneratorId": f"{GENERATOR_PREFIX}{finding.check}",
        "AwsAccountId": account,
        "Region": region,
        "Types": types,
        "CreatedAt": created_at,
        "UpdatedAt": updated_at,
        "Severity": severity,
        "FindingProviderFields": {"Severity": severity, "Types": types},
        "Title": _cut(title, TITLE_LIMIT),
        "Description": _cut(description, DESCRIPTION_LIMIT),
        "Remediation": {
            "Recommendation": {
                "Text": _cut(finding.remediation, RECOMMENDATION_LIMIT),
                **({"Url": finding.docs or check.docs} if (finding.docs or check) else {}),
            }
        },
        "ProductFields": {k: _cut(v, PRODUCT_FIELD_VALUE_LIMIT) for k, v in product_fields.items() if v},
        "Resources": [resource],
        "Compliance": compliance,
        "RecordState": "ACTIVE",
    }
    asff["ProductFields"][CONTENT_HASH_FIELD] = content_hash(asff)
    return asff


# What an archiving import re-sends of a finding ecsguard imported earlier (as GetFindings returned it).
_KEPT_ON_ARCHIVE = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "ProductName",
    "CompanyName",
    "GeneratorId",
    "AwsAccountId",
    "Region",
    "Types",
    "CreatedAt",
    "Severity",
    "FindingProviderFields",
    "Title",
    "Description",
    "Remediation",
    "Resources",
)


def archived(existing: Mapping[str, Any], *, updated_at: str, reason: str) -> dict[str, Any]:
    """The import that archives a finding ecsguard imported earlier: RecordState ARCHIVED, Compliance PASSED.

    ``reason`` (why it is gone: fixed, deregistered) goes in ProductFields ``ecsguard/ResolvedBecause``.
    Security Hub's own ProductFields (``aws/securityhub/...``) are left to Security Hub.
    """
    record = {key: existing[key] for key in _KEPT_ON_ARCHIVE if key in existing}
    fields = {
        k: v
        for k, v in (existing.get("ProductFields") or {}).items()
        if not k.startswith("aws/") and k != CONTENT_HASH_FIELD
    }
    fields[f"{FIELD_PREFIX}ResolvedBecause"] = _cut(reason, PRODUCT_FIELD_VALUE_LIMIT)
    record.update(
        {
            "UpdatedAt": updated_at,
            "RecordState": "ARCHIVED",
            "Compliance": {"Status": "PASSED"},
            "ProductFields": fields,
        }
    )
    return record
