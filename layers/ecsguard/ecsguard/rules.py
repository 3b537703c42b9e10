"""EventBridge rule patterns: read them from ``template.yaml`` and match events against them.

``ecsguard deliver`` uses this to route an event the way the deployed stack would. The matcher
implements the parts of the EventBridge pattern language the template uses (exact values,
``prefix``, ``exists``, ``anything-but``, ``$or``; ``numeric`` is not needed) and treats any other
operator as a mismatch; the template tests compare it with moto's reference matcher.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_MISSING = object()


def _match_value(condition: Any, value: Any) -> bool:
    if isinstance(condition, Mapping):
        if "exists" in condition:
            return (value is not _MISSING) == bool(condition["exists"])
        if value is _MISSING:
            return False
        if "prefix" in condition:
            return isinstance(value, str) and value.startswith(condition["prefix"])
        if "suffix" in condition:
            return isinstance(value, str) and value.endswith(condition["suffix"])
        if "anything-but" in condition:
            excluded = condition["anything-but"]
            if isinstance(excluded, Mapping):
                if "prefix" in excluded:
                    return not (isinstance(value, str) and value.startswith(excluded["prefix"]))
                return False
            excluded = excluded if isinstance(excluded, list) else [excluded]
            values = value if isinstance(value, list) else [value]
            return not any(v in excluded for v in values)
        if "equals-ignore-case" in condition:
            return isinstance(value, str) and value.lower() == str(condition["equals-ignore-case"]).lower()
        return False
    if value is _MISSING:
        return False
    if isinstance(value, list):
        return condition in value
    return condition == value


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """True when ``event`` matches the EventBridge ``pattern``.

    ``$or`` takes a list of patterns, any of which may match. A nested pattern over an array of objects
    (``capacityProviderStrategy: {capacityProvider: [...]}``) matches when one of the objects does, as
    EventBridge flattens arrays.
    """
    if not isinstance(event, Mapping):
        return False
    for key, condition in pattern.items():
        if key == "$or":
            if not isinstance(condition, list) or not any(
                isinstance(alternative, Mapping) and matches(alternative, event) for alternative in condition
            ):
                return False
            continue
        value = event.get(key, _MISSING)
        if isinstance(condition, Mapping):
            if isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
                if not any(matches(condition, item) for item in value):
                    return False
                continue
            if not isinstance(value, Mapping):
                value = {} if value is _MISSING else value
            if not isinstance(value, Mapping):
                return False
            if not matches(condition, value):
                return False
        elif isinstance(condition, list):
            if not any(_match_value(c, value) for c in condition):
                return False
        else:
            return False
    return True


def load_yaml(text: str) -> Any:
    """YAML, including CloudFormation's short tags (!Ref, !Sub, !GetAtt ...) read as their long form."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
        name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag_suffix == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", construct)
    return yaml.load(text, Loader=Loader)


def load_template(path: str | Path) -> dict[str, Any]:
    return load_yaml(Path(path).read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Route:
    """One EventBridge rule of the template and the function it invokes."""

    function: str  # logical id
    code_uri: str  # folder of the handler, e.g. functions/register_task_definition/
    handler: str
    rule: str  # event name in the function's Events
    pattern: Mapping[str, Any]

    @property
    def folder(self) -> str:
        return Path(self.code_uri.rstrip("/")).name


def routes(template: Mapping[str, Any]) -> list[Route]:
    """Every EventBridgeRule / CloudWatchEvent event source of every function in a SAM template."""
    found: list[Route] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties") or {}
        for event_name, event in (properties.get("Events") or {}).items():
            if not isinstance(event, Mapping) or event.get("Type") not in {"EventBridgeRule", "CloudWatchEvent"}:
                continue
            pattern = (event.get("Properties") or {}).get("Pattern")
            if isinstance(pattern, Mapping):
                found.append(
                    Route(
                        logical_id,
                        str(properties.get("CodeUri", "")),
                        str(properties.get("Handler", "")),
                        event_name,
                        pattern,
                    )
                )
    return found


def route_event(template: Mapping[str, Any], event: Any) -> list[Route]:
    return [route for route in routes(template) if matches(route.pattern, event)]
