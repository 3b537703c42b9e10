"""RunTask / StartTask events -> Launch: overrides, started tasks, and what is skipped and why."""

from __future__ import annotations

import pytest

from ecsguard.events import SkipEvent, parse_launch
from ecsguard.flows.launch import split_task_definition

from conftest import ACCOUNT, REGION, load_event

OMITTED = {"omitted": True, "originalSize": 312044}


def run_task(name: str) -> dict:
    return load_event(name, flow="run_task")


def test_run_task_with_secret_overrides():
    parsed = parse_launch(run_task("plaintext-secrets"))
    launch = parsed.launch
    assert parsed.call.event_name == "RunTask"
    assert parsed.call.actor == f"arn:aws:sts::{ACCOUNT}:assumed-role/ops-engineer/alice"
    assert parsed.call.event_id == "c41f7e2a-9b3d-4a6e-8f05-1d2c3b4a5e6f"
    assert parsed.reason_incomplete is None
    assert launch.task_definition == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/billing-batch:7"
    assert launch.cluster == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/batch"
    assert launch.launch_type == "FARGATE"
    assert launch.task_arns == (
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/batch/0c5f2a7e9b1d4e3fa8c6b2d0e4f1a937",
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/batch/5a8e1c3b7d9f4a2e86b0c4d2f1e3a5b7",
    )
    [override] = launch.container_overrides
    assert override.name == "migrate"
    assert [v.name for v in override.environment] == ["DB_PASSWORD", "GITHUB_TOKEN", "DB_HOST", "MIGRATION_TARGET"]
    assert override.command[3].startswith("--password=")


def test_start_task_is_a_launch_too():
    launch = parse_launch(run_task("start-task-secret")).launch
    assert launch.launch_type == "EC2"  # from the started task: StartTask has no launchType parameter
    assert launch.started_by == "alice"
    assert launch.cluster == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/reports-ec2"
    assert launch.task_definition.endswith("task-definition/reports-exporter:3")  # the response resolves the family
    assert [o.name for o in launch.container_overrides] == ["exporter"]


def test_clean_overrides_and_no_overrides():
    clean = parse_launch(run_task("clean-overrides")).launch
    assert clean.started_by == "reports-scheduler"
    [override] = clean.container_overrides
    assert override.cpu == 512 and override.memory == 1024
    bare = parse_launch(run_task("no-overrides")).launch
    assert bare.container_overrides == ()  # the caller sent none: the echo in the response adds nothing
    assert len(bare.task_arns) == 1


def test_failed_call_is_skipped():
    with pytest.raises(SkipEvent, match="^RunTask failed with AccessDeniedException: no task was started$"):
        parse_launch(run_task("failed-call"))


def test_call_that_started_nothing_but_carries_secrets_is_still_a_launch():
    """The value is in CloudTrail even though placement failed: it is reported, there is nothing to stop."""
    launch = parse_launch(run_task("placement-failures")).launch
    assert launch.task_arns == ()
    assert launch.container_overrides and launch.container_overrides[0].name == "migrate"
    assert launch.task_definition == "billing-batch:7"  # no task: the request's reference
    assert launch.cluster == "batch-ec2"


def test_call_that_started_nothing_and_has_no_overrides_is_skipped():
    event = run_task("placement-failures")
    del event["detail"]["requestParameters"]["overrides"]
    with pytest.raises(SkipEvent, match=r"started no task \(1 failure\) and carries no overrides"):
        parse_launch(event)


def test_truncated_request_falls_back_to_the_overrides_echoed_on_the_tasks():
    event = run_task("plaintext-secrets")
    event["detail"]["requestParameters"] = OMITTED
    parsed = parse_launch(event)
    assert parsed.reason_incomplete is None
    assert [v.name for v in parsed.launch.container_overrides[0].environment][:2] == ["DB_PASSWORD", "GITHUB_TOKEN"]


def test_truncated_overrides_everywhere_must_be_read_back():
    event = run_task("plaintext-secrets")
    event["detail"]["requestParameters"]["overrides"] = OMITTED
    for task in event["detail"]["responseElements"]["tasks"]:
        task["overrides"] = OMITTED
    parsed = parse_launch(event)
    assert parsed.launch.container_overrides == ()
    assert "omitted" in (parsed.reason_incomplete or "")
    assert len(parsed.launch.task_arns) == 2


def test_missing_response_keeps_the_request():
    event = run_task("plaintext-secrets")
    event["detail"]["responseElements"] = None
    launch = parse_launch(event).launch
    assert launch.task_arns == ()
    assert launch.task_definition == "billing-batch:7"
    assert launch.container_overrides[0].name == "migrate"


@pytest.mark.parametrize(
    "event",
    [
        load_event("missing-log-group"),  # RegisterTaskDefinition
        load_event("not-ours-create-cluster"),
        {"detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": {}},
        [],
    ],
)
def test_other_events_are_skipped(event):
    with pytest.raises(SkipEvent):
        parse_launch(event)


def test_event_without_task_definition_is_skipped():
    event = run_task("placement-failures")
    del event["detail"]["requestParameters"]["taskDefinition"]
    with pytest.raises(SkipEvent, match="names no task definition"):
        parse_launch(event)


def test_odd_shapes_do_not_crash():
    event = run_task("plaintext-secrets")
    event["detail"]["requestParameters"]["overrides"] = {"containerOverrides": [{"environment": "oops"}, "x", None]}
    event["detail"]["responseElements"]["tasks"].append("not a task")
    launch = parse_launch(event).launch
    assert [o.name for o in launch.container_overrides] == ["container-0"]
    assert launch.container_overrides[0].environment == ()
    assert len(launch.task_arns) == 2


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("billing-batch", ("billing-batch", None)),
        ("billing-batch:7", ("billing-batch", 7)),
        (f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/billing-batch:7", ("billing-batch", 7)),
        ("arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/x_y-1:12", ("x_y-1", 12)),
        ("", (None, None)),
    ],
)
def test_split_task_definition(reference, expected):
    assert split_task_definition(reference) == expected


def test_redacted_override_values_must_be_read_back():
    event = run_task("plaintext-secrets")
    hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"
    event["detail"]["requestParameters"]["overrides"]["containerOverrides"][0]["environment"][0]["value"] = hidden
    for task in event["detail"]["responseElements"]["tasks"]:
        task["overrides"]["containerOverrides"][0]["environment"][0]["value"] = hidden
    parsed = parse_launch(event)
    assert parsed.launch.container_overrides == ()
    assert parsed.reason_incomplete is not None
    assert len(parsed.launch.task_arns) == 2


# --------------------------------------------------------------------------- services and networks


def test_run_task_network_configuration_and_capacity_provider():
    launch = parse_launch(run_task("no-overrides")).launch
    assert launch.network is not None
    assert launch.network.subnets == ("subnet-0a1b2c3d4e5f60718", "subnet-0f9e8d7c6b5a40312")
    assert launch.network.security_groups == ("sg-0123456789abcdef0",)
    assert launch.network.assign_public_ip is False
    assert launch.on_fargate is True
    assert launch.service is None


def test_create_service_resolves_the_family_to_the_revision_in_the_response():
    parsed = parse_launch(run_task("create-service"))
    launch = parsed.launch
    assert parsed.call.event_name == "CreateService"
    assert parsed.service_incomplete is None
    assert parsed.launch.task_arns == () and parsed.launch.container_overrides == ()
    assert launch.task_definition == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/checkout:7"  # request: "checkout"
    assert launch.service == f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/web/checkout"
    assert launch.cluster == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/web"
    assert launch.on_fargate is True
    assert launch.network.subnets == ("subnet-0a1b2c3d4e5f60718", "subnet-0f9e8d7c6b5a40312")


def test_capacity_provider_strategy_decides_fargate():
    launch = parse_launch(run_task("create-service-capacity-provider")).launch
    assert launch.launch_type is None
    assert launch.capacity_providers == ("FARGATE_SPOT", "FARGATE")
    assert launch.on_fargate is True
    ec2 = parse_launch(run_task("create-service-ec2-bridge")).launch
    assert ec2.on_fargate is False and ec2.network is None


@pytest.mark.parametrize(
    ("providers", "expected"),
    [(("FARGATE",), True), (("FARGATE", "my-asg-provider"), False), (("my-asg-provider",), False), ((), None)],
)
def test_on_fargate_from_capacity_providers(providers, expected):
    from ecsguard.model import TaskLaunch

    assert TaskLaunch("web:1", capacity_providers=providers).on_fargate is expected


def test_update_service_network_change_uses_the_new_network():
    launch = parse_launch(run_task("update-service-network")).launch
    assert launch.network.subnets == ("subnet-0f9e8d7c6b5a40312",)
    assert launch.network.assign_public_ip is True
    assert launch.task_definition.endswith("task-definition/checkout:7")


def test_update_service_of_the_desired_count_only_is_not_a_launch():
    with pytest.raises(SkipEvent, match="changed neither the task definition, the network nor the capacity"):
        parse_launch(run_task("not-ours-update-service-desired-count"))


def test_failed_service_call_is_skipped():
    with pytest.raises(SkipEvent, match="^CreateService failed with InvalidParameterException: the service was not"):
        parse_launch(run_task("failed-call-create-service"))


def test_update_service_without_a_response_must_be_read_back():
    event = run_task("update-service-network")
    event["detail"]["responseElements"] = None
    event["detail"]["requestParameters"].pop("networkConfiguration")
    event["detail"]["requestParameters"]["taskDefinition"] = "checkout"
    parsed = parse_launch(event)
    assert parsed.service_incomplete == "CloudTrail omitted the service from the response"
    assert parsed.launch.service == "checkout" and parsed.launch.cluster == "web"


def test_hostile_network_configuration_is_treated_as_absent():
    event = run_task("no-overrides")
    event["detail"]["requestParameters"]["networkConfiguration"] = {"awsvpcConfiguration": {"subnets": "subnet-1"}}
    assert parse_launch(event).launch.network is None
    event["detail"]["requestParameters"]["networkConfiguration"] = {"awsvpcConfiguration": [1, 2]}
    assert parse_launch(event).launch.network is None
