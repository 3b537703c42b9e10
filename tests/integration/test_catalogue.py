"""The whole catalogue end to end: `ecsguard deliver` against a moto server, as a user would run it.

One flawed definition that shows every mistake a task definition can show (1, 3, 4, 5, 6, 7, 8) yields one
SNS message listing each finding with its fix; a definition that follows every practice yields no finding
above low and no message.

moto cannot simulate IAM policies (iam:SimulatePrincipalPolicy) and its server fails
ecr:DescribePullThroughCacheRules: the simulation is stubbed with the answer the best-practice roles would
get from IAM, the cache rules with an account that has none; everything else is moto's.
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecsguard.cli import main

from conftest import ACCOUNT, REGION, ROOT, load_event

MIB = 1024 * 1024
STATE_TABLE = "ecsguard-state"
EVERY_MISTAKE_CHECKS = {
    "log-group-missing",  # 1
    "plaintext-secret",  # 3
    "task-role-is-execution-role",  # 4
    "role-overprivileged",
    "task-role-shared",
    "secret-reference-missing",
    "image-cross-region",  # 5
    "image-public-registry",
    "image-too-large",  # 6
    "image-mutable-tag",
    "fargate-size-invalid",  # 7
    "container-memory-exceeds-task",
    "runs-as-root",  # 8
    "privileged-container",
    "root-filesystem-writable",
    "dangerous-capabilities",
}
CANARY = "Hunter2-synthetic-9Vq"  # the plaintext DB_PASSWORD of every-mistake.json


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from ecsguard.aws.ecr import PullThroughCacheFacts

    # moto's server answers ecr:DescribePullThroughCacheRules with HTTP 500: an account without rules.
    monkeypatch.setattr(PullThroughCacheFacts, "pull_through_cache_prefixes", lambda self, region: {})

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("ECSGUARD_STATE_TABLE", STATE_TABLE)
    try:
        yield url
    finally:
        import urllib.request

        # The threaded server shares moto's in-process state: leave nothing behind for the next test.
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=5).close()
        server.stop()


def client(service: str, region: str = REGION) -> Any:
    return boto3.client(service, region_name=region)


def subscriber() -> tuple[str, str]:
    """(topic ARN, queue URL) of the stack's topic with an SQS subscriber, and the state table."""
    topic = client("sns").create_topic(Name="ecsguard-notifications")["TopicArn"]
    queue = client("sqs").create_queue(QueueName="subscriber")["QueueUrl"]
    queue_arn = client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    client("dynamodb").create_table(
        TableName=STATE_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return topic, queue


def messages(queue: str) -> list[dict[str, Any]]:
    found = []
    while batch := client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            found.append(json.loads(message["Body"]))
            client("sqs").delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def push_image(repository: str, tag: str, size: int) -> None:
    """An image in moto's ECR whose reported size (moto reads the manifest's config size) is ``size``."""
    client("ecr").create_repository(repositoryName=repository)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": size,
            "digest": "sha256:" + "c" * 64,
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": size,
                "digest": "sha256:" + "d" * 64,
            }
        ],
    }
    client("ecr").put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)


def role(name: str, policy: dict[str, Any]) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    client("iam").put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))
    return arn


def register(event: dict[str, Any]) -> None:
    client("ecs").register_task_definition(**event["detail"]["requestParameters"])


def deliver(tmp_path: Path, event: dict[str, Any], topic: str, url: str, capsys) -> dict[str, Any]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    code = main(["deliver", str(path), "--endpoint-url", url, "--topic-arn", topic, "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    [matched] = json.loads(out)["matched"]
    assert matched["result"]["status"] == "checked", matched
    return matched["result"]


def test_a_definition_with_every_mistake_gets_one_message_with_each_finding_and_its_fix(tmp_path, capsys, moto_server):
    topic, queue = subscriber()
    role(
        "payments-admin", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    push_image("payments-model", "2026.11.3", 1900 * MIB)
    event = load_event("every-mistake")
    # Another family already runs with the same task role: its registration fills the role inventory.
    other = copy.deepcopy(load_event("every-mistake"))
    for part in (other["detail"]["requestParameters"], other["detail"]["responseElements"]["taskDefinition"]):
        part["family"] = "payments-worker"
        for container in part["containerDefinitions"]:
            container["logConfiguration"]["options"]["awslogs-group"] = "/ecs/payments-worker"
    other["detail"]["responseElements"]["taskDefinition"]["taskDefinitionArn"] = (
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/payments-worker:1"
    )
    other["detail"]["eventID"] = "a7e1c0de-0000-4000-8000-0000000000ff"
    register(other)
    deliver(tmp_path, other, topic, moto_server, capsys)
    messages(queue)
    register(event)

    result = deliver(tmp_path, event, topic, moto_server, capsys)

    assert EVERY_MISTAKE_CHECKS <= {f["check"] for f in result["findings"]}
    [message] = messages(queue)
    attributes = {k: v["Value"] for k, v in message["MessageAttributes"].items()}
    assert EVERY_MISTAKE_CHECKS <= set(json.loads(attributes["checks"]))
    assert attributes["severity"] == "high" and attributes["action"] == "remediated"  # the log group was created
    document = json.loads(message["Message"])
    for check in EVERY_MISTAKE_CHECKS:
        [first, *_] = [f for f in document["findings"] if f["check"] == check]
        assert len(first["remediation"]) > 40 and first["message"], check
    assert any("payments-worker" in f["message"] for f in document["findings"] if f["check"] == "task-role-shared")
    assert client("logs").describe_log_groups(logGroupNamePrefix="/ecs/payments-api")["logGroups"]
    assert CANARY not in json.dumps(message) and CANARY not in json.dumps(result)


def test_a_definition_that_follows_every_practice_gets_nothing_above_low(tmp_path, capsys, moto_server, monkeypatch):
    topic, queue = subscriber()
    event = load_event("best-practice")
    request = event["detail"]["requestParameters"]
    secret_arn = client("secretsmanager").create_secret(Name="orders/db-password", SecretString="not-a-real-one")["ARN"]
    for part in (request, event["detail"]["responseElements"]["taskDefinition"]):
        part["containerDefinitions"][0]["secrets"][0]["valueFrom"] = secret_arn
    client("logs").create_log_group(logGroupName="/ecs/orders-web")
    push_image("orders-web", "1.14.2", 180 * MIB)
    role(
        "orders-web-task",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders-web-assets/*"}
            ],
        },
    )
    role(
        "orders-web-execution",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn},
                {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
            ],
        },
    )

    from ecsguard.aws.iam import IamFacts

    def simulate(self, role_arn, actions, resources, **_context):
        """What IAM's simulator answers for orders-web-execution: its one secret, nothing else."""
        return {
            f"{a} {r}": "allowed" if (a, r) == ("secretsmanager:GetSecretValue", secret_arn) else "implicitDeny"
            for a in actions
            for r in resources
        }

    monkeypatch.setattr(IamFacts, "simulate", simulate)
    register(event)

    result = deliver(tmp_path, event, topic, moto_server, capsys)

    above_low = [f for f in result["findings"] if f["severity"] not in ("low", "info")]
    assert above_low == []
    assert result["messageId"] is None and messages(queue) == []


def test_the_best_practice_definition_is_clean_offline_too(tmp_path, capsys):
    """ecsguard scan (no AWS) on the same definition: exit 0, nothing above low."""
    request = json.loads((ROOT / "events" / "register_task_definition" / "best-practice.json").read_text())
    path = tmp_path / "best-practice.json"
    path.write_text(json.dumps(request["detail"]["requestParameters"]))
    assert main(["scan", "--format", "json", "--region", REGION, str(path)]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert all(f["severity"] in ("low", "info") for f in findings), findings
