"""ASFF: an ecsguard finding as a Security Hub finding (botocore-valid, deterministic Id, no secret value)."""

from __future__ import annotations

import json

import botocore.session
from botocore.validate import ParamValidator

from ecsguard.model import Finding, TaskDefinition, task_definitions_in
from ecsguard.policy import Settings, evaluate
from ecsguard.render import asff

from conftest import CORPUS

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/orders-api:7"
ACCOUNT = "123456789012"
NOW = "2026-11-28T07:30:00.000Z"
CANARY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARY42"
DUPLICATE_IDS = 2  # corpus 035.json has two containers named "gateway"

_MODEL = botocore.session.get_session().get_service_model("securityhub")
_IMPORT_INPUT = _MODEL.operation_model("BatchImportFindings").input_shape


def valid(findings: list[dict]) -> None:
    """What botocore would send: every member known, every required one present, types right."""
    report = ParamValidator().validate({"Findings": findings}, _IMPORT_INPUT)
    assert not report.has_errors(), report.generate_report()


def finding(check="plaintext-secret", severity="high", **kw):
    base = dict(
        check=check,
        severity=severity,
        target="orders-api:7",
        message="Container 'web' has a plaintext credential in environment.DB_PASSWORD.",
        remediation="Move it to Secrets Manager and reference it with secrets/valueFrom; rotate it.",
        container="web",
        field="environment.DB_PASSWORD",
        docs="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html",
    )
    base.update(kw)
    return Finding(**base)


def render(f: Finding, **kw) -> dict:
    return asff.to_asff(f, arn=ARN, account=ACCOUNT, region="us-east-1", created_at=NOW, updated_at=NOW, **kw)


def test_required_attributes_and_the_default_product():
    record = render(finding())
    valid([record])
    for key in ("SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt",
                "Title", "Description", "Resources", "Severity", "Types"):  # fmt: skip
        assert record[key], key
    assert record["SchemaVersion"] == "2018-10-08"
    assert record["ProductArn"] == "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
    assert record["GeneratorId"] == "ecsguard/plaintext-secret"
    assert record["ProductName"] == record["CompanyName"] == "ecsguard"
    assert record["Severity"] == {"Label": "HIGH", "Original": "high"}
    assert record["FindingProviderFields"]["Severity"] == record["Severity"]
    assert "Software and Configuration Checks/AWS Security Best Practices" in record["Types"]
    assert "Sensitive Data Identifications/Passwords" in record["Types"]
    assert record["Resources"][0] == {
        "Type": "AwsEcsTaskDefinition",
        "Id": ARN,
        "Partition": "aws",
        "Region": "us-east-1",
    }
    assert record["Compliance"] == {"Status": "FAILED"}
    assert record["RecordState"] == "ACTIVE"
    assert record["Remediation"]["Recommendation"]["Url"].startswith("https://docs.aws.amazon.com/")


def test_related_controls_are_product_fields_not_compliance_requirements():
    record = render(finding())
    fields = record["ProductFields"]
    assert fields["ecsguard/RelatedSecurityHubControls"] == "ECS.8"
    assert fields["ecsguard/RelatedConfigRules"] == "ecs-no-environment-secrets"
    assert "RelatedRequirements" not in record["Compliance"] and "SecurityControlId" not in record["Compliance"]
    assert "Security Hub control ECS.8" in record["Description"]
    assert len(fields) <= 50 and all(len(k) <= 128 and len(v) <= 2048 for k, v in fields.items())


def test_the_id_is_deterministic_and_names_region_definition_check_container():
    a, b = render(finding()), render(finding(message="another wording"))
    assert a["Id"] == b["Id"]
    assert a["Id"].startswith(f"ecsguard/us-east-1/{ARN}/plaintext-secret/web/")
    assert "DB_PASSWORD" not in a["Id"]  # the field goes in hashed
    assert render(finding(field="environment.API_KEY"))["Id"] != a["Id"]
    assert a["ProductFields"]["ecsguard/ContentHash"] != b["ProductFields"]["ecsguard/ContentHash"]


def test_long_names_keep_every_limit():
    family = "f" * 255
    arn = f"arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:4294967295"
    long = finding(container="c" * 255, message="m" * 5000, remediation="r" * 5000, field="environment." + "N" * 300)
    record = asff.to_asff(long, arn=arn, account=ACCOUNT, region="us-east-1", created_at=NOW, updated_at=NOW)
    valid([record])
    assert len(record["Id"]) <= 512 and len(record["Title"]) <= 256 and len(record["Description"]) <= 1024
    assert len(record["Remediation"]["Recommendation"]["Text"]) <= 512


def test_unverified_is_not_available_and_informational():
    record = render(
        finding("secret-access-denied", "info", message="Could not verify x (AccessDenied).", data={"unverified": True})
    )
    valid([record])
    assert record["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert record["Severity"]["Label"] == "INFORMATIONAL"
    assert record["ProductFields"]["ecsguard/Unverified"] == "true"


def test_other_partitions():
    arn = "arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/web:1"
    record = asff.to_asff(finding(), arn=arn, account=ACCOUNT, region="cn-north-1", created_at=NOW, updated_at=NOW)
    assert record["ProductArn"].startswith("arn:aws-cn:securityhub:cn-north-1:")
    assert record["Resources"][0]["Partition"] == "aws-cn"


def test_details_name_the_definition_and_never_carry_its_values():
    doc = {
        "taskDefinitionArn": ARN,
        "family": "orders-api",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "taskRoleArn": "arn:aws:iam::123456789012:role/orders",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1",
                "environment": [{"name": "AWS_SECRET_ACCESS_KEY", "value": CANARY}],
                "command": ["--password", CANARY],
                "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": CANARY}},
            },
            {"name": "log_router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"},
        ],
    }
    td = TaskDefinition.from_api(doc)
    findings, _ = evaluate(td, Settings(), None, "us-east-1", target=ARN)
    assert any(f.check == "plaintext-secret" for f in findings)
    records = [render(f, task_definition=td) for f in findings]
    valid(records)
    text = json.dumps(records)
    assert CANARY not in text and CANARY[:12] not in text
    details = records[0]["Resources"][0]["Details"]["AwsEcsTaskDefinition"]
    assert details["Family"] == "orders-api" and details["Cpu"] == "256"
    assert [c["Name"] for c in details["ContainerDefinitions"]] == ["web", "log_router"]
    assert set(details["ContainerDefinitions"][0]) == {"Name", "Image"}


def test_archived_record_is_passed_and_archived_and_keeps_what_security_hub_added_to_itself():
    record = render(finding())
    existing = {**record, "ProductFields": {**record["ProductFields"], "aws/securityhub/FindingId": "x"},
                "Workflow": {"Status": "NEW"}, "ProcessedAt": NOW}  # fmt: skip
    gone = asff.archived(existing, updated_at="2026-11-29T00:00:00.000Z", reason="deregistered")
    valid([gone])
    assert gone["RecordState"] == "ARCHIVED" and gone["Compliance"] == {"Status": "PASSED"}
    assert gone["Id"] == record["Id"] and gone["CreatedAt"] == NOW and gone["UpdatedAt"] != NOW
    assert "Workflow" not in gone and "ProcessedAt" not in gone
    assert not any(k.startswith("aws/") for k in gone["ProductFields"])
    assert gone["ProductFields"]["ecsguard/ResolvedBecause"] == "deregistered"


def _corpus():
    for path in sorted((CORPUS / "taskdefs").glob("*.json")):
        try:
            found = task_definitions_in(json.loads(path.read_text()))
        except Exception:
            continue
        for i, (_, td) in enumerate(found):
            yield f"arn:aws:ecs:us-east-1:123456789012:task-definition/{path.stem}-{i}:1", td


def test_every_corpus_finding_renders_valid_asff():
    records, ids = [], set()
    definitions = 0
    for arn, td in _corpus():
        definitions += 1
        findings, _ = evaluate(td, Settings(), None, "us-east-1", target=arn)
        for f in findings:
            record = asff.to_asff(f, arn=arn, account=ACCOUNT, region="us-east-1", created_at=NOW, updated_at=NOW,
                                  task_definition=td)  # fmt: skip
            records.append(record)
            ids.add(record["Id"])
    assert (definitions, len(records)) == (71, 357)  # measured: the corpus under scan settings (no facts)
    for start in range(0, len(records), 100):
        valid(records[start : start + 100])
    assert all(len(json.dumps(r)) < 240 * 1024 for r in records)
    assert len(ids) == len(records) - DUPLICATE_IDS  # same check, container and field twice: the flow numbers them


def test_a_windows_ec2_definition_renders_like_any_other():
    td = TaskDefinition.from_api(
        {
            "taskDefinitionArn": ARN,
            "family": "orders-api",
            "requiresCompatibilities": ["EC2"],
            "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"},
            "containerDefinitions": [
                {"name": "iis", "image": "mcr.microsoft.com/windows/servercore/iis", "memory": 512}
            ],
        }
    )
    findings, _ = evaluate(td, Settings(), None, "us-east-1", target=ARN)
    records = [render(f, task_definition=td) for f in findings]
    valid(records)
    assert all(
        r["Resources"][0]["Details"]["AwsEcsTaskDefinition"]["RequiresCompatibilities"] == ["EC2"] for r in records
    )
