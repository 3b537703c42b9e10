"""The sweep's pure parts: the redaction of cached definitions (canaries, findings equal over the corpus), the
digest, the settings, and the listing/tagging calls against botocore's Stubber."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecsguard.aws import sweep_state
from ecsguard.checks.secrets import scan_container
from ecsguard.flows import sweep as flow
from ecsguard.model import DocumentError, TaskDefinition, task_definitions_in
from ecsguard.policy import ConfigError, Settings, evaluate
from ecsguard.render import digest as digest_render

from conftest import CORPUS

SHARED = Path("/work/shared/corpus")
CANARY = "CanaryS3cretValue-7f3kQ9zLmW2x"


def _corpus() -> list[tuple[str, TaskDefinition]]:
    found = []
    paths = sorted((CORPUS / "taskdefs").glob("*.json")) + sorted((SHARED / "taskdefs").glob("*.json"))
    for path in paths:
        try:
            for _, td in task_definitions_in(json.loads(path.read_text(encoding="utf-8"))):
                found.append((path.name, td))
        except (ValueError, DocumentError):
            continue
    return found


CORPUS_DEFINITIONS = _corpus()


def _document(td: TaskDefinition) -> dict[str, Any]:
    return {"taskDefinition": dict(td.raw), "tags": [{"key": k, "value": v} for k, v in td.tags.items()]}


def _canary_definition() -> dict[str, Any]:
    return {
        "taskDefinition": {
            "family": "canary",
            "revision": 1,
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/canary:1",
            "containerDefinitions": [
                {
                    "name": "app",
                    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2",
                    "environment": [
                        {"name": "DB_PASSWORD", "value": CANARY},
                        {"name": "LOG_LEVEL", "value": "info"},
                    ],
                    "command": ["--db-password", CANARY + "b"],
                    "healthCheck": {"command": ["CMD-SHELL", f"curl -u admin:{CANARY}c http://localhost/"]},
                    "logConfiguration": {
                        "logDriver": "splunk",
                        "options": {"splunk-token": CANARY + "d", "splunk-url": "https://splunk.example.com"},
                    },
                },
                {
                    "name": "log_router",
                    "image": "amazon/aws-for-fluent-bit:stable",
                    "firelensConfiguration": {"type": "fluentbit"},
                },
            ],
        },
        "tags": [{"key": "team", "value": "payments"}],
    }


def test_redaction_replaces_every_flagged_value_and_keeps_the_rest() -> None:
    original = _canary_definition()
    redacted = flow.redact(original)
    assert redacted is not None
    assert CANARY not in json.dumps(redacted)
    app = redacted["taskDefinition"]["containerDefinitions"][0]
    assert {e["name"]: e["value"] for e in app["environment"]} == {
        "DB_PASSWORD": sweep_state.REDACTED,
        "LOG_LEVEL": "info",
    }
    assert app["logConfiguration"]["options"]["splunk-url"] == "https://splunk.example.com"
    assert original["taskDefinition"]["containerDefinitions"][0]["environment"][0]["value"] == CANARY  # a copy
    td = TaskDefinition.from_api(redacted["taskDefinition"])
    assert not any(scan_container(c) for c in td.containers)


def test_redaction_refuses_a_value_that_is_also_elsewhere() -> None:
    document = _canary_definition()
    document["taskDefinition"]["containerDefinitions"][0]["dockerLabels"] = {"note": CANARY}
    assert flow.redact(document) is None  # not cached: described again next time


def test_cached_findings_equal_the_original_windows_and_sidecars() -> None:
    document = _canary_definition()
    document["taskDefinition"]["runtimePlatform"] = {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}
    td = TaskDefinition.from_api(document["taskDefinition"], tags=document["tags"])
    settings = Settings()
    original = evaluate(td, settings, None, "us-east-1")
    secrets = flow._secret_findings(td, settings, "us-east-1")
    redacted = flow.redact(document)
    assert redacted is not None
    cached = TaskDefinition.from_api(redacted["taskDefinition"], tags=redacted["tags"])
    stored = [flow._finding_from_dict(json.loads(json.dumps(flow._finding_to_dict(f)))) for f in secrets]
    assert flow._evaluate(cached, settings, None, "us-east-1", stored) == original  # type: ignore[arg-type]
    assert CANARY not in json.dumps([flow._finding_to_dict(f) for f in secrets])


def test_over_the_corpus_the_cache_changes_no_finding() -> None:
    """Every real definition: the redacted copy + the stored secret findings give the original's findings."""
    settings = Settings()
    cached = refused = 0
    for name, td in CORPUS_DEFINITIONS:
        document = _document(td)
        redacted = flow.redact(document)
        if redacted is None:
            refused += 1
            continue
        cached += 1
        secrets = flow._secret_findings(td, settings, "us-east-1")
        again = TaskDefinition.from_api(redacted["taskDefinition"], tags=redacted["tags"])
        assert flow._evaluate(again, settings, None, "us-east-1", secrets) == evaluate(
            td, settings, None, "us-east-1"
        ), name  # type: ignore[arg-type]
        assert not any(scan_container(c) for c in again.containers), name
    assert (cached, refused) == CORPUS_COUNTS


# Measured over tests/data/corpus/taskdefs + /work/shared/corpus/taskdefs: (cacheable, not cacheable).
CORPUS_COUNTS = (140, 2)


def test_pack_round_trip_and_keys() -> None:
    value = {"a": [1, 2, "x" * 1000]}
    assert sweep_state.unpack(sweep_state.pack(value)) == value
    assert len(sweep_state.pack(value)) < 200


def test_changes_new_and_resolved() -> None:
    before = frozenset(
        {("log-group-missing", "app", "logConfiguration.options.awslogs-group"), ("runs-as-root", "app", "user")}
    )
    now = frozenset({("runs-as-root", "app", "user"), ("plaintext-secret", "app", "environment.X")})
    new, resolved = flow._changes("arn", now, before)
    assert new == [("arn", "plaintext-secret")]
    assert resolved == [("arn", "log-group-missing")]
    assert flow._changes("arn", now, None) == ([("arn", "plaintext-secret"), ("arn", "runs-as-root")], [])


def test_sweep_settings_never_block_and_only_create_log_groups() -> None:
    settings = Settings(modes={"plaintext-secret": "block", "runs-as-root": "block"})
    acting = flow._sweep_settings(settings)
    assert acting.mode("plaintext-secret") == "notify"
    assert acting.mode("runs-as-root") == "notify"
    assert acting.mode("log-group-missing") == "remediate"  # its default
    assert flow._sweep_settings(Settings(modes={"plaintext-secret": "remediate"})).mode("plaintext-secret") == "notify"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ECSGUARD_SWEEP_PAGE_SIZE": "0"}, "ECSGUARD_SWEEP_PAGE_SIZE"),
        ({"ECSGUARD_SWEEP_PAGE_SIZE": "many"}, "ECSGUARD_SWEEP_PAGE_SIZE"),
        ({"ECSGUARD_SWEEP_CONCURRENCY": "65"}, "ECSGUARD_SWEEP_CONCURRENCY"),
        ({"ECSGUARD_SWEEP_ALL_REVISIONS": "yes"}, "ECSGUARD_SWEEP_ALL_REVISIONS"),
    ],
)
def test_sweep_settings_are_validated(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_sweep_settings_defaults_and_values() -> None:
    default = Settings.from_env({})
    assert (default.sweep_page_size, default.sweep_concurrency, default.sweep_all_revisions) == (500, 8, False)
    chosen = Settings.from_env(
        {"ECSGUARD_SWEEP_PAGE_SIZE": "50", "ECSGUARD_SWEEP_CONCURRENCY": "16", "ECSGUARD_SWEEP_ALL_REVISIONS": "true"}
    )
    assert (chosen.sweep_page_size, chosen.sweep_concurrency, chosen.sweep_all_revisions) == (50, 16, True)


ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/{}:{}"


def test_list_revisions_keeps_the_latest_per_family_over_pages() -> None:
    ecs = boto3.client("ecs", region_name="us-east-1")
    calls: list[Any] = []
    with Stubber(ecs) as stub:
        for _ in range(2):
            stub.add_response(
                "list_task_definitions",
                {"taskDefinitionArns": [ARN.format("web", 3), ARN.format("web", 2)], "nextToken": "t1"},
                {"status": "ACTIVE", "sort": "DESC", "maxResults": 100},
            )
            stub.add_response(
                "list_task_definitions",
                {"taskDefinitionArns": [ARN.format("web", 1), ARN.format("api", 9), ARN.format("api", 8)]},
                {"status": "ACTIVE", "sort": "DESC", "maxResults": 100, "nextToken": "t1"},
            )

        def clients(service: str, region: str | None = None) -> Any:
            calls.append(service)
            return ecs

        assert flow.list_revisions(clients, "us-east-1") == [ARN.format("web", 3), ARN.format("api", 9)]  # type: ignore[arg-type]
        assert flow.list_revisions(clients, "us-east-1", all_active=True) == [  # type: ignore[arg-type]
            ARN.format("api", 9), ARN.format("api", 8), ARN.format("web", 3), ARN.format("web", 2), ARN.format("web", 1)
        ]  # fmt: skip
        stub.assert_no_pending_responses()


def test_ignore_tags_from_the_tagging_api_and_access_denied() -> None:
    tagging = boto3.client("resourcegroupstaggingapi", region_name="us-east-1")
    with Stubber(tagging) as stub:
        stub.add_response(
            "get_resources",
            {
                "ResourceTagMappingList": [
                    {"ResourceARN": ARN.format("web", 3), "Tags": [{"Key": "ecsguard:ignore", "Value": "runs-as-root"}]}
                ]
            },
            {
                "TagFilters": [{"Key": "ecsguard:ignore"}],
                "ResourceTypeFilters": ["ecs:task-definition"],
                "ResourcesPerPage": 100,
            },
        )
        stub.add_client_error("get_resources", "AccessDeniedException")
        assert flow.ignore_tags(lambda *_: tagging, "us-east-1") == {ARN.format("web", 3): "runs-as-root"}  # type: ignore[arg-type]
        assert flow.ignore_tags(lambda *_: tagging, "us-east-1") is None  # type: ignore[arg-type]


def test_current_tags_replace_only_the_ignore_tag() -> None:
    document = {"tags": [{"key": "team", "value": "a"}, {"key": "ecsguard:ignore", "value": "all"}]}
    assert flow._current_tags(document, "x", {}) == [{"key": "team", "value": "a"}]
    assert flow._current_tags(document, "x", {"x": "runs-as-root"})[-1] == {
        "key": "ecsguard:ignore",
        "value": "runs-as-root",
    }
    assert flow._current_tags(document, "x", None) == document["tags"]


def _summary(**overrides: Any) -> dict[str, Any]:
    summary = {
        "definitions": 300, "cached": 290, "withFindings": 2, "findings": 3, "exempted": 0,
        "perCheck": {"runs-as-root": {"severity": "low", "definitions": 2, "findings": 2},
                     "plaintext-secret": {"severity": "high", "definitions": 1, "findings": 1}},
        "offenders": [{"arn": ARN.format("web", 3), "severity": "high", "findings": 2, "checks": ["plaintext-secret", "runs-as-root"]}],
        "unreadable": [[ARN.format("gone", 1), "ClientException"]],
        "new": [[ARN.format("web", 3), "plaintext-secret"]], "resolved": [], "calls": {}, "actions": [],
    }  # fmt: skip
    summary.update(overrides)
    return summary


def test_digest_message_subject_attributes_and_order() -> None:
    digest = digest_render.Digest.from_summary(
        _summary(), account="123456789012", region="us-east-1", run="r", baseline=False
    )
    note = digest_render.render(digest)
    assert (
        note.subject
        == "[ecsguard] HIGH: sweep: 2 of 300 definitions with findings, 1 new, 0 resolved (123456789012 us-east-1)"[:99]
    )
    assert len(note.subject) <= 99 and note.subject.isascii()
    assert note.attributes["kind"]["StringValue"] == "digest"
    assert {"severity", "checks", "account", "region", "action", "kind"} == set(note.attributes)
    assert json.loads(note.attributes["checks"]["StringValue"]) == ["plaintext-secret", "runs-as-root"]  # worst first
    assert note.text.index("plaintext-secret") < note.text.index("runs-as-root")
    assert "New since the last sweep: 1" in note.text and "ClientException" in note.text
    assert note.document["kind"] == "digest"


def test_digest_of_a_first_run_is_the_baseline_and_a_clean_region_sends_nothing() -> None:
    first = digest_render.Digest.from_summary(_summary(), account="1", region="us-east-1", run="r", baseline=True)
    assert (
        first.new == []
        and "baseline" in digest_render.render(first).text
        and "baseline" in digest_render.subject(first)
    )
    clean = _summary(withFindings=0, findings=0, perCheck={}, offenders=[], unreadable=[], new=[])
    assert not digest_render.Digest.from_summary(
        clean, account="1", region="us-east-1", run="r", baseline=False
    ).worth_sending


def test_digest_stays_under_the_sns_limit_with_huge_lists() -> None:
    many = [[ARN.format(f"family-{i}", 1), "runs-as-root"] for i in range(20000)]
    digest = digest_render.Digest.from_summary(
        _summary(new=many, resolved=many), account="1", region="us-east-1", run="r", baseline=False
    )
    body = digest_render.message_body(digest_render.render(digest))
    assert len(body.encode()) <= 240_000


def test_merge_of_pages_keeps_the_overall_top() -> None:
    pages = [
        _summary(offenders=[{"arn": f"a{i}", "severity": "low", "findings": i, "checks": ["x"]} for i in range(10)]),
        _summary(offenders=[{"arn": "b", "severity": "high", "findings": 1, "checks": ["y"]}]),
    ]
    merged = flow.merge(pages)
    assert merged["definitions"] == 600 and merged["perCheck"]["runs-as-root"]["definitions"] == 4
    assert [o["arn"] for o in merged["offenders"]][:2] == ["b", "a9"] and len(merged["offenders"]) == 10
