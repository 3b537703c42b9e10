"""Security Hub sync against moto (BatchImportFindings, GetFindings) and botocore's Stubber (BatchUpdateFindings,
which moto 5.2 does not implement): import once, update only on change, archive what is gone, never duplicate."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from ecsguard.aws import actions
from ecsguard.aws.clients import Clients
from ecsguard.aws.securityhub import active_findings
from ecsguard.flows import securityhub as sync
from ecsguard.model import Finding, TaskDefinition
from ecsguard.render import asff

REGION, ACCOUNT = "us-east-1", "123456789012"
ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/orders-api:7"
OLD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/orders-api:6"
PRODUCT = asff.product_arn(REGION, ACCOUNT)


def finding(check="plaintext-secret", container="web", field="environment.DB_PASSWORD", message=None, severity="high"):
    return Finding(
        check=check,
        severity=severity,
        target=ARN,
        message=message or f"Container '{container}' has a plaintext credential in {field}.",
        remediation="Move it to Secrets Manager.",
        container=container,
        field=field,
    )


class Workflow:
    """BatchUpdateFindings is not in moto: answered here, everything else goes to moto."""

    def __init__(self, clients: Clients) -> None:
        self.calls: list[dict] = []
        hub = clients("securityhub", REGION)
        original = hub.batch_update_findings

        def fake(**kwargs):
            self.calls.append(kwargs)
            return {"ProcessedFindings": kwargs["FindingIdentifiers"], "UnprocessedFindings": []}

        hub.batch_update_findings = fake
        self._original = original


@pytest.fixture
def hub():
    with mock_aws():
        boto3.client("securityhub", region_name=REGION).enable_security_hub()
        clients = Clients()
        yield clients, Workflow(clients)


def stored(clients):
    return {f["Id"]: f for f in clients("securityhub", REGION).get_findings()["Findings"]}


def test_first_sync_imports_each_finding_once_with_a_deterministic_id(hub):
    clients, _ = hub
    findings = [finding(), finding("runs-as-root", field="user", severity="low")]
    result = sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, findings)], now="2026-01-01T00:00:00.000Z")
    assert len(result.imported) == 2 and not result.errors and not result.archived
    again = sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, findings)], now="2026-01-02T00:00:00.000Z")
    assert again.imported == [] and again.unchanged == 2
    assert again.calls == {"GetFindings": 1}  # nothing written when nothing changed
    records = stored(clients)
    assert len(records) == 2
    assert {r["UpdatedAt"] for r in records.values()} == {"2026-01-01T00:00:00.000Z"}


def test_a_changed_finding_is_reimported_with_its_first_created_at(hub):
    clients, _ = hub
    sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [finding()])], now="2026-01-01T00:00:00.000Z")
    changed = finding(message="Container 'web' has a plaintext AWS secret key in environment.DB_PASSWORD.")
    result = sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [changed])], now="2026-01-03T00:00:00.000Z")
    assert len(result.imported) == 1
    (record,) = stored(clients).values()
    assert record["CreatedAt"] == "2026-01-01T00:00:00.000Z" and record["UpdatedAt"] == "2026-01-03T00:00:00.000Z"
    assert "AWS secret key" in record["Description"]


def test_fixed_finding_is_archived_and_resolved(hub):
    clients, workflow = hub
    sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [finding(), finding("runs-as-root", field="user")])])
    result = sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [finding()])])
    assert len(result.archived) == 1 and result.resolved == 1
    records = stored(clients)
    gone = records[result.archived[0]]
    assert gone["RecordState"] == "ARCHIVED" and gone["Compliance"]["Status"] == "PASSED"
    assert workflow.calls == [
        {"FindingIdentifiers": [{"Id": result.archived[0], "ProductArn": PRODUCT}], "Workflow": {"Status": "RESOLVED"}}
    ]
    # Archived findings are no longer read as active: the next sync neither archives nor resolves them again.
    assert sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [finding()])]).archived == []


def test_registration_scope_leaves_other_definitions_alone(hub):
    clients, _ = hub
    sync.sync_findings(clients, REGION, ACCOUNT, [(OLD, [finding()]), (ARN, [finding()])])
    result = sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [])])  # the new revision is clean
    assert len(result.archived) == 1 and ARN in result.archived[0]
    assert [r["RecordState"] for i, r in stored(clients).items() if OLD in i] == ["ACTIVE"]


def test_the_sweep_archives_deregistered_revisions_but_keeps_those_it_was_told_to(hub):
    clients, _ = hub
    third = ARN.replace(":7", ":5")
    sync.sync_findings(clients, REGION, ACCOUNT, [(OLD, [finding()]), (ARN, [finding()]), (third, [finding()])])
    result = sync.sync_findings(
        clients, REGION, ACCOUNT, [(ARN, [finding()])], scope_arns=sync.ALL_DEFINITIONS, keep_arns=[third]
    )
    assert len(result.archived) == 1 and OLD in result.archived[0]
    states = {r["Resources"][0]["Id"]: r["RecordState"] for r in stored(clients).values()}
    assert states == {OLD: "ARCHIVED", ARN: "ACTIVE", third: "ACTIVE"}
    assert "deregistered" in stored(clients)[result.archived[0]]["ProductFields"]["ecsguard/ResolvedBecause"]


def test_a_fixed_finding_that_returns_is_active_again(hub):
    clients, _ = hub
    sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [finding()])])
    sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [])])
    back = sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [finding()])])
    assert len(back.imported) == 1
    (record,) = stored(clients).values()
    assert record["RecordState"] == "ACTIVE" and record["Compliance"]["Status"] == "FAILED"


def test_two_findings_of_one_place_are_numbered_not_merged(hub):
    clients, _ = hub
    result = sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [finding(), finding(message="second rule")])])
    assert len(set(result.imported)) == 2 and result.imported[1].endswith("/2")


def test_a_task_definition_adds_its_details_and_others_findings_are_never_touched(hub):
    clients, _ = hub
    td = TaskDefinition.from_api({"taskDefinitionArn": ARN, "family": "orders-api", "containerDefinitions": [
        {"name": "web", "image": "nginx:1", "environment": [{"name": "DB_PASSWORD", "value": "hunter2-CANARY"}]}]})  # fmt: skip
    foreign = asff.to_asff(finding(), arn=ARN, account=ACCOUNT, region=REGION, created_at="x", updated_at="x")
    foreign.update(Id="other-tool/1", GeneratorId="other-tool/rule")
    clients("securityhub", REGION).batch_import_findings(Findings=[foreign])
    sync.sync_findings(clients, REGION, ACCOUNT, [(td, [finding()])])
    result = sync.sync_findings(clients, REGION, ACCOUNT, [(td, [])], scope_arns=sync.ALL_DEFINITIONS)
    records = stored(clients)
    assert records["other-tool/1"]["RecordState"] == "ACTIVE" and len(result.archived) == 1
    mine = records[result.archived[0]]
    assert mine["Resources"][0]["Details"]["AwsEcsTaskDefinition"]["Family"] == "orders-api"
    assert "hunter2-CANARY" not in str(records)


def test_a_definition_without_an_arn_is_skipped(hub):
    clients, _ = hub
    td = TaskDefinition.from_api({"family": "x", "containerDefinitions": [{"name": "a", "image": "b"}]})
    assert sync.sync_findings(clients, REGION, ACCOUNT, [(td, [finding()])]).skipped == 1


def test_imports_go_in_chunks_of_100(hub):
    clients, _ = hub
    many = [finding(container=f"c{i}") for i in range(230)]
    result = sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, many)])
    assert len(result.imported) == 230 and result.calls["BatchImportFindings"] == 3
    assert result.calls["GetFindings"] == 1
    assert len(active_findings(clients, REGION, product_arn=PRODUCT, generator_prefix="ecsguard/")) == 230


def test_security_hub_not_enabled_is_reported_not_raised():
    with mock_aws():
        clients = Clients()
        stub = Stubber(clients("securityhub", REGION))
        stub.add_response("get_findings", {"Findings": []}, {"Filters": ANY, "MaxResults": 100})
        stub.add_client_error("batch_import_findings", "InvalidAccessException", "Account is not subscribed")
        with stub:
            result = sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [finding()])])
        assert result.errors == ["BatchImportFindings: InvalidAccessException"] and result.imported == []


def test_an_unreadable_hub_writes_nothing():
    with mock_aws():
        clients = Clients()
        stub = Stubber(clients("securityhub", REGION))
        stub.add_client_error("get_findings", "AccessDeniedException", "no")
        with stub:
            result = sync.sync_findings(clients, REGION, ACCOUNT, [(ARN, [finding()])])
        assert result.errors == ["GetFindings: AccessDeniedException"] and result.calls == {}


def test_refused_findings_and_a_failed_workflow_update_are_reported():
    with mock_aws():
        clients = Clients()
        hub = clients("securityhub", REGION)
        stub = Stubber(hub)
        stub.add_response(
            "batch_import_findings",
            {
                "FailedCount": 1,
                "SuccessCount": 0,
                "FailedFindings": [{"Id": "a", "ErrorCode": "InvalidInput", "ErrorMessage": "m"}],
            },  # fmt: skip
        )
        stub.add_client_error("batch_update_findings", "AccessDeniedException", "no")
        with stub:
            record = asff.to_asff(finding(), arn=ARN, account=ACCOUNT, region=REGION, created_at="x", updated_at="x")
            written = actions.import_findings(clients, region=REGION, findings=[record])
            updated = actions.resolve_workflow(clients, region=REGION, identifiers=[{"Id": "a", "ProductArn": PRODUCT}])
        assert written.failed == [("a", "InvalidInput")] and written.succeeded == 0
        assert updated.error == "AccessDeniedException"


# --------------------------------------------------------------------------- wired into the flows


def test_the_registration_handler_imports_its_findings_when_security_hub_is_on(hub):
    """ECSGUARD_SECURITY_HUB: a registered revision's findings are in Security Hub, under ecsguard's product."""
    import json
    from pathlib import Path

    from ecsguard.delivery import lambda_context
    from ecsguard.handlers import make_registration_handler
    from ecsguard.policy import Settings

    clients, _workflow = hub
    root = Path(__file__).resolve().parents[2]
    event = json.loads((root / "events" / "register_task_definition" / "missing-log-group.json").read_text())
    boto3.client("ecs", region_name=REGION).register_task_definition(**event["detail"]["requestParameters"])
    handler = make_registration_handler(settings=Settings(security_hub=True), clients=clients, metrics=False)
    result = handler(event, lambda_context("RegisterTaskDefinitionFunction"))

    records = list(stored(clients).values())
    checks = sorted({r["GeneratorId"].removeprefix("ecsguard/") for r in records})
    assert checks and checks == sorted({f["check"] for f in result["findings"]})
    assert all(r["ProductArn"] == PRODUCT and r["RecordState"] == "ACTIVE" for r in records)
    assert {r["Resources"][0]["Type"] for r in records} == {"AwsEcsTaskDefinition"}


def test_the_registration_handler_leaves_security_hub_alone_by_default(hub):
    import json
    from pathlib import Path

    from ecsguard.delivery import lambda_context
    from ecsguard.handlers import make_registration_handler
    from ecsguard.policy import Settings

    clients, _workflow = hub
    root = Path(__file__).resolve().parents[2]
    event = json.loads((root / "events" / "register_task_definition" / "missing-log-group.json").read_text())
    boto3.client("ecs", region_name=REGION).register_task_definition(**event["detail"]["requestParameters"])
    make_registration_handler(settings=Settings(), clients=clients, metrics=False)(
        event, lambda_context("RegisterTaskDefinitionFunction")
    )
    assert stored(clients) == {}


def test_chat_format_gives_https_subscribers_a_custom_notification(monkeypatch):
    """ECSGUARD_CHAT_FORMAT: the message's https body is the AWS Chatbot custom notification; e-mail keeps the
    text and SQS the machine JSON."""
    import json
    from pathlib import Path

    from ecsguard.aws import actions as aws_actions
    from ecsguard.delivery import lambda_context
    from ecsguard.handlers import make_registration_handler
    from ecsguard.policy import Settings

    sent: list[str] = []
    monkeypatch.setattr(aws_actions, "publish_notification", lambda clients, **kw: sent.append(kw["message"]) or "m-1")
    root = Path(__file__).resolve().parents[2]
    event = json.loads((root / "events" / "register_task_definition" / "plaintext-secrets.json").read_text())
    with mock_aws():
        boto3.client("ecs", region_name=REGION).register_task_definition(**event["detail"]["requestParameters"])
        settings = Settings(topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:t", chat_format="chatbot")
        make_registration_handler(settings=settings, clients=Clients(), metrics=False)(
            event, lambda_context("RegisterTaskDefinitionFunction")
        )
    [body] = sent
    message = json.loads(body)
    chat = json.loads(message["https"])
    assert chat["version"] == "1.0" and chat["source"] == "custom"
    assert chat["content"]["textType"] == "client-markdown" and "plaintext-secret" in chat["content"]["description"]
    assert json.loads(message["sqs"])["source"] == "ecsguard"
    assert message["default"].startswith("ecsguard found")
