"""Unattended operation: faults, duplicates, replays, the kill switch, self-protection, metrics.

Every event ends processed once (actions once, one message) or fails loudly so Lambda retries it;
never "no findings" because a read failed.
"""

from __future__ import annotations

import copy
import json
import random
import threading
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from ecsguard.aws import Clients
from ecsguard.cli import main
from ecsguard.delivery import lambda_context
from ecsguard.handlers import make_registration_handler
from ecsguard.policy import Settings

from conftest import Account, load_event

CONTEXT = lambda_context("RegisterTaskDefinitionFunction")
FAULTY_EVENTS = ("plaintext-secrets", "missing-log-group", "truncated", "cross-region-logs", "every-mistake")


def handler(account: Account, clients: Clients | None = None, **settings: Any):
    settings.setdefault("topic_arn", account.topic_arn)
    settings.setdefault("state_table", account.table)
    return make_registration_handler(settings=Settings(**settings), clients=clients or Clients())


def verdict(result: dict[str, Any]) -> set[tuple[str, str | None, str | None, str]]:
    return {(f["check"], f["container"], f["field"], f["severity"]) for f in result["findings"]}


# The state table's own calls are left alone: if it fails after the work is done, Powertools keeps the record
# "in progress" and refuses retries until it expires, after which one duplicate message is possible (README,
# "Operating ecsguard"). Everything else may fail.
STATE_CALLS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem"}


def throttle(clients: Clients, share: float, seed: int) -> list[str]:
    """Make ``share`` of the AWS calls fail as if still throttled after botocore's retries."""
    rng = random.Random(seed)
    failed: list[str] = []

    def maybe_fail(model, **_kwargs):
        if model.name not in STATE_CALLS and rng.random() < share:
            failed.append(model.name)
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, model.name)

    clients.session.events.register("before-call", maybe_fail)
    return failed


@pytest.mark.parametrize("name", FAULTY_EVENTS)
def test_under_throttling_every_event_ends_processed_once_or_failed_loudly(account: Account, name: str):
    """30 % of AWS calls fail (as if still throttled after botocore's retries): each attempt either fails
    loudly (Lambda retries it) or returns the same verdict as a run without faults; one message in the end.

    log-group-missing notifies here (a remediation by an earlier attempt changes what the next one sees; that
    case is the next test), and the fault-free baseline runs under another eventID so that it is not the
    same event for the state table.
    """
    event = load_event(name)
    account.register(event)
    modes = {"log-group-missing": "notify"}
    baseline_event = copy.deepcopy(event)
    baseline_event["detail"]["eventID"] = "baseline-" + str(event["detail"].get("eventID"))
    expected = verdict(handler(account, topic_arn=None, modes=modes)(baseline_event, CONTEXT))
    assert expected, f"{name}: the baseline has findings"

    clients = Clients()
    failed = throttle(clients, share=0.3, seed=sum(map(ord, name)))
    faulty = handler(account, clients, modes=modes)
    outcomes: list[str] = []
    for _attempt in range(40):  # Lambda retries an event that failed (twice), then the dead-letter queue
        try:
            result = faulty(event, CONTEXT)
        except (ClientError, BotoCoreError):
            outcomes.append("failed loudly")
            continue
        assert verdict(result) == expected, f"{name}: a failed read changed the verdict"
        outcomes.append("processed")
        break
    assert failed, "the fault injection injected nothing"
    assert outcomes[-1] == "processed", outcomes
    assert "failed loudly" in outcomes  # the faults did hit this event
    assert len(account.messages()) == 1  # however many attempts failed halfway: one message


def test_a_failure_halfway_is_finished_by_the_retry_without_repeating_what_was_done(account: Account):
    """Publish fails after the log group was created: the retry creates nothing twice and sends once."""
    event = load_event("missing-log-group")
    account.register(event)
    clients = Clients()
    calls = {"Publish": 0}

    def fail_first_publish(model, **_kwargs):
        if model.name == "Publish":
            calls["Publish"] += 1
            if calls["Publish"] == 1:
                raise ClientError({"Error": {"Code": "InternalError", "Message": "SNS is down"}}, "Publish")

    clients.session.events.register("before-call", fail_first_publish)
    run = handler(account, clients)
    with pytest.raises(ClientError):
        run(event, CONTEXT)  # the invocation fails: Lambda retries it, then the dead-letter queue keeps it
    result = run(event, CONTEXT)

    # The retry no longer sees the group missing (the first attempt created it), but it remembers that it did.
    assert [a["detail"] for a in result["actions"]] == [
        "created log group /ecs/orders-api in us-east-1 (30-day retention)"
    ]
    assert len(account.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/orders-api")["logGroups"]) == 1
    [message] = account.messages()
    assert json.loads(message["Message"])["action"] == "remediated"


def test_sns_failing_fails_the_invocation_instead_of_losing_the_event(account: Account):
    event = load_event("plaintext-secrets")
    account.register(event)
    clients = Clients()

    def sns_down(model, **_kwargs):
        if model.name == "Publish":
            raise ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, "Publish")

    clients.session.events.register("before-call", sns_down)
    with pytest.raises(ClientError):
        handler(account, clients)(event, CONTEXT)
    assert account.messages() == []


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB's conditional writes are atomic; moto's in-process backend is not thread-safe (two threads can
    both pass ``attribute_not_exists`` and both write). One lock around its writes gives the tests AWS's semantics,
    so the race they probe is ecsguard's, not the stand-in's."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, atomic)


def test_concurrent_duplicates_act_once_and_send_one_message(account: Account, atomic_dynamodb: None):
    event = load_event("missing-log-group")
    account.register(event)
    run = handler(account)
    results: list[Any] = []

    def deliver() -> None:
        try:
            results.append(run(event, CONTEXT))
        except Exception as exc:  # the one still in progress is retried by Lambda
            results.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    retried = [run(event, CONTEXT) for r in results if isinstance(r, Exception)]
    done = [r for r in results if not isinstance(r, Exception)] + retried
    assert len({r["messageId"] for r in done}) == 1
    assert len(account.messages()) == 1
    groups = account.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/orders-api")["logGroups"]
    assert len(groups) == 1


def test_kill_switch_turns_block_and_remediate_into_notify(account: Account):
    event = load_event("missing-log-group")
    account.register(event)

    result = handler(account, modes={"plaintext-secret": "block"}, kill_switch=True)(event, CONTEXT)

    assert {f["mode"] for f in result["findings"]} == {"notify"}
    assert result["actions"] == []
    assert not account.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/orders-api")["logGroups"]
    [message] = account.messages()
    assert json.loads(message["Message"])["action"] == "notified"


def test_kill_switch_comes_from_the_environment():
    assert Settings.from_env({"ECSGUARD_KILL_SWITCH": "true"}).mode("log-group-missing") == "notify"
    assert Settings.from_env({}).mode("log-group-missing") == "remediate"


def test_a_definition_of_ecsguards_own_stack_is_never_acted_on(account: Account):
    event = load_event("plaintext-secrets")
    for part in (event["detail"]["requestParameters"], event["detail"]["responseElements"]):
        part["tags"] = [{"key": "aws:cloudformation:stack-name", "value": "ecsguard"}]
    result = handler(account, stack_name="ecsguard")(event, CONTEXT)
    assert result["status"] == "skipped" and "own stack" in result["reason"]
    assert account.messages() == []


def test_replaying_a_handled_event_with_deliver_is_a_no_op_that_says_so(account: Account, tmp_path, capsys):
    event = load_event("missing-log-group")
    account.register(event)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    common = ["deliver", str(path), "--topic-arn", account.topic_arn, "--state-table", account.table]

    assert main(common) == 0
    assert "Already handled" not in capsys.readouterr().out
    assert main(common) == 0
    assert "Already handled: the state table ecsguard-idempotency holds this event's outcome" in capsys.readouterr().out
    assert len(account.messages()) == 1
    assert main([*common, "--force"]) == 0  # handled again on purpose: the checks run again
    forced = capsys.readouterr().out
    assert "Already handled" not in forced and "Findings: " in forced
    assert account.messages() == []  # the group exists now: nothing new to tell


def test_metrics_are_embedded_in_the_log_without_values(account: Account, capsys):
    event = load_event("plaintext-secrets")
    account.register(event)
    handler(account)(event, CONTEXT)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for line in lines for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"Findings", "ActionsTaken", "MessagesSent"} <= names
    findings = {line["check"]: line["Findings"] for line in lines if "Findings" in line}
    assert findings["plaintext-secret"] == [4.0]
    environment = event["detail"]["requestParameters"]["containerDefinitions"][0]["environment"]
    for secret in (e["value"] for e in environment if e["name"] in {"DB_PASSWORD", "AWS_SECRET_ACCESS_KEY"}):
        assert secret not in json.dumps(lines)


def test_nothing_ecsguard_writes_itself_holds_a_secret_value(account: Account):
    """The state table's items (idempotency outcome, role inventory) and the log group tags: no value."""
    event = load_event("plaintext-secrets")
    account.register(event)
    handler(account)(event, CONTEXT)
    items = account.client("dynamodb").scan(TableName=account.table)["Items"]
    groups = account.client("logs").describe_log_groups()["logGroups"]
    tags = [account.client("logs").list_tags_for_resource(resourceArn=g["arn"].removesuffix(":*")) for g in groups]
    written = json.dumps(items) + json.dumps(tags)
    assert items  # the test reads something
    environment = event["detail"]["requestParameters"]["containerDefinitions"][0]["environment"]
    for value in (
        e["value"] for e in environment if e["name"] in {"DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL"}
    ):
        assert value not in written
        assert value[:8] not in written


def test_log_lines_carry_the_cloudtrail_event_id_as_correlation_id(account: Account, structured_logs):
    event = load_event("plaintext-secrets")
    account.register(event)
    handler(account)(event, CONTEXT)
    lines = [json.loads(line) for line in structured_logs.getvalue().splitlines() if line.startswith("{")]
    checked = [line for line in lines if line.get("message") == "task definition checked"]
    assert checked and {line.get("correlation_id") for line in checked} == {event["detail"]["eventID"]}
