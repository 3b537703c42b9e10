"""Planning of the secret migration: pure, no AWS."""

from __future__ import annotations

import copy

import pytest

from ecsguard.flows.migration import (
    MovedEntry,
    build_request,
    execution_role_statements,
    plan_migration,
    read_value,
    request_token,
    secret_name,
)
from ecsguard.model import Finding, TaskDefinition
from ecsguard.policy import REMEDIATED_FROM_TAG, Settings

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop-api:7"
VALUE = "Synthetic-Pw-7Qx-unit"
TOKEN = "3f0c7e2a-9b1d-4c3e-8a6f-2d4b1e7c9a05"


def definition(**changes) -> TaskDefinition:
    raw = {
        "taskDefinitionArn": ARN,
        "family": "shop-api",
        "revision": 7,
        "status": "ACTIVE",
        "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "web:1",
                "environment": [
                    {"name": "DB_PASSWORD", "value": VALUE},
                    {"name": "LOG_LEVEL", "value": "info"},
                ],
                "secrets": [{"name": "EXISTING", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/x"}],
                "logConfiguration": {
                    "logDriver": "splunk",
                    "options": {"splunk-url": "https://splunk.example:8088", "splunk-token": TOKEN},
                },
            },
            {"name": "sidecar", "image": "side:1", "command": ["run", "--password=Other-Synthetic-99"]},
        ],
        "registeredAt": "2026-11-28T07:00:00Z",
        "compatibilities": ["EC2"],
    }
    raw.update(changes)
    return TaskDefinition.from_api(
        raw, tags=[{"key": "team", "value": "shop"}, {"key": "aws:cloudformation:x", "value": "y"}]
    )


def finding(container: str, field: str) -> Finding:
    return Finding(
        check="plaintext-secret",
        severity="high",
        target="shop-api:7",
        message="m",
        remediation="r",
        container=container,
        field=field,
        rule="some-rule",
    )


ENV = finding("web", "environment.DB_PASSWORD")
LOG = finding("web", "logConfiguration.options.splunk-token")
CMD = finding("sidecar", "command[1]")


def test_environment_and_log_option_are_planned():
    plan = plan_migration(definition(), [ENV, LOG], Settings())
    assert plan.ok and plan.blockers == ()
    assert [(e.container, e.kind, e.name, e.secret_name) for e in plan.entries] == [
        ("web", "environment", "DB_PASSWORD", "ecsguard/shop-api/web/DB_PASSWORD"),
        ("web", "log-option", "splunk-token", "ecsguard/shop-api/web/splunk-token"),
    ]
    assert plan.tags == {"team": "shop", REMEDIATED_FROM_TAG: ARN}  # aws: tags cannot be set by users


def test_plan_holds_no_value():
    plan = plan_migration(definition(), [ENV, LOG], Settings())
    assert VALUE not in repr(plan) and TOKEN not in repr(plan)
    td = definition()
    assert read_value(td, plan.entries[0]) == VALUE
    assert read_value(td, plan.entries[1]) == TOKEN


def test_command_argument_blocks_everything():
    plan = plan_migration(definition(), [ENV, CMD], Settings())
    assert not plan.ok
    assert any("command[1]" in b and "cannot move command-line" in b for b in plan.blockers)


def test_missing_execution_role_blocks_everything():
    plan = plan_migration(definition(executionRoleArn=None), [ENV], Settings())
    assert not plan.ok and any("no execution role" in b for b in plan.blockers)


def test_existing_secret_of_the_same_name_blocks():
    td = definition()
    raw = copy.deepcopy(dict(td.raw))
    raw["containerDefinitions"][0]["secrets"].append({"name": "DB_PASSWORD", "valueFrom": "arn:x"})
    plan = plan_migration(TaskDefinition.from_api(raw), [ENV], Settings())
    assert not plan.ok and any("already has a secrets entry named DB_PASSWORD" in b for b in plan.blockers)


def test_duplicate_variable_with_different_values_blocks():
    raw = copy.deepcopy(dict(definition().raw))
    raw["containerDefinitions"][0]["environment"].append({"name": "DB_PASSWORD", "value": "another-one-xyz"})
    plan = plan_migration(TaskDefinition.from_api(raw), [ENV], Settings())
    assert not plan.ok and any("2 times with different values" in b for b in plan.blockers)


@pytest.mark.parametrize(
    ("field", "expected"),
    [("environment.NOPE", "no environment variable NOPE"), ("logConfiguration.options.nope", "no log driver option")],
)
def test_entry_that_is_not_there_blocks(field, expected):
    plan = plan_migration(definition(), [finding("web", field)], Settings())
    assert not plan.ok and any(expected in b for b in plan.blockers)


def test_unknown_container_and_unknown_field_block():
    plan = plan_migration(
        definition(), [finding("ghost", "environment.X"), finding("web", "dockerLabels.x")], Settings()
    )
    assert len(plan.blockers) == 2


def test_no_findings_is_not_a_plan():
    assert not plan_migration(definition(), [], Settings()).ok


def test_build_request_changes_only_the_moved_entries():
    td = definition()
    plan = plan_migration(td, [ENV, LOG], Settings())
    refs = {plan.entries[0].key: "arn:sm:db:::v1", plan.entries[1].key: "arn:sm:splunk:::v1"}

    request = build_request(td, plan, refs)

    original = td.register_input()
    web, original_web = request["containerDefinitions"][0], original["containerDefinitions"][0]
    assert web["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert web["secrets"] == [*original_web["secrets"], {"name": "DB_PASSWORD", "valueFrom": "arn:sm:db:::v1"}]
    assert web["logConfiguration"] == {
        "logDriver": "splunk",
        "options": {"splunk-url": "https://splunk.example:8088"},
        "secretOptions": [{"name": "splunk-token", "valueFrom": "arn:sm:splunk:::v1"}],
    }
    assert request["containerDefinitions"][1] == original["containerDefinitions"][1]
    rest = {k: v for k, v in request.items() if k not in {"containerDefinitions", "tags"}}
    assert rest == {k: v for k, v in original.items() if k not in {"containerDefinitions", "tags"}}
    assert "taskDefinitionArn" not in request and "registeredAt" not in request and "revision" not in request
    assert {"key": REMEDIATED_FROM_TAG, "value": ARN} in request["tags"]
    assert VALUE not in repr(request) and TOKEN not in repr(request)
    # the definition itself is not modified
    assert td.raw["containerDefinitions"][0]["environment"][0]["value"] == VALUE


@pytest.mark.parametrize(
    ("prefix", "store", "expected"),
    [
        ("ecsguard/", "secretsmanager", "ecsguard/my-app/web/DB_PASSWORD"),
        ("ecsguard/", "ssm", "/ecsguard/my-app/web/DB_PASSWORD"),
        ("/platform/ecsguard/", "secretsmanager", "platform/ecsguard/my-app/web/DB_PASSWORD"),
        ("", "ssm", "/my-app/web/DB_PASSWORD"),
    ],
)
def test_secret_names(prefix, store, expected):
    assert secret_name(prefix, "my-app", "web", "DB_PASSWORD", store) == expected


def test_secret_names_are_sanitised_per_store():
    assert secret_name("ecsguard/", "app", "web", "a b/c:d+e@f", "secretsmanager") == "ecsguard/app/web/a_b_c_d+e@f"
    assert secret_name("ecsguard/", "app", "web", "a b/c:d+e@f", "ssm") == "/ecsguard/app/web/a_b_c_d_e_f"
    assert len(secret_name("p/", "f", "c", "N" * 2000, "secretsmanager")) == 512


def test_names_that_sanitise_to_the_same_secret_block():
    raw = copy.deepcopy(dict(definition().raw))
    raw["containerDefinitions"][0]["environment"] += [{"name": "A:B", "value": "x1-Synthetic-Value"}]
    raw["containerDefinitions"][0]["environment"] += [{"name": "A_B", "value": "x2-Synthetic-Value"}]
    findings = [finding("web", "environment.A:B"), finding("web", "environment.A_B")]
    plan = plan_migration(TaskDefinition.from_api(raw), findings, Settings())
    assert not plan.ok and any("would share the secret name" in b for b in plan.blockers)


def test_execution_role_statements():
    assert execution_role_statements("secretsmanager", ["arn:b", "arn:a", "arn:a"], None) == [
        {
            "Sid": "EcsguardReadMigratedSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": ["arn:a", "arn:b"],
        }
    ]
    ssm = execution_role_statements("ssm", ["arn:p"], "arn:aws:kms:us-east-1:123456789012:key/k")
    assert ssm[0]["Action"] == "ssm:GetParameters"
    assert ssm[1] == {
        "Sid": "EcsguardDecryptMigratedSecrets",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": ["arn:aws:kms:us-east-1:123456789012:key/k"],
    }


def test_request_token_is_stable_and_distinct():
    entry = MovedEntry("web", "environment", "DB_PASSWORD", "environment.DB_PASSWORD", "n")
    other = MovedEntry("web", "environment", "API_KEY", "environment.API_KEY", "m")
    assert request_token(ARN, entry) == request_token(ARN, entry)
    assert request_token(ARN, entry) != request_token(ARN, other)
    assert request_token(ARN, entry) != request_token(ARN.replace(":7", ":8"), entry)
    assert 32 <= len(request_token(ARN, entry)) <= 64  # Secrets Manager ClientRequestToken bounds
