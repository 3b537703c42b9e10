"""The EventBridge pattern matcher ecsguard deliver uses."""

from __future__ import annotations

import pytest

from ecsguard.rules import matches

PATTERN = {
    "source": ["aws.ecs"],
    "detail": {"eventName": ["RegisterTaskDefinition"], "errorCode": [{"exists": False}]},
}


@pytest.mark.parametrize(
    "event, expected",
    [
        ({"source": "aws.ecs", "detail": {"eventName": "RegisterTaskDefinition"}}, True),
        ({"source": "aws.ecs", "detail": {"eventName": "RegisterTaskDefinition", "errorCode": "X"}}, False),
        ({"source": "aws.ec2", "detail": {"eventName": "RegisterTaskDefinition"}}, False),
        ({"source": "aws.ecs", "detail": {"eventName": "RunTask"}}, False),
        ({"source": "aws.ecs"}, False),
        ({"source": "aws.ecs", "detail": "text"}, False),
    ],
)
def test_matches(event, expected):
    assert matches(PATTERN, event) is expected


def test_operators():
    assert matches({"a": [{"prefix": "Reg"}]}, {"a": "RegisterTaskDefinition"})
    assert matches({"a": [{"anything-but": ["x"]}]}, {"a": "y"})
    assert not matches({"a": [{"anything-but": ["x"]}]}, {"a": "x"})
    assert matches({"a": ["x"]}, {"a": ["y", "x"]})
    assert not matches({"a": [{"numeric": [">", 1]}]}, {"a": 2})  # unsupported operators never match


SERVICE_PATTERN = {
    "detail": {
        "errorCode": [{"exists": False}],
        "$or": [
            {"eventName": ["RunTask", "CreateService"]},
            {
                "eventName": ["UpdateService"],
                "requestParameters": {
                    "$or": [
                        {"taskDefinition": [{"exists": True}]},
                        {"capacityProviderStrategy": {"capacityProvider": [{"exists": True}]}},
                    ]
                },
            },
        ],
    }
}


@pytest.mark.parametrize(
    "detail, expected",
    [
        ({"eventName": "RunTask"}, True),
        ({"eventName": "CreateService"}, True),
        ({"eventName": "CreateService", "errorCode": "AccessDenied"}, False),
        ({"eventName": "UpdateService", "requestParameters": {"taskDefinition": "web:2"}}, True),
        ({"eventName": "UpdateService", "requestParameters": {"desiredCount": 6}}, False),
        ({"eventName": "UpdateService"}, False),
        # EventBridge flattens arrays of objects: one strategy item with the field is enough.
        (
            {
                "eventName": "UpdateService",
                "requestParameters": {"capacityProviderStrategy": [{"weight": 1}, {"capacityProvider": "FARGATE"}]},
            },
            True,
        ),
        ({"eventName": "UpdateService", "requestParameters": {"capacityProviderStrategy": [{"weight": 1}]}}, False),
        ({"eventName": "StartTask"}, False),
    ],
)
def test_or_and_arrays_of_objects(detail, expected):
    assert matches(SERVICE_PATTERN, {"detail": detail}) is expected


def test_malformed_or_never_matches():
    assert not matches({"$or": "x"}, {"a": 1})
    assert not matches({"$or": ["x"]}, {"a": 1})
