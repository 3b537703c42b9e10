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
