"""The RegisterTaskDefinition handler against moto, fed with the real-shaped events of events/."""

from __future__ import annotations

import io
import json
import logging

import pytest

from ecsguard.aws import Clients
from ecsguard.checks import load_all
from ecsguard.delivery import lambda_context
from ecsguard.handlers import make_registration_handler
from ecsguard.policy import Settings
from ecsguard.rules import load_template

from conftest import ACCOUNT, REGION, Account, load_event, only_modes

CONTEXT = lambda_context("RegisterTaskDefinitionFunction")


def run(event, account: Account, **settings_kwargs):
    settings_kwargs.setdefault("topic_arn", account.topic_arn)
    settings_kwargs.setdefault("modes", only_modes())  # the log-group and secret checks these tests are about
    handler = make_registration_handler(settings=Settings(**settings_kwargs), clients=Clients())
    return handler(event, CONTEXT)


def log_groups(account: Account, region: str = REGION) -> dict[str, dict]:
    groups = account.client("logs", region).describe_log_groups()["logGroups"]
    return {g["logGroupName"]: g for g in groups}


def test_missing_log_group_is_created_with_retention_and_tag(account: Account):
    event = load_event("missing-log-group")
    account.register(event)

    result = run(event, account, log_retention_days=14)

    group = log_groups(account)["/ecs/orders-api"]
    assert group["retentionInDays"] == 14
    tags = account.client("logs").list_tags_for_resource(resourceArn=group["arn"].removesuffix(":*"))["tags"]
    assert tags["ecsguard:created-by"] == "ecsguard"
    assert tags["ecsguard:task-definition"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/orders-api:1"
    assert [a["action"] for a in result["actions"]] == ["create-log-group"]

    [message] = account.messages()
    assert message["Subject"] == f"[ecsguard] HIGH: orders-api:1 - 2 findings ({ACCOUNT} {REGION})"
    attributes = {k: v["Value"] for k, v in message["MessageAttributes"].items()}
    assert attributes["severity"] == "high"
    assert attributes["action"] == "remediated"
    assert attributes["account"] == ACCOUNT and attributes["region"] == REGION
    assert json.loads(attributes["checks"]) == ["log-group-missing", "logging-disabled"]
    document = json.loads(message["Message"])
    by_check = {f["check"]: f for f in document["findings"]}
    assert by_check["log-group-missing"]["container"] == "web"
    assert by_check["logging-disabled"]["container"] == "metrics-sidecar"
    assert document["actor"].endswith("assumed-role/deployer/github-actions")
    assert "created log group /ecs/orders-api in us-east-1 (14-day retention)" in document["actions"][0]["detail"]


def test_log_group_is_created_in_the_region_the_driver_names(account: Account):
    event = load_event("cross-region-logs")
    account.register(event)

    run(event, account)

    assert "/ecs/reports-exporter" in log_groups(account, "eu-west-1")
    assert "/ecs/reports-exporter" not in log_groups(account, REGION)
    assert log_groups(account, "eu-west-1")["/ecs/reports-exporter"]["retentionInDays"] == 30


def test_second_delivery_of_the_same_definition_creates_nothing_new(account: Account):
    event = load_event("missing-log-group")
    account.register(event)
    run(event, account)
    first = log_groups(account)
    account.messages()

    second = run(event, account)

    assert log_groups(account) == first
    assert second["actions"] == []
    assert "log-group-missing" not in {f["check"] for f in second["findings"]}


def test_duplicate_delivery_gives_one_action_and_one_message(account: Account):
    event = load_event("plaintext-secrets")
    account.register(event)
    handler = make_registration_handler(
        settings=Settings(topic_arn=account.topic_arn, state_table=account.table), clients=Clients()
    )

    first = handler(event, CONTEXT)
    second = handler(event, CONTEXT)

    # The duplicate re-checks (the log group exists by now) but neither acts nor publishes again.
    assert second["messageId"] == first["messageId"] and second["actions"] == first["actions"]
    assert len(account.messages()) == 1
    assert len(log_groups(account)) == 1
    assert [a["action"] for a in first["actions"]] == ["create-log-group"]


def test_block_deregisters_only_the_offending_revision(account: Account):
    event = load_event("plaintext-secrets")
    earlier = account.register(event)["taskDefinition"]["taskDefinitionArn"]  # revision 1
    event = load_event("plaintext-secrets")
    response = account.register(event)  # revision 2, the one the event is about
    event["detail"]["responseElements"] = json.loads(
        json.dumps({"taskDefinition": response["taskDefinition"]}, default=str)
    )

    result = run(event, account, modes={"plaintext-secret": "block"})

    ecs = account.client("ecs")
    offending = response["taskDefinition"]["taskDefinitionArn"]
    assert ecs.describe_task_definition(taskDefinition=offending)["taskDefinition"]["status"] == "INACTIVE"
    assert ecs.describe_task_definition(taskDefinition=earlier)["taskDefinition"]["status"] == "ACTIVE"
    assert any(a["action"] == "deregister-revision" and a["ok"] for a in result["actions"])
    [message] = account.messages()
    assert message["MessageAttributes"]["action"]["Value"] == "blocked"


def test_clean_definition_produces_no_message(account: Account):
    event = load_event("clean")
    account.client("logs").create_log_group(logGroupName="/ecs/billing-api")
    account.register(event)

    result = run(event, account)

    assert result["status"] == "checked"
    assert result["findings"] == [] and result["actions"] == []
    assert account.messages() == []


def test_exempt_definition_produces_no_message(account: Account):
    event = load_event("exempt")
    account.register(event)

    result = run(event, account)

    assert result["findings"] == []
    assert result["exempted"] == ["logging-disabled", "plaintext-secret"]
    assert account.messages() == []


def test_exempt_family_parameter_skips_the_event(account: Account):
    event = load_event("plaintext-secrets")
    account.register(event)

    result = run(event, account, exempt_families=("inventory-*",))

    assert result["status"] == "skipped" and "ECSGUARD_EXEMPT_FAMILIES" in result["reason"]
    assert account.messages() == []


def test_failed_call_is_skipped_with_one_log_line(account: Account, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)

    result = run(load_event("failed-call"), account)

    assert result == {
        "status": "skipped",
        "reason": "RegisterTaskDefinition failed with ClientException: no revision was registered",
    }
    assert account.messages() == []
    assert log_groups(account) == {}


@pytest.mark.parametrize("event", [load_event("not-ours-create-cluster"), {}, {"detail-type": "Scheduled Event"}, []])
def test_events_that_are_not_ours_are_skipped(account: Account, event):
    result = run(event, account)
    assert result["status"] == "skipped"
    assert account.messages() == []


def test_truncated_event_is_read_back_with_describe(account: Account):
    event = load_event("truncated")
    assert event["detail"]["responseElements"]["omitted"] is True
    account.register(event)

    result = run(event, account)

    assert result["taskDefinition"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/etl-batch:1"
    assert "/ecs/etl-batch" in log_groups(account)
    [message] = account.messages()
    assert "etl-batch:1" in message["Subject"]


def test_tags_come_from_describe_when_the_event_is_truncated(account: Account):
    event = load_event("truncated")
    event["detail"]["requestParameters"]["tags"] = [{"key": "ecsguard:ignore", "value": "all"}]
    account.register(event)

    result = run(event, account)

    assert result["findings"] == [] and result["actions"] == []
    assert account.messages() == []


def test_huge_definition_with_unknown_fields_is_checked(account: Account):
    """CloudTrail records API fields newer than our botocore knows; they are read past, not rejected."""
    event = load_event("huge-definition")
    request = event["detail"]["requestParameters"]
    known = {k: v for k, v in request.items() if k != "someNewTopLevelField"}
    known["containerDefinitions"] = [
        {k: v for k, v in c.items() if k != "futureField"} for c in request["containerDefinitions"]
    ]
    account.client("ecs").register_task_definition(**known)

    result = run(event, account)

    assert result["status"] == "checked"
    assert "/ecs/analytics-platform" in log_groups(account)
    assert len(account.messages()) == 1


def test_splunk_token_in_log_options_is_reported(account: Account):
    event = load_event("splunk-token")
    account.register(event)

    result = run(event, account)

    assert {(f["check"], f["field"]) for f in result["findings"]} == {
        ("plaintext-secret", "logConfiguration.options.splunk-token")
    }
    [message] = account.messages()
    body = json.dumps(message)
    assert "5f0c7e2a-9b1d-4c3e-8a6f-2d4b1e7c9a05" not in body
    assert "rotate" in json.loads(message["Message"])["findings"][0]["remediation"].lower()


def test_revision_registered_by_ecsguard_is_never_acted_on(account: Account):
    event = load_event("plaintext-secrets")
    event["detail"]["responseElements"]["tags"] = [{"key": "ecsguard:remediated-from", "value": "arn:...:1"}]

    result = run(event, account, modes={"plaintext-secret": "block"})

    assert result["status"] == "skipped"
    assert account.messages() == []


def test_failed_remediation_is_reported_not_raised(account: Account):
    event = load_event("missing-log-group")
    account.register(event)

    result = run(event, account, log_kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/does-not-exist")

    [message] = account.messages()
    assert message["MessageAttributes"]["action"]["Value"] in {"action-failed", "remediated"}
    assert result["actions"][0]["action"] == "create-log-group"


CANARY = "CanaryPw-9f8e7d6c5b4a-DoNotLeak"


def test_canary_secret_never_leaves_the_handler(
    account: Account, caplog: pytest.LogCaptureFixture, structured_logs: io.StringIO
):
    event = load_event("plaintext-secrets")
    container = event["detail"]["requestParameters"]["containerDefinitions"][0]
    container["environment"].append({"name": "ADMIN_PASSWORD", "value": CANARY})
    container["command"] = ["--db-password", CANARY]
    event["detail"]["responseElements"]["taskDefinition"]["containerDefinitions"][0] = container
    account.register(event)
    caplog.set_level(logging.INFO)  # botocore's DEBUG wire log echoes request bodies by design
    caplog.set_level(logging.DEBUG, logger="ecsguard")

    result = run(event, account, modes={"plaintext-secret": "block"})

    assert "environment.ADMIN_PASSWORD" in {f["field"] for f in result["findings"]}
    messages = account.messages()
    assert messages
    lines = structured_logs.getvalue()
    assert '"message":"task definition checked"' in lines
    records = json.dumps([r.__dict__ for r in caplog.records], default=str)
    for text in (json.dumps(messages), json.dumps(result), lines, records):
        assert CANARY not in text
        assert CANARY[:12] not in text


def test_template_handler_path_is_the_one_tested():
    """The template points the rule at functions/register_task_definition/app.lambda_handler."""
    from conftest import ROOT

    template = load_template(ROOT / "template.yaml")
    functions = {
        r["Properties"]["CodeUri"].rstrip("/"): r["Properties"]["Handler"]
        for r in template["Resources"].values()
        if r.get("Type") == "AWS::Serverless::Function"
    }
    assert functions["functions/register_task_definition"] == "app.lambda_handler"
    source = (ROOT / "functions/register_task_definition/app.py").read_text()
    assert "lambda_handler = make_registration_handler()" in source


def test_sdk_debug_logging_cannot_leak_values_even_at_debug(account: Account, caplog: pytest.LogCaptureFixture):
    """Lambda's advanced logging may set the root logger to DEBUG; botocore would then log bodies."""
    event = load_event("plaintext-secrets")
    container = event["detail"]["responseElements"]["taskDefinition"]["containerDefinitions"][0]
    container["environment"].append({"name": "ADMIN_PASSWORD", "value": CANARY})
    event["detail"]["requestParameters"]["containerDefinitions"][0] = container
    account.register(event)
    caplog.set_level(logging.DEBUG)  # root at DEBUG, as AWS_LAMBDA_LOG_LEVEL=DEBUG would do
    run(event, account, modes={"plaintext-secret": "block"})

    assert logging.getLogger("botocore").getEffectiveLevel() == logging.INFO
    assert CANARY not in json.dumps([r.getMessage() for r in caplog.records])


def test_region_ecsguard_may_not_read_is_skipped_not_retried(account: Account, monkeypatch):
    """An SCP that denies a region answers AccessDenied: no finding, no crash, no retry loop."""
    from botocore.exceptions import ClientError

    from ecsguard.aws import facts

    original = facts.AwsFacts.log_group_exists

    def denied_in_eu(self, region, name):
        if region == "eu-west-1":
            raise_for = self._clients("logs", region)
            raise_for.meta.events.register(
                "before-call.logs.DescribeLogGroups",
                lambda **_: (_ for _ in ()).throw(
                    ClientError(
                        {"Error": {"Code": "AccessDeniedException", "Message": "denied by SCP"}}, "DescribeLogGroups"
                    )
                ),
            )
        return original(self, region, name)

    monkeypatch.setattr(facts.AwsFacts, "log_group_exists", denied_in_eu)
    event = load_event("cross-region-logs")
    account.register(event)

    result = run(event, account)

    assert result["status"] == "checked"
    assert result["findings"] == [] and result["actions"] == []
    assert log_groups(account, "eu-west-1") == {}


def _low_only_event() -> dict:
    """The clean event with its log configuration removed: logging-disabled (low) is its only finding."""
    event = load_event("clean")
    for container in event["detail"]["requestParameters"]["containerDefinitions"]:
        container.pop("logConfiguration", None)
    event["detail"]["responseElements"]["taskDefinition"]["containerDefinitions"] = event["detail"][
        "requestParameters"
    ]["containerDefinitions"]
    return event


def test_advice_below_notify_min_severity_sends_no_message(account: Account):
    event = _low_only_event()
    account.register(event)
    only = {"logging-disabled"}
    modes = {c: "off" for c in load_all() if c not in only}

    result = run(event, account, modes=modes, state_table=account.table)

    assert [f["check"] for f in result["findings"]] == ["logging-disabled"] * len(result["findings"])
    assert result["findings"] and result["messageId"] is None
    assert account.messages() == []
    # The same definition pages when the stack lowers the threshold.
    lowered = run(event, account, modes=modes, notify_min_severity="low")
    assert lowered["messageId"]
    [message] = account.messages()
    assert message["Subject"].startswith("[ecsguard] LOW: ")
