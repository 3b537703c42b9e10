"""``ecsguard demo``: the RegisterTaskDefinition flow end to end against a local moto server.

It starts ``moto_server`` on 127.0.0.1, creates the SNS topic with an SQS subscription, registers a
flawed task definition, delivers its CloudTrail event through the real handler (routed by the rule
patterns of template.yaml), shows the log group ecsguard created and the SNS message as an SQS
subscriber receives it, then does the same for a clean definition (no message), and stops the
server. Needs the ``dev`` extra (moto[server]); touches no real AWS account.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

REGION = "us-east-1"
STATE_TABLE = "ecsguard-state"
EVENTS = Path("events/register_task_definition")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Run a moto server on a free loopback port for the duration of the block; yields its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start (is moto[server] installed?)") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def fake_aws_environment(endpoint_url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_MAX_ATTEMPTS": "1",
    }


def event_for_registration(template_event: dict[str, Any], request: dict[str, Any], response: dict[str, Any]) -> dict:
    """A CloudTrail event for a registration that really happened: the template's envelope with the
    request as sent and the response as returned (timestamps as strings, as CloudTrail writes them)."""
    event = copy.deepcopy(template_event)
    event["detail"]["requestParameters"] = request
    event["detail"]["responseElements"] = json.loads(
        json.dumps({k: v for k, v in response.items() if k != "ResponseMetadata"}, default=str)
    )
    return event


def _create_referenced_secrets(session: Any, request: dict[str, Any]) -> None:
    """Create what the clean definition references (a secret, a SecureString) and point valueFrom at them.

    A Secrets Manager ARN ends in a random suffix AWS chooses, so the event's ARN is replaced by the real one.
    """
    secretsmanager, ssm = session.client("secretsmanager"), session.client("ssm")
    for container in request["containerDefinitions"]:
        for secret in container.get("secrets", []):
            value_from = secret["valueFrom"]
            if ":secretsmanager:" in value_from:
                name = value_from.split(":secret:", 1)[1].rsplit("-", 1)[0]
                secret["valueFrom"] = secretsmanager.create_secret(Name=name, SecretString="demo-not-a-secret")["ARN"]
            elif ":parameter/" in value_from:
                name = "/" + value_from.split(":parameter/", 1)[1]
                ssm.put_parameter(Name=name, Value="demo-not-a-secret", Type="SecureString")
            print(f"  created {secret['valueFrom']} for secrets.{secret['name']}")


def _section(title: str) -> None:
    print(f"\n=== {title} ===")


def run_demo(template_path: str = "template.yaml", keep_server: bool = False) -> int:
    import boto3

    from ..delivery import deliver
    from ..handlers import logger
    from ..policy import Settings

    for required in (Path(template_path), EVENTS / "plaintext-secrets.json", EVENTS / "clean.json"):
        if not required.exists():
            print(f"ecsguard demo: {required} not found: run it from the repository root", file=sys.stderr)
            return 2
    logger.setLevel("WARNING")
    with moto_server() as url:
        saved = dict(os.environ)
        os.environ.update(fake_aws_environment(url))
        try:
            session = boto3.Session(region_name=REGION)
            sns, sqs, ecs, logs = (session.client(s) for s in ("sns", "sqs", "ecs", "logs"))
            _section(f"moto server on {url} (a stand-in AWS account, nothing real is touched)")
            topic_arn = sns.create_topic(Name="ecsguard-notifications")["TopicArn"]
            queue_url = sqs.create_queue(QueueName="ecsguard-subscriber")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
            print(f"SNS topic {topic_arn}\nsubscribed SQS queue {queue_arn}")
            session.client("dynamodb").create_table(
                TableName=STATE_TABLE,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            print(f"state table {STATE_TABLE} (idempotency, role inventory)")
            settings = Settings.from_env(
                {
                    "ECSGUARD_TOPIC_ARN": topic_arn,
                    "ECSGUARD_LOG_RETENTION_DAYS": "30",
                    "ECSGUARD_STATE_TABLE": STATE_TABLE,
                    # moto cannot simulate IAM policies (iam:SimulatePrincipalPolicy): the two checks that
                    # rely on the simulation stay off in the demo; a deployed stack runs them.
                    "ECSGUARD_MODES": "secret-access-denied=off,log-group-autocreate-denied=off",
                }
            )
            print(
                "checks off in the demo (moto cannot simulate IAM policies): secret-access-denied, log-group-autocreate-denied"
            )

            for label, name in (
                ("a flawed task definition", "plaintext-secrets"),
                ("a clean task definition", "clean"),
            ):
                template_event = json.loads((EVENTS / f"{name}.json").read_text())
                request = template_event["detail"]["requestParameters"]
                if name == "clean":
                    _create_referenced_secrets(session, request)
                    for container in request["containerDefinitions"]:
                        options = container["logConfiguration"]["options"]
                        logs.create_log_group(logGroupName=options["awslogs-group"])
                _section(f"register {label}: {request['family']} ({EVENTS / (name + '.json')})")
                response = ecs.register_task_definition(**request)
                arn = response["taskDefinition"]["taskDefinitionArn"]
                print(f"registered {arn}")
                for container in request["containerDefinitions"]:
                    print(
                        f"  container {container['name']}: environment {[e['name'] for e in container.get('environment', [])]}"
                    )
                event = event_for_registration(template_event, request, response)

                _section("deliver the CloudTrail event through the handler")
                for route, result in deliver(event, template_path=template_path, endpoint_url=None, settings=settings):
                    print(f"rule {route.function}/{route.rule} -> {route.code_uri}{route.handler}")
                    for finding in result.get("findings", []):
                        where = " ".join(p for p in (finding["container"], finding["field"]) if p)
                        print(
                            f"  finding: {finding['severity'].upper()} {finding['check']} {where} [mode {finding['mode']}]"
                        )
                    for action in result.get("actions", []):
                        print(f"  action:  {action['detail']}")
                    print(f"  SNS message id: {result.get('messageId') or '(none)'}")

                for container in request["containerDefinitions"]:
                    group = container["logConfiguration"]["options"]["awslogs-group"]
                    found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
                    for log_group in (g for g in found if g["logGroupName"] == group):
                        arn = log_group["arn"].removesuffix(":*")
                        tags = logs.list_tags_for_resource(resourceArn=arn)["tags"]
                        days = log_group.get("retentionInDays")
                        retention = f"{days} days" if days else "never expire"
                        print(f"log group {group}: exists, retention {retention}, tags {tags}")

                _section("what the SNS subscriber received")
                messages = sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
                ).get("Messages", [])
                if not messages:
                    print("no message: nothing to report for this definition")
                for message in messages:
                    envelope = json.loads(message["Body"])
                    print(f"Subject: {envelope.get('Subject')}")
                    attributes = {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}
                    print(f"Attributes: {json.dumps(attributes)}")
                    print("Message (JSON for machine subscribers; email subscribers get the same as text):")
                    print(json.dumps(json.loads(envelope["Message"]), indent=2))
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        finally:
            os.environ.clear()
            os.environ.update(saved)
    _section("moto server stopped")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(template_path=args.template, keep_server=False)
