"""IAM checks (mistake 4) on models, with facts from memory."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from ecsguard.checks import CheckContext, load_all
from ecsguard.checks.iam import broad_grants, parse_reference, role_name
from ecsguard.facts import PolicyDocument, RoleFacts, StaticFacts, Unknown
from ecsguard.model import parse_document, task_definitions_in

from conftest import CORPUS

ACCOUNT = "123456789012"
REGION = "us-east-1"
TD_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:3"
EXEC = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
TASK = f"arn:aws:iam::{ACCOUNT}:role/app-task"
ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:1.4.2"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-password-AbCdEf"
PARAM = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/api-key"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

CHECKS = load_all()


def awslogs(group="/ecs/app", **extra):
    return {"logDriver": "awslogs", "options": {"awslogs-group": group, "awslogs-region": REGION, **extra}}


def definition(containers, **task):
    task.setdefault("family", "app")
    return parse_document({"containerDefinitions": containers, **task})


def run(check_id, td, facts=None, region=REGION):
    return CHECKS[check_id].run(td, CheckContext(target=td.name, facts=facts, region=region))


def admin_policy(name="AdministratorAccess"):
    return PolicyDocument(
        name=name,
        document={"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        arn=f"arn:aws:iam::aws:policy/{name}",
        aws_managed=True,
    )


def inline(*statements, name="app"):
    return PolicyDocument(name=name, document={"Version": "2012-10-17", "Statement": list(statements)})


# ------------------------------------------------------------------------------------ metadata


def test_registered_with_their_metadata():
    expected = {
        "execution-role-missing": ("high", False),
        "task-role-is-execution-role": ("medium", False),
        "task-role-shared": ("low", True),
        "role-overprivileged": ("high", True),
        "secret-access-denied": ("high", True),
        "secret-reference-missing": ("high", True),
        "log-group-autocreate-denied": ("high", True),
    }
    for check_id, (severity, needs_facts) in expected.items():
        registered = CHECKS[check_id]
        assert (registered.severity, registered.needs_facts) == (severity, needs_facts), check_id
        assert registered.docs.startswith("https://docs.aws.amazon.com/")
        assert registered.mistake == (1 if check_id == "log-group-autocreate-denied" else 4)
    assert "iam-policy-no-statements-with-admin-access" in CHECKS["role-overprivileged"].config_rules
    assert "iam:SimulatePrincipalPolicy" in CHECKS["secret-access-denied"].aws_calls


def test_pure_checks_run_without_facts_and_the_others_are_skipped():
    from ecsguard.checks import run_checks

    td = definition(
        [{"name": "web", "image": ECR_IMAGE, "secrets": [{"name": "DB", "valueFrom": SECRET}]}],
        taskRoleArn=EXEC,
        executionRoleArn=EXEC,
        requiresCompatibilities=["FARGATE"],
    )
    ids = {f.check for f in run_checks(td, CheckContext(target="app"))}
    assert "task-role-is-execution-role" in ids
    assert not ids & {"task-role-shared", "role-overprivileged", "secret-access-denied", "secret-reference-missing"}


# ------------------------------------------------------------------------------------ execution-role-missing


def test_fargate_task_pulling_ecr_and_logging_needs_an_execution_role():
    td = definition(
        [
            {"name": "app", "image": ECR_IMAGE, "logConfiguration": {"logDriver": "awsfirelens"}},
            {
                "name": "log_router",
                "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
                "firelensConfiguration": {"type": "fluentbit"},
                "logConfiguration": awslogs("/ecs/firelens"),
            },
        ],
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        arn=None,
    )
    [finding] = run("execution-role-missing", td)
    assert finding.severity == "high" and finding.field == "executionRoleArn" and finding.container is None
    assert "container 'app' pulls a private ECR image" in finding.message
    assert "container 'log_router' sends logs with awslogs" in finding.message
    assert '"executionRoleArn": "arn:aws:iam::<account>:role/ecsTaskExecutionRole"' in finding.remediation
    assert finding.data["containers"] == ["app", "log_router"]


def test_on_ec2_the_instance_role_pulls_and_logs():
    td = definition(
        [{"name": "app", "image": ECR_IMAGE, "logConfiguration": awslogs()}], requiresCompatibilities=["EC2"]
    )
    assert run("execution-role-missing", td) == []
    # No requiresCompatibilities: ECS assumes EC2.
    assert run("execution-role-missing", definition([{"name": "app", "image": ECR_IMAGE}])) == []


@pytest.mark.parametrize("launch", ["EC2", "FARGATE"])
def test_secrets_registry_credentials_and_env_files_need_it_everywhere(launch):
    td = definition(
        [
            {"name": "api", "image": "nginx:1.27", "secrets": [{"name": "DB_PASSWORD", "valueFrom": SECRET}]},
            {
                "name": "private",
                "image": "registry.example.com/team/app:2",
                "repositoryCredentials": {"credentialsParameter": SECRET},
            },
            {
                "name": "env",
                "image": "nginx:1.27",
                "environmentFiles": [{"value": "arn:aws:s3:::b/app.env", "type": "s3"}],
            },
        ],
        requiresCompatibilities=[launch],
        taskDefinitionArn=TD_ARN,
    )
    [finding] = run("execution-role-missing", td)
    assert "container 'api' reads 1 secret in `secrets` (DB_PASSWORD)" in finding.message
    assert "repositoryCredentials" in finding.message and "environmentFiles" in finding.message
    assert f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole" in finding.remediation


@pytest.mark.parametrize("launch", ["EXTERNAL", "MANAGED_INSTANCES"])
def test_ecs_anywhere_and_managed_instances_pull_ecr_with_the_execution_role(launch):
    td = definition([{"name": "app", "image": ECR_IMAGE}], requiresCompatibilities=[launch])
    assert [f.container for f in run("execution-role-missing", td)] == ["app"]


def test_windows_on_fargate_and_a_placeholder_ecr_account_are_judged():
    td = definition(
        [{"name": "iis", "image": "${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com/iis:${TAG}"}],
        requiresCompatibilities=["FARGATE"],
        runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE", "cpuArchitecture": "X86_64"},
    )
    assert td.is_windows
    [finding] = run("execution-role-missing", td)
    assert "pulls a private ECR image" in finding.message


def test_nothing_to_fetch_a_role_placeholder_or_a_container_array_is_not_accused():
    public = definition(
        [{"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27", "logConfiguration": {"logDriver": "json-file"}}],
        requiresCompatibilities=["FARGATE"],
    )
    assert run("execution-role-missing", public) == []
    templated = definition(
        [{"name": "app", "image": ECR_IMAGE}], requiresCompatibilities=["FARGATE"], executionRoleArn="${EXEC_ROLE}"
    )
    assert run("execution-role-missing", templated) == []
    # The Terraform shape: container definitions only; the roles live in the aws_ecs_task_definition resource.
    array = parse_document([{"name": "app", "image": ECR_IMAGE, "secrets": [{"name": "X", "valueFrom": SECRET}]}])
    assert run("execution-role-missing", array) == []


# ------------------------------------------------------------------------------------ task-role-is-execution-role


def test_same_role_for_task_and_execution():
    td = definition([{"name": "app", "image": ECR_IMAGE}], taskRoleArn=EXEC, executionRoleArn=EXEC)
    [finding] = run("task-role-is-execution-role", td)
    assert finding.severity == "medium" and finding.field == "taskRoleArn"
    assert "same role 'ecsTaskExecutionRole'" in finding.message
    assert "role/app-task" in finding.remediation


def test_roles_compare_by_name_arn_or_bare_name_and_case():
    td = definition([{"name": "a", "image": "nginx"}], taskRoleArn="ECSTASKEXECUTIONROLE", executionRoleArn=EXEC)
    # A bare ALL_CAPS word is a placeholder, not a name: not judged.
    assert run("task-role-is-execution-role", td) == []
    td = definition([{"name": "a", "image": "nginx"}], taskRoleArn="ecstaskexecutionrole", executionRoleArn=EXEC)
    assert len(run("task-role-is-execution-role", td)) == 1
    with_path = definition(
        [{"name": "a", "image": "nginx"}],
        taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/service-role/ecsTaskExecutionRole",
        executionRoleArn="ecsTaskExecutionRole",
    )
    assert len(run("task-role-is-execution-role", with_path)) == 1


def test_different_missing_or_placeholder_roles_are_fine():
    for task, execution in (
        (TASK, EXEC),
        (None, EXEC),
        ("${task_role_arn}", "${task_role_arn}"),
        ("<taskRoleArn>", "<taskRoleArn>"),
        ("PLACEHOLDER_ROLE", "PLACEHOLDER_ROLE"),
    ):
        td = definition([{"name": "a", "image": "nginx"}], taskRoleArn=task, executionRoleArn=execution)
        assert run("task-role-is-execution-role", td) == [], (task, execution)
    # A placeholder only in the account still names the same role.
    same = "arn:aws:iam::{{must_env `AWS_ACCOUNT_ID`}}:role/ecsTaskRole"
    td = definition([{"name": "a", "image": "nginx"}], taskRoleArn=same, executionRoleArn=same)
    assert len(run("task-role-is-execution-role", td)) == 1


def test_role_name():
    assert role_name(EXEC) == "ecsTaskExecutionRole"
    assert role_name("arn:aws:iam::123456789012:role/a/b/c-role") == "c-role"
    assert role_name("arn:aws:iam::123456789012:user/bob") is None
    assert role_name("[your task definition execution role arn]") is None
    assert role_name("") is None and role_name(None) is None


# ------------------------------------------------------------------------------------ task-role-shared


def shared_td(task_role=TASK, family="app"):
    return definition(
        [{"name": "app", "image": ECR_IMAGE}],
        family=family,
        taskRoleArn=task_role,
        executionRoleArn=EXEC,
        taskDefinitionArn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:7",
    )


def test_role_used_by_other_families_is_reported_without_the_own_family():
    facts = StaticFacts(role_families={TASK: ["app", "orders", "billing"]})
    [finding] = run("task-role-shared", shared_td(), facts)
    assert finding.severity == "low" and finding.field == "taskRoleArn"
    assert "is also the task role of 2 other families ecsguard has seen (billing, orders)" in finding.message
    assert finding.data["families"] == ["billing", "orders"]
    assert "role/app-task" in finding.remediation


def test_only_the_own_family_or_no_task_role_is_fine():
    assert run("task-role-shared", shared_td(), StaticFacts(role_families={TASK: ["app"]})) == []
    assert run("task-role-shared", shared_td(), StaticFacts()) == []
    assert run("task-role-shared", shared_td(task_role=None), StaticFacts()) == []
    assert run("task-role-shared", shared_td(task_role="${TASK_ROLE}"), StaticFacts()) == []


def test_a_bare_role_name_is_looked_up_by_its_arn_and_many_families_are_cut_short():
    families = [f"svc-{i:02}" for i in range(14)]
    [finding] = run("task-role-shared", shared_td(task_role="app-task"), StaticFacts(role_families={TASK: families}))
    assert "14 other families" in finding.message and "and 4 more" in finding.message


def test_unknown_inventory_is_could_not_verify():
    [finding] = run("task-role-shared", shared_td(), StaticFacts(offline=True))
    assert finding.severity == "info" and finding.data["unverified"] is True
    assert "Could not verify whether task role 'app-task' is shared" in finding.message


# ------------------------------------------------------------------------------------ role-overprivileged


def roles_td(task=TASK, execution=EXEC):
    return definition(
        [{"name": "app", "image": ECR_IMAGE}], taskRoleArn=task, executionRoleArn=execution, taskDefinitionArn=TD_ARN
    )


EXECUTION_POLICY = PolicyDocument(
    name="AmazonECSTaskExecutionRolePolicy",
    arn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    aws_managed=True,
    document={
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                ],
                "Resource": "*",
            }
        ]
    },
)


def overprivileged(task_policies=(), execution_policies=(EXECUTION_POLICY,), **task_role):
    facts = StaticFacts(
        roles={
            TASK: RoleFacts(TASK, policies=tuple(task_policies), **task_role),
            EXEC: RoleFacts(EXEC, policies=tuple(execution_policies)),
        }
    )
    return run("role-overprivileged", roles_td(), facts)


def test_administrator_access_on_the_task_role_is_high():
    [finding] = overprivileged([admin_policy()])
    assert finding.severity == "high" and finding.field == "taskRoleArn"
    assert "The task role 'app-task' has administrator-like permissions" in finding.message
    assert "AWS managed policy AdministratorAccess" in finding.message
    assert finding.data["kind"] == "admin"


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["*"]},
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"},
        # A condition does not make "*" on "*" less than an administrator (as AWS Config and Prowler judge it).
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        },
    ],
)
def test_admin_statements(statement):
    [finding] = overprivileged([inline(statement)])
    assert finding.severity == "high" and "inline policy 'app'" in finding.message


def test_admin_on_the_execution_role_weighs_less():
    [finding] = overprivileged([], [EXECUTION_POLICY, admin_policy("PowerUserAccess")])
    assert finding.severity == "medium" and finding.field == "executionRoleArn"
    assert "anyone who may register a task definition with this role" in finding.message


def test_every_secret_on_the_task_role_is_medium():
    [finding] = overprivileged(
        [inline({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"})]
    )
    assert finding.severity == "medium" and finding.data["kind"] == "secrets"
    assert "may read every secret" in finding.message and "secretsmanager:GetSecretValue" in finding.message
    assert f"arn:aws:secretsmanager:<region>:{ACCOUNT}:secret:app/*" in finding.remediation


def test_every_secret_through_wildcards_and_service_wide_arns():
    [finding] = overprivileged(
        [
            inline(
                {"Effect": "Allow", "Action": "ssm:Get*", "Resource": "arn:aws:ssm:*:*:parameter/*"},
                {"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:us-east-1:123456789012:key/*"},
            )
        ]
    )
    assert "ssm:GetParameter, ssm:GetParameters, ssm:GetParametersByPath, kms:Decrypt" in finding.message


def test_narrowed_secret_reads_are_fine():
    narrowed = [
        # A condition narrows "*".
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}},
        },
        # Scoped to the service's own secrets.
        {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:*:*:secret:app/*",
        },
        # Every resource of another service is not every key.
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:secretsmanager:*:*:secret:*"},
        # Service wildcards of other services are not judged here.
        {"Effect": "Allow", "Action": ["s3:*", "dynamodb:*"], "Resource": "*"},
    ]
    assert overprivileged([inline(*narrowed)]) == []


def test_a_deny_takes_the_secret_reads_away():
    policies = [
        inline({"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}),
        inline({"Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}, name="guard"),
    ]
    assert overprivileged(policies) == []
    # A conditioned deny does not.
    policies[1] = inline(
        {
            "Effect": "Deny",
            "Action": "secretsmanager:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    assert len(overprivileged(policies)) == 1


def test_every_secret_on_the_execution_role_is_low_and_its_managed_policy_is_fine():
    assert overprivileged([]) == []
    [finding] = overprivileged(
        [], [EXECUTION_POLICY, inline({"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "*"})]
    )
    assert finding.severity == "low" and finding.field == "executionRoleArn"


def test_a_permissions_boundary_lowers_the_severity():
    [finding] = overprivileged([admin_policy()], permissions_boundary=f"arn:aws:iam::{ACCOUNT}:policy/boundary")
    assert finding.severity == "medium" and "permissions boundary (boundary)" in finding.message


def test_one_role_for_both_is_read_once():
    facts = StaticFacts(roles={EXEC: RoleFacts(EXEC, policies=(admin_policy(),))})
    [finding] = run("role-overprivileged", roles_td(task=EXEC), facts)
    assert finding.severity == "high" and "task and execution role" in finding.message


def test_unknown_or_missing_roles():
    [unverified] = run("role-overprivileged", roles_td(execution=None), StaticFacts())
    assert unverified.severity == "info" and "permissions of task role 'app-task'" in unverified.message
    missing = StaticFacts(roles={TASK: RoleFacts(TASK, exists=False), EXEC: RoleFacts(EXEC, exists=False)})
    assert run("role-overprivileged", roles_td(), missing) == []
    assert run("role-overprivileged", roles_td(task="${TASK_ROLE}", execution=None), StaticFacts()) == []


def test_broad_grants_reads_single_statement_documents():
    role = RoleFacts(
        TASK, policies=(PolicyDocument("p", {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),)
    )
    assert [g.kind for g in broad_grants(role)] == ["admin"]


# ------------------------------------------------------------------------------------ secret references


def test_parse_reference_forms():
    ref = parse_reference(f"{SECRET}:password:AWSCURRENT:", region=REGION, account=ACCOUNT)
    assert (ref.service, ref.name, ref.arn, ref.version_stage, ref.version_id) == (
        "secretsmanager",
        "app/db-password-AbCdEf",
        SECRET,
        "AWSCURRENT",
        None,
    )
    partial = parse_reference(
        f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:app/db", region=REGION, account=ACCOUNT
    )
    assert partial.arn is None and partial.region == "eu-west-1"
    param = parse_reference(PARAM, region=REGION, account=ACCOUNT)
    assert (param.service, param.name, param.arn) == ("ssm", "/app/api-key", PARAM)
    flat = parse_reference(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/api-key", region=REGION, account=ACCOUNT)
    assert flat.name == "api-key"
    for name, arn_tail in (
        ("/app/api-key", "parameter/app/api-key"),
        ("api-key", "parameter/api-key"),
        ("DB_PASSWORD", "parameter/DB_PASSWORD"),
    ):
        bare = parse_reference(name, region=REGION, account=ACCOUNT)
        assert (bare.service, bare.name, bare.arn) == ("ssm", name, f"arn:aws:ssm:{REGION}:{ACCOUNT}:{arn_tail}")
    assert (
        parse_reference("creds", region=REGION, account=ACCOUNT, bare_name_service="secretsmanager").service
        == "secretsmanager"
    )
    for value in ("${DB_SECRET_ARN}", "{{ secret }}", "<secret-arn>", "arn:aws:s3:::bucket/key", ""):
        assert parse_reference(value, region=REGION, account=ACCOUNT) is None


def refs_td(secrets, **container):
    return definition(
        [{"name": "api", "image": ECR_IMAGE, "secrets": secrets, **container}],
        executionRoleArn=EXEC,
        taskDefinitionArn=TD_ARN,
        requiresCompatibilities=["FARGATE"],
    )


def test_missing_secret_and_parameter_are_reported_by_name_and_region():
    td = refs_td(
        [
            {"name": "DB_PASSWORD", "valueFrom": f"{SECRET}:password::"},
            {"name": "API_KEY", "valueFrom": "/app/api-key"},
            {"name": "FLAG", "valueFrom": "feature-flag"},
        ]
    )
    facts = StaticFacts(secrets={SECRET, "feature-flag"})
    [finding] = run("secret-reference-missing", td, facts)
    assert finding.severity == "high" and (finding.container, finding.field) == ("api", "secrets.API_KEY")
    assert "SSM parameter '/app/api-key' in us-east-1, which does not exist" in finding.message
    assert "ResourceInitializationError" in finding.message


def test_log_secret_options_and_registry_credentials_are_references_too():
    td = definition(
        [
            {
                "name": "web",
                "image": "registry.example.com/web:1",
                "repositoryCredentials": {"credentialsParameter": "dockerhub-credentials"},
                "logConfiguration": {
                    "logDriver": "splunk",
                    "options": {"splunk-url": "https://splunk:8088"},
                    "secretOptions": [{"name": "splunk-token", "valueFrom": PARAM}],
                },
            }
        ],
        executionRoleArn=EXEC,
        taskDefinitionArn=TD_ARN,
    )
    fields = {f.field for f in run("secret-reference-missing", td, StaticFacts())}
    assert fields == {"repositoryCredentials.credentialsParameter", "logConfiguration.secretOptions.splunk-token"}


def test_unknown_existence_and_placeholders():
    td = refs_td([{"name": "A", "valueFrom": SECRET}, {"name": "B", "valueFrom": "${SECRET_ARN}"}])
    [finding] = run("secret-reference-missing", td, StaticFacts(offline=True))
    assert finding.severity == "info" and finding.field == "secrets.A" and finding.data["unverified"]


@dataclass
class MetadataFacts(StaticFacts):
    """StaticFacts with the richer secret metadata AwsFacts gives (KMS key, versions, deletion)."""

    metadata: dict | None = None

    def secret_metadata(self, value_from, region, *, service=None):
        from ecsguard.aws.iam import SecretMetadata

        for known, answer in (self.metadata or {}).items():
            if value_from.startswith(known):
                return answer if isinstance(answer, Unknown) else SecretMetadata(**answer)
        return SecretMetadata(service or "ssm", exists=False)


def test_deleted_secrets_and_missing_versions():
    td = refs_td(
        [
            {"name": "OLD", "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:old-QwErTy"},
            {"name": "STAGED", "valueFrom": f"{SECRET}:password:AWSPENDING:"},
        ]
    )
    facts = MetadataFacts(
        metadata={
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:old": {
                "service": "secretsmanager",
                "exists": True,
                "deleted": True,
            },
            SECRET: {
                "service": "secretsmanager",
                "exists": True,
                "arn": SECRET,
                "version_ids": frozenset({"v1"}),
                "version_stages": frozenset({"AWSCURRENT"}),
            },
        }
    )
    messages = {f.field: f.message for f in run("secret-reference-missing", td, facts)}
    assert "scheduled for deletion" in messages["secrets.OLD"]
    assert "has no version stage AWSPENDING" in messages["secrets.STAGED"]


# ------------------------------------------------------------------------------------ secret-access-denied


def test_allowed_reads_are_fine_and_denied_ones_are_high():
    td = refs_td(
        [{"name": "DB_PASSWORD", "valueFrom": f"{SECRET}:password::"}, {"name": "API_KEY", "valueFrom": PARAM}]
    )
    facts = StaticFacts(
        secrets={SECRET, PARAM},
        decisions={
            EXEC: {f"secretsmanager:GetSecretValue {SECRET}": "allowed", f"ssm:GetParameters {PARAM}": "implicitDeny"}
        },
    )
    [finding] = run("secret-access-denied", td, facts)
    assert finding.severity == "high" and (finding.container, finding.field) == ("api", "secrets.API_KEY")
    assert f"ssm:GetParameters on {PARAM} is not allowed" in finding.message
    assert json.loads(finding.remediation.split(": ", 1)[1].rstrip(".")) == {
        "Effect": "Allow",
        "Action": "ssm:GetParameters",
        "Resource": PARAM,
    }
    assert finding.data["decision"] == "implicitDeny"


def test_explicit_deny_is_named():
    td = refs_td([{"name": "DB", "valueFrom": SECRET}])
    facts = StaticFacts(secrets={SECRET}, decisions={EXEC: {f"secretsmanager:GetSecretValue {SECRET}": "explicitDeny"}})
    [finding] = run("secret-access-denied", td, facts)
    assert "explicitly denied" in finding.message and "remove the Deny" in finding.remediation


def test_missing_references_no_role_or_placeholders_are_not_simulated():
    facts = StaticFacts(decisions={EXEC: {}})  # every pair would be implicitDeny
    assert run("secret-access-denied", refs_td([{"name": "DB", "valueFrom": SECRET}]), facts) == []  # missing
    no_role = definition([{"name": "api", "image": "nginx", "secrets": [{"name": "DB", "valueFrom": SECRET}]}])
    assert run("secret-access-denied", no_role, StaticFacts(secrets={SECRET}, decisions={EXEC: {}})) == []
    templated = definition(
        [{"name": "api", "image": "nginx", "secrets": [{"name": "DB", "valueFrom": SECRET}]}],
        executionRoleArn="${EXEC}",
    )
    assert run("secret-access-denied", templated, StaticFacts(secrets={SECRET})) == []


def test_simulation_unknown_or_role_missing():
    td = refs_td([{"name": "DB", "valueFrom": SECRET}])
    [unverified] = run("secret-access-denied", td, StaticFacts(secrets={SECRET}))
    assert (
        unverified.severity == "info"
        and "Could not verify whether execution role 'ecsTaskExecutionRole'" in unverified.message
    )
    facts = StaticFacts(secrets={SECRET}, roles={EXEC: RoleFacts(EXEC, exists=False)})
    [finding] = run("secret-access-denied", td, facts)
    assert finding.severity == "high" and "does not exist" in finding.message and finding.field == "executionRoleArn"


def test_a_partial_arn_without_metadata_or_an_undecidable_condition_is_could_not_verify():
    partial = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db"
    td = refs_td([{"name": "DB", "valueFrom": partial}, {"name": "KEY", "valueFrom": PARAM}])
    facts = StaticFacts(secrets={partial, PARAM}, decisions={EXEC: {f"ssm:GetParameters {PARAM}": "unknown"}})
    findings = run("secret-access-denied", td, facts)
    assert [(f.field, f.severity) for f in findings] == [("secrets.DB", "info"), ("secrets.KEY", "info")]
    assert "full ARN is unknown" in findings[0].message and "condition" in findings[1].message


def test_customer_managed_kms_key_must_be_decryptable():
    td = refs_td([{"name": "DB", "valueFrom": SECRET}])
    metadata = {SECRET: {"service": "secretsmanager", "exists": True, "arn": SECRET, "kms_key": KEY}}
    denied = MetadataFacts(
        metadata=metadata,
        decisions={EXEC: {f"secretsmanager:GetSecretValue {SECRET}": "allowed", f"kms:Decrypt {KEY}": "implicitDeny"}},
    )
    [finding] = run("secret-access-denied", td, denied)
    assert "but not decrypt it: kms:Decrypt on its KMS key" in finding.message
    assert '"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"' in finding.remediation
    allowed = MetadataFacts(
        metadata=metadata,
        decisions={EXEC: {f"secretsmanager:GetSecretValue {SECRET}": "allowed", f"kms:Decrypt {KEY}": "allowed"}},
    )
    assert run("secret-access-denied", td, allowed) == []


def test_cross_account_secret_allowed_by_iam_still_needs_its_resource_policy():
    other = "arn:aws:secretsmanager:us-east-1:210987654321:secret:shared/db-AbCdEf"
    td = refs_td([{"name": "DB", "valueFrom": other}])
    facts = StaticFacts(secrets={other}, decisions={EXEC: {f"secretsmanager:GetSecretValue {other}": "allowed"}})
    [finding] = run("secret-access-denied", td, facts)
    assert finding.severity == "info" and "account 210987654321" in finding.message


# ------------------------------------------------------------------------------------ log-group-autocreate-denied


def autocreate_td(execution=EXEC, launch="FARGATE", create="true"):
    return definition(
        [
            {
                "name": "web",
                "image": ECR_IMAGE,
                "logConfiguration": awslogs("/ecs/web", **{"awslogs-create-group": create}),
            },
            {
                "name": "xray-daemon",
                "image": "public.ecr.aws/xray/aws-xray-daemon:3.3",
                "logConfiguration": awslogs("/ecs/web"),
            },
        ],
        executionRoleArn=execution,
        requiresCompatibilities=[launch],
        taskDefinitionArn=TD_ARN,
    )


GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/web"


def test_create_group_denied_is_high():
    facts = StaticFacts(decisions={EXEC: {}})
    [finding] = run("log-group-autocreate-denied", autocreate_td(), facts)
    assert finding.severity == "high" and finding.container == "web"
    assert finding.field == "logConfiguration.options.awslogs-create-group"
    assert "may not create log group '/ecs/web' in us-east-1" in finding.message
    assert f'"Resource": "{GROUP_ARN}:*"' in finding.remediation


def test_create_group_allowed_on_either_arn_form_is_fine():
    for resource in (GROUP_ARN, f"{GROUP_ARN}:*"):
        facts = StaticFacts(decisions={EXEC: {f"logs:CreateLogGroup {resource}": "allowed"}})
        assert run("log-group-autocreate-denied", autocreate_td(), facts) == []
    assert run("log-group-autocreate-denied", autocreate_td(create="false"), StaticFacts(decisions={EXEC: {}})) == []


def test_without_an_execution_role():
    # Fargate: execution-role-missing says it. EC2: the instance role is used, which ecsguard cannot see.
    assert run("log-group-autocreate-denied", autocreate_td(execution=None), StaticFacts()) == []
    [finding] = run("log-group-autocreate-denied", autocreate_td(execution=None, launch="EC2"), StaticFacts())
    assert finding.severity == "info" and "container instance role" in finding.message


def test_unknown_simulation_is_could_not_verify():
    [finding] = run("log-group-autocreate-denied", autocreate_td(), StaticFacts())
    assert finding.severity == "info" and finding.data["unverified"]


# ------------------------------------------------------------------------------------ the real corpus


def corpus_definitions():
    for path in sorted((CORPUS / "taskdefs").glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8-sig"))
            found = task_definitions_in(document)
        except ValueError:
            continue
        for _label, td in found:
            yield path.name, td


def test_pure_checks_over_the_real_corpus():
    fired: dict[str, list[str]] = {"execution-role-missing": [], "task-role-is-execution-role": []}
    total = 0
    for name, td in corpus_definitions():
        total += 1
        for check_id in fired:
            if run(check_id, td, region=None):
                fired[check_id].append(name)
    assert total == 71
    assert fired["execution-role-missing"] == []
    assert fired["task-role-is-execution-role"] == [
        "005.json", "027.json", "029.json", "039.json", "059.json", "069.json", "083.json",
        "087.json", "093.json", "099.json", "129.json", "131.json", "137.json", "147.json",
    ]  # fmt: skip


def test_facts_checks_over_the_real_corpus_never_crash_and_only_say_could_not_verify_offline():
    ids = (
        "task-role-shared",
        "role-overprivileged",
        "secret-access-denied",
        "secret-reference-missing",
        "log-group-autocreate-denied",
    )
    severities: dict[str, set[str]] = {i: set() for i in ids}
    for _name, td in corpus_definitions():
        for check_id in ids:
            for finding in run(check_id, td, StaticFacts(offline=True), region=REGION):
                severities[check_id].add(finding.severity)
    assert all(s <= {"info"} for s in severities.values()), severities
