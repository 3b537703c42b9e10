"""The CloudTrail envelope: what is acted on, what is read back, what is skipped and why."""

from __future__ import annotations

import copy

import pytest

from ecsguard.events import SkipEvent, parse_api_call, parse_registration

from conftest import load_event


def test_complete_event_carries_the_definition():
    registration = parse_registration(load_event("missing-log-group"))
    assert registration.task_definition is not None
    assert registration.task_definition.name == "orders-api:1"
    assert registration.call.actor == "arn:aws:sts::123456789012:assumed-role/deployer/github-actions"
    assert registration.call.region == "us-east-1" and registration.call.account == "123456789012"


def test_truncated_response_is_read_back_by_family():
    registration = parse_registration(load_event("truncated"))
    assert registration.task_definition is None
    assert registration.arn == "etl-batch"
    assert "omitted" in (registration.reason_incomplete or "")


def test_missing_response_with_arn_is_read_back_by_arn():
    event = load_event("missing-log-group")
    event["detail"]["responseElements"]["taskDefinition"]["containerDefinitions"] = {"omitted": True}
    registration = parse_registration(event)
    assert registration.task_definition is None
    assert registration.arn == "arn:aws:ecs:us-east-1:123456789012:task-definition/orders-api:1"


def test_nothing_to_read_back_is_a_skip():
    event = load_event("truncated")
    event["detail"]["requestParameters"] = {"omitted": True, "originalSize": 300000}
    with pytest.raises(SkipEvent, match="names no task definition"):
        parse_registration(event)


def test_failed_call_is_skipped():
    with pytest.raises(SkipEvent, match="failed with ClientException"):
        parse_registration(load_event("failed-call"))


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda e: e.update({"detail-type": "ECS Task State Change"}), "detail-type"),
        (lambda e: e["detail"].update({"eventSource": "ec2.amazonaws.com"}), "eventSource"),
        (lambda e: e["detail"].update({"eventName": "DeregisterTaskDefinition"}), "not RegisterTaskDefinition"),
        (lambda e: e.update({"detail": "garbage"}), "no detail"),
        (lambda e: (e["detail"].pop("awsRegion"), e.pop("region")), "region"),
    ],
)
def test_foreign_or_malformed_events_are_skipped(mutate, reason):
    event = copy.deepcopy(load_event("clean"))
    mutate(event)
    with pytest.raises(SkipEvent, match=reason):
        parse_registration(event)


def test_actor_falls_back_to_session_issuer():
    event = load_event("clean")
    del event["detail"]["userIdentity"]["arn"]
    assert parse_api_call(event).actor == "arn:aws:iam::123456789012:role/deployer"


def test_values_cloudtrail_redacted_are_read_back():
    event = load_event("plaintext-secrets")
    container = event["detail"]["responseElements"]["taskDefinition"]["containerDefinitions"][0]
    container["environment"][0]["value"] = "HIDDEN_DUE_TO_SECURITY_REASONS"
    registration = parse_registration(event)
    assert registration.task_definition is None
    assert registration.arn == "arn:aws:ecs:us-east-1:123456789012:task-definition/inventory-worker:1"
    assert "redacted" in (registration.reason_incomplete or "")
