"""Secret migration (plaintext-secret=remediate) end to end against moto, through the real handler."""

from __future__ import annotations

import copy
import io
import json
import logging
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from ecsguard.aws import Clients, actions
from ecsguard.delivery import lambda_context
from ecsguard.handlers import make_registration_handler
from ecsguard.policy import REMEDIATED_FROM_TAG, Settings

from conftest import ACCOUNT, REGION, Account, load_event

CONTEXT = lambda_context("RegisterTaskDefinitionFunction")
OLD_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/inventory-worker:1"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
REMEDIATE = {"plaintext-secret": "remediate"}


def run(event: dict[str, Any], account: Account, **settings_kwargs: Any) -> dict[str, Any]:
    settings_kwargs.setdefault("topic_arn", account.topic_arn)
    settings_kwargs.setdefault("modes", REMEDIATE)
    handler = make_registration_handler(settings=Settings(**settings_kwargs), clients=Clients())
    return handler(event, CONTEXT)


def environment(event: dict[str, Any], container: int = 0) -> dict[str, str]:
    items = event["detail"]["requestParameters"]["containerDefinitions"][container]["environment"]
    return {item["name"]: item["value"] for item in items}


def moved_names(result: dict[str, Any]) -> set[str]:
    """The variables the findings name (whichever detection rule fired), i.e. what must move."""
    return {f["field"].split(".", 1)[1] for f in result["findings"] if f["field"].startswith("environment.")}


def message_text(message: dict[str, Any]) -> str:
    """What the message says about findings and actions (SQS receives the JSON document of the message)."""
    document = json.loads(message["Message"])
    return "\n".join(
        [f["message"] + " " + f["remediation"] for f in document["findings"]]
        + [a["detail"] for a in document["actions"]]
    )


def describe(account: Account, arn: str) -> dict[str, Any]:
    response = account.client("ecs").describe_task_definition(taskDefinition=arn, include=["TAGS"])
    response.pop("ResponseMetadata", None)
    return response


def secrets(account: Account) -> dict[str, dict[str, Any]]:
    listed = account.client("secretsmanager").list_secrets()["SecretList"]
    return {s["Name"]: s for s in listed}


def new_revision_arn(result: dict[str, Any]) -> str:
    [arn] = [a["target"] for a in result["actions"] if a["action"] == "register-revision" and a["ok"]]
    return arn


def event_for(response: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The CloudTrail event of a registration ecsguard made: request = what it sent, response = what came back."""
    event = load_event("plaintext-secrets")
    event["detail"]["requestParameters"] = json.loads(json.dumps(request, default=str))
    event["detail"]["responseElements"] = json.loads(json.dumps(response, default=str))
    event["detail"]["eventID"] = "b270c449-0000-4000-8000-000000000002"
    return event


def revisions(account: Account) -> list[int]:
    """Revision numbers of inventory-worker that exist in any status (moto's list ignores status filters)."""
    ecs, found = account.client("ecs"), []
    for number in range(1, 6):
        try:
            ecs.describe_task_definition(taskDefinition=f"inventory-worker:{number}")
        except ClientError:
            continue
        found.append(number)
    return found


@pytest.fixture(autouse=True)
def _log_group(account: Account) -> None:
    """The event's log group exists, so log-group-missing stays out of these tests."""
    account.client("logs").create_log_group(logGroupName="/ecs/inventory-worker")


@pytest.fixture
def registered(account: Account) -> dict[str, Any]:
    event = load_event("plaintext-secrets")
    response = account.register(event)
    assert response["taskDefinition"]["taskDefinitionArn"] == OLD_ARN
    return event


def test_migration_end_to_end(account: Account, registered: dict[str, Any]):
    event = registered
    values = environment(event)
    before = describe(account, OLD_ARN)

    result = run(event, account, secret_kms_key_id="alias/platform-secrets")

    moved = moved_names(result)
    assert {"DB_PASSWORD", "DATABASE_URL"} <= moved  # the obvious ones, whichever rule decided
    assert not moved & {"LOG_LEVEL", "PASSWORD_MIN_LENGTH", "API_TOKEN_SECRET_ARN"}
    assert all(a["ok"] for a in result["actions"]), result["actions"]

    # Secrets: one per moved variable, predictable name, tags, KMS key, the value itself.
    stored = secrets(account)
    sm = account.client("secretsmanager")
    for name in moved:
        secret = stored[f"ecsguard/inventory-worker/worker/{name}"]
        tags = {t["Key"]: t["Value"] for t in secret["Tags"]}
        assert tags == {"ecsguard:created-by": "ecsguard", "ecsguard:task-definition": OLD_ARN}
        assert secret["KmsKeyId"] == "alias/platform-secrets"
        assert sm.get_secret_value(SecretId=secret["ARN"])["SecretString"] == values[name]
    assert len(stored) == len(moved)

    # The new revision: valueFrom for exactly the moved variables, everything else identical.
    new_arn = new_revision_arn(result)
    after = describe(account, new_arn)
    new_container = after["taskDefinition"]["containerDefinitions"][0]
    references = {s["name"]: s["valueFrom"] for s in new_container["secrets"]}
    assert set(references) == moved
    for name, value_from in references.items():
        arn = stored[f"ecsguard/inventory-worker/worker/{name}"]["ARN"]
        assert value_from.startswith(f"{arn}:::")  # json-key and version-stage empty, version id pinned
        version = value_from.rsplit(":", 1)[1]
        assert sm.get_secret_value(SecretId=arn, VersionId=version)["SecretString"] == values[name]
    assert {e["name"] for e in new_container["environment"]} == set(values) - moved

    expected = copy.deepcopy(before)
    container = expected["taskDefinition"]["containerDefinitions"][0]
    container["environment"] = [e for e in container["environment"] if e["name"] not in moved]
    container["secrets"] = new_container["secrets"]
    for key in ("taskDefinitionArn", "revision", "registeredAt"):
        expected["taskDefinition"].pop(key, None)
        after["taskDefinition"].pop(key, None)
    expected["tags"] = [*before.get("tags", []), {"key": REMEDIATED_FROM_TAG, "value": OLD_ARN}]
    assert after == expected

    # The old revision is INACTIVE; the message says what happened and what to do.
    assert describe(account, OLD_ARN)["taskDefinition"]["status"] == "INACTIVE"
    [message] = account.messages()
    assert message["MessageAttributes"]["action"]["Value"] == "remediated"
    text = message_text(message)
    assert new_arn in text and OLD_ARN in text
    assert "Rotate the credential" in text and "CloudTrail" in text
    assert "secretsmanager:GetSecretValue" in text and "not granted" in text
    assert "no service runs" in text


def test_event_of_the_new_revision_does_nothing(account: Account, registered: dict[str, Any]):
    result = run(registered, account)
    new_arn = new_revision_arn(result)
    account.messages()
    described = describe(account, new_arn)
    request = {
        k: v
        for k, v in described["taskDefinition"].items()
        if k not in {"taskDefinitionArn", "revision", "status", "compatibilities", "registeredAt", "requiresAttributes"}
    }
    request["tags"] = described["tags"]
    second = event_for({"taskDefinition": described["taskDefinition"]}, request)
    before = secrets(account)

    again = run(second, account)

    assert again["status"] == "skipped" and "registered by ecsguard" in again["reason"]
    assert account.messages() == []
    assert secrets(account) == before
    assert revisions(account) == [1, 2]


def test_same_event_twice_creates_nothing_new(account: Account, registered: dict[str, Any]):
    run(registered, account)
    account.messages()
    before = {name: s["ARN"] for name, s in secrets(account).items()}

    again = run(registered, account)

    assert {name: s["ARN"] for name, s in secrets(account).items()} == before
    assert revisions(account) == [1, 2]
    assert [a["action"] for a in again["actions"]] == ["migrate-secret"]
    assert again["actions"][0]["changed"] is False and "already INACTIVE" in again["actions"][0]["detail"]


def test_redelivery_after_deregistration_failed_does_nothing(account: Account, registered: dict[str, Any]):
    """The fix exists but the old revision stayed ACTIVE: a redelivery finds the fix by its tag."""
    failing = actions.ActionResult("deregister-revision", OLD_ARN, ok=False, changed=False, detail="AccessDenied")
    with mock.patch.object(actions, "deregister_revision", return_value=failing):
        first = run(registered, account)
    new_arn = new_revision_arn(first)
    [message] = account.messages()
    assert message["MessageAttributes"]["action"]["Value"] == "action-failed"
    text = message_text(message)
    assert f"The new revision {new_arn} is correct" in text and "still ACTIVE" in text

    again = run(registered, account)

    assert [a["action"] for a in again["actions"]] == ["migrate-secret"]
    assert again["actions"][0]["changed"] is False and new_arn in again["actions"][0]["detail"]
    assert revisions(account) == [1, 2]


def test_registration_failure_leaves_nothing_behind(account: Account, registered: dict[str, Any]):
    error = ClientError(
        {"Error": {"Code": "ClientException", "Message": "Too many revisions"}}, "RegisterTaskDefinition"
    )
    with mock.patch.object(actions, "register_revision", side_effect=error):
        result = run(registered, account)

    assert secrets(account) == {}
    assert revisions(account) == [1]
    assert describe(account, OLD_ARN)["taskDefinition"]["status"] == "ACTIVE"
    [failed] = result["actions"]
    assert failed["action"] == "register-revision" and not failed["ok"]
    assert "Too many revisions" in failed["detail"] and "nothing was changed" in failed["detail"]
    [message] = account.messages()
    assert message["MessageAttributes"]["action"]["Value"] == "action-failed"

    # The next delivery (EventBridge retries, or the owner re-registers) can still migrate.
    retried = run(registered, account)
    assert all(a["ok"] for a in retried["actions"])
    assert describe(account, OLD_ARN)["taskDefinition"]["status"] == "INACTIVE"


def test_store_failure_midway_rolls_back_the_secrets_already_created(account: Account, registered: dict[str, Any]):
    real = actions.store_secret
    calls = []

    def flaky(*args, **kwargs):
        calls.append(kwargs["name"])
        if len(calls) == 2:
            raise actions.SecretStoreError("AccessDeniedException: not allowed")
        return real(*args, **kwargs)

    with mock.patch.object(actions, "store_secret", side_effect=flaky):
        result = run(registered, account)

    assert len(calls) == 2
    assert secrets(account) == {}
    assert describe(account, OLD_ARN)["taskDefinition"]["status"] == "ACTIVE"
    [failed] = result["actions"]
    assert failed["action"] == "migrate-secret" and not failed["ok"]
    assert "Rolled back" in failed["detail"] and calls[0] in failed["detail"]


def test_definition_without_execution_role_is_not_migrated(account: Account):
    event = load_event("plaintext-secrets")
    for part in (event["detail"]["requestParameters"], event["detail"]["responseElements"]["taskDefinition"]):
        part.pop("executionRoleArn")
        part["containerDefinitions"][0].pop("logConfiguration")
    account.register(event)

    result = run(event, account)

    assert secrets(account) == {}
    assert describe(account, OLD_ARN)["taskDefinition"]["status"] == "ACTIVE"
    failed = [a for a in result["actions"] if a["action"] == "migrate-secret"]
    assert len(failed) == 1 and not failed[0]["ok"]
    [message] = account.messages()
    text = message_text(message)
    assert "no execution role" in text and "not migrated" in text


def test_credential_in_command_blocks_the_whole_migration(account: Account):
    event = load_event("plaintext-secrets")
    for part in (event["detail"]["requestParameters"], event["detail"]["responseElements"]["taskDefinition"]):
        part["containerDefinitions"][0]["command"] = ["worker", "--db-password=Zq8-synthetic-cmd-pw-4Lr"]
    account.register(event)

    result = run(event, account)

    assert "command[1]" in {f["field"] for f in result["findings"]}
    assert secrets(account) == {}
    assert describe(account, OLD_ARN)["taskDefinition"]["status"] == "ACTIVE"
    [failed] = result["actions"]
    assert not failed["ok"] and "command[1]" in failed["detail"] and "cannot move command-line" in failed["detail"]


def test_ssm_store(account: Account, registered: dict[str, Any]):
    values = environment(registered)

    result = run(registered, account, secret_store="ssm", secret_kms_key_id="alias/platform-secrets")

    assert all(a["ok"] for a in result["actions"]), result["actions"]
    moved = moved_names(result)
    ssm = account.client("ssm")
    new_container = describe(account, new_revision_arn(result))["taskDefinition"]["containerDefinitions"][0]
    references = {s["name"]: s["valueFrom"] for s in new_container["secrets"]}
    assert set(references) == moved
    for name in moved:
        parameter_name = f"/ecsguard/inventory-worker/worker/{name}"
        parameter = ssm.get_parameter(Name=parameter_name, WithDecryption=True)["Parameter"]
        assert parameter["Type"] == "SecureString" and parameter["Value"] == values[name]
        assert references[name] == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{parameter_name}"
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=parameter_name)["TagList"]
        assert {t["Key"]: t["Value"] for t in tags} == {
            "ecsguard:created-by": "ecsguard",
            "ecsguard:task-definition": OLD_ARN,
        }
        described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [parameter_name]}])
        assert described["Parameters"][0]["KeyId"] == "alias/platform-secrets"
    assert describe(account, OLD_ARN)["taskDefinition"]["status"] == "INACTIVE"
    [message] = account.messages()
    assert "ssm:GetParameters" in message_text(message)


def test_ssm_registration_failure_deletes_the_parameters(account: Account, registered: dict[str, Any]):
    error = ClientError({"Error": {"Code": "ServerException", "Message": "boom"}}, "RegisterTaskDefinition")
    with mock.patch.object(actions, "register_revision", side_effect=error):
        run(registered, account, secret_store="ssm")

    assert account.client("ssm").describe_parameters()["Parameters"] == []
    assert describe(account, OLD_ARN)["taskDefinition"]["status"] == "ACTIVE"


def test_grant_execution_role_puts_exactly_the_statement(account: Account, registered: dict[str, Any]):
    iam = account.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="ecsTaskExecutionRole", AssumeRolePolicyDocument=json.dumps(trust))
    key_arn = account.client("kms").create_key()["KeyMetadata"]["Arn"]

    result = run(registered, account, grant_execution_role=True, secret_kms_key_id=key_arn)

    policy = iam.get_role_policy(RoleName="ecsTaskExecutionRole", PolicyName="ecsguard-secrets-inventory-worker")
    document = policy["PolicyDocument"]
    arns = sorted(s["ARN"] for s in secrets(account).values())
    assert document["Statement"] == [
        {
            "Sid": "EcsguardReadMigratedSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": arns,
        },
        {"Sid": "EcsguardDecryptMigratedSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [key_arn]},
    ]
    granted = [a for a in result["actions"] if a["action"] == "grant-execution-role"]
    assert granted and granted[0]["ok"] and granted[0]["target"] == EXECUTION_ROLE


def test_grant_is_undone_when_registration_fails(account: Account, registered: dict[str, Any]):
    iam = account.client("iam")
    iam.create_role(RoleName="ecsTaskExecutionRole", AssumeRolePolicyDocument="{}")
    error = ClientError({"Error": {"Code": "ClientException", "Message": "no"}}, "RegisterTaskDefinition")
    with mock.patch.object(actions, "register_revision", side_effect=error):
        run(registered, account, grant_execution_role=True)

    assert iam.list_role_policies(RoleName="ecsTaskExecutionRole")["PolicyNames"] == []
    assert secrets(account) == {}


def test_services_still_running_the_old_revision_are_listed(account: Account, registered: dict[str, Any]):
    ecs = account.client("ecs")
    ecs.create_cluster(clusterName="prod")
    ecs.create_service(cluster="prod", serviceName="inventory", taskDefinition=OLD_ARN, desiredCount=0)

    result = run(registered, account)

    [services] = [a for a in result["actions"] if a["action"] == "find-services"]
    assert "prod/inventory" in services["detail"] and "does not touch services" in services["detail"]
    service = ecs.describe_services(cluster="prod", services=["inventory"])["services"][0]
    assert service["taskDefinition"] == OLD_ARN  # untouched


def test_delete_leaking_revision_when_allowed(account: Account, registered: dict[str, Any]):
    result = run(registered, account, delete_leaking_revision=True)

    assert any(a["action"] == "delete-revision" and a["ok"] for a in result["actions"])
    try:
        status = describe(account, OLD_ARN)["taskDefinition"]["status"]
    except ClientError:
        status = "DELETED"  # moto forgets it at once
    assert status in {"DELETE_IN_PROGRESS", "DELETED"}


def test_canary_value_never_leaves_the_migration(
    account: Account, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    canary = "CanaryPw-9f8e7d6c5b4a-MigrateMe"
    event = load_event("plaintext-secrets")
    for part in (event["detail"]["requestParameters"], event["detail"]["responseElements"]["taskDefinition"]):
        part["containerDefinitions"][0]["environment"].append({"name": "ADMIN_PASSWORD", "value": canary})
    account.register(event)
    caplog.set_level(logging.DEBUG)
    stream = io.StringIO()
    root_handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(root_handler)
    try:
        result = run(event, account, grant_execution_role=True)  # no such role: the grant fails and rolls back
        good = run(event, account)
    finally:
        logging.getLogger().removeHandler(root_handler)
    records = [r for r in caplog.records]  # what the handler logged, before this test reads anything back
    logged = stream.getvalue()
    leaking = sorted(
        {f"{r.name}:{r.getMessage()[:60]}" for r in records if canary[:12] in json.dumps(r.__dict__, default=str)}
    )
    assert not leaking

    assert "environment.ADMIN_PASSWORD" in {f["field"] for f in good["findings"]}
    stored = secrets(account)["ecsguard/inventory-worker/worker/ADMIN_PASSWORD"]
    assert account.client("secretsmanager").get_secret_value(SecretId=stored["ARN"])["SecretString"] == canary
    messages = account.messages()
    assert len(messages) == 2
    ecsguard_records = [r for r in records if r.name.startswith("ecsguard")]
    assert ecsguard_records
    dumped = json.dumps([r.__dict__ for r in records], default=str)
    for text in (json.dumps(messages), json.dumps(result), json.dumps(good), dumped, logged):
        assert canary not in text
        assert canary[:12] not in text


def test_error_text_that_quotes_the_value_is_withheld():
    value = "Sup3r-synthetic-leaky-value"
    error = ClientError(
        {"Error": {"Code": "ValidationException", "Message": f"Value '{value}' at 'secretString' failed"}},
        "CreateSecret",
    )
    assert value[:8] not in actions._safe_error(error, value)
    assert actions._safe_error(error, value).startswith("ValidationException")
    harmless = ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "CreateSecret")
    assert actions._safe_error(harmless, value) == "AccessDenied: not allowed"
