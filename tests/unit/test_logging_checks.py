"""Logging checks on models, with facts from memory."""

from __future__ import annotations

from ecsguard.checks import CheckContext, load_all
from ecsguard.facts import StaticFacts
from ecsguard.model import parse_document


def awslogs(group="/ecs/app", region="us-east-1", **extra):
    return {"logDriver": "awslogs", "options": {"awslogs-group": group, "awslogs-region": region, **extra}}


def run(check_id, containers, facts=None, region="us-east-1", **td):
    document = {"family": "app", "containerDefinitions": containers, **td}
    context = CheckContext(target="app:1", facts=facts, region=region)
    return load_all()[check_id].run(parse_document(document), context)


def test_missing_group_is_found_in_the_driver_region():
    findings = run(
        "log-group-missing", [{"name": "web", "logConfiguration": awslogs(region="eu-west-1")}], StaticFacts()
    )
    [finding] = findings
    assert finding.data == {"region": "eu-west-1", "log_group": "/ecs/app"}
    assert finding.field == "logConfiguration.options.awslogs-group"


def test_existing_group_is_silent():
    facts = StaticFacts([("us-east-1", "/ecs/app")])
    assert run("log-group-missing", [{"name": "web", "logConfiguration": awslogs()}], facts) == []


def test_region_defaults_to_the_event_region():
    [finding] = run(
        "log-group-missing",
        [{"name": "w", "logConfiguration": awslogs(region=None)}],
        StaticFacts(),
        region="ap-south-1",
    )
    assert finding.data["region"] == "ap-south-1"


def test_auto_created_and_templated_groups_are_not_accused():
    containers = [
        {"name": "a", "logConfiguration": awslogs(**{"awslogs-create-group": "true"})},
        {"name": "b", "logConfiguration": awslogs(group="/ecs/${service}")},
        {"name": "c", "logConfiguration": awslogs(region="${aws_region}")},
        {"name": "d", "logConfiguration": {"logDriver": "awsfirelens", "options": {}}},
    ]
    assert run("log-group-missing", containers, StaticFacts()) == []


def test_logging_disabled():
    containers = [
        {"name": "web"},
        {"name": "quiet", "logConfiguration": {"logDriver": "none"}},
        {"name": "ok", "logConfiguration": awslogs()},
    ]
    assert [(f.container, f.field) for f in run("logging-disabled", containers)] == [
        ("web", "logConfiguration"),
        ("quiet", "logConfiguration.logDriver"),
    ]


def test_awslogs_options_invalid():
    containers = [
        {"name": "a", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-region": "us-east-1"}}},
        {"name": "b", "logConfiguration": awslogs(region="US East")},
        {"name": "c", "logConfiguration": awslogs(mode="fast")},
        {"name": "d", "logConfiguration": awslogs(group="${log_group}", region="$AWS_REGION")},
    ]
    fields = [
        (f.container, f.field) for f in run("awslogs-options-invalid", containers, requiresCompatibilities=["FARGATE"])
    ]
    assert ("a", "logConfiguration.options.awslogs-group") in fields
    assert ("b", "logConfiguration.options.awslogs-region") in fields
    assert ("c", "logConfiguration.options.mode") in fields
    assert all(container != "d" or field.endswith("stream-prefix") for container, field in fields)
    assert ("a", "logConfiguration.options.awslogs-stream-prefix") in fields


def test_missing_awslogs_region_is_not_accused():
    """The driver falls back to the task's own region; only a region that is not one is reported."""
    containers = [{"name": "a", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/a"}}}]
    assert run("awslogs-options-invalid", containers) == []


def test_logging_disabled_says_where_output_goes_by_launch_type():
    [fargate] = run("logging-disabled", [{"name": "web"}], requiresCompatibilities=["FARGATE"])
    [ec2] = run("logging-disabled", [{"name": "web"}], requiresCompatibilities=["EC2"])
    assert fargate.message.endswith("its output is discarded.")
    assert "stays on the container instance" in ec2.message
