"""The stopped-task diagnosis handler against moto, fed with the real-shaped events of events/task_stopped/.

The definitions the events name are registered in moto first and the events pointed at them; the state table,
the topic and its SQS subscriber are the conftest account's.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ecsguard.aws import Clients
from ecsguard.delivery import lambda_context
from ecsguard.handlers import make_stopped_handler
from ecsguard.policy import Settings

from conftest import ACCOUNT, REGION, Account, load_event

CONTEXT = lambda_context("TaskStoppedFunction")
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/web/db-password-Xk3V9q"
CANARY = "Zq8-canary-Vt3Lm7Rw-not-for-messages"

WEB = {
    "family": "web",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-execution",
    "containerDefinitions": [
        {
            "name": "web",
            "image": f"{ECR}/web:1.4.2",
            "essential": True,
            "environment": [{"name": "API_TOKEN", "value": CANARY}],
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": SECRET}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/web", "awslogs-region": REGION, "awslogs-stream-prefix": "web"},
            },
        },
        {
            "name": "xray-daemon",
            "image": "public.ecr.aws/xray/aws-xray-daemon:3.3.12",
            "essential": False,
            "memoryReservation": 32,
        },
    ],
}
ORDERS = {
    "family": "orders-api",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "512",
    "memory": "1024",
    "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/orders-execution",
    "containerDefinitions": [
        {
            "name": "api",
            "image": f"{ECR}/orders-api:2.0.1",
            "logConfiguration": {"logDriver": "awsfirelens", "options": {"Name": "cloudwatch"}},
        },
        {
            "name": "log_router",
            "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
            "firelensConfiguration": {"type": "fluentbit"},
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/orders-api/firelens",
                    "awslogs-region": REGION,
                    "awslogs-stream-prefix": "firelens",
                },
            },
        },
    ],
}
ROUTINE = ("scale-in", "deployment", "user-stop", "exit-0", "spot-interruption")


def event(name: str) -> dict[str, Any]:
    return load_event(name, flow="task_stopped")


def register(account: Account, definition: dict[str, Any], tags: dict[str, str] | None = None) -> str:
    request = copy.deepcopy(definition)
    if tags:
        request["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    return account.client("ecs").register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]


def pointed(evt: dict[str, Any], arn: str, *, task: str | None = None, event_id: str | None = None) -> dict[str, Any]:
    evt = copy.deepcopy(evt)
    evt["detail"]["taskDefinitionArn"] = arn
    if task:
        evt["detail"]["taskArn"] = evt["detail"]["taskArn"].rsplit("/", 1)[0] + "/" + task
    if event_id:
        evt["id"] = event_id
    return evt


def handler(account: Account, **settings: Any):
    settings.setdefault("topic_arn", account.topic_arn)
    settings.setdefault("state_table", account.table)
    return make_stopped_handler(settings=Settings(**settings), clients=Clients(), metrics=False)


def test_fifty_oom_stops_of_one_service_give_one_message_that_says_one_stop(account: Account):
    arn = register(account, WEB)
    run = handler(account)
    base = event("oom-killed")
    results = [
        run(pointed(base, arn, task=f"{i:032x}", event_id=f"3f0c2b6e-0000-4c1d-9e8f-{i:012x}"), CONTEXT)
        for i in range(50)
    ]

    [message] = account.messages()
    assert message["Subject"] == f"[ecsguard] HIGH: web stopped: oom-killed ({ACCOUNT} {REGION})"
    attributes = {k: v["Value"] for k, v in message["MessageAttributes"].items()}
    assert attributes["stops"] == "1" and attributes["service"] == "web"
    assert json.loads(attributes["checks"]) == ["oom-killed"]
    document = json.loads(message["Message"])
    assert document["stopped"]["stops"] == 1 and document["stopped"]["countingUntil"]
    [finding] = document["findings"]
    assert finding["container"] == "web" and "512 MiB" in finding["message"]
    assert '"1024"' in finding["remediation"]  # the next Fargate size for cpu 256
    assert [r["diagnosis"]["outcome"] for r in results] == ["opened"] + ["counted"] * 49
    assert results[-1]["diagnosis"]["stops"] == 50
    assert CANARY not in json.dumps(message) + json.dumps(results)


def test_the_first_stop_after_the_window_says_how_many_stops_it_stands_for(account: Account):
    from ecsguard.flows.stopped import process_stopped

    arn = register(account, WEB)
    settings = Settings(topic_arn=account.topic_arn, state_table=account.table, diagnosis_window_minutes=60)
    base = event("oom-killed")
    start = 1_800_000_000.0
    for i in range(5):  # one message, then four counted stops within the hour
        process_stopped(
            pointed(base, arn, task=f"{i:032x}", event_id=f"e-{i}"), settings=settings, clients=Clients(), now=start + i
        )
    later = process_stopped(
        pointed(base, arn, task=f"{99:032x}", event_id="e-99"), settings=settings, clients=Clients(), now=start + 3700
    )

    first, second = account.messages()
    assert later["diagnosis"] == {"outcome": "opened", "stops": 5, "countingUntil": later["stopped"]["countingUntil"]}
    assert second["Subject"] == f"[ecsguard] HIGH: web stopped 5x: oom-killed ({ACCOUNT} {REGION})"
    text = json.loads(second["Message"])  # the JSON document (SQS is a machine protocol)
    assert text["stopped"]["stops"] == 5 and text["stopped"]["previousMessageAt"]
    assert first["MessageAttributes"]["stops"]["Value"] == "1"


def test_a_retry_after_sns_failed_still_sends_the_message(account: Account):
    from botocore.exceptions import ClientError

    arn = register(account, WEB)
    clients = Clients()
    calls = {"Publish": 0}

    def fail_first(model, **_kwargs):
        if model.name == "Publish":
            calls["Publish"] += 1
            if calls["Publish"] == 1:
                raise ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, "Publish")

    clients.session.events.register("before-call", fail_first)
    run = make_stopped_handler(
        settings=Settings(topic_arn=account.topic_arn, state_table=account.table), clients=clients, metrics=False
    )
    evt = pointed(event("oom-killed"), arn)
    with pytest.raises(ClientError):
        run(evt, CONTEXT)
    result = run(evt, CONTEXT)  # Lambda's retry of the same event

    assert result["diagnosis"]["outcome"] == "retry" and result["messageId"]
    assert len(account.messages()) == 1
    assert run(evt, CONTEXT)["diagnosis"]["outcome"] == "retry"  # a duplicate delivery: no second message
    assert account.messages() == []


def test_a_missing_log_group_behind_resource_initialization_error_exists_afterwards(account: Account):
    arn = register(account, ORDERS)
    result = handler(account, log_retention_days=14)(pointed(event("log-group-missing"), arn), CONTEXT)

    groups = account.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/orders-api/firelens")["logGroups"]
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in groups] == [("/ecs/orders-api/firelens", 14)]
    assert [(f["check"], f["container"], f["mode"]) for f in result["findings"]] == [
        ("task-init-failed", "log_router", "remediate")
    ]
    assert [(a["action"], a["ok"], a["changed"]) for a in result["actions"]] == [("create-log-group", True, True)]
    [message] = account.messages()
    assert message["Subject"] == f"[ecsguard] HIGH: orders-api stopped: task-init-failed ({ACCOUNT} {REGION})"
    assert message["MessageAttributes"]["action"]["Value"] == "remediated"


def test_log_group_missing_in_notify_mode_creates_nothing(account: Account):
    arn = register(account, ORDERS)
    result = handler(account, modes={"log-group-missing": "notify"})(pointed(event("log-group-missing"), arn), CONTEXT)

    assert result["actions"] == [] and result["findings"][0]["mode"] == "notify"
    assert not account.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/orders-api")["logGroups"]
    assert len(account.messages()) == 1


@pytest.mark.parametrize("name", ROUTINE)
def test_routine_stops_send_nothing_and_read_nothing(account: Account, name: str):
    clients = Clients()
    calls: list[str] = []
    clients.session.events.register("before-call", lambda model, **_: calls.append(model.name))
    run = make_stopped_handler(
        settings=Settings(topic_arn=account.topic_arn, state_table=account.table), clients=clients, metrics=False
    )
    result = run(event(name), CONTEXT)

    assert result["status"] == "skipped" and result["reason"].startswith("routine stop")
    assert calls == []
    assert account.messages() == []


def test_a_running_task_and_foreign_events_are_skipped(account: Account):
    run = handler(account)
    assert run(event("not-ours-task-running"), CONTEXT)["status"] == "skipped"
    assert run(load_event("missing-log-group"), CONTEXT)["status"] == "skipped"
    assert account.messages() == []


def test_ignore_tag_and_exempt_families_are_honoured(account: Account):
    arn = register(account, WEB, tags={"ecsguard:ignore": "oom-killed"})
    result = handler(account)(pointed(event("oom-killed"), arn), CONTEXT)
    assert result["findings"] == [] and result["exempted"] == ["oom-killed"]

    skipped = handler(account, exempt_families=("web",))(pointed(event("oom-killed"), arn), CONTEXT)
    assert skipped["status"] == "skipped" and "exempt" in skipped["reason"]
    assert account.messages() == []


def test_without_a_state_table_every_stop_sends_its_own_message(account: Account):
    arn = register(account, WEB)
    run = handler(account, state_table=None)
    for i in range(3):
        run(pointed(event("oom-killed"), arn, task=f"{i:032x}", event_id=f"e-{i}"), CONTEXT)
    messages = account.messages()
    assert len(messages) == 3
    documents = [json.loads(m["Message"]) for m in messages]
    assert [(d["stopped"]["stops"], d["stopped"]["countingUntil"]) for d in documents] == [(1, None)] * 3


def test_a_definition_that_cannot_be_read_is_diagnosed_from_the_event(account: Account):
    evt = event("image-pull-not-found")  # names web:8, which this account never registered
    result = handler(account)(evt, CONTEXT)

    assert [(f["check"], f["container"]) for f in result["findings"]] == [("image-pull-failed", "web")]
    assert "ClientException" in result["definitionUnreadable"]
    [message] = account.messages()
    assert json.loads(message["Message"])["stopped"]["definitionUnreadable"]


def test_an_info_only_exit_sends_no_message(account: Account):
    arn = register(account, WEB)
    result = handler(account)(pointed(event("essential-exit-1"), arn), CONTEXT)
    assert [(f["check"], f["severity"]) for f in result["findings"]] == [("essential-container-exited", "info")]
    assert result["messageId"] is None and "diagnosis" not in result
    assert account.messages() == []


def test_image_pull_timeout_reads_the_service_network_and_runs_the_registry_check(account: Account):
    """A private subnet with no NAT and no endpoints: registry-unreachable confirms why the pull timed out."""
    ec2 = account.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ecs = account.client("ecs")
    arn = register(account, WEB)
    ecs.create_cluster(clusterName="prod")
    ecs.create_service(
        cluster="prod",
        serviceName="web",
        taskDefinition=arn,
        desiredCount=0,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}
        },
    )
    evt = pointed(event("image-pull-timeout"), arn)
    evt["detail"]["attachments"][0]["details"][0]["value"] = subnet

    result = handler(account)(evt, CONTEXT)

    [message] = account.messages()
    [finding] = json.loads(message["Message"])["findings"]
    assert finding["check"] == "image-pull-failed" and result["findings"][0]["container"] == "web"
    assert "registry-unreachable" in finding["message"]
    assert subnet in finding["message"]
