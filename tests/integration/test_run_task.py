"""The RunTask/StartTask handler against moto, fed with the real-shaped events of events/run_task/.

Tasks are really started in moto (an EC2 cluster with one registered container instance) and the
event is rewritten to carry their ARNs, so "block stops exactly the tasks this call started" is
checked against real task state.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from ecsguard.aws import Clients
from ecsguard.delivery import deliver, lambda_context
from ecsguard.handlers import make_launch_handler
from ecsguard.policy import Settings

from conftest import ACCOUNT, REGION, ROOT, Account, load_event

CONTEXT = lambda_context("RunTaskFunction")
CLUSTER = "batch"
SECRET_FIELDS = {
    "overrides.containerOverrides[migrate].environment.DB_PASSWORD",
    "overrides.containerOverrides[migrate].environment.GITHUB_TOKEN",
    "overrides.containerOverrides[migrate].command[3]",
}
# The synthetic values of events/run_task/plaintext-secrets.json: none may leave the handler.
SECRET_VALUES = ("Wq7-synthetic-Pz4Lm9Rt", "ghp_R8kq2VzX7mNw4Lp9Tb3Hc6Yd1Fs5Gj0Ua2Qe", "Hx9-synthetic-Kd2Vn7Qa")


def event(name: str) -> dict[str, Any]:
    return load_event(name, flow="run_task")


def run(event: dict[str, Any], account: Account, **settings_kwargs: Any) -> dict[str, Any]:
    settings_kwargs.setdefault("topic_arn", account.topic_arn)
    handler = make_launch_handler(settings=Settings(**settings_kwargs), clients=Clients())
    return handler(event, CONTEXT)


@pytest.fixture
def cluster(account: Account) -> str:
    """An EC2 cluster with one container instance, so moto's run_task really places tasks."""
    from moto.ec2 import utils as ec2_utils

    ecs = account.client("ecs")
    arn = ecs.create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]
    import boto3

    instance = boto3.resource("ec2", region_name=REGION).create_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1
    )[0]
    document = json.dumps(ec2_utils.generate_instance_identity_document(instance))
    ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document)
    return arn


def launch(account: Account, event: dict[str, Any], *, tags: dict[str, str] | None = None) -> list[str]:
    """Register the event's family, really start its tasks in moto, and point the event at them."""
    ecs = account.client("ecs")
    detail = event["detail"]
    request = detail["requestParameters"]
    family = request["taskDefinition"].split(":")[0]
    overrides = request.get("overrides", {}).get("containerOverrides", [])
    names = [o["name"] for o in overrides] or ["main"]
    register: dict[str, Any] = {
        "family": family,
        "containerDefinitions": [
            {"name": n, "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{n}:1", "memory": 128} for n in names
        ],
    }
    if tags:
        register["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    td = ecs.register_task_definition(**register)["taskDefinition"]
    response = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=td["taskDefinitionArn"],
        count=max(len(detail["responseElements"]["tasks"]), 1),
        launchType="EC2",
        overrides={"containerOverrides": overrides},
    )
    request.update({"cluster": CLUSTER, "taskDefinition": f"{family}:{td['revision']}", "launchType": "EC2"})
    request.pop("networkConfiguration", None)
    detail["responseElements"]["tasks"] = json.loads(json.dumps(response["tasks"], default=str))
    return [task["taskArn"] for task in response["tasks"]]


def task_status(account: Account, arns: list[str]) -> dict[str, str]:
    tasks = account.client("ecs").describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    return {task["taskArn"]: task["desiredStatus"] for task in tasks}


# --------------------------------------------------------------------------- notify


def test_secret_overrides_are_reported_once_without_values(account: Account, cluster: str):
    evt = event("plaintext-secrets")
    arns = launch(account, evt)

    result = run(evt, account)

    assert result["status"] == "checked"
    assert {f["field"] for f in result["findings"]} == SECRET_FIELDS
    assert {(f["check"], f["mode"], f["container"]) for f in result["findings"]} == {
        ("plaintext-secret", "notify", "migrate")
    }
    assert result["actions"] == []
    assert result["launch"] == {"eventName": "RunTask", "cluster": cluster, "launchType": "EC2", "tasks": arns}
    assert result["taskDefinition"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/billing-batch:1"
    assert set(task_status(account, arns).values()) == {"RUNNING"}  # notify does not stop anything

    [message] = account.messages()
    assert message["Subject"] == f"[ecsguard] HIGH: RunTask billing-batch:1 - 3 findings ({ACCOUNT} {REGION})"
    attributes = {k: v["Value"] for k, v in message["MessageAttributes"].items()}
    assert attributes["severity"] == "high" and attributes["action"] == "notified"
    assert attributes["account"] == ACCOUNT and attributes["region"] == REGION
    assert json.loads(attributes["checks"]) == ["plaintext-secret"]
    document = json.loads(message["Message"])
    assert document["launch"]["tasks"] == arns and document["launch"]["eventName"] == "RunTask"
    assert document["taskDefinition"]["family"] == "billing-batch" and document["taskDefinition"]["revision"] == 1
    by_field = {f["field"]: f for f in document["findings"]}
    assert set(by_field) == SECRET_FIELDS
    password = by_field["overrides.containerOverrides[migrate].environment.DB_PASSWORD"]
    assert password["rule"] and password["fingerprint"].startswith("sha256:")
    assert "rotate" in password["remediation"].lower() and "cloudtrail" in password["remediation"].lower()
    assert "`secrets`" in password["remediation"] and "task definition" in password["remediation"]
    assert by_field["overrides.containerOverrides[migrate].environment.GITHUB_TOKEN"]["rule"] == "github-token"
    assert document["actor"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/ops-engineer/alice"
    body = json.dumps(message) + json.dumps(result)
    for value in SECRET_VALUES:
        assert value not in body


def test_text_message_speaks_of_a_task_launch(account: Account, cluster: str):
    """The body people read (the SNS "default"): a launch, its tasks, rotate, and `secrets` instead of overrides."""
    from ecsguard.render import sns

    sent: list[sns.Notification] = []
    render = sns.render

    def capture(report, **options):
        notification = render(report, **options)
        sent.append(notification)
        return notification

    evt = event("plaintext-secrets")
    arns = launch(account, evt)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sns, "render", capture)
        run(evt, account)

    [notification] = sent
    assert "in a task launch of billing-batch:1" in notification.text
    assert "Launched by arn:aws:sts::123456789012:assumed-role/ops-engineer/alice" in notification.text
    assert all(arn in notification.text for arn in arns)
    assert "Rotate this credential now" in notification.text
    assert "container overrides cannot carry `secrets`" in notification.text
    for value in SECRET_VALUES:
        assert value not in notification.text


def test_start_task_with_a_secret_override_is_reported(account: Account, cluster: str):
    evt = event("start-task-secret")
    evt["detail"]["responseElements"]["tasks"][0]["taskDefinitionArn"] = "reports-exporter"  # not registered here

    result = run(evt, account)

    assert {f["field"] for f in result["findings"]} == {
        "overrides.containerOverrides[exporter].environment.SLACK_WEBHOOK_URL"
    }
    [message] = account.messages()
    assert message["Subject"].startswith("[ecsguard] HIGH: StartTask reports-exporter")
    assert "hooks.slack.com/services/T00000000/B00000000/Synth" not in json.dumps(message)


def test_clean_launches_produce_no_message(account: Account, cluster: str):
    for name in ("clean-overrides", "no-overrides"):
        evt = event(name)
        launch(account, evt)

        result = run(evt, account)

        assert result["status"] == "checked", name
        assert result["findings"] == [] and result["actions"] == [], name
    assert account.messages() == []


def test_failed_call_is_skipped(account: Account):
    result = run(event("failed-call"), account)

    assert result == {"status": "skipped", "reason": "RunTask failed with AccessDeniedException: no task was started"}
    assert account.messages() == []


@pytest.mark.parametrize("other", [load_event("missing-log-group"), load_event("not-ours-create-cluster"), {}, []])
def test_events_that_are_not_launches_are_skipped(account: Account, other):
    assert run(other, account)["status"] == "skipped"
    assert account.messages() == []


def test_remediate_mode_notifies_because_a_launch_cannot_be_fixed(account: Account, cluster: str):
    evt = event("plaintext-secrets")
    arns = launch(account, evt)

    result = run(evt, account, modes={"plaintext-secret": "remediate"})

    assert {f["mode"] for f in result["findings"]} == {"notify"}
    assert result["actions"] == []
    assert set(task_status(account, arns).values()) == {"RUNNING"}
    [message] = account.messages()
    assert message["MessageAttributes"]["action"]["Value"] == "notified"


# --------------------------------------------------------------------------- block


def test_block_stops_exactly_the_tasks_the_call_started(account: Account, cluster: str):
    bystander = launch(account, event("clean-overrides"))  # another launch in the same cluster
    evt = event("plaintext-secrets")
    started = launch(account, evt)
    assert len(started) == 2

    result = run(evt, account, modes={"plaintext-secret": "block"})

    status = task_status(account, started + bystander)
    assert {arn: status[arn] for arn in started} == dict.fromkeys(started, "STOPPED")
    assert {arn: status[arn] for arn in bystander} == dict.fromkeys(bystander, "RUNNING")
    assert [(a["action"], a["target"], a["ok"]) for a in result["actions"]] == [
        ("stop-task", arn, True) for arn in started
    ]
    assert {f["mode"] for f in result["findings"]} == {"block"}
    [message] = account.messages()
    assert message["MessageAttributes"]["action"]["Value"] == "blocked"
    document = json.loads(message["Message"])
    assert [a["target"] for a in document["actions"]] == started


def test_block_when_the_call_started_nothing_notifies(account: Account):
    result = run(event("placement-failures"), account, modes={"plaintext-secret": "block"})

    assert result["launch"]["tasks"] == []
    assert [(a["action"], a["ok"], a["changed"]) for a in result["actions"]] == [("stop-task", True, False)]
    [message] = account.messages()
    assert message["MessageAttributes"]["action"]["Value"] == "notified"
    assert "nothing to stop" in json.loads(message["Message"])["actions"][0]["detail"]


def test_failed_stop_is_reported_not_raised(account: Account, cluster: str):
    evt = event("plaintext-secrets")
    launch(account, evt)
    for task in evt["detail"]["responseElements"]["tasks"]:
        task["clusterArn"] = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/no-such-cluster"

    result = run(evt, account, modes={"plaintext-secret": "block"})

    assert result["actions"] and not any(a["ok"] for a in result["actions"])
    [message] = account.messages()
    assert message["MessageAttributes"]["action"]["Value"] == "action-failed"


# --------------------------------------------------------------------------- exemptions, duplicates


@pytest.mark.parametrize("tag", ["plaintext-secret", "all", "logging-disabled, plaintext-secret"])
def test_ignore_tag_on_the_task_definition_exempts_the_launch(account: Account, cluster: str, tag: str):
    evt = event("plaintext-secrets")
    arns = launch(account, evt, tags={"ecsguard:ignore": tag})

    result = run(evt, account, modes={"plaintext-secret": "block"})

    assert result["findings"] == [] and result["actions"] == []
    assert result["exempted"] == ["plaintext-secret"]
    assert set(task_status(account, arns).values()) == {"RUNNING"}
    assert account.messages() == []


def test_exempt_family_parameter_skips_the_event(account: Account):
    result = run(event("plaintext-secrets"), account, exempt_families=("billing-*",))

    assert result["status"] == "skipped" and "ECSGUARD_EXEMPT_FAMILIES" in result["reason"]
    assert account.messages() == []


def test_allowlisted_fingerprint_is_not_reported(account: Account, cluster: str):
    evt = event("plaintext-secrets")
    launch(account, evt)
    from ecsguard import secretscan

    # A reviewer allowlisted the token by fingerprint (never the value) and DB_PASSWORD by name.
    allow = {secretscan.fingerprint("ghp_R8kq2VzX7mNw4Lp9Tb3Hc6Yd1Fs5Gj0Ua2Qe"), "db_password"}

    result = run(evt, account, secret_allowlist=frozenset(allow))

    assert {f["field"] for f in result["findings"]} == {"overrides.containerOverrides[migrate].command[3]"}


def test_duplicate_delivery_gives_one_stop_and_one_message(account: Account, cluster: str):
    evt = event("plaintext-secrets")
    started = launch(account, evt)
    handler = make_launch_handler(
        settings=Settings(topic_arn=account.topic_arn, state_table=account.table, modes={"plaintext-secret": "block"}),
        clients=Clients(),
    )

    first = handler(evt, CONTEXT)
    second = handler(evt, CONTEXT)

    assert second.pop("duplicate") is True and "duplicate" not in first  # the state table answered
    assert first == second
    assert len(account.messages()) == 1
    assert [a["action"] for a in first["actions"]] == ["stop-task", "stop-task"]
    assert set(task_status(account, started).values()) == {"STOPPED"}


def test_overrides_omitted_by_cloudtrail_are_read_back_from_the_tasks(account: Account, cluster: str):
    evt = event("plaintext-secrets")
    launch(account, evt)
    omitted = {"omitted": True, "originalSize": 301822}
    evt["detail"]["requestParameters"]["overrides"] = omitted
    for task in evt["detail"]["responseElements"]["tasks"]:
        task["overrides"] = omitted

    result = run(evt, account)

    assert {f["field"] for f in result["findings"]} == SECRET_FIELDS
    assert len(account.messages()) == 1


# --------------------------------------------------------------------------- no value anywhere

CANARY = "CanaryPw-3c2b1a0f9e8d-DoNotLeak"


def test_canary_secret_never_leaves_the_handler(
    account: Account, cluster: str, caplog: pytest.LogCaptureFixture, structured_logs: io.StringIO
):
    evt = event("plaintext-secrets")
    override = evt["detail"]["requestParameters"]["overrides"]["containerOverrides"][0]
    override["environment"].append({"name": "ADMIN_PASSWORD", "value": CANARY})
    override["command"] += ["--db-password", CANARY]
    launch(account, evt)
    caplog.set_level(logging.INFO)  # botocore's DEBUG wire log echoes request bodies by design
    caplog.set_level(logging.DEBUG, logger="ecsguard")

    result = run(evt, account, modes={"plaintext-secret": "block"})

    fields = {f["field"] for f in result["findings"]}
    assert "overrides.containerOverrides[migrate].environment.ADMIN_PASSWORD" in fields
    assert any(field.startswith("overrides.containerOverrides[migrate].command[") for field in fields - SECRET_FIELDS)
    messages = account.messages()
    assert messages
    lines = structured_logs.getvalue()
    assert '"message":"task launch checked"' in lines
    records = json.dumps([r.__dict__ for r in caplog.records], default=str)
    for text in (json.dumps(messages), json.dumps(result), lines, records):
        for value in (CANARY, CANARY[:12], *SECRET_VALUES):
            assert value not in text


# --------------------------------------------------------------------------- wiring


def test_deliver_routes_run_task_events_to_this_handler(account: Account, cluster: str):
    evt = event("plaintext-secrets")
    launch(account, evt)

    [(route, result)] = deliver(
        evt,
        template_path=str(ROOT / "template.yaml"),
        endpoint_url=None,
        settings=Settings(topic_arn=account.topic_arn),
    )

    assert route.function == "RunTaskFunction"
    assert result["status"] == "checked" and {f["field"] for f in result["findings"]} == SECRET_FIELDS
    assert (
        deliver(event("failed-call"), template_path=str(ROOT / "template.yaml"), endpoint_url=None, settings=Settings())
        == []
    )


def test_template_handler_path_is_the_one_tested():
    from ecsguard.rules import load_template

    template = load_template(ROOT / "template.yaml")
    function = template["Resources"]["RunTaskFunction"]["Properties"]
    assert function["CodeUri"].rstrip("/") == "functions/run_task"
    assert function["Handler"] == "app.lambda_handler"
    source = (ROOT / "functions/run_task/app.py").read_text()
    assert "lambda_handler = make_launch_handler()" in source
