"""The sweep against moto: the cache (second sweep describes nothing; no secret value in any item; the same
findings), new/resolved across runs, unreadable revisions, throttling, tags, the plan/page/digest path."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecsguard.aws.clients import Clients
from ecsguard.flows import sweep as flow
from ecsguard.handlers import make_sweep_handler
from ecsguard.policy import Settings

from conftest import ACCOUNT, REGION, Account

CANARY = "CanaryS3cretValue-7f3kQ9zLmW2x"


def _register(family: str, *, secret: bool = True, log_group: str = "/ecs/app", tags: list | None = None) -> str:
    container: dict[str, Any] = {
        "name": "app",
        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:1.2",
        "memory": 256,
        "environment": [{"name": "DB_PASSWORD", "value": CANARY}] if secret else [],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": log_group, "awslogs-region": REGION, "awslogs-stream-prefix": "app"},
        },
    }
    sidecar = {
        "name": "xray-daemon",
        "image": "public.ecr.aws/xray/aws-xray-daemon:3.3.7",
        "memory": 64,
        "essential": False,
    }
    request: dict[str, Any] = {"family": family, "containerDefinitions": [container, sidecar]}
    if tags:
        request["tags"] = tags
    return boto3.client("ecs", region_name=REGION).register_task_definition(**request)["taskDefinition"][
        "taskDefinitionArn"
    ]


@pytest.fixture
def settings(account: Account) -> Settings:
    return Settings(state_table=account.table, topic_arn=account.topic_arn)


def _items(account: Account) -> list[dict[str, Any]]:
    return boto3.client("dynamodb", region_name=REGION).scan(TableName=account.table)["Items"]


def test_second_sweep_describes_nothing_and_no_item_holds_a_secret(account: Account, settings: Settings) -> None:
    for i in range(5):
        _register(f"svc-{i}")
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="/ecs/app")
    clients = Clients()
    first = flow.sweep(clients, REGION, settings, run_id="r1")
    second = flow.sweep(clients, REGION, settings, run_id="r2")
    assert first.calls["DescribeTaskDefinition"] == 5 and "DescribeTaskDefinition" not in second.calls
    assert [d.cached for d in second.definitions] == [True] * 5
    assert [d.findings for d in first.definitions] == [d.findings for d in second.definitions]
    assert all(any(f.check == "plaintext-secret" for f in d.findings) for d in second.definitions)
    assert first.new == [] and second.new == [] and second.resolved == []  # the first run is the baseline
    from ecsguard.aws.sweep_state import unpack

    dumped = json.dumps(_items(account))
    assert CANARY not in dumped
    for item in _items(account):
        for attribute in ("definition", "secrets", "outcome", "arns"):
            if attribute in item:
                assert CANARY not in json.dumps(unpack(item[attribute]["S"]))
    # Without a state table: everything described, nothing cached, no changes.
    bare = flow.sweep(clients, REGION, Settings())
    assert (
        bare.calls["DescribeTaskDefinition"] == 5
        and bare.new == []
        and [d.findings for d in bare.definitions] == [d.findings for d in first.definitions]
    )


def test_new_and_resolved_across_runs(account: Account, settings: Settings) -> None:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/ecs/app")
    _register("web")
    leaky = _register("api")
    clients = Clients()
    flow.sweep(clients, REGION, settings, run_id="r1")
    logs.delete_log_group(logGroupName="/ecs/app")  # deleted between runs
    clean = _register("api", secret=False, log_group="/ecs/api")
    logs.create_log_group(logGroupName="/ecs/api")
    result = flow.sweep(clients, REGION, settings, run_id="r2")
    web = next(d.arn for d in result.definitions if d.family == "web")
    assert (web, "log-group-missing") in result.new
    assert (leaky, "plaintext-secret") in result.resolved  # the family re-registered clean: its old revision is gone
    assert not any(arn == clean and check == "plaintext-secret" for arn, check in result.new)
    again = flow.sweep(clients, REGION, settings, run_id="r2")  # a retry of the same run reports the same
    assert again.new == result.new and again.resolved == result.resolved


def test_unreadable_revision_is_reported_and_throttling_raises(account: Account, settings: Settings) -> None:
    arn = _register("web")
    missing = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/gone:4"
    result = flow.sweep(Clients(), REGION, settings, arns=[arn, missing], run_id="r1")
    assert [(d.arn, d.error) for d in result.definitions] == [(arn, None), (missing, "ClientException")]
    assert result.definitions[1].task_definition is None

    clients = Clients()
    ecs = clients("ecs", REGION)

    def throttled(**_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeTaskDefinition"
        )

    ecs.describe_task_definition = throttled
    with pytest.raises(ClientError, match="Throttling"):
        flow.sweep(clients, REGION, Settings(), arns=[arn])


def test_a_changed_ignore_tag_is_honoured_on_a_cached_definition(account: Account, settings: Settings) -> None:
    arn = _register("web")
    clients = Clients()
    first = flow.sweep(clients, REGION, settings, run_id="r1")
    assert any(f.check == "plaintext-secret" for f in first.definitions[0].findings)
    boto3.client("ecs", region_name=REGION).tag_resource(
        resourceArn=arn, tags=[{"key": "ecsguard:ignore", "value": "plaintext-secret"}]
    )
    second = flow.sweep(clients, REGION, settings, run_id="r2")
    assert second.definitions[0].cached
    assert not any(f.check == "plaintext-secret" for f in second.definitions[0].findings)
    assert any(f.check == "plaintext-secret" for f in second.definitions[0].exempted)
    assert second.calls["GetResources"] == 1 and "DescribeTaskDefinition" not in second.calls


def test_inventory_kept_current(account: Account, settings: Settings) -> None:
    ecs = boto3.client("ecs", region_name=REGION)
    for family in ("a", "b"):
        ecs.register_task_definition(
            family=family, taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/shared",
            containerDefinitions=[{"name": "app", "image": "nginx:1.25", "memory": 128}],
        )  # fmt: skip
    first = flow.sweep(Clients(), REGION, settings, run_id="r1")
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=account.table, Key={"id": {"S": f"role#arn:aws:iam::{ACCOUNT}:role/shared"}}
    )["Item"]
    assert set(item["families"]["SS"]) == {"a", "b"}
    second = flow.sweep(Clients(), REGION, settings, run_id="r2")
    assert any(f.check == "task-role-shared" for d in second.definitions for f in d.findings)
    assert second.calls["UpdateItem"] <= first.calls["UpdateItem"]


def test_scheduled_event_sweeps_acts_and_sends_one_digest(account: Account, settings: Settings) -> None:
    from conftest import load_event

    for i in range(3):
        _register(f"svc-{i}")
    handler = make_sweep_handler(settings=settings, clients=Clients())
    from ecsguard.delivery import lambda_context

    event = load_event("scheduled", "sweep")
    result = handler(event, lambda_context("sweep"))
    assert result["status"] == "swept" and result["definitions"] == 3 and result["baseline"] is True
    assert result["actions"] == 1  # log-group-missing remediates: one group for the three definitions
    messages = account.messages()
    assert len(messages) == 1
    attributes = messages[0]["MessageAttributes"]
    assert attributes["kind"]["Value"] == "digest"
    assert CANARY not in json.dumps(messages)
    document = json.loads(messages[0]["Message"])  # the SQS subscriber gets the machine JSON
    assert document["baseline"] is True and document["new"] == [] and document["kind"] == "digest"
    # The retry of the same scheduled event sends no second digest.
    again = handler(event, lambda_context("sweep"))
    assert again["messageId"] == result["messageId"] and account.messages() == []
    # block never deregisters an existing revision.
    blocking = Settings(state_table=account.table, topic_arn=account.topic_arn, modes={"plaintext-secret": "block"})
    make_sweep_handler(settings=blocking, clients=Clients())({"action": "run"}, lambda_context("sweep"))
    statuses = {d["taskDefinition"]["status"] for d in [
        boto3.client("ecs", region_name=REGION).describe_task_definition(taskDefinition=f"svc-{i}") for i in range(3)]}  # fmt: skip
    assert statuses == {"ACTIVE"}


def test_plan_page_digest_end_to_end(account: Account) -> None:
    for i in range(7):
        _register(f"svc-{i}", secret=i % 2 == 0)
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="/ecs/app")
    settings = Settings(
        state_table=account.table,
        topic_arn=account.topic_arn,
        sweep_page_size=3,
        modes={"log-group-missing": "notify"},  # (in remediate, the first page would recreate it for the others)
    )
    handler = make_sweep_handler(settings=settings, clients=Clients())
    from ecsguard.delivery import lambda_context

    context = lambda_context("sweep")
    plan = handler({"action": "plan", "run": "exec-1"}, context)
    assert plan["count"] == 7 and [len(p) for p in plan["pages"]] == [3, 3, 1]
    counts = [handler({"action": "page", "run": plan["run"], "arns": page}, context) for page in plan["pages"]]
    assert sum(c["definitions"] for c in counts) == 7
    assert all(set(c) >= {"definitions", "findings", "new"} for c in counts) and "arns" not in json.dumps(counts)
    digest = handler({"action": "digest", "run": plan["run"], "pages": len(plan["pages"])}, context)
    assert digest["definitions"] == 7 and digest["baseline"] is True and digest["messageId"]
    (message,) = account.messages()
    assert message["MessageAttributes"]["kind"]["Value"] == "digest"
    # Second run, with references instead of ARNs (what a plan too large for Step Functions returns).
    boto3.client("logs", region_name=REGION).delete_log_group(logGroupName="/ecs/app")
    plan2 = handler({"action": "plan", "run": "exec-2"}, context)
    for number in range(len(plan2["pages"])):
        handler({"action": "page", "run": "exec-2", "arns": [f"{flow.PAGE_REFERENCE}{number}"]}, context)
    digest2 = handler({"action": "digest", "run": "exec-2", "pages": len(plan2["pages"])}, context)
    assert digest2["baseline"] is False and digest2["cached"] == 7
    (message2,) = account.messages()
    document = json.loads(message2["Message"])
    assert [n["check"] for n in document["new"]] == ["log-group-missing"] * 7 and digest2["new"] == 7
    with pytest.raises(RuntimeError, match="pages stored an outcome"):
        handler({"action": "plan", "run": "exec-3"}, context)
        handler({"action": "digest", "run": "exec-3", "pages": 3}, context)
