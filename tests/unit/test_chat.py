"""Chat: the Amazon Q Developer in chat applications (AWS Chatbot) custom notification, and its SNS delivery."""

from __future__ import annotations

import json

import pytest

from ecsguard.model import ActionResult, Finding, Report, StoppedTask, TaskDefinition
from ecsguard.policy import ConfigError, Settings
from ecsguard.render import chat
from ecsguard.render.sns import MACHINE_PROTOCOLS, message_body, render

CANARY = "Zq8!vR2#mK9@xL4$CANARY"


def report(findings, actions=(), family="orders-api", stopped=None):
    td = TaskDefinition(
        family=family, revision=7, containers=(), arn=f"arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:7"
    )
    return Report(
        task_definition=td,
        account="123456789012",
        region="us-east-1",
        actor="arn:aws:sts::123456789012:assumed-role/deployer/ci",
        event_time="2026-11-28T07:30:00Z",
        event_id="e-1",
        findings=list(findings),
        modes={f.check: "notify" for f in findings},
        actions=list(actions),
        stopped=stopped,
    )


def finding(check="plaintext-secret", severity="high", container="web", field="environment.DB_PASSWORD", **kw):
    return Finding(
        check=check,
        severity=severity,
        target="orders-api:7",
        message=kw.pop("message", f"Container '{container}' has a plaintext credential in {field}."),
        remediation=kw.pop("remediation", "Move it to Secrets Manager and reference it with valueFrom; rotate it."),
        container=container,
        field=field,
        docs="https://docs.aws.amazon.com/x",
        **kw,
    )


def test_schema_title_description_next_steps_keywords():
    doc = chat.render(report([finding(), finding("runs-as-root", "low", field="user", message="runs as root")]))
    assert doc["version"] == "1.0" and doc["source"] == "custom" and doc["id"] == "e-1"
    content = doc["content"]
    assert content["textType"] == "client-markdown"
    assert content["title"] == ":rotating_light: [HIGH] ecsguard: orders-api:7 - 2 findings"
    assert "*[HIGH] plaintext-secret*" in content["description"]
    assert "`web` `environment.DB_PASSWORD`" in content["description"]
    assert "runs-as-root (web)" in content["description"]  # advice below medium: one line
    assert content["nextSteps"] == [
        "plaintext-secret: Move it to Secrets Manager and reference it with valueFrom; rotate it. "
        "Docs: https://docs.aws.amazon.com/x"
    ]
    assert content["keywords"] == ["high", "plaintext-secret", "runs-as-root", "us-east-1"]
    meta = doc["metadata"]
    assert meta["relatedResources"] == ["arn:aws:ecs:us-east-1:123456789012:task-definition/orders-api:7"]
    assert meta["threadId"].startswith("ecsguard-") and meta["additionalContext"]["severity"] == "high"
    assert meta["summary"].startswith("[ecsguard] HIGH: orders-api:7")


def test_same_family_threads_together_other_family_apart():
    a = chat.render(report([finding()]))["metadata"]["threadId"]
    assert a == chat.render(report([finding("logging-disabled", "medium")]))["metadata"]["threadId"]
    assert a != chat.render(report([finding()], family="billing"))["metadata"]["threadId"]


def test_many_findings_stay_within_the_limits():
    many = [finding(container=f"c{i}", message="m" * 400) for i in range(200)]
    many += [finding(f"check-{i}", "medium", message="x" * 400, remediation="y" * 900) for i in range(30)]
    doc = chat.render(report(many, [ActionResult("create-log-group", "t", ok=True, detail="d" * 5000)]))
    content = doc["content"]
    assert len(content["title"]) <= 250 and len(content["description"]) <= 3000
    assert len(content["nextSteps"]) == 5 and all(len(s) <= 500 for s in content["nextSteps"])
    assert "… and 197 more" in content["description"]
    assert len(content["keywords"]) <= 10
    assert len(json.dumps(doc)) < 16_000


def test_markdown_in_names_cannot_break_the_message():
    doc = chat.render(report([finding(container="we`b", field="environment.A`B", message="*bold* `x`")]))
    assert "`we'b`" in doc["content"]["description"] and "*bold*" not in doc["content"]["description"]


def test_stopped_task_and_actions():
    stopped = StoppedTask(task_arn="t", task_definition_arn="d", group="service:checkout", stops=4)
    doc = chat.render(
        report(
            [finding("image-pull-failed", "high", field=None)],
            [ActionResult("x", "t", ok=False, detail="no")],
            stopped=stopped,
        )  # fmt: skip
    )
    assert "checkout stopped" in doc["content"]["title"]
    assert "*Stops* 4" in doc["content"]["description"]
    assert "*ecsguard did:* FAILED: no" in doc["content"]["description"]


def test_no_secret_value_reaches_chat():
    from ecsguard.policy import evaluate

    td = TaskDefinition.from_api(
        {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/pay:3",
            "family": "pay",
            "containerDefinitions": [
                {"name": "api", "image": "x", "environment": [{"name": "DB_PASSWORD", "value": CANARY}]},
                {"name": "xray-daemon", "image": "amazon/aws-xray-daemon"},
            ],
        }
    )
    findings, _ = evaluate(td, Settings(), None, "us-east-1")
    assert any(f.check == "plaintext-secret" for f in findings)
    r = report(findings)
    r.task_definition = td
    text = json.dumps(chat.render(r))
    assert CANARY not in text and CANARY[8:20] not in text


def test_sns_https_gets_the_chat_document_only_when_asked():
    n = render(report([finding()]))
    plain = json.loads(message_body(n))
    assert set(plain) == {"default", *MACHINE_PROTOCOLS} and plain["https"] == plain["sqs"]
    doc = chat.render(report([finding()]))
    body = json.loads(message_body(n, chat=doc))
    assert json.loads(body["https"]) == doc
    assert {k: v for k, v in body.items() if k != "https"} == {k: v for k, v in plain.items() if k != "https"}
    assert message_body(n) == message_body(n, chat=None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", None), ("false", None), ("off", None), ("true", "chatbot"), ("chatbot", "chatbot"), ("Amazon-Q", "chatbot")],
)
def test_chat_format_setting(value, expected):
    assert Settings.from_env({"ECSGUARD_CHAT_FORMAT": value}).chat_format == expected


def test_settings_reject_unknown_values():
    with pytest.raises(ConfigError, match="ECSGUARD_CHAT_FORMAT"):
        Settings.from_env({"ECSGUARD_CHAT_FORMAT": "slack-blocks"})
    with pytest.raises(ConfigError, match="ECSGUARD_SECURITY_HUB"):
        Settings.from_env({"ECSGUARD_SECURITY_HUB": "yes"})
    assert Settings.from_env({}).security_hub is False
    assert Settings.from_env({"ECSGUARD_SECURITY_HUB": "TRUE"}).security_hub is True


def test_sweep_digest():
    from ecsguard.render.digest import Digest

    digest = Digest(
        account="123456789012", region="us-east-1", run="r1", baseline=False, definitions=300, cached=290,
        with_findings=40, findings=95, exempted=2,
        per_check={"plaintext-secret": {"severity": "high", "definitions": 3, "findings": 4},
                   "runs-as-root": {"severity": "low", "definitions": 40, "findings": 91}},
        offenders=[{"arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/pay:3", "severity": "high",
                    "findings": 7, "checks": ["plaintext-secret"]}],
        unreadable=[], new=[["arn:x", "plaintext-secret"]], resolved=[],
    )  # fmt: skip
    doc = chat.render_digest(digest)
    assert doc["content"]["title"].startswith(":rotating_light: [HIGH] ecsguard sweep 123456789012 us-east-1: 95")
    assert "*[HIGH] plaintext-secret*: 4 in 3 definitions" in doc["content"]["description"]
    assert "*New* 1" in doc["content"]["description"]
    assert doc["content"]["nextSteps"][0].startswith("plaintext-secret: ")
    assert doc["metadata"]["eventType"] == "ecsguard-sweep-digest"
