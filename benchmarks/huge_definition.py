"""A huge task definition through the registration flow end to end: 10 containers of 1,000 environment variables.

Prints figures; asserts nothing. Run with the project's virtualenv:

    .venv/bin/python benchmarks/huge_definition.py [--containers 10] [--variables 1000] [--runs 3]

The definition mixes what real ones hold (feature flags, URLs, timeouts, hosts, paths, JSON snippets,
``${...}`` placeholders, secret references by name) with a few real-shaped credentials (a database
password, an AWS key pair, a GitHub token, a Slack webhook, a connection string with a password), so
``plaintext-secret`` has work to do and the message has findings to carry. Real ECS refuses a
definition over 64 KiB, so this is hostile input, not a deployment; CloudTrail would also omit so large
a response, which is the second case measured (the flow reads the definition back).

Against moto in-process, with the whole catalogue at its defaults, the state table (idempotency, role
inventory) and the SNS topic with an SQS subscriber, it prints for each case: the time of the checks
alone (``ecsguard.policy.evaluate`` with the flow's facts), of the whole event (the handler), the number
of findings, the size of the SNS message (and that it fits SNS's 256 KiB), and the AWS calls made.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "ecsguard")]
REGION = "us-east-1"
ACCOUNT = "123456789012"
SNS_LIMIT = 256 * 1024
os.environ.update(
    {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_MAX_ATTEMPTS": "1",
        "POWERTOOLS_SERVICE_NAME": "ecsguard",
    }
)

# What sits in the environment of real definitions (names and values), and a few credentials.
PLAIN = [
    ("FEATURE_{n}_ENABLED", lambda r: r.choice(["true", "false"])),
    ("SERVICE_{n}_URL", lambda r: f"https://svc-{r.randrange(999)}.internal.example.com:8443/api/v{r.randrange(1, 4)}"),
    ("TIMEOUT_{n}_MS", lambda r: str(r.randrange(100, 60_000))),
    ("CACHE_{n}_TTL", lambda r: str(r.choice([30, 60, 300, 3600]))),
    ("DB_{n}_HOST", lambda r: f"db-{r.randrange(99)}.cluster-c1a2b3.{REGION}.rds.amazonaws.com"),
    ("QUEUE_{n}_URL", lambda r: f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs-{r.randrange(999)}"),
    ("LOG_{n}_LEVEL", lambda r: r.choice(["debug", "info", "warn", "error"])),
    ("PATH_{n}", lambda r: f"/opt/app/{r.choice(['bin', 'lib', 'share'])}/{r.randrange(99)}"),
    ("JSON_{n}_CONFIG", lambda r: json.dumps({"retries": r.randrange(5), "backoff": r.random()})),
    ("TEMPLATE_{n}", lambda r: "${" + f"STAGE_{r.randrange(9)}" + "}"),
    ("SECRET_{n}_ARN", lambda r: f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/s{r.randrange(99)}-AbCdEf"),
    ("PASSWORD_{n}_MIN_LENGTH", lambda r: str(r.randrange(8, 20))),
]
CREDENTIALS = [
    ("DB_PASSWORD", "Tr0ub4dor-synthetic-7Qx{n}"),
    ("AWS_ACCESS_KEY_ID", "AKIAQ4ZT7MWX2KRB5NV{n}"),
    ("AWS_SECRET_ACCESS_KEY", "wJ7rT2xQ9mVb4Lk8Zp1Yc6Hn3Fs0Dg5Ke2Ua9Xo{n}"),
    ("GITHUB_TOKEN", "ghp_R8kq2VzX7mNw4Lp9Tb3Hc6Yd1Fs5Gj0Ua2Q{n}"),
    ("SLACK_WEBHOOK", "https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/Xy7Zq9Lm3Np5Rt8Vw2Bc4D{n}"),
    ("DATABASE_URL", "postgres://app:S3cr3t-synthetic-pw{n}@db.cluster-c1a2b3.us-east-1.rds.amazonaws.com/app"),
]


def definition(containers: int, variables: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    definitions = []
    for index in range(containers):
        environment = [
            {"name": name, "value": value.format(n=index)}
            for name, value in CREDENTIALS[: 1 + index % len(CREDENTIALS)]
        ]
        while len(environment) < variables:
            name, value = rng.choice(PLAIN)
            environment.append({"name": f"{name.format(n=len(environment))}", "value": value(rng)})
        definitions.append(
            {
                "name": f"app-{index}",
                "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app-{index}:1.{index}.0",
                "essential": index == 0,
                "memoryReservation": 256,
                "environment": environment,
                "secrets": [{"name": "API_KEY", "valueFrom": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/api-key"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/ecs/huge", "awslogs-region": REGION, "awslogs-stream-prefix": "c"},
                },
            }
        )
    return {
        "family": "huge",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/huge-task",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "4096",
        "memory": "16384",
        "containerDefinitions": definitions,
    }


def event(request: dict[str, Any], response: dict[str, Any] | None, event_id: str) -> dict[str, Any]:
    """The EventBridge envelope of a RegisterTaskDefinition call (events/register_task_definition/*.json)."""
    return {
        "version": "0",
        "id": f"{event_id}-eb",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ecs",
        "account": ACCOUNT,
        "time": "2026-11-28T07:30:00Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci"},
            "eventTime": "2026-11-28T07:30:00Z",
            "eventSource": "ecs.amazonaws.com",
            "eventName": "RegisterTaskDefinition",
            "awsRegion": REGION,
            "requestParameters": request,
            "responseElements": {"taskDefinition": response} if response else {"omitted": True, "originalSize": 10**6},
            "eventID": event_id,
            "recipientAccountId": ACCOUNT,
        },
    }


def measure(request: dict[str, Any], *, read_back: bool, event_id: str) -> dict[str, Any]:
    """One fresh moto account, one event: the checks alone, then the whole event through the handler."""
    import boto3
    from moto import mock_aws

    from ecsguard.aws import Clients
    from ecsguard.aws.facts import AwsFacts, read_task_definition
    from ecsguard.delivery import lambda_context
    from ecsguard.events import parse_registration
    from ecsguard.handlers import make_registration_handler
    from ecsguard.policy import Settings, evaluate

    with mock_aws():
        session = boto3.Session(region_name=REGION)
        sns, sqs = session.client("sns"), session.client("sqs")
        topic = sns.create_topic(Name="ecsguard")["TopicArn"]
        queue = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        session.client("dynamodb").create_table(
            TableName="ecsguard-state",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        registered = session.client("ecs").register_task_definition(**copy.deepcopy(request))["taskDefinition"]
        the_event = event(request, None if read_back else registered, event_id)
        settings = Settings(topic_arn=topic, state_table="ecsguard-state")

        # The checks alone, with the facts the flow gives them (moto answers), on their own clients.
        registration = parse_registration(the_event)
        td = registration.task_definition or read_task_definition(
            Clients(session=session), REGION, registration.arn or ""
        )
        started = time.perf_counter()
        found, _ = evaluate(td, settings, AwsFacts(Clients(session=session), state_table="ecsguard-state"), REGION)
        checks_ms = (time.perf_counter() - started) * 1000

        # The whole event through the handler, on fresh clients (nothing cached), counting the calls.
        calls: list[str] = []
        published: list[int] = []
        session.events.register("before-call", lambda model, **_: calls.append(model.name))
        session.events.register(
            "before-parameter-build.sns.Publish", lambda params, **_: published.append(len(params["Message"].encode()))
        )
        handler = make_registration_handler(settings=settings, clients=Clients(session=session), metrics=False)
        started = time.perf_counter()
        result = handler(the_event, lambda_context("bench"))
        event_ms = (time.perf_counter() - started) * 1000
        delivered = len(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []))
    return {
        "checks_ms": checks_ms,
        "event_ms": event_ms,
        "findings": Counter(f["check"] for f in result.get("findings", [])),
        "evaluated": len(found),
        "message_bytes": max(published, default=None),
        "delivered": delivered,
        "calls": Counter(calls),
    }


def run(containers: int, variables: int, runs: int) -> None:
    from ecsguard.handlers import logger

    logger.setLevel("WARNING")
    measure(definition(2, 10), read_back=False, event_id="warm-up")  # imports, service models: not the figures
    request = definition(containers, variables)
    print(
        f"definition: {containers} containers x {variables} environment variables, "
        f"{len(json.dumps(request)) / 1024:.0f} KiB of JSON (ECS accepts at most 64 KiB)"
    )
    for read_back in (False, True):
        results = [measure(request, read_back=read_back, event_id=f"bench-{run}") for run in range(runs)]
        last = results[-1]
        case = "CloudTrail omitted it: read back (DescribeTaskDefinition)" if read_back else "event carries it whole"
        print(f"\n{case}  (median of {runs})")
        print(f"  checks (evaluate, whole catalogue)  {statistics.median(r['checks_ms'] for r in results):8.1f} ms")
        print(f"  whole event (handler)               {statistics.median(r['event_ms'] for r in results):8.1f} ms")
        findings = last["findings"]
        counts = ", ".join(f"{check} {count}" for check, count in findings.most_common())
        print(f"  findings                            {sum(findings.values()):8}  ({counts})")
        size = last["message_bytes"]
        if size is None:
            print("  SNS message                         none sent")
        else:
            fits = "fits" if size <= SNS_LIMIT else "DOES NOT FIT"
            print(f"  SNS message                         {size / 1024:8.1f} KiB ({fits} in SNS's 256 KiB)")
        print(f"  delivered to the SQS subscriber     {last['delivered']:8}")
        calls = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in sorted(last["calls"].items()))
        print(f"  AWS calls                           {sum(last['calls'].values()):8}  ({calls})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=10)
    parser.add_argument("--variables", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    run(args.containers, args.variables, args.runs)


if __name__ == "__main__":
    main()
