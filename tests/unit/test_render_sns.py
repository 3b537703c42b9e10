"""The SNS message: subject, text for people, JSON for machines, filterable attributes."""

from __future__ import annotations

import json

from ecsguard.model import ActionResult, Finding, Report, TaskDefinition
from ecsguard.render.sns import message_body, render


def report(findings, actions=(), family="orders-api"):
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
    )


def finding(check="plaintext-secret", severity="high", **kw):
    return Finding(
        check=check,
        severity=severity,
        target="orders-api:7",
        message=kw.pop("message", "Container 'web' has a plaintext credential in environment.DB_PASSWORD."),
        remediation="Rotate it and use secrets/valueFrom.",
        container="web",
        field="environment.DB_PASSWORD",
        docs="https://docs.aws.amazon.com/x",
        **kw,
    )


def test_subject_names_severity_definition_account_region():
    n = render(report([finding(), finding("logging-disabled", "low")]))
    assert n.subject == "[ecsguard] HIGH: orders-api:7 - 2 findings (123456789012 us-east-1)"


def test_subject_stays_under_100_ascii_characters_for_long_families():
    n = render(report([finding()], family="x" * 255))
    assert len(n.subject) < 100
    assert n.subject.isascii() and "\n" not in n.subject
    assert "123456789012 us-east-1" in n.subject


def test_text_body_says_who_what_where_fix_docs_and_what_was_done():
    done = ActionResult(
        "create-log-group",
        "us-east-1:/ecs/web",
        ok=True,
        detail="created log group /ecs/web in us-east-1 (30-day retention)",
    )
    text = render(report([finding(evidence="ghp_… (40 chars)", rule="github-token")], [done])).text
    assert "Registered by arn:aws:sts::123456789012:assumed-role/deployer/ci" in text
    assert "Where: container web, field environment.DB_PASSWORD" in text
    assert "Fix: Rotate it" in text
    assert "Docs: https://docs.aws.amazon.com/x" in text
    assert "Evidence (redacted): ghp_… (40 chars)" in text
    assert " - created log group /ecs/web in us-east-1 (30-day retention)" in text
    assert "ecsguard:ignore" in text


def test_attributes_for_filter_policies():
    blocked = ActionResult("deregister-revision", "arn", ok=True, detail="deregistered")
    n = render(report([finding(), finding("logging-disabled", "low")], [blocked]))
    assert n.attributes["severity"] == {"DataType": "String", "StringValue": "high"}
    assert n.attributes["checks"]["DataType"] == "String.Array"
    assert json.loads(n.attributes["checks"]["StringValue"]) == ["logging-disabled", "plaintext-secret"]
    assert n.attributes["action"]["StringValue"] == "blocked"
    assert n.attributes["account"]["StringValue"] == "123456789012"


def test_failed_action_is_visible():
    failed = ActionResult("create-log-group", "t", ok=False, changed=False, detail="could not create: AccessDenied")
    n = render(report([finding("log-group-missing")], [failed]))
    assert n.attributes["action"]["StringValue"] == "action-failed"
    assert " - FAILED: could not create: AccessDenied" in n.text


def test_machine_protocols_get_json_and_people_get_text():
    n = render(report([finding()]))
    body = json.loads(message_body(n))
    assert body["default"] == n.text
    document = json.loads(body["sqs"])
    assert body["lambda"] == body["https"] == body["sqs"]
    assert document["taskDefinition"]["revision"] == 7
    assert document["findings"][0]["field"] == "environment.DB_PASSWORD"
    assert document["findings"][0]["mode"] == "notify"


def test_huge_reports_fit_in_one_sns_message():
    many = [finding(message="x" * 2000) for _ in range(500)]
    n = render(report(many))
    assert len(message_body(n).encode()) < 256 * 1024
    assert n.document["truncatedFindings"] > 0
    assert "more findings" in n.text


def test_findings_of_one_check_share_one_explanation_and_one_fix():
    """Four credentials in one container: the fix is said once, each place and fingerprint under it."""
    names = ["DB_PASSWORD", "API_TOKEN", "STRIPE_KEY", "JWT_SECRET"]
    findings = [
        Finding(
            check="plaintext-secret",
            severity="high",
            target="orders-api:7",
            message=f"Container 'web' has a plaintext credential in environment.{name}.",
            remediation=(
                "Rotate this credential now. "
                f'Then move {name} to `secrets` as {{"name": "{name}", "valueFrom": "<arn>"}}. '
                f"If it is not a credential, add its fingerprint sha256:{i:064x} (or the variable name) to the allowlist."
            ),
            container="web",
            field=f"environment.{name}",
            fingerprint=f"sha256:{i:064x}",
            docs="https://docs.aws.amazon.com/x",
        )
        for i, name in enumerate(names)
    ]
    n = render(report(findings))
    assert n.text.count("Fix: ") == 1
    assert n.text.count("Rotate this credential now") == 1
    assert 'Then move <name> to `secrets` as {"name": "<name>"' in n.text
    assert n.text.count("Docs: ") == 1
    assert "plaintext-secret: " in n.text and ": 4 findings" in n.text
    for i, name in enumerate(names):
        assert f"Where: container web, field environment.{name}" in n.text
        assert f"Fingerprint: sha256:{i:064x}" in n.text
    assert len(n.document["findings"]) == 4  # the JSON keeps every finding, each with its own fix
    assert n.document["findings"][1]["remediation"].count("API_TOKEN") == 2


def test_worst_check_first_and_advice_below_the_threshold_in_short():
    findings = [
        finding("root-filesystem-writable", "low", message="Container 'web' can write its root filesystem."),
        finding("logging-disabled", "low", message="Container 'web' has no log configuration."),
        finding("plaintext-secret", "high"),
    ]
    text = render(report(findings), min_severity="medium").text
    assert text.index("1. [HIGH] plaintext-secret") < text.index("Also found (below medium")
    also = text[text.index("Also found") :]
    assert " - [LOW] root-filesystem-writable" in also and " - [LOW] logging-disabled" in also
    assert "(web)" in also
    # With the threshold at low, every check gets its full block.
    full = render(report(findings), min_severity="low").text
    assert "Also found" not in full and "2. [LOW]" in full and "3. [LOW]" in full
