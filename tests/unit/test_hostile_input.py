"""Hostile input: malformed, truncated, oversized and type-confused events and task definitions.

Whatever arrives, ecsguard must say less rather than crash or leak (DESIGN.md, non-negotiables):

(a) the event parsers return a model or raise ``SkipEvent``, nothing else, and every envelope field
    they copy out (account, region, actor, time, ids, name) is a short printable string of its shape;
(b) the registration and launch handlers, with the whole catalogue, against moto in-process, never
    raise, never create a client for a region that is not one, and every SNS message they send is one
    SNS accepts (subject ASCII, printable, under 100 characters; message under 256 KiB);
(c) ``ecsguard scan`` on any file (JSON of any shape, truncated JSON, binary, YAML, huge) exits 0, 1
    or 2 and never raises;
(d) a canary credential planted in the event or the definition never appears in the handler's result,
    the SNS message, the command's output or any log line.

The events are the real-shaped ones of ``events/``, mutated (random subtrees replaced by values of other
types, keys dropped, strings truncated, very long strings and lists, unknown fields, CloudTrail's
``omitted`` and redaction markers, deep nesting), so the generator reaches the checks and the actions,
not only the envelope. Where the canary goes: every value position a credential really takes
(environment values, log-driver options, command and entry-point arguments, health checks, labels, tag
values, launch overrides), anywhere wrapped in an object where a string or a list is expected (the
type confusion that ``str()`` would leak), and bare in every envelope field. Identifiers (family and
container names, ARNs, images, log groups, variable names) are shown by design: the canary is
credential-shaped (spaces, ``!``, ``#``), as passwords are, which no AWS identifier can be.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import yaml
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ecsguard.aws import Clients
from ecsguard.cli import main
from ecsguard.delivery import lambda_context
from ecsguard.events import (
    ApiCall,
    Launch,
    Registration,
    SkipEvent,
    correlation_id,
    is_region,
    parse_launch,
    parse_registration,
)
from ecsguard.handlers import make_launch_handler, make_registration_handler, make_stopped_handler
from ecsguard.model import Finding, Report, TaskDefinition, parse_cpu_units, parse_memory_mib
from ecsguard.policy import Settings
from ecsguard.render import sns

from conftest import ACCOUNT, CORPUS, EVENTS, REGION, Account

CANARY = "Canary S3cr3t!pw+9Vq#zX"
# The synthetic credentials the events of events/ carry: no more allowed out than the canary.
EVENT_SECRETS = (
    "Hunter2-synthetic-9Vq",
    "Hx9-synthetic-Kd2Vn7Qa",
    "Legacy-synthetic-Pw-2019",
    "S3cr3t-synthetic-pw",
    "Tr0ub4dor-synthetic-7Qx",
    "Wq7-synthetic-Pz4Lm9Rt",
)
# A truncated canary is still a leak: look for its halves too.
NEEDLES = (CANARY, CANARY[:12], CANARY[-11:], *EVENT_SECRETS)
SNS_MESSAGE_LIMIT = 256 * 1024

REGISTRATION = "register_task_definition"
LAUNCH = "run_task"
STOPPED = "task_stopped"
BASES = {
    flow: [json.loads(p.read_text()) for p in sorted((EVENTS / flow).glob("*.json"))]
    for flow in (REGISTRATION, LAUNCH, STOPPED)
}
# The events of another flow mixed into each flow's bases (a rule that matched the wrong event, ``deliver`` to the
# wrong function): the launch events for the stopped flow too, as a CloudTrail envelope is its likeliest stranger.
OTHER_FLOW = {REGISTRATION: LAUNCH, LAUNCH: REGISTRATION, STOPPED: LAUNCH}
CORPUS_DOCUMENTS = []
for _path in sorted((CORPUS / "taskdefs").glob("*.json")):
    try:
        CORPUS_DOCUMENTS.append(json.loads(_path.read_text()))
    except (ValueError, UnicodeDecodeError):
        continue
DEFINITIONS = CORPUS_DOCUMENTS + [
    event["detail"]["requestParameters"]
    for event in BASES[REGISTRATION]
    if isinstance(event["detail"].get("requestParameters"), dict)
]

# Paths of the envelope ecsguard reads, so mutations hit them more often than their share of the nodes.
ENVELOPE_PATHS = [
    ("detail-type",),
    ("source",),
    ("id",),
    ("time",),
    ("account",),
    ("region",),
    ("detail",),
    ("detail", "eventTime"),
    ("detail", "eventID"),
    ("detail", "eventName"),
    ("detail", "eventSource"),
    ("detail", "awsRegion"),
    ("detail", "recipientAccountId"),
    ("detail", "errorCode"),
    ("detail", "errorMessage"),
    ("detail", "userIdentity"),
    ("detail", "userIdentity", "arn"),
    ("detail", "userIdentity", "type"),
    ("detail", "userIdentity", "principalId"),
    ("detail", "userIdentity", "invokedBy"),
    ("detail", "userIdentity", "sessionContext"),
    ("detail", "userIdentity", "sessionContext", "sessionIssuer"),
    ("detail", "userIdentity", "sessionContext", "sessionIssuer", "arn"),
    ("detail", "requestParameters"),
    ("detail", "responseElements"),
    ("detail", "responseElements", "taskDefinition"),
    ("detail", "responseElements", "taskDefinition", "taskDefinitionArn"),
    ("detail", "responseElements", "taskDefinition", "containerDefinitions"),
    ("detail", "responseElements", "tasks"),
    ("detail", "requestParameters", "overrides"),
    ("detail", "requestParameters", "taskDefinition"),
]
# The ECS Task State Change envelope (EventBridge's own fields, no CloudTrail) and the detail fields the stopped
# flow reads: the first container and attachment stand for all of them.
STOPPED_ENVELOPE_PATHS = [
    ("detail-type",),
    ("source",),
    ("id",),
    ("time",),
    ("account",),
    ("region",),
    ("resources",),
    ("detail",),
    *(
        ("detail", field)
        for field in (
            "lastStatus", "desiredStatus", "taskArn", "taskDefinitionArn", "clusterArn", "group", "startedBy",
            "stopCode", "stoppedReason", "launchType", "capacityProviderName", "cpu", "memory", "startedAt",
            "stoppedAt", "availabilityZone", "containers", "attachments", "overrides",
        )
    ),
    *(("detail", "containers", 0, field) for field in ("name", "reason", "exitCode", "image", "lastStatus")),
    ("detail", "containers", 0),
    ("detail", "attachments", 0),
    ("detail", "attachments", 0, "type"),
    ("detail", "attachments", 0, "details"),
    ("detail", "attachments", 0, "details", 0, "value"),
]  # fmt: skip
# Where the canary goes bare in a stopped event: every field, the free-text reasons included (they are kept for
# classification and must never be repeated); _plant_stopped also hides it inside real reasons and groups.
STOPPED_CANARY_PATHS = [path for path in STOPPED_ENVELOPE_PATHS if path[-1] not in ("detail", "containers", 0)]

# The handlers take the correlation id from ecsguard.events.correlation_id (id-shaped or nothing): the canary
# may be planted there too.
CORRELATION_ID_PATHS: set[tuple[str, ...]] = set()


def _known_leak(document: Any, path: tuple[Any, ...]) -> bool:
    """Where a wrapped canary is known to leak: nowhere (the correlation id and fargate-size-invalid's repeat of
    the task-level cpu/memory were fixed; kept as the one place to name a future exception)."""
    return False


# Where the envelope may hold the canary itself: fields ecsguard validates before it repeats them.
CANARY_ENVELOPE_PATHS = [
    path for path in ENVELOPE_PATHS if (len(path) == 1 or path[-1] in {
        "eventTime", "eventID", "eventName", "eventSource", "awsRegion", "recipientAccountId", "errorCode",
        "errorMessage", "arn", "type", "principalId", "invokedBy", "taskDefinitionArn",
    })
    and path not in CORRELATION_ID_PATHS
]  # fmt: skip


# --------------------------------------------------------------------------- generators

# No example database (nothing written into the working tree), no deadline (moto and 1 MB definitions are
# slow on a busy machine); the fixtures (moto account, logs, tmp_path) are shared by a test's examples.
# ECSGUARD_HOSTILE_SCALE=20 runs twenty times the examples (a deeper search, minutes; CI runs 1).
SCALE = int(os.environ.get("ECSGUARD_HOSTILE_SCALE", "1"))
QUICK = settings(
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_TEXT = st.text(st.one_of(st.characters(), _SURROGATES, st.sampled_from("\n\r\t\x00\x7f${}:/\"'")), max_size=24)
_LONG_TEXT = st.builds(lambda unit, n: (unit or "x") * n, st.text(max_size=3), st.integers(100, 30_000))
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),  # NaN and infinities too: Python's json (the Lambda runtime's) reads them
    _TEXT,
    _LONG_TEXT,
    st.sampled_from(["", "0", "-1", "1e999", "true", "null", "${VAR}", "{{x}}", "arn:aws:", "us-east-1", ACCOUNT]),
)
JSON = st.recursive(
    _LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=12,
)
OMITTED = {"omitted": True, "originalSize": 409_600}
REDACTED = "HIDDEN_DUE_TO_SECURITY_REASONS"


def _paths(document: Any, limit: int = 50_000) -> list[tuple[Any, ...]]:
    """Every node's path (keys and indices), breadth first, without recursion."""
    found: list[tuple[Any, ...]] = []
    queue: list[tuple[tuple[Any, ...], Any]] = [((), document)]
    while queue and len(found) < limit:
        path, node = queue.pop(0) if len(queue) < 64 else queue.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            found.append((*path, key))
            queue.append(((*path, key), child))
    return found


def _parent(document: Any, path: tuple[Any, ...]) -> Any | None:
    node = document
    for key in path[:-1]:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return None
    return node


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    parent = _parent(document, path)
    if isinstance(parent, dict):
        parent[path[-1]] = value
    elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
        parent[path[-1]] = value


def _get(document: Any, path: tuple[Any, ...]) -> Any:
    parent = _parent(document, path)
    if isinstance(parent, dict):
        return parent.get(path[-1])
    if isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
        return parent[path[-1]]
    return None


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


# A mutated document stays under about 1.5 MB of JSON (EventBridge delivers at most 256 KiB; a definition
# file may be larger): repeated lists share their items, so two nested repetitions would be gigabytes.
MAX_DOCUMENT = 1_500_000


def _size(document: Any) -> int:
    return len(json.dumps(document, default=str))


MUTATIONS = ("replace", "drop", "truncate", "long-string", "long-list", "omitted", "redacted", "wrap", "insert", "deep")


@st.composite
def mutated(
    draw: st.DrawFn,
    document: Any,
    *,
    envelope: bool = False,
    max_mutations: int = 4,
    envelope_paths: list[tuple[Any, ...]] = ENVELOPE_PATHS,
) -> Any:
    """``document`` with 1 to ``max_mutations`` random mutations (biased to ``envelope_paths`` when ``envelope``)."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_mutations))):
        before = copy.deepcopy(document)
        document = _mutate(draw, document, envelope=envelope, envelope_paths=envelope_paths)
        if _size(document) > MAX_DOCUMENT:
            return before  # a list of lists of 3,000 each is gigabytes, not an event
    return document


def _mutate(
    draw: st.DrawFn, document: Any, *, envelope: bool, envelope_paths: list[tuple[Any, ...]] = ENVELOPE_PATHS
) -> Any:
    """One random mutation of ``document`` (in place when it can be; the result is returned)."""
    if envelope and draw(st.booleans()):
        path = draw(st.sampled_from(envelope_paths))
    else:
        paths = _paths(document)
        if not paths:
            return draw(JSON)
        path = paths[draw(st.integers(0, len(paths) - 1))]
    op = draw(st.sampled_from(MUTATIONS))
    current = _get(document, path)
    parent = _parent(document, path)
    if op == "drop":
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
            del parent[path[-1]]
    elif op == "truncate":
        cut = current[: draw(st.integers(0, max(len(current) - 1, 0)))] if isinstance(current, (str, list)) else ""
        _set(document, path, cut)
    elif op == "long-string":
        _set(document, path, draw(_LONG_TEXT))
    elif op == "long-list":
        items = current if isinstance(current, list) and current else [current]
        _set(document, path, items * max(1, draw(st.integers(20, 3_000)) // len(items)))
    elif op == "omitted":
        _set(document, path, dict(OMITTED))
    elif op == "redacted":
        _set(document, path, REDACTED)
    elif op == "wrap":
        _set(document, path, draw(st.sampled_from([[current], {"value": current}])))
    elif op == "insert":
        target = current if isinstance(current, dict) else parent if isinstance(parent, dict) else None
        if target is not None:
            target[draw(_TEXT)] = draw(JSON)
    elif op == "deep":
        _set(document, path, _nest(current, draw(st.integers(10, 150))))  # deeper: test_deeply_nested_*
    else:
        _set(document, path, draw(JSON))
    return document


def _containers(document: Any) -> list[dict[str, Any]]:
    """The container definitions (and launch overrides) of an event or a definition document."""
    found = []
    for path in _paths(document):
        if path and path[-1] in ("containerDefinitions", "containerOverrides"):
            value = _get(document, path)
            if isinstance(value, list):
                found += [c for c in value if isinstance(c, dict)]
    if isinstance(document, dict) and not found and ("image" in document or "environment" in document):
        found.append(document)
    return found


_SECRET_NAMES = st.sampled_from(["DB_PASSWORD", "API_TOKEN", "GREETING", "X", "client_secret", ""])
# Mutable values are copied on every draw: the mutations change what they are given, and a shared object
# changed by one example would make the next one draw differently.
_CANARY_WRAPPED = st.sampled_from([{"value": CANARY}, {"password": CANARY}, [{"value": CANARY}], {"x": [CANARY]}]).map(
    copy.deepcopy
)


@st.composite
def planted(draw: st.DrawFn, document: Any, *, envelope: bool) -> Any:
    """``document`` with the canary planted in 1 to 4 places (see the module docstring for which)."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 4))):
        containers = _containers(document)
        where = draw(st.sampled_from(["container", "wrapped", "tags"] + (["envelope"] if envelope else [])))
        if where == "container" and containers:
            container = draw(st.sampled_from(containers))
            spot = draw(st.sampled_from(["environment", "options", "command", "entryPoint", "healthCheck", "labels"]))
            if spot == "environment":
                environment = container.setdefault("environment", [])
                item = {"name": draw(_SECRET_NAMES), "value": CANARY}
                if isinstance(environment, list):
                    environment.insert(draw(st.integers(0, len(environment))), item)
                else:
                    container["environment"] = [item]
            elif spot == "options":
                log = container.get("logConfiguration")
                if not isinstance(log, dict):
                    log = container["logConfiguration"] = {"logDriver": draw(st.sampled_from(["splunk", "awslogs"]))}
                if not isinstance(log.get("options"), dict):
                    log["options"] = {}
                key = draw(st.sampled_from(["splunk-token", "x-api-key", "password", "datadog-apikey"]))
                log["options"][key] = CANARY
            elif spot in ("command", "entryPoint"):
                container[spot] = list(
                    draw(
                        st.sampled_from([("--password", CANARY), (f"--token={CANARY}",), ("sh", "-c", f"run {CANARY}")])
                    )
                )
            elif spot == "healthCheck":
                container["healthCheck"] = {"command": ["CMD-SHELL", f"curl -u admin:{CANARY} localhost"]}
            else:
                container["dockerLabels"] = {"secret": CANARY}
        elif where == "tags" and isinstance(document, dict):
            tags = [{"key": "owner-token", "value": CANARY}]
            holder = _get(document, ("detail", "requestParameters")) if "detail" in document else document
            if isinstance(holder, dict):
                holder["tags"] = tags
        elif where == "envelope":
            _set(document, draw(st.sampled_from(CANARY_ENVELOPE_PATHS)), CANARY)
        else:
            paths = [path for path in _paths(document) if not _known_leak(document, path)]
            if paths:
                _set(document, paths[draw(st.integers(0, len(paths) - 1))], draw(_CANARY_WRAPPED))
    return document


def _one_of(documents: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``documents`` (by index: a failing example prints the index, not megabytes of JSON)."""
    return st.integers(0, len(documents) - 1).map(lambda index: documents[index])


def hostile_event(flow: str, *, plant: bool = True) -> st.SearchStrategy[Any]:
    """A real event of ``flow`` (sometimes of the other flow), canary planted, then mutated; or random JSON."""
    bases = _one_of(BASES[flow] * 3 + BASES[OTHER_FLOW[flow]])
    if flow == STOPPED:
        seeded = bases.flatmap(planted_stopped) if plant else bases
        paths = STOPPED_ENVELOPE_PATHS
    else:
        seeded = bases.flatmap(lambda event: planted(event, envelope=True)) if plant else bases
        paths = ENVELOPE_PATHS
    return st.one_of(
        seeded.flatmap(lambda event: mutated(event, envelope=True, envelope_paths=paths)),
        seeded,  # canary only: the deepest paths (checks, actions, the message) with the plants intact
        JSON,
    )


def _hide(text: Any, draw: st.DrawFn) -> str:
    """``text`` (a reason) with the canary inside it, so the reason still classifies (a pull error, a timeout)."""
    text = text if isinstance(text, str) else ""
    cut = draw(st.integers(0, len(text)))
    shape = draw(st.sampled_from(["{}", " https://deploy:{}@registry.example.com/v2/ ", " password={} ", "\n{}\n"]))
    return text[:cut] + shape.format(CANARY) + text[cut:]


@st.composite
def planted_stopped(draw: st.DrawFn, event: Any) -> Any:
    """A stopped event (or a stranger) with the canary planted 1 to 4 times: hidden in the reasons and the group,
    bare in any field, wrapped anywhere; a CloudTrail stranger gets the CloudTrail plants."""
    if not (isinstance(event, dict) and event.get("detail-type") == "ECS Task State Change"):
        return draw(planted(event, envelope=True))
    event = copy.deepcopy(event)
    detail = event["detail"]
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["stoppedReason", "container reason", "group", "bare", "wrapped"]))
        containers = [c for c in detail.get("containers") or [] if isinstance(c, dict)]
        if where == "stoppedReason":
            detail["stoppedReason"] = _hide(detail.get("stoppedReason"), draw)
        elif where == "container reason" and containers:
            container = draw(st.sampled_from(containers))
            container["reason"] = _hide(container.get("reason") or detail.get("stoppedReason"), draw)
        elif where == "group":
            detail["group"] = draw(st.sampled_from([f"service:{CANARY}", f"family:{CANARY}", f"service:web {CANARY}"]))
        elif where == "bare":
            _set(event, draw(st.sampled_from(STOPPED_CANARY_PATHS)), CANARY)
        else:
            paths = _paths(event)
            _set(event, paths[draw(st.integers(0, len(paths) - 1))], draw(_CANARY_WRAPPED))
    return event


def hostile_document() -> st.SearchStrategy[Any]:
    """A task-definition document (corpus, events' requests), canary planted, then mutated; or random JSON."""
    seeded = _one_of(DEFINITIONS).flatmap(lambda document: planted(document, envelope=False))
    return st.one_of(seeded.flatmap(lambda document: mutated(document)), seeded, JSON)


# --------------------------------------------------------------------------- assertions


def assert_no_leak(*texts: str, needles: tuple[str, ...] = NEEDLES) -> None:
    for text in texts:
        for needle in needles:
            assert needle not in text, f"{needle!r} leaked: ...{text[max(text.find(needle) - 200, 0) :][:400]}..."


def assert_short_printable(call: ApiCall) -> None:
    for name in ("account", "region", "actor", "event_time", "event_id", "event_name", "error_code", "envelope_id"):
        value = getattr(call, name)
        assert value is None or (
            isinstance(value, str) and len(value) <= 1100 and value.isascii() and value.isprintable()
        ), f"{name}={value!r:.200}"
    assert re.fullmatch(r"[0-9]{12}", call.account)
    assert is_region(call.region)
    assert call.event_time is None or len(call.event_time) <= 64
    assert_no_leak(
        *(str(getattr(call, name)) for name in call.__slots__ if not name.endswith(("parameters", "elements")))
    )


def assert_sns_accepts(message: dict[str, Any]) -> None:
    """What SNS checks on Publish (moto only checks a subject of more than 100 characters)."""
    subject = message.get("Subject") or ""
    assert len(subject) < 100, subject
    assert subject.isascii() and subject.isprintable(), repr(subject)
    assert subject[:1] and not subject[:1].isspace()
    assert len(message["Message"].encode("utf-8")) <= SNS_MESSAGE_LIMIT


# --------------------------------------------------------------------------- (1) the envelope, regression

ENVELOPE_CASES = {
    "account is a list": ("detail", "recipientAccountId", ["1" * 50] * 10),
    "account is a dict": ("detail", "recipientAccountId", {"id": CANARY}),
    "account is not 12 digits": ("detail", "recipientAccountId", "12345"),
    "account has unicode digits": ("detail", "recipientAccountId", "١٢٣٤٥٦٧٨٩٠١٢"),
    "region is a list": ("detail", "awsRegion", ["us-east-1"]),
    "region is a dict": ("detail", "awsRegion", {"name": CANARY}),
    "region is garbage": ("detail", "awsRegion", "us-east-1; rm -rf"),
    "region has a newline": ("detail", "awsRegion", "us-east-1\n"),
    "region is 10,000 characters": ("detail", "awsRegion", "us-" + "x" * 10_000 + "-1"),
    "actor arn is a number": ("userIdentity", "arn", 12345),
    "actor arn is a dict": ("userIdentity", "arn", {"secret": CANARY}),
    "actor arn is the canary": ("userIdentity", "arn", CANARY),
    "actor arn is 10,000 characters": ("userIdentity", "arn", "arn:aws:sts::123456789012:" + "a" * 10_000),
    "event time is 10,000 characters": ("detail", "eventTime", "2026-11-28T07:30:00Z" * 500),
    "event time is a dict": ("detail", "eventTime", {"t": CANARY}),
    "event time is not a time": ("detail", "eventTime", CANARY),
    "event id is a dict": ("detail", "eventID", {"id": CANARY}),
    "event id is 10,000 characters": ("detail", "eventID", "e" * 10_000),
    "event name is 10,000 characters": ("detail", "eventName", "RegisterTaskDefinition" * 500),
    "event name is the canary": ("detail", "eventName", CANARY),
    "error code is a dict": ("detail", "errorCode", {"code": CANARY}),
    "error code is the canary": ("detail", "errorCode", CANARY),
    "detail-type is a dict": ("", "detail-type", {"type": CANARY}),
    "event source is the canary": ("detail", "eventSource", CANARY),
}


def _envelope_event(flow: str, name: str, case: tuple[str, str, Any]) -> dict[str, Any]:
    event = json.loads((EVENTS / flow / "plaintext-secrets.json").read_text())
    where, key, value = case
    holder = {"": event, "detail": event["detail"], "userIdentity": event["detail"]["userIdentity"]}[where]
    holder[key] = copy.deepcopy(value)
    if name.startswith("region"):
        event["region"] = copy.deepcopy(value)  # both: the envelope's own region cannot rescue it
    if name.startswith("account"):
        event["account"] = copy.deepcopy(value)
    return event


@pytest.mark.parametrize("name", list(ENVELOPE_CASES))
@pytest.mark.parametrize("flow", [REGISTRATION, LAUNCH])
def test_envelope_fields_of_any_type_or_length_are_validated(flow: str, name: str):
    event = _envelope_event(flow, name, ENVELOPE_CASES[name])
    parse = parse_registration if flow == REGISTRATION else parse_launch
    try:
        parsed = parse(event)
    except SkipEvent as skip:
        assert len(str(skip)) < 400 and str(skip).isprintable()
        assert_no_leak(str(skip))
        return
    assert_short_printable(parsed.call)


def test_garbage_region_falls_back_to_the_envelope_region_or_skips():
    event = _envelope_event(REGISTRATION, "x", ("detail", "awsRegion", {"name": "us-east-1"}))
    assert parse_registration(event).call.region == REGION  # EventBridge's own region field
    event["region"] = "moon-base-1"
    with pytest.raises(SkipEvent, match="names no AWS region"):
        parse_registration(event)


def test_account_that_is_not_twelve_digits_falls_back_or_skips():
    event = _envelope_event(REGISTRATION, "x", ("detail", "recipientAccountId", 123456789012))
    assert parse_registration(event).call.account == ACCOUNT
    event["account"] = ["123456789012"]
    with pytest.raises(SkipEvent, match="12-digit account"):
        parse_registration(event)


def test_correlation_id_is_an_id_or_none():
    event = _envelope_event(REGISTRATION, "x", ("detail", "eventID", {"id": CANARY}))
    assert correlation_id(event) == event["id"]  # EventBridge's id when CloudTrail's is unusable
    event["id"] = "e" * 10_000
    assert correlation_id(event) is None
    assert correlation_id(json.loads((EVENTS / REGISTRATION / "clean.json").read_text())) == (
        "d23f0824-128b-2f33-0c5c-7fd0a6a3a450"
    )
    assert correlation_id(["not", "an", "event"]) is None


def test_regions_of_every_partition_are_regions():
    for region in ("us-east-1", "eu-central-2", "il-central-1", "cn-north-1", "us-gov-west-1", "us-isob-east-1"):
        assert is_region(region), region
    for garbage in ("", "us-east", "us-east-1x", "US-EAST-1", "us-east-1\n", "*", "us-ea\u0455t-1", ["us-east-1"], 1):
        assert not is_region(garbage), garbage


@pytest.mark.parametrize(
    "name",
    [n for n in ENVELOPE_CASES if not n.startswith(("region", "account"))],
)
def test_registration_with_a_hostile_envelope_is_checked_and_sns_accepts_the_message(
    name: str, account: Account, structured_logs: io.StringIO
):
    event = _envelope_event(REGISTRATION, name, ENVELOPE_CASES[name])
    handler = make_registration_handler(settings=Settings(topic_arn=account.topic_arn), clients=Clients())
    result = handler(event, lambda_context("RegisterTaskDefinitionFunction"))
    messages = account.messages()
    if result["status"] == "checked":
        [message] = messages
        assert_sns_accepts(message)
    assert_no_leak(json.dumps(result), json.dumps(messages), structured_logs.getvalue())


def test_subject_stays_within_sns_rules_whatever_the_report_holds():
    report = Report(
        task_definition=TaskDefinition(family="f" * 300 + "\n\u00e9", containers=(), revision=1),
        account="1" * 200,
        region="r\n" * 100,
        actor="a",
        event_time=None,
        event_id=None,
        findings=[Finding(check="plaintext-secret", severity="high", target="t", message="m", remediation="r")],
        modes={},
    )
    subject = sns.render(report).subject
    assert len(subject) < 100 and subject.isascii() and subject.isprintable(), subject


# --------------------------------------------------------------------------- (a) parsers


@settings(QUICK, max_examples=400 * SCALE)
@given(event=st.one_of(hostile_event(REGISTRATION), hostile_event(LAUNCH)))
def test_parsers_return_a_model_or_skip(event: Any):
    for parse, model in ((parse_registration, Registration), (parse_launch, Launch)):
        try:
            parsed = parse(event)
        except SkipEvent as skip:
            reason = str(skip)
            assert len(reason) < 600 and reason.isprintable(), reason[:300]
            assert_no_leak(reason)
            continue
        assert isinstance(parsed, model)
        assert_short_printable(parsed.call)


# --------------------------------------------------------------------------- (b, d) handlers against moto


class RecordingClients(Clients):
    """Clients that remember every (service, region) a client was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[tuple[str, str | None]] = set()

    def __call__(self, service: str, region: str | None = None) -> Any:
        self.asked.add((service, region))
        return super().__call__(service, region)


@pytest.fixture
def seeded(account: Account) -> Account:
    """The account with the events' definitions registered, so read-backs find them."""
    for event in BASES[REGISTRATION]:
        request = event["detail"].get("requestParameters")
        if isinstance(request, dict) and "containerDefinitions" in request:
            try:
                account.client("ecs").register_task_definition(**request)
            except Exception:
                pass  # a definition moto will not take is simply not there to read back
    return account


@pytest.fixture
def capture(structured_logs: io.StringIO, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]):
    """Everything the handler says: its JSON log lines, every other logger, standard output and error."""

    def drain() -> str:
        out, err = capsys.readouterr()
        text = structured_logs.getvalue() + caplog.text + out + err
        structured_logs.seek(0)
        structured_logs.truncate()
        caplog.clear()
        return text

    caplog.set_level(logging.DEBUG)
    return drain


_counter = iter(range(10**9))


def _unique(event: Any) -> Any:
    """A fresh CloudTrail eventID (a state change's id) per example, so idempotency does not replay an earlier
    example's outcome. A state change's id that is not id-shaped is left as it is (the parser must skip it)."""
    if isinstance(event, dict) and isinstance(event.get("detail"), dict):
        if isinstance(event["detail"].get("eventID"), str):
            event["detail"]["eventID"] = f"{event['detail']['eventID'][:8]}-hostile-{next(_counter)}"
        if (
            event.get("detail-type") == "ECS Task State Change"
            and isinstance(event.get("id"), str)
            and _ID_SHAPED.fullmatch(event["id"])
        ):
            event["id"] = f"{event['id'][:8]}-hostile-{next(_counter)}"
    return event


_ID_SHAPED = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def _statistic(value: str) -> None:
    """hypothesis.event inside a property; nothing in a plain test (which run_hostile serves too)."""
    try:
        hypothesis.event(value)
    except hypothesis.errors.InvalidArgument:
        pass


def run_hostile(
    handler_factory: Any,
    event: Any,
    account: Account,
    capture: Any,
    *,
    needles: tuple[str, ...] = NEEDLES,
    **settings_kwargs: Any,
) -> None:
    clients = RecordingClients()
    handler = handler_factory(
        settings=Settings(topic_arn=account.topic_arn, state_table=account.table, **settings_kwargs), clients=clients
    )
    capture()
    result = handler(_unique(event), lambda_context("HostileInputFunction"))
    assert result["status"] in ("checked", "skipped"), result
    messages = account.messages()
    _statistic(f"{result['status']}, {len(messages)} message(s)")  # --hypothesis-show-statistics: what was reached
    checks = sorted({f.get("check") for f in result.get("findings") or [] if isinstance(f, dict)})
    _statistic(f"checks: {', '.join(map(str, checks)) or 'none'}")
    for message in messages:
        assert_sns_accepts(message)
    if result["status"] == "skipped":
        assert messages == []
    bad = {(service, region) for service, region in clients.asked if region is not None and not is_region(region)}
    assert not bad, f"clients for regions that are not regions: {bad}"
    assert_no_leak(json.dumps(result, default=str), json.dumps(messages), capture(), needles=needles)


HANDLER_SETTINGS = settings(QUICK, max_examples=120 * SCALE)


def _deep_event(depth: int) -> dict[str, Any]:
    """plaintext-secrets.json with a container's dockerLabels nested ``depth`` deep (json.loads reads 5,000)."""
    event = json.loads((EVENTS / REGISTRATION / "plaintext-secrets.json").read_text())
    container = event["detail"]["responseElements"]["taskDefinition"]["containerDefinitions"][0]
    container["dockerLabels"] = json.loads("[" * depth + "]" * depth)
    return event


@HANDLER_SETTINGS
@given(event=hostile_event(REGISTRATION))
@example(event=_envelope_event(REGISTRATION, "account", ENVELOPE_CASES["account is a list"]))
def test_registration_handler_never_raises_or_leaks(seeded: Account, capture: Any, event: Any):
    run_hostile(make_registration_handler, event, seeded, capture)


@settings(HANDLER_SETTINGS, max_examples=1)
@given(depth=st.just(5_000))
def test_registration_handler_on_a_definition_nested_5000_deep(seeded: Account, capture: Any, depth: int):
    """RecursionError in events._redacted before it walked without recursion (built inside the test: hypothesis
    cannot even print an example this deep)."""
    run_hostile(make_registration_handler, _deep_event(depth), seeded, capture)


@HANDLER_SETTINGS
@given(event=hostile_event(LAUNCH))
def test_launch_handler_never_raises_or_leaks(seeded: Account, capture: Any, event: Any):
    """RunTask, StartTask, CreateService and UpdateService events (all of events/run_task/); the launched revisions
    are not readable here, so the network checks say "could not verify" without EC2 (the next test reads them)."""
    run_hostile(make_launch_handler, event, seeded, capture)


@settings(HANDLER_SETTINGS, max_examples=30 * SCALE)
@given(event=hostile_event(LAUNCH))
def test_launch_network_path_never_raises_or_leaks(launchable: Account, capture: Any, event: Any):
    """The same events with the launched revisions readable (see ``launchable``), so the network checks run
    against EC2 (subnets and groups moto does not have): "could not verify", never a crash or a leak."""
    run_hostile(make_launch_handler, event, launchable, capture)


ACTING = {"plaintext-secret": "remediate", "log-group-missing": "remediate", "privileged-container": "block"}


@settings(HANDLER_SETTINGS, max_examples=60 * SCALE)
@given(event=hostile_event(REGISTRATION))
def test_registration_handler_acting_on_hostile_definitions(seeded: Account, capture: Any, event: Any):
    """Secret migration, log-group creation, deregistration: the actions see hostile definitions too."""
    run_hostile(make_registration_handler, event, seeded, capture, modes=ACTING)


@settings(HANDLER_SETTINGS, max_examples=40 * SCALE)
@given(event=hostile_event(LAUNCH))
def test_launch_handler_blocking_hostile_launches(seeded: Account, capture: Any, event: Any):
    """Stopping the tasks of a hostile RunTask (the launched revisions are not readable here: the network path is
    test_launch_handler_never_raises_or_leaks')."""
    run_hostile(make_launch_handler, event, seeded, capture, modes={"plaintext-secret": "block"})


# --------------------------------------------------------------------------- (b, d) the network path and diagnosis

ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-password-Xk3V9q"
_REVISION = re.compile(r'(?:task-definition/|"taskDefinition": ")([A-Za-z0-9_-]{1,255}):([0-9]{1,4})\b')


def _revisions(flow: str) -> dict[str, int]:
    """The highest revision of each family the events of ``flow`` name (ARNs and ``family:N`` references)."""
    found: dict[str, int] = {}
    for event in BASES[flow]:
        for family, revision in _REVISION.findall(json.dumps(event)):
            found[family] = max(found.get(family, 0), int(revision))
    return found


def _with_canaries(definition: dict[str, Any]) -> dict[str, Any]:
    """``definition`` with the canary in every value position of every container, and in a tag."""
    definition = copy.deepcopy(definition)
    for container in definition["containerDefinitions"]:
        container.setdefault("environment", []).extend(
            [{"name": "DB_PASSWORD", "value": CANARY}, {"name": "GREETING", "value": f"hello {CANARY}"}]
        )
        container["command"] = ["sh", "-c", f"exec app --token={CANARY}"]
        container["healthCheck"] = {"command": ["CMD-SHELL", f"curl -u admin:{CANARY} localhost"]}
        container["dockerLabels"] = {"secret": CANARY}
        log = container.get("logConfiguration")
        if isinstance(log, dict) and log.get("logDriver") == "awsfirelens":
            log["options"]["apikey"] = CANARY
    definition["tags"] = [{"key": "owner-token", "value": CANARY}]
    return definition


def _awslogs(group: str, prefix: str) -> dict[str, Any]:
    options = {"awslogs-group": group, "awslogs-region": REGION, "awslogs-stream-prefix": prefix}
    return {"logDriver": "awslogs", "options": options}


def _fargate(family: str, containers: list[dict[str, Any]], *, cpu: str = "256", memory: str = "512") -> dict[str, Any]:
    return {
        "family": family,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": cpu,
        "memory": memory,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{family}-execution",
        "containerDefinitions": containers,
    }


def _app(name: str, image: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, "essential": True, **extra}


# What the stopped events' tasks ran: an ECR app with a secret and an X-Ray daemon; a FireLens router; a batch job.
STOPPED_DEFINITIONS = {
    "web": _fargate(
        "web",
        [
            _app(
                "web",
                f"{ECR}/web:1.4.2",
                secrets=[{"name": "DB_PASSWORD", "valueFrom": SECRET_ARN}],
                logConfiguration=_awslogs("/ecs/web", "web"),
            ),
            {"name": "xray-daemon", "image": "public.ecr.aws/xray/aws-xray-daemon:3.3.12", "essential": False},
        ],
    ),
    "orders-api": _fargate(
        "orders-api",
        [
            _app("api", f"{ECR}/orders-api:2.0.1", logConfiguration={"logDriver": "awsfirelens", "options": {}}),
            {
                "name": "log_router",
                "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
                "essential": True,
                "firelensConfiguration": {"type": "fluentbit"},
                "logConfiguration": _awslogs("/ecs/orders-api/firelens", "firelens"),
            },
        ],
        cpu="512",
        memory="1024",
    ),
    "nightly-report": _fargate(
        "nightly-report", [_app("report", f"{ECR}/nightly-report:2026.11", logConfiguration=_awslogs("/ecs/r", "r"))]
    ),
}


def _launch_definition(family: str) -> dict[str, Any]:
    """What the launch events' calls run: Fargate awsvpc with an ECR image, awslogs and a secret (so the network
    check needs ecr.api, ecr.dkr, S3, logs and secretsmanager); ``api`` is the EC2 bridge service's."""
    app = _app(
        "app",
        f"{ECR}/{family}:1",
        secrets=[{"name": "DB_PASSWORD", "valueFrom": SECRET_ARN}],
        logConfiguration=_awslogs(f"/ecs/{family}", family),
    )
    if family == "api":
        return {
            "family": family,
            "requiresCompatibilities": ["EC2"],
            "networkMode": "bridge",
            "containerDefinitions": [{**app, "memory": 512}],
        }
    return _fargate(family, [app, {"name": "migrate", "image": f"{ECR}/{family}-migrate:1", "essential": False}])


def _register_up_to(account: Account, definition: dict[str, Any], revision: int) -> str:
    """Register ``definition`` until its family has ``revision`` (moto numbers revisions from 1)."""
    ecs = account.client("ecs")
    while True:
        registered = ecs.register_task_definition(**definition)["taskDefinition"]
        if registered["revision"] >= revision:
            return registered["taskDefinitionArn"]


@pytest.fixture
def launchable(seeded: Account) -> Iterator[Account]:
    """The seeded account with every revision the launch events name, canaries in them: the launched definition is
    read, so the network checks run (against subnets and groups moto does not have: "could not verify")."""
    from ecsguard.aws.network import clear_caches

    for family, revision in _revisions(LAUNCH).items():
        _register_up_to(seeded, _with_canaries(_launch_definition(family)), revision)
    clear_caches()
    yield seeded
    clear_caches()


@pytest.fixture
def stoppable(account: Account) -> Account:
    """The account with the revisions the stopped events name (canaries in them), and the service ``web`` of
    cluster ``prod`` in a moto VPC, so a timed-out pull reads the service's network and runs registry-unreachable
    on the event's subnets (which moto does not have)."""
    for family, revision in _revisions(STOPPED).items():
        _register_up_to(account, _with_canaries(STOPPED_DEFINITIONS[family]), revision)
    ec2, ecs = account.client("ec2"), account.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName="prod")
    ecs.create_service(
        cluster="prod",
        serviceName="web",
        taskDefinition="web",
        desiredCount=0,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}},
    )
    return account


# Subnet and security-group ids reach EC2's request parameters, log lines and the message. A credential-shaped id
# (this canary: spaces, "!", "#") is no id: it must not be repeated anywhere. Kept apart from NEEDLES while the launch
# parser keeps any string (see test_network_ids_that_are_not_ids_never_reach_a_message): the property checks it as
# soon as the parser drops what is not id-shaped.
ID_CANARY = "Subnet C4nary pw!7Qz#"
NETWORK_EVENTS = [
    "create-service",
    "create-service-capacity-provider",
    "update-service-network",
    "plaintext-secrets",
    "clean-overrides",
    "start-task-secret",
]
_NO_SURROGATES = st.text(st.characters(codec="utf-8"), max_size=40)
NETWORK_IDS = st.lists(
    st.one_of(
        st.from_regex(r"subnet-[0-9a-f]{8,17}", fullmatch=True),
        st.from_regex(r"sg-[0-9a-f]{8,17}", fullmatch=True),
        st.sampled_from(
            [
                ID_CANARY,
                f"subnet-{ID_CANARY}",
                f"subnet-0a1b2c3d {ID_CANARY}",
                f"sg-0123456789abcdef0\n{ID_CANARY}",
                "",
                "*",
                "subnet-*",
                "subnet-0a1b2c3d4e5f60718,subnet-0f9e8d7c6b5a40312",
                "${SUBNET_ID}",
                "{{subnet}}",
                f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-0a1b2c3d",
                "SUBNET-0A1B2C3D",
            ]
        ),
        _NO_SURROGATES,
        # Up to 400 characters: five ids of 5,000 make a message SNS refuses (see
        # test_huge_network_ids_do_not_make_a_message_sns_refuses), which would hide everything else.
        st.builds(lambda unit, n: (unit or "x") * n, st.text(max_size=3), st.integers(100, 400)),
        JSON,  # not a string at all
    ),
    max_size=5,
)


def _network_event(name: str, subnets: list[Any], groups: list[Any], public: Any) -> dict[str, Any]:
    """events/run_task/<name>.json with every awsvpcConfiguration (request, response, tasks) set to these."""
    event = json.loads((EVENTS / LAUNCH / f"{name}.json").read_text())
    for path in _paths(event):
        if path[-1] == "awsvpcConfiguration":
            _set(event, path, {"subnets": subnets, "securityGroups": groups, "assignPublicIp": public})
    return event


def _crashing_id(value: Any) -> bool:
    """An id with a lone surrogate or a control character: known to crash the launch handler (botocore cannot
    encode the first for ec2:DescribeSubnets; moto echoes the second in XML botocore cannot parse), see
    test_a_subnet_id_botocore_cannot_send_or_read_back_is_not_a_crash."""
    return isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF or ord(c) < 0x20 or ord(c) == 0x7F for c in value)


def _crashing_network(event: Any) -> bool:
    """A crashing id in any awsvpcConfiguration of ``event``: filtered out of the launch properties until the
    parser validates ids, so they keep testing everything else."""
    for path in _paths(event):
        if path[-1] in ("subnets", "securityGroups"):
            value = _get(event, path)
            if any(_crashing_id(item) for item in (value if isinstance(value, list) else [value])):
                return True
    return False


def _ids_validated() -> bool:
    """Does the launch parser drop subnet and group ids that are not id-shaped (the fix the lead owns)?"""
    event = _network_event("create-service", [ID_CANARY], [ID_CANARY], "DISABLED")
    network = parse_launch(event).launch.network
    return network is None or ID_CANARY not in (*network.subnets, *network.security_groups)


IDS_VALIDATED = _ids_validated()


def test_the_launch_parser_keeps_only_id_shaped_network_ids():
    assert IDS_VALIDATED


@settings(HANDLER_SETTINGS, max_examples=12 * SCALE)
@given(
    name=st.sampled_from(NETWORK_EVENTS),
    subnets=NETWORK_IDS,
    groups=NETWORK_IDS,
    public=st.sampled_from(["ENABLED", "DISABLED", "enabled", "", None, ID_CANARY, ["ENABLED"]]),
)
@example(name="create-service", subnets=["subnet-0a1b2c3d4e5f60718"] * 2, groups=[], public="ENABLED")
@example(name="plaintext-secrets", subnets=["x" * 400] * 5, groups=["y" * 400] * 5, public="ENABLED")
@example(name="update-service-network", subnets=[{"id": ID_CANARY}, [CANARY]], groups=[None, 7], public=None)
def test_network_ids_of_any_shape_reach_ec2_and_messages_safely(
    launchable: Account, capture: Any, name: str, subnets: list[Any], groups: list[Any], public: Any
):
    """Subnet and security-group ids of any shape (the network path against EC2, every finding sent: the lowest
    NotifyMinSeverity): never a crash, SNS accepts the message, the canary never leaves; the id canary neither,
    once the parser validates ids (IDS_VALIDATED)."""
    event = _network_event(name, subnets, groups, public)
    needles = (*NEEDLES, ID_CANARY) if IDS_VALIDATED else NEEDLES
    run_hostile(make_launch_handler, event, launchable, capture, needles=needles, notify_min_severity="info")


def test_network_ids_that_are_not_ids_never_reach_a_message(launchable: Account, capture: Any):
    """A subnet or group id that is no id (the canary) is dropped by the parser, so it reaches neither EC2, the
    message nor a log line. plaintext-secrets pages at the default NotifyMinSeverity; create-service's "could not
    verify" is info and is sent at the lowest one."""
    for name in ("plaintext-secrets", "create-service"):
        event = _network_event(name, [ID_CANARY, "subnet-0a1b2c3d4e5f60718"], [f"sg-{ID_CANARY}"], "DISABLED")
        run_hostile(
            make_launch_handler, event, launchable, capture, needles=(*NEEDLES, ID_CANARY), notify_min_severity="info"
        )


def test_a_subnet_id_botocore_cannot_send_or_read_back_is_not_a_crash(launchable: Account, capture: Any):
    for subnet in (
        "subnet-0a1b2c3d\ud800",
        "\x1f",
        "subnet-0a1b2c3d\x00",
    ):  # each of them crashed before ids were validated
        event = _network_event("create-service", [subnet], ["sg-0123456789abcdef0"], "DISABLED")
        assert _crashing_network(event)
        run_hostile(make_launch_handler, event, launchable, capture)


def test_huge_network_ids_do_not_make_a_message_sns_refuses(launchable: Account, capture: Any):
    event = _network_event("plaintext-secrets", ["x" * 5_000] * 5, ["y" * 5_000] * 5, "ENABLED")
    run_hostile(make_launch_handler, event, launchable, capture, notify_min_severity="info")


def _forget_diagnoses(account: Account) -> None:
    """Drop the diagnosis windows of earlier examples, so each example's stop may send its own message."""
    from ecsguard.aws.state import DIAGNOSIS_PREFIX

    dynamodb = account.client("dynamodb")
    for item in dynamodb.scan(TableName=account.table).get("Items", []):
        if item["id"]["S"].startswith(DIAGNOSIS_PREFIX):
            dynamodb.delete_item(TableName=account.table, Key={"id": item["id"]})


def _stopped_event(name: str, **detail: Any) -> dict[str, Any]:
    event = json.loads((EVENTS / STOPPED / f"{name}.json").read_text())
    event["detail"].update(copy.deepcopy(detail))
    return event


def _stopped_container_reason(name: str, reason: str) -> dict[str, Any]:
    event = _stopped_event(name)
    event["detail"]["containers"][0]["reason"] = reason
    return event


@settings(HANDLER_SETTINGS, max_examples=30 * SCALE)
@given(event=hostile_event(STOPPED))
@example(event=_stopped_event("image-pull-timeout", stoppedReason=f"CannotPullContainerError: {CANARY} i/o timeout"))
@example(event=_stopped_container_reason("oom-killed", f"OutOfMemoryError: {CANARY}"))
@example(event=_stopped_event("log-group-missing", group=f"service:{CANARY}"))
@example(event=_stopped_event("secret-access-denied", group={"service": CANARY}, clusterArn=[CANARY]))
@example(event=_stopped_event("essential-exit-1", taskDefinitionArn=CANARY))
def test_stopped_handler_never_raises_or_leaks(stoppable: Account, capture: Any, event: Any):
    _forget_diagnoses(stoppable)
    run_hostile(make_stopped_handler, event, stoppable, capture)


# What each real stopped event sends (the checks of its one message), the canary in its reasons and definition.
PAGING_STOPS = {
    "cannot-start-command-not-found": ["essential-container-exited"],
    "deployment": None,  # routine: skipped before any AWS call
    "elb-health-check": None,  # not diagnosed: the task started; the service events say more
    "essential-exit-1": [],  # info only: checked, rides along, never sends on its own
    "exit-0": None,
    "image-pull-access-denied": ["image-pull-failed"],
    "image-pull-not-found": ["image-pull-failed"],
    "image-pull-timeout": ["image-pull-failed"],
    "log-group-missing": ["task-init-failed"],
    "log-group-or-network": ["task-init-failed"],
    "not-ours-task-running": None,
    "oom-killed": ["oom-killed"],
    "registry-auth-denied": ["task-init-failed"],
    "scale-in": None,
    "secret-access-denied": ["task-init-failed"],
    "secret-not-found": ["task-init-failed"],
    "secret-timeout": ["task-init-failed"],
    "spot-interruption": None,
    "user-stop": None,
}


def test_every_stopped_event_with_the_canary_in_its_reasons_and_definition(stoppable: Account, capture: Any):
    """Each real stopped event, the canary in its reasons and in the definition it ran: the diagnoses that page
    send one message SNS accepts (the path the hostile runs reach), the others none; nothing leaks. One account
    for all (a fixture per event costs a second each)."""
    assert sorted(PAGING_STOPS) == sorted(p.stem for p in (EVENTS / STOPPED).glob("*.json"))
    handler = make_stopped_handler(
        settings=Settings(topic_arn=stoppable.topic_arn, state_table=stoppable.table), clients=Clients()
    )
    for name, checks in PAGING_STOPS.items():
        _forget_diagnoses(stoppable)
        event = _stopped_event(name)
        detail = event["detail"]
        if isinstance(detail.get("stoppedReason"), str):
            detail["stoppedReason"] += f" (password={CANARY})"
        for container in detail["containers"]:
            if container.get("reason"):
                container["reason"] = f"{CANARY}: {container['reason']}"
        capture()
        result = handler(event, lambda_context("TaskStoppedFunction"))
        messages = stoppable.messages()
        assert result["status"] == ("skipped" if checks is None else "checked"), (name, result)
        assert len(messages) == (1 if checks else 0), (name, result)
        for message in messages:
            assert_sns_accepts(message)
            assert message["Subject"].startswith("[ecsguard] HIGH: "), message["Subject"]
            assert json.loads(message["MessageAttributes"]["checks"]["Value"]) == checks, name
        assert_no_leak(json.dumps(result), json.dumps(messages), capture())


def test_a_timed_out_pull_in_a_service_says_could_not_verify_for_subnets_moto_lacks(stoppable: Account, capture):
    """image-pull-timeout: the service's network is read (DescribeServices), registry-unreachable runs on the
    event's subnet, which EC2 does not know: the message says so, never a crash or a verdict."""
    handler = make_stopped_handler(
        settings=Settings(topic_arn=stoppable.topic_arn, state_table=stoppable.table), clients=Clients()
    )
    result = handler(_stopped_event("image-pull-timeout"), lambda_context("TaskStoppedFunction"))
    [message] = stoppable.messages()
    [finding] = json.loads(message["Message"])["findings"]
    assert result["findings"][0]["check"] == "image-pull-failed"
    assert "could not verify the path" in finding["message"], finding["message"]
    assert "InvalidSubnetID.NotFound" in finding["message"]
    assert_no_leak(json.dumps(message), capture())


class _FailingClients(Clients):
    """Clients whose ``service`` client fails ``operation`` with ``code`` (the error message carries the canary,
    as an AWS message may quote a request)."""

    def __init__(self, service: str, operation: str, code: str, status: int = 400) -> None:
        super().__init__()
        self.failing = (service, operation, code, status)

    def __call__(self, service: str, region: str | None = None) -> Any:
        new = (service, region) not in self._clients
        client = super().__call__(service, region)
        failing_service, operation, code, status = self.failing
        if new and service == failing_service:

            def fail(**_: Any) -> None:
                error = {"Error": {"Code": code, "Message": f"simulated: {CANARY}"}}
                raise ClientError({**error, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)

            client.meta.events.register(f"before-call.{client.meta.service_model.service_name}.{operation}", fail)
        return client


RETRYABLE = [
    ("ecs", "DescribeTaskDefinition", "ThrottlingException", 400),
    ("ecs", "DescribeTaskDefinition", "ServerException", 500),
    ("dynamodb", "UpdateItem", "ProvisionedThroughputExceededException", 400),
    ("dynamodb", "UpdateItem", "InternalServerError", 500),
]


def test_stopped_handler_lets_only_retryable_aws_errors_through(stoppable: Account, capture: Any):
    """Throttling and server errors fail the invocation (Lambda retries it, then the dead-letter queue keeps the
    event): a diagnosis that could not read the definition or keep its count must not turn into a silent drop
    or a message per stop. The exception is botocore's ClientError (its text is AWS's message, which ecsguard
    never logs); nothing is sent and no log line carries the canary."""
    for service, operation, code, status in RETRYABLE:
        _forget_diagnoses(stoppable)
        handler = make_stopped_handler(
            settings=Settings(topic_arn=stoppable.topic_arn, state_table=stoppable.table),
            clients=_FailingClients(service, operation, code, status),
        )
        capture()
        with pytest.raises(ClientError) as raised:
            handler(_unique(_stopped_event("oom-killed")), lambda_context("TaskStoppedFunction"))
        assert raised.value.response["Error"]["Code"] == code
        assert stoppable.messages() == [], code
        assert_no_leak(capture())


def test_stopped_handler_diagnoses_from_the_event_when_the_definition_is_not_readable(stoppable: Account, capture: Any):
    """A revision ecsguard may not read (AccessDenied) or that is gone (ClientException) is not retried: the
    diagnosis uses what the event says, and says the definition could not be read."""
    for code in ("AccessDeniedException", "ClientException"):
        _forget_diagnoses(stoppable)
        handler = make_stopped_handler(
            settings=Settings(topic_arn=stoppable.topic_arn, state_table=stoppable.table),
            clients=_FailingClients("ecs", "DescribeTaskDefinition", code),
        )
        capture()
        result = handler(_unique(_stopped_event("oom-killed")), lambda_context("TaskStoppedFunction"))
        assert result["status"] == "checked" and result["definitionUnreadable"], result
        [message] = stoppable.messages()
        assert_sns_accepts(message)
        assert_no_leak(json.dumps(result), json.dumps(message), capture())


# --------------------------------------------------------------------------- (c, d) ecsguard scan


def _scan(path: Path, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["scan", str(path), *options])
    out, err = capsys.readouterr()
    return code, out + err


def _file_bytes(document: Any, form: str, cut: float) -> bytes:
    if form == "yaml":
        return yaml.safe_dump(document, allow_unicode=True).encode("utf-8", "surrogatepass")
    text = json.dumps(document, indent=2 if form == "pretty" else None).encode("utf-8", "surrogatepass")
    return text[: int(len(text) * cut)] if form == "truncated" else text


FILES = st.one_of(
    st.tuples(hostile_document(), st.sampled_from(["json", "pretty", "truncated", "yaml"]), st.floats(0, 1)),
    st.tuples(st.just(None), st.just("binary"), st.binary(max_size=2_000).map(lambda b: b.hex())),
)


def _huge_document() -> dict[str, Any]:
    """10 containers of 1,000 environment variables (benchmarks/huge_definition.py), the canary among them."""
    environment = [{"name": f"SETTING_{n}", "value": f"value-{n}"} for n in range(1_000)]
    environment[500] = {"name": "DB_PASSWORD", "value": CANARY}
    return {
        "family": "huge",
        "containerDefinitions": [
            {"name": f"app-{i}", "image": "nginx:1.27", "environment": environment} for i in range(10)
        ],
    }


@settings(QUICK, max_examples=150 * SCALE)
@given(file=FILES, output=st.sampled_from(["text", "json", "sarif"]))
@example(file=(_huge_document(), "json", 1.0), output="sarif")
def test_scan_exits_0_1_or_2_and_never_leaks(tmp_path: Path, capsys: pytest.CaptureFixture[str], file, output: str):
    document, form, extra = file
    path = tmp_path / f"definition-{next(_counter)}.{'yaml' if form == 'yaml' else 'json'}"
    try:
        path.write_bytes(bytes.fromhex(extra) if form == "binary" else _file_bytes(document, form, extra))
    except yaml.YAMLError:
        return  # PyYAML cannot write this value (a lone surrogate): not a file anyone has
    code, output_text = _scan(path, capsys, "--format", output)
    assert code in (0, 1, 2)
    assert_no_leak(output_text)


@pytest.mark.parametrize(
    "content",
    [
        b'{"containerDefinitions": [{"name": "a", "image": "x", "cpu": "' + b"9" * 400 + b' vcpu"}]}',
        b'{"containerDefinitions": [{"name": "a", "image": "x", "memory": "' + b"9" * 5_000 + b'"}]}',
        b'{"containerDefinitions": [{"name": "a", "image": "x", "memoryReservation": 1e999}]}',
        b'{"cpu": "' + b"9" * 320 + b'", "memory": "1e999", "containerDefinitions": [{"name": "a", "image": "x"}]}',
        b'{"containerDefinitions": [{"name": "a", "image": "x", "dockerLabels": '
        + b"[" * 5_000
        + b"]" * 5_000
        + b"}]}",
        b"\xef\xbb\xbf" + b"[" * 50 + b"]" * 49,
        b"\xff\xfe" + "{}".encode("utf-16-le"),
        b"\x00" * 100,
    ],
    ids=[
        "cpu-overflows-a-float",
        "memory-5000-digits",
        "memory-1e999",
        "task-size-overflows",
        "nested-5000-deep",
        "bom-truncated",
        "utf-16",
        "nul-bytes",
    ],  # fmt: skip
)
def test_scan_regressions(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes):
    path = tmp_path / "definition.json"
    path.write_bytes(content)
    code, _ = _scan(path, capsys)
    assert code in (0, 1, 2)


@pytest.mark.parametrize(
    "name, content",
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000),
        ("huge-int.json", b'{"containerDefinitions": [{"name": "a", "memory": ' + b"9" * 5_000 + b"}]}"),
        ("huge-int.yaml", b"containerDefinitions:\n- name: a\n  memory: " + b"9" * 5_000 + b"\n"),
    ],
)
def test_scan_files_json_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    code, _ = _scan(path, capsys)
    assert code == 2


@pytest.mark.parametrize("field", ["cpu", "memory"])
def test_fargate_size_invalid_does_not_repeat_an_object(tmp_path: Path, capsys: pytest.CaptureFixture[str], field):
    document = {
        "family": "web",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{"name": "web", "image": "nginx:1.27"}],
    }
    document[field] = {"value": CANARY}
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(document))
    code, output = _scan(path, capsys, "--format", "json")
    assert code in (0, 1, 2)
    assert_no_leak(output)


def test_units_that_overflow_are_unknown_not_a_crash():
    assert parse_cpu_units("9" * 400 + " vcpu") is None
    assert parse_memory_mib("9" * 400 + " gb") is None
    assert parse_memory_mib("9" * 300) == int(float("9" * 300))  # huge, but a number: the checks judge it


def test_deeply_nested_response_is_read_not_a_crash():
    registration = parse_registration(_deep_event(5_000))
    assert registration.task_definition is not None
