"""``ecsguard sweep`` as a user runs it, against a moto server with a few families registered.

The command's plumbing over the real flow: every format, the exit codes, the state table (second sweep from
the cache, new findings counted), no progress bar when piped, and a canary secret never printed. Only the
checks of the first release run (as in tests/integration/test_cli.py); test_catalogue.py covers the rest.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import jsonschema
import pytest

from ecsguard.cli import main

from conftest import REGION, ROOT, only_modes_text

CANARY = "CanaryPw-5d4c3b2a1f0e-DoNotLeak"
STATE_TABLE = "ecsguard-state"
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
PREFIX = f"arn:aws:ecs:{REGION}:123456789012:task-definition"


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("ECSGUARD_MODES", only_modes_text())
    try:
        yield url
    finally:
        import urllib.request

        # The threaded server shares moto's in-process state: leave nothing behind for the next test.
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=5).close()
        server.stop()


def ecs() -> Any:
    return boto3.client("ecs", region_name=REGION)


def awslogs(group: str) -> dict[str, Any]:
    return {
        "logDriver": "awslogs",
        "options": {"awslogs-group": group, "awslogs-region": REGION, "awslogs-stream-prefix": "app"},
    }


def register(family: str, containers: list[dict[str, Any]], **extra: Any) -> str:
    return ecs().register_task_definition(family=family, containerDefinitions=containers, **extra)["taskDefinition"][
        "taskDefinitionArn"
    ]


def seed() -> None:
    """web (2 revisions; the latest leaks a password and logs to a missing group), clean, worker, quiet."""
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="/ecs/clean")
    register("web", [{"name": "app", "image": "nginx:1.27", "memory": 256, "logConfiguration": awslogs("/ecs/clean")}])
    register(
        "web",
        [
            {
                "name": "app",
                "image": "nginx:1.27",
                "memory": 256,
                "environment": [{"name": "DB_PASSWORD", "value": CANARY}],
                "logConfiguration": awslogs("/ecs/web-missing"),
            }
        ],
    )
    register(
        "clean", [{"name": "app", "image": "nginx:1.27", "memory": 256, "logConfiguration": awslogs("/ecs/clean")}]
    )
    register("worker", [{"name": "worker", "image": "busybox:1.36", "memory": 128}])
    register(
        "quiet",
        [{"name": "job", "image": "busybox:1.36", "memory": 128}],
        tags=[{"key": "ecsguard:ignore", "value": "logging-disabled"}],
    )


def sweep(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sweep", *args])
    captured = capsys.readouterr()
    assert CANARY not in captured.out + captured.err
    assert CANARY[:10] not in captured.out + captured.err
    return code, captured.out, captured.err


EXPECTED = [
    (f"{PREFIX}/web:2", "log-group-missing"),
    (f"{PREFIX}/web:2", "plaintext-secret"),
    (f"{PREFIX}/worker:1", "logging-disabled"),
]


def test_json_is_the_scan_document_over_the_latest_revisions(moto_server, capsys):
    seed()
    code, out, err = sweep(capsys, "--format", "json")

    document = json.loads(out)
    assert set(document) == {"findings"}
    assert sorted((f["target"], f["check"]) for f in document["findings"]) == EXPECTED
    secret = next(f for f in document["findings"] if f["check"] == "plaintext-secret")
    assert (secret["container"], secret["field"]) == ("app", "environment.DB_PASSWORD")
    assert code == 1  # log-group-missing and plaintext-secret are high
    assert err == ""


def test_all_revisions_sweeps_the_older_ones_too(moto_server, capsys):
    seed()
    _, out, _ = sweep(capsys, "--format", "json", "--all-revisions")
    targets = {f["target"] for f in json.loads(out)["findings"]}
    assert targets == {f"{PREFIX}/web:2", f"{PREFIX}/worker:1"}  # web:1 is clean, swept all the same
    code, out, _ = sweep(capsys, "--all-revisions", "--concurrency", "1")
    assert out.startswith(f"Swept 5 task definitions in {REGION}")


def test_sarif_is_valid_sarif_2_1_0_with_the_arns(moto_server, capsys):
    seed()
    code, out, _ = sweep(capsys, "--format", "sarif")

    log = json.loads(out)
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(log))
    assert not errors, [e.message for e in errors]
    results = log["runs"][0]["results"]
    pairs = sorted((r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]) for r in results)
    assert pairs == EXPECTED
    assert all(urlsplit(uri).scheme == "arn" for uri, _ in pairs)
    assert code == 1


def test_csv_rows(moto_server, capsys):
    seed()
    code, out, _ = sweep(capsys, "--format", "csv")

    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted((r["arn"], r["check"]) for r in rows) == EXPECTED
    worker = next(r for r in rows if r["family"] == "worker")
    assert (worker["revision"], worker["severity"], worker["container"]) == ("1", "low", "worker")
    assert code == 1


def test_text_table_and_the_gate(moto_server, capsys):
    seed()
    code, out, _ = sweep(capsys)

    lines = out.splitlines()
    assert lines[0] == f"Swept 4 task definitions in {REGION} (4 described, 0 from the cache)"
    assert any(line.split()[:3] == ["web:2", "HIGH", "2"] for line in lines)
    assert any(line.split() == ["worker:1", "LOW", "1", "logging-disabled"] for line in lines)
    assert "2 definitions without findings." in lines
    assert "1 finding exempted by the ecsguard:ignore tag." in lines
    assert any(line.startswith("AWS calls: ") and "DescribeTaskDefinition 4" in line for line in lines)
    assert code == 1
    assert sweep(capsys, "--fail-on", "critical")[0] == 0


def test_a_clean_region_exits_0(moto_server, capsys):
    register(
        "clean", [{"name": "app", "image": "nginx:1.27", "memory": 256, "logConfiguration": {"logDriver": "none"}}]
    )
    code, out, _ = sweep(capsys, "--format", "json", "--modes", only_modes_text(logging_disabled="off"))
    assert (code, json.loads(out)) == (0, {"findings": []})


def test_the_state_table_caches_and_counts_what_is_new(moto_server, capsys):
    seed()
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=STATE_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    code, first, _ = sweep(capsys, "--state-table", STATE_TABLE)
    assert first.splitlines()[0] == f"Swept 4 task definitions in {REGION} (4 described, 0 from the cache)"
    assert f"Since the last sweep (state table {STATE_TABLE}): 0 new, 0 resolved." in first  # the baseline

    register("clean", [{"name": "app", "image": "nginx:1.27", "memory": 256}])  # clean:2 logs nowhere
    code, second, _ = sweep(capsys, "--state-table", STATE_TABLE)
    assert second.splitlines()[0] == f"Swept 4 task definitions in {REGION} (1 described, 3 from the cache)"
    assert f"  new: logging-disabled on {PREFIX}/clean:2" in second
    assert "DescribeTaskDefinition 1" in second
    assert code == 1


def test_the_state_table_from_the_environment(moto_server, capsys, monkeypatch):
    seed()
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=STATE_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("ECSGUARD_STATE_TABLE", STATE_TABLE)
    sweep(capsys)
    _, out, _ = sweep(capsys)
    assert out.splitlines()[0] == f"Swept 4 task definitions in {REGION} (0 described, 4 from the cache)"


def test_a_state_table_that_does_not_exist_is_exit_3_naming_the_call(moto_server, capsys):
    seed()
    code, out, err = sweep(capsys, "--state-table", "no-such-table")
    assert code == 3
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("ecsguard: error: ") and "ResourceNotFoundException" in line
    assert "Traceback" not in err


def test_an_unreachable_endpoint_is_exit_3(capsys, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    code, out, err = sweep(capsys, "--endpoint-url", f"http://127.0.0.1:{port}")
    assert (code, out) == (3, "")
    [line] = err.splitlines()
    assert line.startswith("ecsguard: error: AWS could not be reached: EndpointConnectionError")


def test_no_progress_bar_when_piped(moto_server):
    seed()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "ecsguard")}
    done = subprocess.run(
        [sys.executable, "-m", "ecsguard.cli", "sweep", "--format", "json", "--endpoint-url", moto_server],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""  # no bar, no carriage returns, nothing
    assert "task definitions" not in done.stdout
    json.loads(done.stdout)
    assert CANARY not in done.stdout
