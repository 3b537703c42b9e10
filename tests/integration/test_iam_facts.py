"""AwsFacts' IAM, secret-metadata and role-inventory reads against moto; Stubber where moto has no answer.

moto implements IAM roles and policies, Secrets Manager, SSM, KMS and DynamoDB; it does not implement
``iam:SimulatePrincipalPolicy``, so the simulation is tested with botocore's Stubber on the same client.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from moto import mock_aws

from ecsguard.aws import Clients
from ecsguard.aws import errors as aws_errors
from ecsguard.aws import iam as iam_facts
from ecsguard.aws.facts import AwsFacts
from ecsguard.aws.state import normalise_role, record_task_role
from ecsguard.checks import CheckContext, load_all
from ecsguard.facts import RoleFacts, Unknown
from ecsguard.flows.registration import process_registration
from ecsguard.model import parse_document
from ecsguard.policy import Settings

from conftest import ACCOUNT, REGION, Account, load_event

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-task"
EXEC = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    iam_facts.clear_caches()
    yield
    iam_facts.clear_caches()


class Counting:
    """Clients whose every API call is counted by (service, operation)."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        session = boto3.Session(region_name=REGION)
        session._session.register("before-call", self._count)  # copied into every client created afterwards
        self.clients = Clients(session=session)

    def _count(self, model, **_kwargs) -> None:
        self.calls[(model.service_model.service_name, model.name)] += 1

    def total(self) -> int:
        return sum(self.calls.values())


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


# ------------------------------------------------------------------------------------ roles


def make_role(name="app-task", path="/", boundary=None) -> str:
    iam = boto3.client("iam")
    kwargs = {"PermissionsBoundary": boundary} if boundary else {}
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, Path=path, **kwargs)["Role"]["Arn"]


def test_role_reads_inline_and_attached_policies_and_the_boundary(aws):
    iam = boto3.client("iam")
    boundary = iam.create_policy(
        PolicyName="boundary", PolicyDocument=policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    )
    arn = make_role(path="/services/", boundary=boundary["Policy"]["Arn"])
    iam.put_role_policy(
        RoleName="app-task",
        PolicyName="everything",
        PolicyDocument=policy({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )
    managed = iam.create_policy(
        PolicyName="reads",
        PolicyDocument=policy({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
    )["Policy"]["Arn"]
    iam.create_policy_version(
        PolicyArn=managed,
        PolicyDocument=policy({"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "*"}),
        SetAsDefault=True,
    )
    iam.attach_role_policy(RoleName="app-task", PolicyArn=managed)

    role = AwsFacts(Clients()).role(arn)

    assert isinstance(role, RoleFacts) and role.exists and role.arn == arn
    assert role.permissions_boundary == boundary["Policy"]["Arn"]
    by_name = {p.name: p for p in role.policies}
    assert by_name["everything"].arn is None and by_name["everything"].document["Statement"][0]["Action"] == "*"
    assert by_name["reads"].arn == managed and not by_name["reads"].aws_managed
    assert by_name["reads"].document["Statement"][0]["Action"] == "ssm:GetParameters"  # the default version


def test_missing_role_other_accounts_role_and_not_a_role(aws):
    facts = AwsFacts(Clients())
    assert facts.role(ROLE) == RoleFacts(ROLE, exists=False)
    make_role()
    assert isinstance(facts.role("arn:aws:iam::210987654321:role/app-task"), Unknown)
    assert isinstance(facts.role("app-task"), Unknown)


def test_role_is_read_once_per_invocation_and_kept_five_minutes_per_container(aws, monkeypatch):
    arn = make_role()
    boto3.client("iam").put_role_policy(
        RoleName="app-task",
        PolicyName="p",
        PolicyDocument=policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
    )
    counting = Counting()
    first = AwsFacts(counting.clients)
    first.role(arn)
    calls = counting.total()
    assert calls == 4  # GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies
    first.role(arn)
    AwsFacts(counting.clients).role(arn)  # the next invocation in the same container
    assert counting.total() == calls
    now = aws_errors.time.monotonic()
    monkeypatch.setattr(aws_errors.time, "monotonic", lambda: now + iam_facts.ROLE_TTL_S + 1)
    AwsFacts(counting.clients).role(arn)
    assert counting.total() == 2 * calls


def test_denied_role_reads_are_unknown_and_throttling_propagates():
    clients = Clients()
    iam = clients("iam")
    with Stubber(iam) as stub:
        stub.add_client_error("get_role", "AccessDenied", http_status_code=403)
        stub.add_client_error("get_role", "Throttling", http_status_code=400)
        answer = AwsFacts(clients).role(ROLE)
        assert isinstance(answer, Unknown) and answer.reason == "iam:GetRole: AccessDenied"
        with pytest.raises(ClientError):
            AwsFacts(clients).role(ROLE)


# ------------------------------------------------------------------------------------ simulation


def result(action, resource, decision, missing=()):
    return {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision,
        "ResourceSpecificResults": [
            {"EvalResourceName": resource, "EvalResourceDecision": decision, "MissingContextValues": list(missing)}
        ],
    }


SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-AbCdEf"
PARAM = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/key"


def test_simulation_is_one_paginated_call_and_cached():
    clients = Clients()
    facts = AwsFacts(clients)
    with Stubber(clients("iam")) as stub:
        stub.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [result("secretsmanager:GetSecretValue", SECRET, "allowed")],
                "IsTruncated": True,
                "Marker": "m1",
            },
            {
                "PolicySourceArn": EXEC,
                "ActionNames": ["secretsmanager:GetSecretValue", "ssm:GetParameters"],
                "ResourceArns": [SECRET, PARAM],
            },
        )
        stub.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [
                    result("ssm:GetParameters", SECRET, "implicitDeny"),
                    result("ssm:GetParameters", PARAM, "implicitDeny", missing=["ssm:ResourceTag/team"]),
                    result("secretsmanager:GetSecretValue", PARAM, "explicitDeny"),
                ],
                "IsTruncated": False,
            },
            {"PolicySourceArn": EXEC, "ActionNames": ANY, "ResourceArns": ANY, "Marker": "m1"},
        )
        answer = facts.simulate(EXEC, ["secretsmanager:GetSecretValue", "ssm:GetParameters"], [SECRET, PARAM])
        stub.assert_no_pending_responses()
        # Asked again (another check of the same invocation): no call, the Stubber would refuse one.
        again = facts.simulate(EXEC, ["ssm:GetParameters"], [PARAM])
    assert answer == {
        f"secretsmanager:GetSecretValue {SECRET}": "allowed",
        f"secretsmanager:GetSecretValue {PARAM}": "explicitDeny",
        f"ssm:GetParameters {SECRET}": "implicitDeny",
        f"ssm:GetParameters {PARAM}": "unknown",  # denied only for want of a condition key
    }
    assert again == {f"ssm:GetParameters {PARAM}": "unknown"}


def test_condition_keys_are_sent_and_a_missing_role_is_unknown_once():
    clients = Clients()
    facts = AwsFacts(clients)
    with Stubber(clients("iam")) as stub:
        stub.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": [result("kms:Decrypt", KEY, "allowed")], "IsTruncated": False},
            {
                "PolicySourceArn": EXEC,
                "ActionNames": ["kms:Decrypt"],
                "ResourceArns": [KEY],
                "ContextEntries": [
                    {
                        "ContextKeyName": "kms:ViaService",
                        "ContextKeyValues": ["secretsmanager.us-east-1.amazonaws.com"],
                        "ContextKeyType": "string",
                    }
                ],
            },
        )
        stub.add_client_error("simulate_principal_policy", "NoSuchEntity", http_status_code=404)
        via = {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
        assert facts.simulate(EXEC, ["kms:Decrypt"], [KEY], context=via) == {f"kms:Decrypt {KEY}": "allowed"}
        missing = facts.simulate(ROLE, ["logs:CreateLogGroup"], ["arn:aws:logs:us-east-1:123456789012:log-group:x"])
        assert isinstance(missing, Unknown) and "NoSuchEntity" in missing.reason
        assert (
            facts.simulate(ROLE, ["logs:CreateLogGroup"], ["arn:aws:logs:us-east-1:123456789012:log-group:y"])
            == missing
        )


def test_denied_or_throttled_simulation():
    clients = Clients()
    with Stubber(clients("iam")) as stub:
        stub.add_client_error("simulate_principal_policy", "AccessDenied", http_status_code=403)
        stub.add_client_error("simulate_principal_policy", "Throttling", http_status_code=400)
        denied = AwsFacts(clients).simulate(EXEC, ["ssm:GetParameters"], [PARAM])
        assert isinstance(denied, Unknown) and denied.reason == "iam:SimulatePrincipalPolicy: AccessDenied"
        with pytest.raises(ClientError):
            AwsFacts(clients).simulate(EXEC, ["ssm:GetParameters"], [PARAM])


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Principal": {"AWS": EXEC}, "Action": "kms:Decrypt", "Resource": "*"}, "allowed"),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]},
                "Action": "kms:*",
                "Resource": "*",
            },
            "implicitDeny",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}},
            },
            "unknown",
        ),
        (None, "unknown"),  # the key policy cannot be read
    ],
)
def test_a_key_policy_naming_the_role_grants_decrypt_on_its_own(statement, expected):
    clients = Clients()
    with Stubber(clients("iam")) as iam, Stubber(clients("kms", REGION)) as kms:
        iam.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": [result("kms:Decrypt", KEY, "implicitDeny")], "IsTruncated": False},
        )
        if statement is None:
            kms.add_client_error("get_key_policy", "AccessDeniedException", http_status_code=400)
        else:
            kms.add_response("get_key_policy", {"Policy": policy(statement)}, {"KeyId": KEY, "PolicyName": "default"})
        answer = AwsFacts(clients).simulate(EXEC, ["kms:Decrypt"], [KEY])
    assert answer == {f"kms:Decrypt {KEY}": expected}


# ------------------------------------------------------------------------------------ secrets and parameters


def test_secret_metadata_by_arn_json_key_partial_arn_and_kms_alias(aws):
    kms = boto3.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])
    sm = boto3.client("secretsmanager")
    arn = sm.create_secret(Name="app/db", SecretString="synthetic", KmsKeyId="alias/app")["ARN"]
    plain = sm.create_secret(Name="app/plain", SecretString="synthetic")["ARN"]
    facts = AwsFacts(Clients())

    full = facts.secret_metadata(f"{arn}:password:AWSCURRENT:", REGION)
    assert full.exists and full.arn == arn and full.kms_key == key["Arn"] and "AWSCURRENT" in full.version_stages
    partial = facts.secret_metadata(arn.rsplit("-", 1)[0], REGION)
    assert partial.exists and partial.arn == arn
    assert facts.secret_metadata(plain, REGION).kms_key is None  # aws/secretsmanager: nothing to allow
    by_name = facts.secret_metadata("app/plain", REGION, service="secretsmanager")
    assert by_name.exists and by_name.arn == plain
    assert facts.secret_exists(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/gone-AbCdEf", REGION) is False


def test_a_secret_scheduled_for_deletion_does_not_count_as_existing(aws):
    sm = boto3.client("secretsmanager")
    arn = sm.create_secret(Name="old", SecretString="synthetic")["ARN"]
    sm.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    facts = AwsFacts(Clients())
    assert facts.secret_metadata(arn, REGION).deleted is True
    assert facts.secret_exists(arn, REGION) is False


def test_parameters_by_name_with_and_without_slash_and_by_arn(aws):
    kms = boto3.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/params", TargetKeyId=key["KeyId"])
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/app/key", Value="synthetic", Type="SecureString", KeyId="alias/params")
    ssm.put_parameter(Name="flat", Value="synthetic", Type="String")
    ssm.put_parameter(Name="/app/default", Value="synthetic", Type="SecureString")
    facts = AwsFacts(Clients())

    secure = facts.secret_metadata("/app/key", REGION)
    assert secure.exists and secure.arn == PARAM and secure.kms_key == key["Arn"]
    assert facts.secret_metadata(PARAM, REGION) == secure
    flat = facts.secret_metadata(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/flat", REGION)
    assert flat.exists and flat.arn == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/flat" and flat.kms_key is None
    assert facts.secret_metadata("/app/default", REGION).kms_key is None  # alias/aws/ssm
    assert facts.secret_exists("app/key", REGION) is False  # no leading slash: another name
    other = facts.secret_metadata("arn:aws:ssm:us-east-1:210987654321:parameter/shared", REGION)
    assert isinstance(other, Unknown) and "210987654321" in other.reason
    assert isinstance(facts.secret_metadata("arn:aws:s3:::bucket/key", REGION), Unknown)


def test_secret_metadata_denied_is_unknown_and_each_reference_is_read_once(aws):
    boto3.client("ssm").put_parameter(Name="/app/key", Value="synthetic", Type="String")
    counting = Counting()
    facts = AwsFacts(counting.clients)
    for _ in range(3):
        facts.secret_exists("/app/key", REGION)
        facts.secret_metadata(PARAM, REGION)
    assert counting.calls[("ssm", "DescribeParameters")] == 1
    clients = Clients()
    with Stubber(clients("secretsmanager", REGION)) as stub:
        stub.add_client_error("describe_secret", "AccessDeniedException", http_status_code=400)
        denied = AwsFacts(clients).secret_exists(SECRET, REGION)
    assert isinstance(denied, Unknown) and denied.reason == "secretsmanager:DescribeSecret: AccessDeniedException"


def test_the_checks_read_each_secret_once_and_simulate_once_per_role(aws):
    """N containers sharing S references: S metadata calls and one simulation for both secret checks."""
    sm = boto3.client("secretsmanager")
    arn = sm.create_secret(Name="app/db", SecretString="synthetic")["ARN"]
    boto3.client("ssm").put_parameter(Name="/app/key", Value="synthetic", Type="String")
    containers = [
        {
            "name": f"c{i}",
            "image": "nginx:1.27",
            "secrets": [{"name": "DB", "valueFrom": f"{arn}:password::"}, {"name": "KEY", "valueFrom": "/app/key"}],
        }
        for i in range(4)
    ]
    td = parse_document(
        {
            "family": "app",
            "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:1",
            "executionRoleArn": EXEC,
            "containerDefinitions": containers,
        }
    )
    counting = Counting()
    facts = AwsFacts(counting.clients)
    context = CheckContext(target="app:1", facts=facts, region=REGION)
    checks = load_all()
    with Stubber(counting.clients("iam")) as stub:
        stub.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [
                    result("secretsmanager:GetSecretValue", arn, "allowed"),
                    result("ssm:GetParameters", PARAM, "implicitDeny"),
                ],
                "IsTruncated": False,
            },
            {
                "PolicySourceArn": EXEC,
                "ActionNames": ["secretsmanager:GetSecretValue", "ssm:GetParameters"],
                "ResourceArns": sorted([arn, PARAM]),
            },
        )
        missing = checks["secret-reference-missing"].run(td, context)
        denied = checks["secret-access-denied"].run(td, context)
    assert missing == []
    assert [(f.container, f.field) for f in denied] == [(f"c{i}", "secrets.KEY") for i in range(4)]
    assert counting.calls[("secretsmanager", "DescribeSecret")] == 1
    assert counting.calls[("ssm", "DescribeParameters")] == 1


# ------------------------------------------------------------------------------------ role inventory


@pytest.fixture
def table(account: Account) -> str:
    return account.table


def families(table: str, role: str) -> frozenset[str]:
    return AwsFacts(Clients(), state_table=table).families_using_role(role)


def test_inventory_records_moves_and_forgets(table):
    other = f"arn:aws:iam::{ACCOUNT}:role/other-task"
    clients = Clients()
    revision = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:1"
    assert record_task_role(clients, table, role=ROLE, family="app", revision_arn=revision)
    assert record_task_role(clients, table, role="app-task", family="orders", account=ACCOUNT)  # a bare name
    assert record_task_role(
        clients, table, role=f"arn:aws:iam::{ACCOUNT}:role/svc/app-task", family="billing"
    )  # a path
    assert families(table, ROLE) == {"app", "orders", "billing"}
    assert record_task_role(clients, table, role=ROLE, family="app")  # again: a set, no duplicate
    assert families(table, ROLE) == {"app", "orders", "billing"}

    assert record_task_role(clients, table, role=other, family="app")  # app moves to another role
    assert families(table, ROLE) == {"orders", "billing"} and families(table, other) == {"app"}
    assert record_task_role(clients, table, role=None, family="app")  # and then to none
    assert families(table, other) == frozenset()
    assert record_task_role(clients, table, role=None, family="never-had-one")

    item = boto3.client("dynamodb", region_name=REGION).get_item(TableName=table, Key={"id": {"S": f"role#{ROLE}"}})[
        "Item"
    ]
    assert item["last_family"]["S"] == "app" and item["updated_at"]["S"].startswith("20")
    assert record_task_role(clients, table, role="${TASK_ROLE}", family="app") is False  # a placeholder is not kept


def test_inventory_reads_one_item_per_role_per_invocation(table):
    record_task_role(Clients(), table, role=ROLE, family="app")
    counting = Counting()
    facts = AwsFacts(counting.clients, state_table=table)
    for _ in range(3):
        assert facts.families_using_role(ROLE) == {"app"}
    assert counting.calls == Counter({("dynamodb", "GetItem"): 1})


def test_inventory_without_a_table_or_with_a_missing_one(aws):
    assert isinstance(AwsFacts(Clients()).families_using_role(ROLE), Unknown)
    gone = AwsFacts(Clients(), state_table="no-such-table").families_using_role(ROLE)
    assert isinstance(gone, Unknown) and "ResourceNotFoundException" in gone.reason
    assert record_task_role(Clients(), "no-such-table", role=ROLE, family="app") is False  # logged, not raised


def test_normalise_role():
    assert normalise_role(f"arn:aws:iam::{ACCOUNT}:role/a/b/name") == f"arn:aws:iam::{ACCOUNT}:role/name"
    assert normalise_role("name", ACCOUNT, "aws-cn") == f"arn:aws-cn:iam::{ACCOUNT}:role/name"
    assert normalise_role("name") is None and normalise_role("<role>", ACCOUNT) is None and normalise_role(None) is None


def registration_event(family: str, task_role: str) -> dict:
    event = copy.deepcopy(load_event("clean"))
    request = event["detail"]["requestParameters"]
    request["family"] = family
    request["taskRoleArn"] = task_role
    for container in request["containerDefinitions"]:
        container.pop("secrets", None)
    response = event["detail"].get("responseElements") or {}
    if isinstance(response.get("taskDefinition"), dict):
        response["taskDefinition"].update(
            family=family,
            taskRoleArn=task_role,
            taskDefinitionArn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1",
            containerDefinitions=request["containerDefinitions"],
        )
    return event


def test_registration_records_the_task_role_and_reports_sharing(account: Account):
    settings = Settings(state_table=account.table)
    account.client("logs").create_log_group(logGroupName="/ecs/billing-api")
    first = process_registration(registration_event("billing-api", ROLE), settings=settings, clients=Clients())
    assert "task-role-shared" not in {f["check"] for f in first["findings"]}
    # A duplicate delivery of the same family's event: its own family never counts.
    again = process_registration(registration_event("billing-api", ROLE), settings=settings, clients=Clients())
    assert "task-role-shared" not in {f["check"] for f in again["findings"]}

    second = process_registration(registration_event("billing-worker", ROLE), settings=settings, clients=Clients())

    shared = [f for f in second["findings"] if f["check"] == "task-role-shared"]
    assert shared == [
        {"check": "task-role-shared", "severity": "low", "container": None, "field": "taskRoleArn", "mode": "notify"}
    ]
    assert families(account.table, ROLE) == {"billing-api", "billing-worker"}


def test_a_parameter_arn_from_describe_parameters_needs_no_account_lookup():
    counting = Counting()
    ssm = counting.clients("ssm", REGION)
    with Stubber(ssm) as stub:
        stub.add_response(
            "describe_parameters",
            {"Parameters": [], "NextToken": "t1"},  # DescribeParameters may answer a filter with an empty page first
            {"ParameterFilters": [{"Key": "Name", "Option": "Equals", "Values": ["/app/key"]}]},
        )
        stub.add_response(
            "describe_parameters",
            {
                "Parameters": [
                    {"Name": "/app/key", "ARN": PARAM, "Type": "SecureString", "KeyId": KEY.rsplit("/", 1)[-1]}
                ]
            },
            {"ParameterFilters": ANY, "NextToken": "t1"},
        )
        metadata = AwsFacts(counting.clients).secret_metadata("/app/key", REGION)
    assert metadata.arn == PARAM and metadata.kms_key == KEY  # a bare key id is a key of the parameter's account
    assert ("sts", "GetCallerIdentity") not in counting.calls
