"""Template tests: lint, build, rule patterns against events/, per-function least-privilege roles,
encryption, and that every setting the core reads is set by the template and documented."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from moto.events.models import EventPattern

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
LAYER_SRC = ROOT / "layers" / "ecsguard"

# The core package is importable from the layer folder even when it is not pip-installed.
if str(LAYER_SRC) not in sys.path:
    sys.path.insert(0, str(LAYER_SRC))


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that understands CloudFormation's short tags (!Ref, !Sub, !GetAtt, !If, ...).

    Each tag becomes the long form (``{"Ref": x}``, ``{"Condition": x}``, ``{"Fn::Sub": x}``), so the
    tests read the same structure CloudFormation and SAM see.
    """


def _construct_short_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_short_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=CfnLoader)  # CfnLoader is a SafeLoader subclass


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule: from a function's EventBridgeRule/CloudWatchEvent event or an AWS::Events::Rule."""

    name: str  # logical id of the rule CloudFormation ends up with
    pattern: dict[str, Any]
    function: str | None  # logical id of the function it targets, when known
    folder: str | None  # that function's CodeUri folder name (= its events/ folder)
    properties: dict[str, Any]


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def function_folder(function: dict[str, Any]) -> str:
    return Path(str(function["Properties"]["CodeUri"]).rstrip("/")).name


def collect_rules(template: dict[str, Any]) -> list[Rule]:
    rules: list[Rule] = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            for event_id, event in (resource["Properties"].get("Events") or {}).items():
                if event.get("Type") in ("EventBridgeRule", "CloudWatchEvent") and "Pattern" in event["Properties"]:
                    rules.append(
                        Rule(
                            name=f"{logical_id}{event_id}",  # SAM's logical id for the generated rule
                            pattern=event["Properties"]["Pattern"],
                            function=logical_id,
                            folder=function_folder(resource),
                            properties=event["Properties"],
                        )
                    )
        elif resource["Type"] == "AWS::Events::Rule" and "EventPattern" in resource["Properties"]:
            rules.append(Rule(logical_id, resource["Properties"]["EventPattern"], None, None, resource["Properties"]))
    return rules


@pytest.fixture(scope="session")
def rules(template: dict[str, Any]) -> list[Rule]:
    return collect_rules(template)


@pytest.fixture(scope="session")
def sam() -> str:
    """The sam binary: the project's .venv-sam, else sam on PATH. Missing sam fails in CI, skips elsewhere."""
    candidate = ROOT / ".venv-sam" / "bin" / "sam"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("sam")
    if found:
        return found
    message = "aws-sam-cli not found: neither .venv-sam/bin/sam nor sam on PATH (pip install aws-sam-cli in .venv-sam)"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def sam_env() -> dict[str, str]:
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    # `sam build` without a container needs a real python3.13 on PATH (pyenv shims are not enough):
    # use the base interpreter of the one running the tests when it is 3.13.
    if sys.version_info[:2] == (3, 13):
        env["PATH"] = os.pathsep.join([str(Path(sys.base_prefix) / "bin"), env.get("PATH", "")])
    return env


POLICY_PY = LAYER_SRC / "ecsguard" / "policy.py"
PARAMETERS_DOC = ROOT / "docs" / "parameters.md"

# Actions that may be granted on Resource "*", each because the Service Authorization Reference
# lists no resource type for it (IAM then only accepts "*"). Everything else must name its resources.
STAR_RESOURCE_ALLOWED = {
    "ecs:DescribeTaskDefinition": "no resource type: task definitions cannot be scoped for reads",
    "ecs:DeregisterTaskDefinition": "no resource type: deregistration cannot be scoped",
    "ecs:ListClusters": "list action, no resource type",
    "ecs:ListServices": "no resource type (only the ecs:cluster condition key)",
    "ecs:ListTaskDefinitions": "list action, no resource type",
    "logs:DescribeLogGroups": "list action, no resource type",
    "ecr:DescribePullThroughCacheRules": "the Service Authorization Reference lists no resource type for it",
    "ssm:DescribeParameters": "list action, no resource type",
    "ec2:DescribeSubnets": "EC2 Describe* actions have no resource type",
    "ec2:DescribeRouteTables": "EC2 Describe* actions have no resource type",
    "ec2:DescribeVpcEndpoints": "EC2 Describe* actions have no resource type",
    "ec2:DescribeSecurityGroups": "EC2 Describe* actions have no resource type",
    # The sweep state machine's execution logging (CloudWatch Logs vended log delivery).
    "logs:CreateLogDelivery": "log delivery actions have no resource type",
    "logs:GetLogDelivery": "log delivery actions have no resource type",
    "logs:UpdateLogDelivery": "log delivery actions have no resource type",
    "logs:DeleteLogDelivery": "log delivery actions have no resource type",
    "logs:ListLogDeliveries": "log delivery actions have no resource type",
    "logs:PutResourcePolicy": "account-level resource policies: no resource type",
    "logs:DescribeResourcePolicies": "list action, no resource type",
    "tag:GetResources": "Resource Groups Tagging API: no resource type",
}

# Which actions each role allows is proven against the code in test_least_privilege.py (collected from
# the functions' code, not kept by hand). The tests here check the scopes: conditions and resources.
CONDITIONAL_ACTIONS = {
    "ecs:DeleteTaskDefinitions": ("DeleteLeakingRevision", "true"),
    "iam:PutRolePolicy": ("GrantExecutionRole", "true"),
    "iam:DeleteRolePolicy": ("GrantExecutionRole", "true"),
    "securityhub:BatchImportFindings": ("SecurityHubImport", "true"),
    "securityhub:BatchUpdateFindings": ("SecurityHubImport", "true"),
    "securityhub:GetFindings": ("SecurityHubImport", "true"),
}

CLOUDWATCH_RETENTION_DAYS = [
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]  # fmt: skip


# --------------------------------------------------------------------------- helpers


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def alternatives(value: Any, conditions: tuple[str, ...] = ()) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """Every value an Fn::If tree can take, with the conditions (name or !name) that lead to it."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        name, when_true, when_false = value["Fn::If"]
        yield from alternatives(when_true, (*conditions, name))
        yield from alternatives(when_false, (*conditions, f"!{name}"))
    elif value == {"Ref": "AWS::NoValue"}:
        return
    else:
        yield value, conditions


def statements(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
    for item in as_list(document.get("Statement", [])):
        yield from alternatives(item)


def role_id(function: dict[str, Any], template: dict[str, Any]) -> str | None:
    role = function["Properties"].get("Role", template.get("Globals", {}).get("Function", {}).get("Role"))
    if role is None:
        return None
    assert isinstance(role, dict) and "Fn::GetAtt" in role, (
        f"Role must be !GetAtt <role in this template>.Arn, got {role!r}"
    )
    logical_id, attribute = role["Fn::GetAtt"]
    assert attribute == "Arn"
    assert template["Resources"][logical_id]["Type"] == "AWS::IAM::Role"
    return logical_id


def role_statements(template: dict[str, Any], role: str) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    """Statements of the role's inline policies plus AWS::IAM::Policy/RolePolicy resources attached to it."""
    resources = template["Resources"]
    found = []
    for policy in resources[role]["Properties"].get("Policies", []):
        found.extend(statements(policy["PolicyDocument"]))
    for resource in resources.values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in properties.get("Roles", []):
            found.extend(statements(properties["PolicyDocument"]))
        if resource["Type"] == "AWS::IAM::RolePolicy" and properties.get("RoleName") == {"Ref": role}:
            found.extend(statements(properties["PolicyDocument"]))
    return found


def allowed_actions(stmts: list[tuple[dict[str, Any], tuple[str, ...]]]) -> set[str]:
    return {
        action for statement, _ in stmts if statement["Effect"] == "Allow" for action in as_list(statement["Action"])
    }


def effective_environment(template: dict[str, Any], function: dict[str, Any]) -> dict[str, Any]:
    env = dict(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    env.update(function["Properties"].get("Environment", {}).get("Variables", {}))
    return env


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def topic_ref(value: Any) -> bool:
    """The topic expression the template uses everywhere: own topic, or ExistingTopicArn."""
    return value == {"Fn::If": ["CreateTopic", {"Ref": "NotificationTopic"}, {"Ref": "ExistingTopicArn"}]}


# --------------------------------------------------------------------------- sam / cfn-lint


def test_sam_validate_lint(sam: str, sam_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sam, "validate", "--lint", "--template-file", str(TEMPLATE)],
        cwd=ROOT, env=sam_env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_informational_checks(sam: str, sam_env: dict[str, str]) -> None:
    """cfn-lint (the one sam uses) with informational rules too: explicit deletion policies etc."""
    cfn_lint = Path(sam).with_name("cfn-lint")
    if not cfn_lint.exists():
        pytest.skip(f"no cfn-lint next to {sam}; sam validate --lint already ran the default rules")
    result = subprocess.run(
        [str(cfn_lint), "--include-checks", "I", "--", str(TEMPLATE)],
        cwd=ROOT, env=sam_env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_build(sam: str, sam_env: dict[str, str], tmp_path: Path) -> None:
    """`sam build` without a container: layer (with its requirements) and every function."""
    result = subprocess.run(
        [
            sam, "build", "--template-file", str(TEMPLATE),
            "--build-dir", str(tmp_path / "build"), "--cache-dir", str(tmp_path / "cache"),
        ],
        cwd=ROOT, env=sam_env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    build = tmp_path / "build"
    assert (build / "template.yaml").exists()
    assert (build / "CoreLayer" / "python" / "ecsguard" / "policy.py").exists()
    assert (build / "CoreLayer" / "python" / "aws_lambda_powertools").is_dir(), "layer requirements not installed"
    # Lambda mounts the layer read-only: it must ship bytecode for the runtime's Python.
    assert (build / "CoreLayer" / "python" / "ecsguard" / "__pycache__" / "policy.cpython-313.pyc").exists()
    assert not list((build / "CoreLayer" / "python").glob("*.egg-info"))
    assert (build / "RegisterTaskDefinitionFunction" / "app.py").exists()
    assert (build / "RunTaskFunction" / "app.py").exists()


# --------------------------------------------------------------------------- shape


def test_globals_and_layer(template: dict[str, Any]) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Timeout"] == 60
    assert function_globals["MemorySize"] == 256
    assert function_globals["Tracing"] == "Disabled"  # no X-Ray SDK on the cold-start path
    assert function_globals["Layers"] == [{"Ref": "CoreLayer"}]
    layer = template["Resources"]["CoreLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/ecsguard"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert "build-CoreLayer:" in (LAYER_SRC / "Makefile").read_text()
    assert (LAYER_SRC / "requirements.txt").exists()
    assert (LAYER_SRC / "ecsguard" / "__init__.py").exists()


def test_every_function_folder_exists_with_its_handler(functions: dict[str, dict[str, Any]]) -> None:
    assert functions, "the template defines no function"
    for logical_id, function in functions.items():
        code = ROOT / function["Properties"]["CodeUri"]
        module = function["Properties"]["Handler"].split(".")[0]
        assert (code / f"{module}.py").exists(), f"{logical_id}: {code}/{module}.py missing"


def test_rule_targets_have_dead_letter_queue_and_retries(template: dict[str, Any], rules: list[Rule]) -> None:
    dlq = {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    for rule in rules:
        assert rule.properties.get("DeadLetterConfig") == {"Arn": dlq}, f"{rule.name}: target DLQ"
        assert rule.properties.get("RetryPolicy", {}).get("MaximumRetryAttempts") is not None, (
            f"{rule.name}: RetryPolicy"
        )
    for function_id in {rule.function for rule in rules if rule.function}:
        properties = template["Resources"][function_id]["Properties"]
        assert properties["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": dlq}
        assert properties["EventInvokeConfig"]["MaximumRetryAttempts"] == 2
    # EventBridge may send to the queue only on behalf of this stack's rules.
    policy = template["Resources"]["DeadLetterQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "DeadLetterQueue"}]
    source_arns = [
        statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        for statement, _ in statements(policy["PolicyDocument"])
        if statement["Effect"] == "Allow" and statement.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    schedules = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in resource["Properties"]
    ]
    assert sorted(map(json.dumps, source_arns)) == sorted(
        json.dumps({"Fn::GetAtt": [name, "Arn"]}) for name in [rule.name for rule in rules] + schedules
    )
    for name in schedules:
        [target] = template["Resources"][name]["Properties"]["Targets"]
        assert target["DeadLetterConfig"] == {"Arn": dlq}, name
        assert target["RetryPolicy"]["MaximumRetryAttempts"] is not None, name


def test_dead_letter_queue_and_alarms(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    queue = resources["DeadLetterQueue"]["Properties"]
    assert queue.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue, "the DLQ must be encrypted"
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    metrics = {(a["Namespace"], a["MetricName"]) for a in alarms if "MetricName" in a}
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in metrics
    assert ("AWS/Lambda", "Errors") in metrics
    for alarm in alarms:
        assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert [topic_ref(action) for action in alarm["AlarmActions"]] == [True]


def test_dead_letter_queue_alarm_notifies(template: dict[str, Any]) -> None:
    """Events ecsguard could not process page someone: the DLQ alarm publishes to the stack's topic."""
    resources = template["Resources"]
    alarms = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("Namespace") == "AWS/SQS"
        and r["Properties"]["Dimensions"]
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}]
    ]
    assert len(alarms) == 1, "exactly one alarm on the dead-letter queue"
    [alarm] = alarms
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"  # an idle queue publishes no data points
    assert [topic_ref(action) for action in alarm["AlarmActions"]] == [True]
    # CloudWatch may publish to the stack's own (KMS-encrypted) topic: topic policy and key policy.
    policy = resources["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]
    assert any(
        s["Effect"] == "Allow"
        and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        and "sns:Publish" in as_list(s["Action"])
        for s, _ in statements(policy)
    )


def test_kill_switch_and_own_stack_on_every_function(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    kill_switch = template["Parameters"]["KillSwitch"]
    assert kill_switch["Default"] == "false" and sorted(kill_switch["AllowedValues"]) == ["false", "true"]
    for logical_id, function in functions.items():
        env = effective_environment(template, function)
        assert env["ECSGUARD_KILL_SWITCH"] == {"Ref": "KillSwitch"}, logical_id
        assert env["ECSGUARD_STACK_NAME"] == {"Ref": "AWS::StackName"}, logical_id


def test_function_concurrency_is_capped(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    parameter = template["Parameters"]["ReservedConcurrency"]
    # Default 0 (no reservation): a new account's concurrency quota can be too small to reserve anything
    # (Lambda keeps 100 unreserved), and a first deploy must not fail on it.
    assert parameter["Type"] == "Number" and parameter["Default"] == 0 and parameter["MinValue"] == 0
    assert template["Conditions"]["ReserveConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, 0]}]
    }
    expected = {"Fn::If": ["ReserveConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    for logical_id, function in functions.items():
        value = function["Properties"].get(
            "ReservedConcurrentExecutions", template["Globals"]["Function"].get("ReservedConcurrentExecutions")
        )
        assert value == expected, logical_id


def test_own_log_groups_use_the_log_group_key(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    assert template["Conditions"]["HasLogGroupKmsKey"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "LogGroupKmsKeyArn"}, ""]}]
    }
    for logical_id in functions:
        group = template["Resources"][logical_id.removesuffix("Function") + "LogGroup"]["Properties"]
        assert group["KmsKeyId"] == {
            "Fn::If": ["HasLogGroupKmsKey", {"Ref": "LogGroupKmsKeyArn"}, {"Ref": "AWS::NoValue"}]
        }


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard body with every ${...} of its Fn::Sub replaced by a stand-in value."""
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    names = set(re.findall(r"\$\{([^}!]+)\}", body))
    for name in names:
        assert name.startswith("AWS::") or name.split(".")[0] in template["Resources"], name
    return json.loads(re.sub(r"\$\{([^}!]+)\}", lambda m: f"<{m.group(1)}>", body))


def test_dashboard(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    dashboard = template["Resources"]["Dashboard"]
    assert dashboard["Type"] == "AWS::CloudWatch::Dashboard"
    # Dashboards are global to the account: one name per stack and region (StackSets deploy per region).
    assert dashboard["Properties"]["DashboardName"] == {"Fn::Sub": "${AWS::StackName}-${AWS::Region}"}
    metrics = [m for w in _dashboard(template)["widgets"] for m in w["properties"]["metrics"]]
    plain = {tuple(m) for m in metrics if isinstance(m[0], str)}
    expressions = [m[0]["expression"] for m in metrics if isinstance(m[0], dict)]
    for name in ("ActionsTaken", "ActionsFailed", "EventsSkipped", "ChecksUnverified", "MessagesSent"):
        assert ("ecsguard", name, "service", "ecsguard") in plain, name
    assert expressions == ["SEARCH('{ecsguard,check,service} MetricName=\"Findings\"', 'Sum', 300)"]
    for logical_id in functions:
        for name in ("Errors", "Throttles", "Duration"):
            assert ("AWS/Lambda", name, "FunctionName", f"<{logical_id}>") in plain, (logical_id, name)
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "<DeadLetterQueue.QueueName>") in plain


def test_dashboard_shows_what_the_core_emits(
    template: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every metric and dimension set the handlers emit (embedded metric format) is on the dashboard."""
    handlers = pytest.importorskip("ecsguard.handlers")
    emit = getattr(handlers, "emit_metrics", None)
    if emit is None:
        pytest.fail("ecsguard.handlers.emit_metrics is gone: update the dashboard and this test")
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", env["POWERTOOLS_SERVICE_NAME"])
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", env["POWERTOOLS_METRICS_NAMESPACE"])
    capsys.readouterr()
    emit({"status": "skipped", "reason": "exempt"})
    emit(
        {
            "status": "checked",
            "findings": [{"check": "plaintext-secret"}, {"check": "log-group-missing"}],
            "actions": [{"ok": True, "changed": True}, {"ok": False, "changed": False}],
            "messageId": "m-1",
            "unverified": [{"check": "runs-as-root"}],
        }
    )
    emitted: set[tuple[str, str, tuple[str, ...]]] = set()
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for dimensions in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    emitted.add((directive["Namespace"], metric["Name"], tuple(sorted(dimensions))))
                    assert record.get("service") == "ecsguard"
    assert {name for _, name, _ in emitted} >= {
        "Findings", "ActionsTaken", "ActionsFailed", "EventsSkipped", "ChecksUnverified", "MessagesSent",
    }  # fmt: skip
    metrics = [m for w in _dashboard(template)["widgets"] for m in w["properties"]["metrics"]]
    shown = {(m[0], m[1], tuple(sorted(m[2::2]))) for m in metrics if isinstance(m[0], str)}
    for expression in (m[0]["expression"] for m in metrics if isinstance(m[0], dict)):
        schema, name = re.fullmatch(r"SEARCH\('\{([^}]*)\} MetricName=\"(\w+)\"'.*", expression).groups()
        namespace, *dimensions = schema.split(",")
        shown.add((namespace, name, tuple(sorted(dimensions))))
    assert emitted <= shown, f"emitted but not on the dashboard: {sorted(emitted - shown)}"


def test_idempotency_table(template: dict[str, Any]) -> None:
    table = template["Resources"]["IdempotencyTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_topic_is_kms_encrypted_and_publishers_can_use_the_key(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    topic = resources["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "NotificationTopicKey"}
    key = resources["NotificationTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    service_grants = {
        service: set(as_list(statement["Action"]))
        for statement, _ in statements(key["KeyPolicy"])
        if statement["Effect"] == "Allow"
        for service in as_list(statement["Principal"].get("Service", []))
    }
    for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
        assert {"kms:GenerateDataKey*", "kms:Decrypt"} <= service_grants.get(service, set()), service
    # Every role that publishes to the topic can use its key: GenerateDataKey* and Decrypt, not only Encrypt.
    for role in [logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::IAM::Role"]:
        stmts = role_statements(template, role)
        publishes = [s for s, _ in stmts if "sns:Publish" in as_list(s["Action"])]
        if not publishes:
            continue
        assert all(topic_ref(s["Resource"]) for s in publishes), f"{role}: sns:Publish only on the topic"
        own_key = [s for s, _ in stmts if s.get("Resource") == {"Fn::GetAtt": ["NotificationTopicKey", "Arn"]}]
        existing_key = [s for s, _ in stmts if s.get("Resource") == {"Ref": "ExistingTopicKmsKeyArn"}]
        for found in (own_key, existing_key):
            assert found and {"kms:GenerateDataKey*", "kms:Decrypt"} <= {
                a for s in found for a in as_list(s["Action"])
            }, role


# --------------------------------------------------------------------------- roles


def test_every_function_has_its_own_role(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for logical_id, function in functions.items():
        role = role_id(function, template)
        if role is None:
            # SAM then generates one role per function from Policies; they must not be managed policies.
            for policy in as_list(function["Properties"].get("Policies", [])):
                assert not isinstance(policy, str), f"{logical_id}: managed policy {policy} is not least privilege"
            continue
        assert role not in seen, f"{logical_id} shares role {role} with {seen[role]}"
        seen[role] = logical_id
        assert not template["Resources"][role]["Properties"].get("ManagedPolicyArns"), f"{role}: no managed policies"
        trust = template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
        principals = [s["Principal"] for s, _ in statements(trust)]
        assert principals == [{"Service": "lambda.amazonaws.com"}], f"{role}: only Lambda may assume it"


def test_no_wildcard_actions_anywhere(template: dict[str, Any]) -> None:
    """No Allow statement anywhere grants Action "*" or uses NotAction; roles get no service-wide "svc:*"."""
    for node in walk(template["Resources"]):
        if isinstance(node, dict) and "Statement" in node:
            for statement, _ in statements(node):
                if statement.get("Effect") != "Allow":
                    continue
                assert "NotAction" not in statement, statement
                assert "*" not in as_list(statement["Action"]), statement
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            for statement, _ in role_statements(template, logical_id):
                for action in as_list(statement["Action"]):
                    assert not action.endswith(":*"), f"{logical_id}: {action}"
    # The one service-wide grant in the template is the standard key-policy statement that lets the
    # account (through IAM) administer its own key; it is a key policy, not a role.


def test_resource_star_only_for_actions_without_resource_types(template: dict[str, Any]) -> None:
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for statement, _ in role_statements(template, logical_id):
            if statement["Effect"] != "Allow":
                continue
            assert "NotResource" not in statement
            if "*" in as_list(statement["Resource"]):
                extra = set(as_list(statement["Action"])) - set(STAR_RESOURCE_ALLOWED)
                assert not extra, f"{logical_id}: {sorted(extra)} on Resource '*' but they support resource ARNs"


def test_star_allowlist_matches_service_authorization_reference() -> None:
    """The allowlist above is checked against the Service Authorization Reference snapshot cfn-lint ships."""
    import importlib.resources

    try:
        data = json.loads(
            importlib.resources.files("cfnlint.data.AdditionalSpecs").joinpath("Policies.json").read_text()
        )
    except ModuleNotFoundError:
        pytest.skip("cfn-lint is not installed in this environment")
    for action in STAR_RESOURCE_ALLOWED:
        service, name = action.split(":")
        entry = data[service]["Actions"][name.lower()]
        assert not entry.get("Resources"), (
            f"{action} supports {entry['Resources']}: scope it and drop it from the allowlist"
        )


def test_register_task_definition_role_scopes(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    role = role_id(functions["RegisterTaskDefinitionFunction"], template)
    assert role is not None
    stmts = role_statements(template, role)
    assert set(CONDITIONAL_ACTIONS) <= allowed_actions(stmts)
    conditions = template["Conditions"]
    for statement, path in stmts:
        for action in as_list(statement["Action"]):
            if statement["Effect"] == "Allow" and action in CONDITIONAL_ACTIONS:
                parameter, value = CONDITIONAL_ACTIONS[action]
                positive = [name for name in path if not name.startswith("!")]
                assert positive, f"{action} must be granted only under a condition on {parameter}"
                assert any(conditions[name] == {"Fn::Equals": [{"Ref": parameter}, value]} for name in positive), action
    tagging = [s for s, _ in stmts if "ecs:TagResource" in as_list(s["Action"])]
    assert tagging and all(
        as_list(s["Action"]) == ["ecs:TagResource"]
        and s["Condition"] == {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}
        for s in tagging
    ), "ecs:TagResource only to tag the revision ecsguard registers, never an existing resource"
    pass_role = [s for s, _ in stmts if "iam:PassRole" in as_list(s["Action"])]
    assert pass_role and all(
        s["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}} for s in pass_role
    )
    log_groups = [s for s, _ in stmts if "logs:CreateLogGroup" in as_list(s["Action"])]
    assert [s["Resource"] for s in log_groups] == [
        {"Fn::Sub": "arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*"}
    ], "any region: awslogs-region may differ from the stack's"
    own_logs = [s for s, _ in stmts if "logs:PutLogEvents" in as_list(s["Action"])]
    assert [s["Resource"] for s in own_logs] == [{"Fn::GetAtt": ["RegisterTaskDefinitionLogGroup", "Arn"]}]
    log_group = template["Resources"]["RegisterTaskDefinitionLogGroup"]["Properties"]
    assert log_group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${RegisterTaskDefinitionFunction}"}
    assert "RetentionInDays" in log_group


def test_run_task_role_scopes(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    role = role_id(functions["RunTaskFunction"], template)
    assert role is not None and role != role_id(functions["RegisterTaskDefinitionFunction"], template)
    stmts = role_statements(template, role)
    assert not set(CONDITIONAL_ACTIONS) & allowed_actions(stmts), "the launch flow never migrates secrets"
    task_scope = {"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/*"}
    for action in ("ecs:StopTask", "ecs:DescribeTasks"):
        granted = [s for s, _ in stmts if action in as_list(s["Action"])]
        assert granted and all(s["Resource"] == task_scope for s in granted), f"{action}: only tasks of this account"
    star = {a for s, _ in stmts if "*" in as_list(s["Resource"]) for a in as_list(s["Action"])}
    assert star == {  # none of these has a resource type in the Service Authorization Reference
        "ecs:DescribeTaskDefinition",
        "ec2:DescribeSubnets",
        "ec2:DescribeRouteTables",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeSecurityGroups",
        "ecr:DescribePullThroughCacheRules",
    }
    own_logs = [s for s, _ in stmts if "logs:PutLogEvents" in as_list(s["Action"])]
    assert [s["Resource"] for s in own_logs] == [{"Fn::GetAtt": ["RunTaskLogGroup", "Arn"]}]
    log_group = template["Resources"]["RunTaskLogGroup"]["Properties"]
    assert log_group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${RunTaskFunction}"}
    assert "RetentionInDays" in log_group
    alarmed = {
        r["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("MetricName") == "Errors"
    }
    assert alarmed == set(functions), "an Errors alarm for every function"


def test_run_task_rule_pattern(rules: list[Rule]) -> None:
    [rule] = [r for r in rules if r.function == "RunTaskFunction"]
    assert rule.pattern == {
        "source": ["aws.ecs"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["ecs.amazonaws.com"],
            "errorCode": [{"exists": False}],
            "$or": [
                {"eventName": ["RunTask", "StartTask", "CreateService"]},
                {
                    "eventName": ["UpdateService"],
                    "requestParameters": {
                        "$or": [
                            {"taskDefinition": [{"exists": True}]},
                            {"networkConfiguration": {"awsvpcConfiguration": {"subnets": [{"exists": True}]}}},
                            {"capacityProviderStrategy": {"capacityProvider": [{"exists": True}]}},
                        ]
                    },
                },
            ],
        },
    }


# --------------------------------------------------------------------------- events vs rules

EVENT_FILES = sorted(EVENTS.glob("*/*.json"))


def _expects_no_match(path: Path) -> bool:
    return path.name.startswith(("failed-call", "not-ours"))


def test_events_exist_for_every_rule(rules: list[Rule]) -> None:
    assert rules, "the template has no EventBridge rule"
    for rule in rules:
        assert rule.folder, f"{rule.name} targets no function of this template"
        positives = [p for p in EVENTS.glob(f"{rule.folder}/*.json") if not _expects_no_match(p)]
        assert positives, f"events/{rule.folder}/ has no event for {rule.name}"


@pytest.mark.parametrize("path", EVENT_FILES, ids=[str(p.relative_to(EVENTS)) for p in EVENT_FILES])
def test_event_matches_exactly_its_functions_rule(path: Path, rules: list[Rule], functions: dict[str, Any]) -> None:
    folders = {function_folder(function) for function in functions.values()}
    assert path.parent.name in folders, (
        f"events/{path.parent.name}/ does not name a function folder ({sorted(folders)})"
    )
    event = json.loads(path.read_text(encoding="utf-8"))
    matched = {rule.name for rule in rules if EventPattern.load(json.dumps(rule.pattern)).matches_event(event)}
    if _expects_no_match(path):
        assert matched == set(), f"{path.name} must match no rule"
    else:
        expected = {rule.name for rule in rules if rule.folder == path.parent.name}
        assert matched == expected


@pytest.mark.parametrize("path", EVENT_FILES, ids=[str(p.relative_to(EVENTS)) for p in EVENT_FILES])
def test_project_matcher_agrees_with_moto(path: Path, rules: list[Rule]) -> None:
    # The CLI's own matcher (ecsguard deliver). Skipped only while ecsguard/rules.py does not exist.
    ecsguard_rules = pytest.importorskip("ecsguard.rules", reason="ecsguard/rules.py not written yet")
    event = json.loads(path.read_text(encoding="utf-8"))
    for rule in rules:
        reference = EventPattern.load(json.dumps(rule.pattern)).matches_event(event)
        assert ecsguard_rules.matches(rule.pattern, event) == reference, rule.name


# --------------------------------------------------------------------------- settings and docs


# Older names the core still honours; the template sets only the current name.
ALIASES = {"ECSGUARD_IDEMPOTENCY_TABLE": "ECSGUARD_STATE_TABLE"}


def test_every_setting_the_core_reads_is_set(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    read = set(re.findall(r"ECSGUARD_[A-Z_]+", POLICY_PY.read_text(encoding="utf-8"))) - set(ALIASES)
    assert read, f"no ECSGUARD_* variable found in {POLICY_PY}"
    assert set(ALIASES.values()) <= read
    for logical_id, function in functions.items():
        env = effective_environment(template, function)
        assert read <= set(env), f"{logical_id} misses {sorted(read - set(env))}"
        assert not set(ALIASES) & set(env), f"{logical_id} sets an old variable name"
        assert env["POWERTOOLS_SERVICE_NAME"] == "ecsguard"
        assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
        assert topic_ref(env["ECSGUARD_TOPIC_ARN"])
        assert env["ECSGUARD_STATE_TABLE"] == {"Ref": "IdempotencyTable"}


def test_parameters_are_complete(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    grouped = [
        name
        for group in template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        for name in group["Parameters"]
    ]
    assert sorted(grouped) == sorted(parameters), "every parameter in exactly one ParameterGroup"
    for name, parameter in parameters.items():
        assert parameter.get("Description"), name
        assert "Default" in parameter, name
        if parameter["Type"] == "String" and "AllowedValues" not in parameter:
            assert "AllowedPattern" in parameter, f"{name}: AllowedValues or AllowedPattern"
            assert re.fullmatch(parameter["AllowedPattern"], str(parameter["Default"])), (
                f"{name}: default fails its pattern"
            )
    assert parameters["LogRetentionDays"]["AllowedValues"] == CLOUDWATCH_RETENTION_DAYS
    assert parameters["LogRetentionDays"]["Default"] == 30
    policy_source = POLICY_PY.read_text(encoding="utf-8")
    policy_retention = re.search(r"LOG_RETENTION_DAYS = \(([^)]*)\)", policy_source)
    assert policy_retention, "LOG_RETENTION_DAYS not found in policy.py"
    assert [int(x) for x in re.findall(r"\d+", policy_retention.group(1))] == CLOUDWATCH_RETENTION_DAYS
    assert parameters["SecretNamePrefix"]["Default"] == "ecsguard/"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("", True),
        ("plaintext-secret=block", True),
        ("plaintext-secret=block,logging-disabled=off", True),
        ("log-group-missing = remediate, logging-disabled=notify", True),
        ("plaintext-secret=loud", False),
        ("plaintext-secret", False),
        ("plaintext-secret=block,", False),
    ],
)
def test_check_modes_pattern(template: dict[str, Any], value: str, valid: bool) -> None:
    pattern = template["Parameters"]["CheckModes"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is valid


def _doc_table() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in PARAMETERS_DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = [cell.lower() for cell in cells]
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        row = dict(zip(header, cells, strict=False))
        rows[row["parameter"].strip("`")] = row
    return rows


def test_every_parameter_is_documented(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    documented = _doc_table()
    parameters = template["Parameters"]
    assert sorted(documented) == sorted(parameters), "docs/parameters.md lists exactly the template's parameters"
    env: dict[str, Any] = {}
    for function in functions.values():
        env.update(effective_environment(template, function))
    for name, parameter in parameters.items():
        row = documented[name]
        shown = row["default"].strip("`")
        expected = str(parameter["Default"]) if parameter["Default"] != "" else "(empty)"
        assert shown == expected, f"{name}: docs say default {shown!r}, template has {expected!r}"
        variables = sorted(var for var, value in env.items() if any(node == {"Ref": name} for node in walk(value)))
        shown_variables = sorted(re.findall(r"[A-Z][A-Z0-9_]+", row["environment variable"]))
        assert shown_variables == variables, f"{name}: docs say {shown_variables}, template sets {variables}"


# --------------------------------------------------------------------------- StackSets


def test_packaged_template_becomes_plain_cloudformation_for_stacksets(
    sam: str, sam_env: dict[str, str], tmp_path: Path
) -> None:
    """scripts/to_cloudformation.py: the SAM transform done offline, region-agnostic, as StackSets need."""
    packaged = load_template()
    for resource in packaged["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = "s3://ecsguard-artifacts/function.zip"
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = "s3://ecsguard-artifacts/layer.zip"
    source = tmp_path / "packaged.json"
    source.write_text(json.dumps(packaged))
    python = str(Path(sam).parent / "python")
    env = {k: v for k, v in sam_env.items() if k not in ("AWS_DEFAULT_REGION", "AWS_REGION")}
    result = subprocess.run(
        [python, str(ROOT / "scripts" / "to_cloudformation.py"), str(source)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    plain = json.loads(result.stdout)
    assert "Transform" not in plain
    types = {resource["Type"] for resource in plain["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::Serverless::")}
    assert {"AWS::Lambda::Function", "AWS::Lambda::LayerVersion", "AWS::Events::Rule", "AWS::SNS::Topic"} <= types
    assert "us-east-1" not in result.stdout  # one template for every region of the StackSet


def test_task_stopped_role_scopes(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    role = role_id(functions["TaskStoppedFunction"], template)
    assert role is not None and role not in {
        role_id(functions[f], template) for f in ("RegisterTaskDefinitionFunction", "RunTaskFunction")
    }
    stmts = role_statements(template, role)
    allowed = allowed_actions(stmts)
    # The diagnosis never changes a definition, a task, a role or a secret: it creates log groups, at most.
    assert not {a for a in allowed if a.startswith(("iam:", "secretsmanager:", "ssm:"))}
    assert not {"ecs:StopTask", "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition"} & allowed
    log_groups = [s for s, _ in stmts if "logs:CreateLogGroup" in as_list(s["Action"])]
    assert [s["Resource"] for s in log_groups] == [
        {"Fn::Sub": "arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*"}
    ], "any region: awslogs-region may differ from the stack's"
    own_logs = [s for s, _ in stmts if "logs:PutLogEvents" in as_list(s["Action"])]
    assert [s["Resource"] for s in own_logs] == [{"Fn::GetAtt": ["TaskStoppedLogGroup", "Arn"]}]


def test_task_stopped_rule_pattern(rules: list[Rule]) -> None:
    [rule] = [r for r in rules if r.function == "TaskStoppedFunction"]
    assert rule.pattern == {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {"lastStatus": ["STOPPED"]},
    }


# --------------------------------------------------------------------------- sweep: function, state machine, schedule

LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
STAND_INS = {
    "AWS::Partition": "aws",
    "SweepFunction.Arn": "arn:aws:lambda:eu-west-1:123456789012:function:ecsguard-SweepFunction",
    "SweepMaxConcurrency": "4",
}


def state_machine_definition(template: dict[str, Any], stand_ins: dict[str, str] = STAND_INS) -> str:
    """The sweep state machine's ASL, its ${...} replaced the way CloudFormation's Fn::Sub does."""
    body = template["Resources"]["SweepStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    assert isinstance(body, str), "DefinitionString: !Sub with a plain string (no variable map)"
    names = set(re.findall(r"\$\{([^}!]+)\}", body))
    for name in names:
        assert name.startswith("AWS::") or name.split(".")[0] in template["Resources"] or name in template["Parameters"]
    return re.sub(r"\$\{([^}!]+)\}", lambda m: stand_ins[m.group(1)], body)


def _tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        if state["Type"] == "Map":
            yield from _tasks(state["ItemProcessor"]["States"])


def test_sweep_function(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    properties = functions["SweepFunction"]["Properties"]
    assert properties["CodeUri"] == "functions/sweep/" and properties["Handler"] == "app.lambda_handler"
    assert properties["Timeout"] == 900  # one page per invocation, within Lambda's 15 minutes
    assert "Events" not in properties, "the schedule starts the state machine, not the function"
    env = effective_environment(template, functions["SweepFunction"])
    settings = {
        "ECSGUARD_SWEEP_PAGE_SIZE": "SweepPageSize",
        "ECSGUARD_SWEEP_CONCURRENCY": "SweepConcurrency",
        "ECSGUARD_SWEEP_ALL_REVISIONS": "SweepAllRevisions",
        "ECSGUARD_SECURITY_HUB": "SecurityHubImport",
        "ECSGUARD_CHAT_FORMAT": "ChatNotifications",
    }
    for variable, parameter in settings.items():
        assert env[variable] == {"Ref": parameter}, variable
    parameters = template["Parameters"]
    assert parameters["SweepSchedule"]["Default"] == "rate(1 day)"
    assert parameters["SweepMaxConcurrency"]["Default"] == 4
    assert parameters["SweepPageSize"]["Default"] == 200
    assert parameters["SweepConcurrency"]["Default"] == 8
    for name in ("SweepAllRevisions", "SecurityHubImport", "ChatNotifications"):
        assert parameters[name]["Default"] == "false" and sorted(parameters[name]["AllowedValues"]) == ["false", "true"]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("", True),
        ("rate(1 day)", True),
        ("rate(12 hours)", True),
        ("cron(0 3 * * ? *)", True),
        ("daily", False),
        ("rate(1 week)", False),
        ("rate(1 day", False),
    ],
)
def test_sweep_schedule_pattern(template: dict[str, Any], value: str, valid: bool) -> None:
    assert bool(re.fullmatch(template["Parameters"]["SweepSchedule"]["AllowedPattern"], value)) is valid


def test_sweep_schedule_starts_the_state_machine(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert template["Conditions"]["HasSweepSchedule"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SweepSchedule"}, ""]}]}
    rule = resources["SweepScheduleRule"]
    assert rule["Condition"] == "HasSweepSchedule"  # empty schedule: no rule, no role
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "SweepSchedule"}
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": "SweepStateMachine"}
    assert target["RoleArn"] == {"Fn::GetAtt": ["SweepScheduleRole", "Arn"]}
    role = resources["SweepScheduleRole"]
    assert role["Condition"] == "HasSweepSchedule"
    trust = [s["Principal"] for s, _ in statements(role["Properties"]["AssumeRolePolicyDocument"])]
    assert trust == [{"Service": "events.amazonaws.com"}]
    stmts = role_statements(template, "SweepScheduleRole")
    assert [(as_list(s["Action"]), s["Resource"]) for s, _ in stmts] == [
        (["states:StartExecution"], {"Ref": "SweepStateMachine"})
    ]


def test_sweep_state_machine_is_valid_asl(template: dict[str, Any]) -> None:
    """The definition parses with the Amazon States Language parser moto ships (LocalStack's grammar)."""
    parser = pytest.importorskip("moto.stepfunctions.parser.asl.parse.asl_parser")
    definition = state_machine_definition(template)
    parser.AmazonStateLanguageParser.parse(definition)
    with pytest.raises(parser.ASLParserException):  # the parser really validates: a wrong Map mode fails
        parser.AmazonStateLanguageParser.parse(definition.replace('"DISTRIBUTED"', '"DISTRIBUTE"'))


def test_sweep_state_machine_plan_map_digest(template: dict[str, Any]) -> None:
    machine = json.loads(state_machine_definition(template))
    states = machine["States"]
    assert machine["StartAt"] == "Plan"

    # Every Next / Default / Catch target exists (the ASL parser does not check them).
    def targets(states: dict[str, Any]) -> Iterator[str]:
        for state in states.values():
            yield from [state[key] for key in ("Next", "Default") if key in state]
            yield from (choice["Next"] for choice in state.get("Choices", []))
            yield from (catch["Next"] for catch in state.get("Catch", []))

    assert set(targets(states)) <= set(states)
    # Plan: {"action": "plan"} -> {"pages": [[arn, ...], ...], "run": id}
    plan = states["Plan"]
    assert plan["Parameters"]["Payload"] == {"action": "plan"}
    assert plan["ResultSelector"] == {"pages.$": "$.Payload.pages", "run.$": "$.Payload.run"}
    assert plan["Next"] == "Sweep"
    # The Distributed Map over the pages, bounded by SweepMaxConcurrency.
    sweep = states["Sweep"]
    assert sweep["Type"] == "Map" and sweep["ItemsPath"] == "$.pages"
    assert sweep["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert sweep["MaxConcurrency"] == 4  # the stand-in for ${SweepMaxConcurrency}: a number, not a string
    assert (
        "${SweepMaxConcurrency},"
        in template["Resources"]["SweepStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    )
    assert sweep["ItemSelector"] == {"action": "page", "run.$": "$.run", "arns.$": "$$.Map.Item.Value"}
    assert sweep["ResultPath"] is None  # the page outcomes live in the state table (256 KiB payload limit)
    [page] = sweep["ItemProcessor"]["States"].values()
    assert page["Parameters"]["Payload.$"] == "$" and page["OutputPath"] is None and page["End"] is True
    # A failed page still gets a digest, then fails the execution (which alarms).
    assert sweep["Next"] == "Digest"
    assert sweep["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Digest"}]
    digest = states["Digest"]
    assert digest["Parameters"]["Payload"] == {
        "action": "digest",
        "run.$": "$.run",
        "pages.$": "States.ArrayLength($.pages)",
    }
    outcome = states[digest["Next"]]
    assert outcome["Choices"] == [{"Variable": "$.failure", "IsPresent": True, "Next": "PagesFailed"}]
    assert states["PagesFailed"]["Type"] == "Fail" and states[outcome["Default"]]["Type"] == "Succeed"
    # Every task invokes the sweep function, retrying Lambda's own errors with jittered exponential backoff.
    tasks = dict(_tasks(states))
    assert set(tasks) == {"Plan", "Page", "Digest"}
    for name, task in tasks.items():
        assert task["Resource"] == "arn:aws:states:::lambda:invoke", name
        assert task["Parameters"]["FunctionName"] == STAND_INS["SweepFunction.Arn"], name
        [service, aws] = task["Retry"]
        assert set(service["ErrorEquals"]) == LAMBDA_SERVICE_ERRORS, name
        assert service["BackoffRate"] > 1 and service["MaxAttempts"] >= 3 and service["JitterStrategy"] == "FULL"
        assert "ThrottlingException" in aws["ErrorEquals"] and aws["BackoffRate"] > 1, name
        assert "States.ALL" not in service["ErrorEquals"] + aws["ErrorEquals"], "a bad configuration is not retried"


def test_sweep_state_machine_role(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    machine = resources["SweepStateMachine"]["Properties"]
    assert machine["RoleArn"] == {"Fn::GetAtt": ["SweepStateMachineRole", "Arn"]}
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False  # ARNs only, but no payloads in logs
    role = resources["SweepStateMachineRole"]["Properties"]
    trust = [s["Principal"] for s, _ in statements(role["AssumeRolePolicyDocument"])]
    assert trust == [{"Service": "states.amazonaws.com"}]
    grants = {
        action: statement["Resource"]
        for statement, _ in role_statements(template, "SweepStateMachineRole")
        for action in as_list(statement["Action"])
    }
    machine_name = "${SweepStateMachine.Name}"
    assert grants == {
        "lambda:InvokeFunction": {"Fn::GetAtt": ["SweepFunction", "Arn"]},  # the sweep function, nothing else
        # The Distributed Map's child executions (Step Functions: "IAM policies for using Distributed Map states").
        "states:StartExecution": {"Ref": "SweepStateMachine"},
        "states:DescribeExecution": {
            "Fn::Sub": f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{machine_name}:*"
        },
        "states:StopExecution": {
            "Fn::Sub": f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{machine_name}:*"
        },
        # Execution logging to CloudWatch Logs (vended log delivery; no resource type).
        **{
            action: "*"
            for action in (
                "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            )
        },
    }  # fmt: skip
    # The first scheduled run finds the child-execution permissions in place.
    assert resources["SweepScheduleRule"]["DependsOn"] == "SweepStateMachineDistributedMapPolicy"


def test_sweep_and_state_machine_failures_alarm(template: dict[str, Any]) -> None:
    alarms = {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    executions = alarms["SweepExecutionsFailedAlarm"]
    watched = {
        m["MetricStat"]["Metric"]["MetricName"]
        for m in executions["Metrics"]
        if "MetricStat" in m
        and m["MetricStat"]["Metric"]["Dimensions"]
        == [{"Name": "StateMachineArn", "Value": {"Ref": "SweepStateMachine"}}]
    }
    assert watched == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    assert [m for m in executions["Metrics"] if m["ReturnData"]] == [
        {"Id": "unfinished", "Expression": "failed + timedout + aborted", "ReturnData": True}
    ]
    assert alarms["SweepErrorsAlarm"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "SweepFunction"}}]


def test_security_hub_only_when_enabled(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    """securityhub:* only under SecurityHubImport=true, on this account's product and hub, for registration and sweep."""
    assert template["Conditions"]["ImportToSecurityHub"] == {"Fn::Equals": [{"Ref": "SecurityHubImport"}, "true"]}
    expected = {
        "securityhub:BatchImportFindings": {
            "Fn::Sub": "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:product/${AWS::AccountId}/default"
        },
        "securityhub:BatchUpdateFindings": {
            "Fn::Sub": "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:hub/default"
        },
        "securityhub:GetFindings": {
            "Fn::Sub": "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:hub/default"
        },
    }
    for function_id in functions:
        role = role_id(functions[function_id], template)
        assert role is not None
        found = {
            action: (statement["Resource"], path)
            for statement, path in role_statements(template, role)
            for action in as_list(statement["Action"])
            if action.startswith("securityhub:")
        }
        if function_id not in ("RegisterTaskDefinitionFunction", "SweepFunction"):
            assert not found, function_id
            continue
        assert {action: resource for action, (resource, _) in found.items()} == expected, function_id
        assert all(path == ("ImportToSecurityHub",) for _, path in found.values()), function_id


# --------------------------------------------------------------------------- Serverless Application Repository

PYPROJECT = ROOT / "pyproject.toml"


def test_serverless_application_repository_metadata(template: dict[str, Any]) -> None:
    import tomllib

    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    application = template["Metadata"]["AWS::ServerlessRepo::Application"]
    assert set(application) >= {
        "Name", "Description", "Author", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl", "Labels", "HomePageUrl",
        "SemanticVersion", "SourceCodeUrl",
    }  # fmt: skip
    assert application["Name"] == project["name"]
    assert application["SemanticVersion"] == project["version"], "SAR version and package version must agree"
    assert re.fullmatch(r"\d+\.\d+\.\d+", application["SemanticVersion"])  # SAR accepts semantic versions only
    assert application["SpdxLicenseId"] == project["license"]
    # sam package uploads these local files: they must exist, and the licence be the one named.
    license_text = (ROOT / application["LicenseUrl"]).read_text(encoding="utf-8")
    assert "Apache License" in license_text and "Version 2.0" in license_text
    assert (ROOT / application["ReadmeUrl"]).is_file()
    # SAR limits: name 140 chars, description 256, up to 10 labels of 1-127 chars [a-zA-Z0-9+-_:/@].
    assert len(application["Name"]) <= 140 and len(application["Description"]) <= 256
    assert 1 <= len(application["Labels"]) <= 10
    assert all(re.fullmatch(r"[a-zA-Z0-9+\-_:/@]{1,127}", label) for label in application["Labels"])
    for key in ("HomePageUrl", "SourceCodeUrl"):
        assert application[key].startswith("https://"), key


def test_sweep_role_never_changes_a_definition_a_task_or_a_role(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    """A sweep runs over revisions in production: it notifies for block and the secret migration, and at most
    creates missing log groups (flows.sweep.act)."""
    role = role_id(functions["SweepFunction"], template)
    allowed = allowed_actions(role_statements(template, role))
    forbidden = {
        "ecs:DeregisterTaskDefinition",
        "ecs:RegisterTaskDefinition",
        "ecs:DeleteTaskDefinitions",
        "ecs:StopTask",
        "iam:PassRole",
        "iam:PutRolePolicy",
        "secretsmanager:CreateSecret",
        "ssm:PutParameter",
    }
    assert not forbidden & allowed
    assert {"logs:CreateLogGroup", "sns:Publish", "ecs:ListTaskDefinitions", "tag:GetResources"} <= allowed
