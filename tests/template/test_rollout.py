"""Organization rollout: the central-topic template, the plain CloudFormation for StackSets, docs/rollout.md.

What can be tested offline is: every template under templates/ and the transformed template pass cfn-lint;
the transform output is plain CloudFormation (no SAM transform, no local path, no region baked in); the
central topic's policies allow exactly the organization's (or the listed accounts') publishers and deploy
(moto); every `aws` command, option and stack parameter that docs/rollout.md names exists.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from test_template import as_list, load_template, sam, sam_env, statements  # noqa: F401 (sam, sam_env: fixtures)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").glob("*.yaml"))
CENTRAL = ROOT / "templates" / "central-topic.yaml"
ROLLOUT = ROOT / "docs" / "rollout.md"


@pytest.fixture(scope="module")
def cfn_lint(sam: str) -> str:  # noqa: F811
    path = Path(sam).with_name("cfn-lint")
    if not path.exists():
        pytest.skip(f"no cfn-lint next to {sam}")
    return str(path)


# --------------------------------------------------------------------------- cfn-lint


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_templates_pass_cfn_lint(path: Path, cfn_lint: str, sam_env: dict[str, str]) -> None:  # noqa: F811
    result = subprocess.run(
        [cfn_lint, "--include-checks", "I", "--", str(path)],
        cwd=ROOT, env=sam_env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def transformed(sam: str, sam_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:  # noqa: F811
    """template.yaml as `sam package` leaves it (code in S3), through scripts/to_cloudformation.py."""
    packaged = load_template()
    for resource in packaged["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = "s3://ecsguard-artifacts-eu-west-1/function.zip"
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = "s3://ecsguard-artifacts-eu-west-1/layer.zip"
    folder = tmp_path_factory.mktemp("stackset")
    source = folder / "packaged.json"
    source.write_text(json.dumps(packaged))
    env = {k: v for k, v in sam_env.items() if k not in ("AWS_DEFAULT_REGION", "AWS_REGION")}
    result = subprocess.run(
        [str(Path(sam).parent / "python"), str(ROOT / "scripts" / "to_cloudformation.py"), str(source)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    output = folder / "ecsguard-stackset.json"
    output.write_text(result.stdout)
    return output, result.stdout


def test_transformed_template_is_plain_cloudformation(transformed: tuple[Path, str]) -> None:
    _, text = transformed
    plain = json.loads(text)
    assert "Transform" not in plain
    types = {resource["Type"] for resource in plain["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::Serverless::")}
    assert {
        "AWS::Lambda::Function", "AWS::Lambda::LayerVersion", "AWS::Events::Rule", "AWS::SNS::Topic",
        "AWS::StepFunctions::StateMachine",
    } <= types  # fmt: skip
    for logical_id, resource in plain["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            code = resource["Properties"]["Code"]
            assert code["S3Bucket"] == "ecsguard-artifacts-eu-west-1" and "ZipFile" not in code, logical_id
        if resource["Type"] == "AWS::Lambda::LayerVersion":
            assert resource["Properties"]["Content"]["S3Bucket"] == "ecsguard-artifacts-eu-west-1", logical_id
    # No local path and no region: one template per code bucket serves every account of the StackSet.
    for local in ("functions/", "layers/ecsguard", str(ROOT)):
        assert local not in text, local
    assert not re.search(r"\b(us|eu|ap|sa|ca|me|af|il|mx)-(east|west|north|south|central|northeast|southeast)-\d\b",
                         text.replace("ecsguard-artifacts-eu-west-1", ""))  # fmt: skip
    # The metadata of the Serverless Application Repository and the parameters survive the transform.
    assert plain["Metadata"]["AWS::ServerlessRepo::Application"]["Name"] == "ecsguard"
    assert set(plain["Parameters"]) == set(load_template()["Parameters"])


def test_transformed_template_passes_cfn_lint(
    transformed: tuple[Path, str],
    cfn_lint: str,
    sam_env: dict[str, str],  # noqa: F811
) -> None:
    path, _ = transformed
    result = subprocess.run(
        [cfn_lint, "--include-checks", "I", "--", str(path)],
        cwd=ROOT, env=sam_env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- the central topic


@pytest.fixture(scope="module")
def central() -> dict[str, Any]:
    return load_template(CENTRAL)


def _allows(document: dict[str, Any]) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    return [(s, path) for s, path in statements(document) if s["Effect"] == "Allow"]


def test_central_topic_publishers_are_the_organization_or_the_listed_accounts(central: dict[str, Any]) -> None:
    resources = central["Resources"]
    assert central["Conditions"]["HasOrganization"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "OrganizationId"}, ""]}]}
    topic_policy = resources["TopicPolicy"]["Properties"]["PolicyDocument"]
    key_policy = resources["TopicKey"]["Properties"]["KeyPolicy"]
    org = {"Ref": "OrganizationId"}
    accounts = {"Ref": "MemberAccountIds"}
    expected_conditions = {
        # (principal, condition) -> the CloudFormation condition it exists under
        ("*", json.dumps({"aws:PrincipalOrgID": org})): "HasOrganization",
        ("*", json.dumps({"aws:PrincipalAccount": accounts})): "HasAccounts",
        ("cloudwatch.amazonaws.com", json.dumps({"aws:SourceOrgID": org})): "HasOrganization",
        ("cloudwatch.amazonaws.com", json.dumps({"aws:SourceAccount": accounts})): "HasAccounts",
    }
    for document, actions in ((topic_policy, {"sns:Publish"}), (key_policy, {"kms:GenerateDataKey*", "kms:Decrypt"})):
        found = {}
        for statement, path in _allows(document):
            principal = statement["Principal"]
            if principal == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}:
                continue  # the central account itself
            assert set(as_list(statement["Action"])) == actions, statement["Sid"]
            who = principal.get("AWS") or principal.get("Service")
            condition = dict(statement["Condition"]["StringEquals"])
            if document is key_policy and who == "*":
                # The key is used only through SNS in this region.
                assert condition.pop("kms:ViaService") == {"Fn::Sub": "sns.${AWS::Region}.amazonaws.com"}
            found[(who, json.dumps(condition))] = path
        assert found == {key: (name,) for key, name in expected_conditions.items()}, document
    # Publishing without TLS is refused, for everyone.
    [deny] = [s for s, _ in statements(topic_policy) if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert resources["Topic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "TopicKey"}
    assert resources["TopicKey"]["Properties"]["EnableKeyRotation"] is True
    # One of the two must be given (a CloudFormation rule refuses a stack nobody may publish to).
    assert "SomeoneMayPublish" in central["Rules"]


def test_central_topic_outputs_fit_the_member_parameters(central: dict[str, Any]) -> None:
    member = load_template()["Parameters"]
    outputs = central["Outputs"]
    assert outputs["TopicArn"]["Value"] == {"Ref": "Topic"}
    assert outputs["TopicKmsKeyArn"]["Value"] == {"Fn::GetAtt": ["TopicKey", "Arn"]}
    # The ARNs the outputs resolve to are accepted by the member stacks' parameters.
    topic = "arn:aws:sns:eu-west-1:111122223333:ecsguard-central"
    key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert re.fullmatch(member["ExistingTopicArn"]["AllowedPattern"], topic)
    assert re.fullmatch(member["ExistingTopicKmsKeyArn"]["AllowedPattern"], key)
    assert re.fullmatch(
        central["Parameters"]["TopicName"]["AllowedPattern"], central["Parameters"]["TopicName"]["Default"]
    )
    assert re.fullmatch(central["Parameters"]["OrganizationId"]["AllowedPattern"], "o-abcd123456")


def test_central_topic_deploys(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's CloudFormation creates the topic, its policy and key from the template; the outputs are real ARNs."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    import boto3

    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
        cloudformation.create_stack(
            StackName="ecsguard-central",
            TemplateBody=CENTRAL.read_text(encoding="utf-8"),
            Parameters=[
                {"ParameterKey": "OrganizationId", "ParameterValue": "o-abcd123456"},
                {"ParameterKey": "MemberAccountIds", "ParameterValue": "444455556666,777788889999"},
            ],
        )
        stack = cloudformation.describe_stacks(StackName="ecsguard-central")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert re.fullmatch(r"arn:aws:sns:eu-west-1:\d{12}:ecsguard-central", outputs["TopicArn"])
        assert re.fullmatch(r"arn:aws:kms:eu-west-1:\d{12}:key/[0-9a-f-]+", outputs["TopicKmsKeyArn"])
        attributes = boto3.client("sns", region_name="eu-west-1").get_topic_attributes(TopicArn=outputs["TopicArn"])
        assert attributes["Attributes"]["KmsMasterKeyId"]
        assert outputs["TopicKmsKeyArn"].endswith(attributes["Attributes"]["KmsMasterKeyId"].rpartition("/")[2])
        # moto's CloudFormation does not implement AWS::SNS::TopicPolicy (it warns and skips it) and keeps the key
        # policy unparsed (describe_key fails on it): both policies are tested on the template above, not here.


# --------------------------------------------------------------------------- docs/rollout.md


def _aws_commands(text: str) -> list[list[str]]:
    """Every `aws <service> <command> ...` of the page's bash blocks, continuation lines joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if line.startswith("aws "):
                commands.append(shlex.split(line, comments=True))
    return commands


def _kebab_to_camel(option: str) -> str:
    return "".join(part.capitalize() for part in option.split("-"))


def test_rollout_commands_exist_in_the_aws_api() -> None:
    text = ROLLOUT.read_text(encoding="utf-8")
    commands = _aws_commands(text)
    names = {(c[1], c[2]) for c in commands}
    assert {
        ("cloudformation", "create-stack-set"), ("cloudformation", "create-stack-instances"),
        ("cloudformation", "update-stack-set"), ("serverlessrepo", "create-cloud-formation-change-set"),
    } <= names  # fmt: skip
    session = botocore.session.get_session()
    # Options of the AWS CLI itself or of its customized commands (not request members).
    cli_only = {"query", "output", "region", "profile", "template-file", "parameter-overrides", "stack-name"}
    aliases = {"notification-endpoint": "endpoint"}  # the CLI's name for Subscribe's Endpoint
    for command in commands:
        service, operation_name = {"s3api": "s3"}.get(command[1], command[1]), command[2]
        if (service, operation_name) == ("cloudformation", "deploy"):
            continue  # a CLI customization (package + change set), not an API operation
        model = session.get_service_model(service)
        operations = {botocore.xform_name(name, "-"): name for name in model.operation_names}
        assert operation_name in operations, f"aws {service} {operation_name}: no such operation"
        members = {name.lower() for name in model.operation_model(operations[operation_name]).input_shape.members}
        for token in command[3:]:
            if token.startswith("--"):
                option = token[2:].split("=", 1)[0]
                option = aliases.get(option, option)
                if option in cli_only and option.replace("-", "") not in members:
                    continue
                assert _kebab_to_camel(option).lower() in members, f"aws {service} {operation_name} --{option}"
    # Service-managed, auto-deployed, with the capability the template needs.
    [create] = [c for c in commands if c[1:3] == ["cloudformation", "create-stack-set"]]
    assert create[create.index("--permission-model") + 1] == "SERVICE_MANAGED"
    assert create[create.index("--auto-deployment") + 1] == "Enabled=true,RetainStacksOnAccountRemoval=false"
    assert "CAPABILITY_IAM" in create
    [instances] = [c for c in commands if c[1:3] == ["cloudformation", "create-stack-instances"]]
    assert instances[instances.index("--deployment-targets") + 1].startswith("OrganizationalUnitIds=")


def test_rollout_names_only_real_parameters_and_files() -> None:
    text = ROLLOUT.read_text(encoding="utf-8")
    member = set(load_template()["Parameters"])
    central = set(load_template(CENTRAL)["Parameters"])
    for name in re.findall(r"ParameterKey=(\w+)", text) + re.findall(r"Name=(\w+),Value=", text):
        assert name in member, name
    for name in re.findall(r"--parameter-overrides ((?:\w+=\S+ ?)+)", text):
        for pair in name.split():
            if not pair.startswith("Name="):  # serverlessrepo's Name=...,Value=... (checked above)
                assert pair.split("=")[0] in central | member, pair
    for path in ("templates/central-topic.yaml", "scripts/to_cloudformation.py", "LICENSE", "README.md"):
        assert path in text or path == "README.md"
        assert (ROOT / path).exists(), path
    # The version in the page's examples is the one the template publishes.
    version = load_template()["Metadata"]["AWS::ServerlessRepo::Application"]["SemanticVersion"]
    assert set(re.findall(r"--semantic-version (\S+)|SemanticVersion: (\S+)", text)) <= {(version, ""), ("", version)}
