"""The launch function on CreateService / UpdateService / RunTask with real VPC layouts in moto.

The events of events/run_task/ are pointed at subnets and security groups built in moto (the VPC builder
of test_network_facts) and at a task definition registered there, then delivered through the real handler:
what the user notices is the SNS message (subject, text, attributes) or its absence, and that a service is
never stopped while a RunTask in block mode has exactly its own tasks stopped.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from test_network_facts import Vpc
from test_run_task import cluster, task_status  # noqa: F401  (the EC2 cluster fixture that really places tasks)

from ecsguard.aws import Clients
from ecsguard.aws.network import clear_caches
from ecsguard.delivery import deliver, lambda_context
from ecsguard.handlers import make_launch_handler
from ecsguard.policy import Settings

from conftest import ACCOUNT, REGION, ROOT, Account, load_event

CONTEXT = lambda_context("RunTaskFunction")
ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/checkout:2.3.1"


@pytest.fixture
def vpc(account: Account) -> Vpc:
    clear_caches()
    yield Vpc(account.client("ec2"))
    clear_caches()


def register(account: Account, family: str, image: str = ECR_IMAGE) -> str:
    return account.client("ecs").register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": image, "essential": True, "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]


def service_event(name: str, account: Account, vpc: Vpc, subnets: list[str], *, public: bool = False) -> dict:
    """A service event pointed at moto's subnets, its security group and a registered revision."""
    event = load_event(name, flow="run_task")
    arn = register(account, "checkout")
    network = {
        "awsvpcConfiguration": {
            "subnets": subnets,
            "securityGroups": [vpc.task_sg],
            "assignPublicIp": "ENABLED" if public else "DISABLED",
        }
    }
    detail = event["detail"]
    detail["responseElements"]["service"]["taskDefinition"] = arn
    detail["responseElements"]["service"]["networkConfiguration"] = network
    if "networkConfiguration" in detail["requestParameters"]:
        detail["requestParameters"]["networkConfiguration"] = network
    return event


def run(event: dict[str, Any], account: Account, clients: Clients | None = None, **settings: Any) -> dict[str, Any]:
    settings.setdefault("topic_arn", account.topic_arn)
    handler = make_launch_handler(settings=Settings(**settings), clients=clients or Clients(), metrics=False)
    return handler(event, CONTEXT)


@pytest.fixture(autouse=True)
def texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text bodies people read (SNS "default"; the SQS subscriber receives the JSON document)."""
    from ecsguard.render import sns

    sent: list[str] = []
    render = sns.render

    def capture(report, **options):
        notification = render(report, **options)
        sent.append(notification.text)
        return notification

    monkeypatch.setattr(sns, "render", capture)
    return sent


def one_message(account: Account, texts: list[str]) -> tuple[dict, str, dict]:
    [message] = account.messages()
    [text] = texts
    attributes = {k: v["Value"] for k, v in message["MessageAttributes"].items()}
    return message, text, attributes


def test_create_service_in_a_private_subnet_without_a_path_is_reported(account: Account, vpc: Vpc, texts):
    subnet, _ = vpc.subnet()
    result = run(service_event("create-service", account, vpc, [subnet]), account)

    assert [f["check"] for f in result["findings"]] == ["registry-unreachable"]
    assert result["launch"]["service"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/web/checkout"
    message, text, attributes = one_message(account, texts)
    assert message["Subject"].startswith("[ecsguard] HIGH: CreateService checkout:")
    assert json.loads(attributes["checks"]) == ["registry-unreachable"]
    assert attributes["action"] == "notified"
    assert f"Service:     arn:aws:ecs:{REGION}:{ACCOUNT}:service/web/checkout" in text
    assert f"Subnets:     {subnet}" in text
    assert "Public IP:   DISABLED" in text
    assert subnet in text and "CannotPullContainerError" in text


def test_block_never_touches_a_service(account: Account, vpc: Vpc, texts):
    subnet, _ = vpc.subnet()
    result = run(
        service_event("create-service", account, vpc, [subnet]), account, modes={"registry-unreachable": "block"}
    )
    assert result["findings"][0]["mode"] == "notify"  # block needs tasks of this call to stop: a service has none
    assert result["actions"] == []
    _, text, attributes = one_message(account, texts)
    assert attributes["action"] == "notified"
    assert "What ecsguard did: nothing changed" in text


def test_update_service_into_a_public_subnet_with_a_public_ip_is_silent(account: Account, vpc: Vpc):
    subnet, rtb = vpc.subnet()
    vpc.igw_route(rtb)
    result = run(service_event("update-service-network", account, vpc, [subnet], public=True), account)
    assert result["findings"] == []
    assert account.messages() == []


def test_update_service_into_a_public_subnet_without_a_public_ip_is_reported(account: Account, vpc: Vpc, texts):
    subnet, rtb = vpc.subnet()
    vpc.igw_route(rtb)
    result = run(service_event("update-service-network", account, vpc, [subnet], public=False), account)
    assert [f["check"] for f in result["findings"]] == ["registry-unreachable"]
    _, text, _ = one_message(account, texts)
    assert "assignPublicIp" in text


def test_new_revision_of_a_service_behind_a_nat_is_silent(account: Account, vpc: Vpc):
    subnet, rtb = vpc.subnet()
    vpc.nat_route(rtb)
    assert run(service_event("update-service-task-definition", account, vpc, [subnet]), account)["findings"] == []
    assert account.messages() == []


def test_ec2_service_is_not_checked_and_costs_no_call(account: Account):
    clients = Clients()
    calls: Counter = Counter()
    for service in ("ecs", "ec2"):
        clients(service, REGION).meta.events.register("before-call", lambda model, **_: calls.update([model.name]))
    result = run(load_event("create-service-ec2-bridge", flow="run_task"), account, clients=clients)
    assert result["status"] == "skipped"
    assert "no awsvpc network to judge on Fargate" in result["reason"]
    assert calls == Counter()


def test_definition_not_readable_says_could_not_verify_and_pages_nobody(account: Account, vpc: Vpc):
    subnet, _ = vpc.subnet()
    event = service_event("create-service", account, vpc, [subnet])
    event["detail"]["responseElements"]["service"]["taskDefinition"] = (
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/never-registered:1"
    )
    result = run(event, account)
    assert result["unverified"] == ["registry-unreachable"]
    assert [f["severity"] for f in result["findings"]] == ["info"]
    assert account.messages() == []


def test_calls_per_service_event(account: Account, vpc: Vpc):
    """Two subnets: the definition once, then the network reads (printed for the closing note)."""
    a, _ = vpc.subnet()
    b, _ = vpc.subnet()
    clients = Clients()
    calls: Counter = Counter()
    for service in ("ecs", "ec2", "ecr", "sns"):
        clients(service, REGION).meta.events.register("before-call", lambda model, **_: calls.update([model.name]))
    run(service_event("create-service", account, vpc, [a, b]), account, clients=clients)
    print(dict(calls))
    assert calls["DescribeTaskDefinition"] == 1
    assert calls["DescribeSubnets"] == 1  # both subnets in one call
    assert sum(calls.values()) <= 10


def test_run_task_in_block_mode_stops_exactly_its_tasks(account: Account, vpc: Vpc, cluster: str, texts):  # noqa: F811
    subnet, _ = vpc.subnet()
    ecs = account.client("ecs")
    # moto cannot start awsvpc tasks (its ENI lacks private_dns_name): the tasks it really runs are of a bridge
    # revision, while the event names the awsvpc revision the (Fargate) call launched.
    bridge = ecs.register_task_definition(
        family="reports-exporter-bridge", containerDefinitions=[{"name": "app", "image": ECR_IMAGE, "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    arn = register(account, "reports-exporter")
    start = {"cluster": "batch", "taskDefinition": bridge, "count": 1, "launchType": "EC2"}
    started = ecs.run_task(**start)["tasks"]
    bystander = ecs.run_task(**start)["tasks"][0]["taskArn"]
    event = load_event("no-overrides", flow="run_task")
    detail = event["detail"]
    detail["requestParameters"].update(
        {
            "cluster": "batch",
            "taskDefinition": arn,
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": [subnet],
                    "securityGroups": [vpc.task_sg],
                    "assignPublicIp": "DISABLED",
                }
            },
        }
    )
    detail["responseElements"]["tasks"] = json.loads(json.dumps(started, default=str))
    for task in detail["responseElements"]["tasks"]:
        task.update({"launchType": "FARGATE", "taskDefinitionArn": arn})

    result = run(event, account, modes={"registry-unreachable": "block"})

    mine = [t["taskArn"] for t in started]
    assert [a["target"] for a in result["actions"]] == mine
    assert task_status(account, [*mine, bystander]) == {**dict.fromkeys(mine, "STOPPED"), bystander: "RUNNING"}
    _, _, attributes = one_message(account, texts)
    assert attributes["action"] == "blocked"


@pytest.mark.parametrize(
    ("name", "routed"),
    [
        ("create-service", True),
        ("update-service-network", True),
        ("update-service-task-definition", True),
        ("not-ours-update-service-desired-count", False),
        ("failed-call-create-service", False),
    ],
)
def test_deliver_routes_service_events_by_the_template_rule(account: Account, name: str, routed: bool):
    event = load_event(name, flow="run_task")
    results = deliver(event, template_path=str(ROOT / "template.yaml"), endpoint_url=None, settings=Settings())
    assert [route.function for route, _ in results] == (["RunTaskFunction"] if routed else [])
