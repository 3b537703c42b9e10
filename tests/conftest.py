"""Shared fixtures: the repository layout, the events, and a moto-backed AWS account."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "ecsguard"))  # the core, also when not pip-installed

EVENTS = ROOT / "events"
CORPUS = ROOT / "tests" / "data" / "corpus"  # a copy of ../shared/corpus (see its NOTICE.md)
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account, also the account of every events/ file


# The checks of the first release. Tests written about them (log groups, secrets, the CLI's plumbing) run with
# only these on, so a new check in the catalogue does not change what they assert; the whole catalogue has its
# own end-to-end tests (tests/integration/test_catalogue.py).
FIRST_CATALOGUE = frozenset({"log-group-missing", "logging-disabled", "awslogs-options-invalid", "plaintext-secret"})


def only_modes(checks: frozenset[str] = FIRST_CATALOGUE) -> dict[str, str]:
    """Modes that turn every check off but ``checks`` (left at their defaults)."""
    from ecsguard.checks import load_all

    return {check: "off" for check in load_all() if check not in checks}


def only_modes_text(checks: frozenset[str] = FIRST_CATALOGUE, **extra: str) -> str:
    """The same as an ECSGUARD_MODES / --modes value, with ``extra`` check=mode pairs on top."""
    modes = {**only_modes(checks), **{k.replace("_", "-"): v for k, v in extra.items()}}
    return ",".join(f"{check}={mode}" for check, mode in sorted(modes.items()))


def load_event(name: str, flow: str = "register_task_definition") -> dict[str, Any]:
    return json.loads((EVENTS / flow / f"{name}.json").read_text())


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach a real account: fake credentials, a fixed region, no retries."""
    for key in [k for k in os.environ if k.startswith(("AWS_", "ECSGUARD_"))]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


@dataclass
class Account:
    """A moto account with the stack's topic, an SQS subscriber and the idempotency table."""

    topic_arn: str
    queue_url: str
    table: str

    def client(self, service: str, region: str = REGION) -> Any:
        import boto3

        return boto3.client(service, region_name=region)

    def messages(self) -> list[dict[str, Any]]:
        """Every SNS message the subscriber received so far (the SNS envelope, parsed), and consume them."""
        sqs = self.client("sqs")
        received: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return received
            for message in batch:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def register(self, event: dict[str, Any]) -> dict[str, Any]:
        """Register the event's requestParameters so the revision really exists; returns the response."""
        return self.client("ecs").register_task_definition(**event["detail"]["requestParameters"])


@pytest.fixture
def account() -> Iterator[Account]:
    from moto import mock_aws

    with mock_aws():
        import boto3

        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic_arn = sns.create_topic(Name="ecsguard-notifications")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="ecsguard-idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield Account(topic_arn=topic_arn, queue_url=queue_url, table="ecsguard-idempotency")


@pytest.fixture
def structured_logs():
    """The handler's Powertools JSON log lines (every extra field included), at DEBUG."""
    from ecsguard.handlers import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    underlying = logging.getLogger(logger.name)
    underlying.addHandler(handler)
    level = underlying.level
    underlying.setLevel(logging.DEBUG)
    yield stream
    underlying.removeHandler(handler)
    underlying.setLevel(level)
