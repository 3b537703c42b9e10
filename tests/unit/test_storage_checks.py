"""efs-transit-encryption-disabled and network-mode-not-awsvpc: pure checks on the definition."""

from __future__ import annotations

import json

import pytest

from ecsguard.checks import CheckContext
from ecsguard.checks.storage import efs_transit_encryption_disabled, network_mode_not_awsvpc
from ecsguard.model import DocumentError, TaskDefinition, task_definitions_in

from conftest import CORPUS

CONTEXT = CheckContext(target="t")


def definition(**fields) -> TaskDefinition:
    return TaskDefinition.from_api({"family": "t", "containerDefinitions": [{"name": "app", "image": "x:1"}], **fields})


def efs(transit=None, name="data") -> dict:
    config = {"fileSystemId": "fs-0123456789abcdef0"}
    if transit is not None:
        config["transitEncryption"] = transit
    return {"volumes": [{"name": name, "efsVolumeConfiguration": config}]}


@pytest.mark.parametrize("transit", [None, "DISABLED", "disabled"])
def test_efs_without_transit_encryption(transit):
    [finding] = efs_transit_encryption_disabled.run(definition(**efs(transit)), CONTEXT)
    assert finding.field == "volumes.data.efsVolumeConfiguration.transitEncryption"
    assert "fs-0123456789abcdef0" in finding.message and "not encrypted" in finding.message
    assert finding.severity == "medium"


@pytest.mark.parametrize("transit", ["ENABLED", "enabled", "${TRANSIT}"])
def test_efs_with_transit_encryption_or_a_placeholder_passes(transit):
    assert efs_transit_encryption_disabled.run(definition(**efs(transit)), CONTEXT) == []


def test_other_volumes_and_junk_are_not_judged():
    td = definition(volumes=[{"name": "scratch", "host": {}}, "junk", {"name": "x", "efsVolumeConfiguration": "bad"}])
    assert efs_transit_encryption_disabled.run(td, CONTEXT) == []


@pytest.mark.parametrize("mode", ["bridge", None, "none"])
def test_ec2_tasks_outside_awsvpc_get_an_informational_note(mode):
    fields = {"networkMode": mode} if mode else {}
    [finding] = network_mode_not_awsvpc.run(definition(**fields), CONTEXT)
    assert finding.severity == "info" and finding.field == "networkMode"


@pytest.mark.parametrize(
    "fields",
    [
        {"networkMode": "awsvpc"},
        {"networkMode": "host"},  # host-namespace reports it
        {"requiresCompatibilities": ["FARGATE"]},
        {"networkMode": "${MODE}"},
    ],
)
def test_awsvpc_fargate_host_and_placeholders_are_not_noted(fields):
    assert network_mode_not_awsvpc.run(definition(**fields), CONTEXT) == []


def _corpus() -> list[TaskDefinition]:
    found = []
    for path in sorted((CORPUS / "taskdefs").glob("*.json")):
        try:
            found += [td for _, td in task_definitions_in(json.loads(path.read_text()))]
        except (ValueError, DocumentError, UnicodeDecodeError):
            continue
    return found


def test_corpus_counts():
    """Over the real definitions: one EFS volume without transit encryption; non-awsvpc EC2 tasks are common (info)."""
    corpus = _corpus()
    efs_hits = sum(bool(efs_transit_encryption_disabled.run(td, CONTEXT)) for td in corpus)
    mode_hits = sum(bool(network_mode_not_awsvpc.run(td, CONTEXT)) for td in corpus)
    assert (len(corpus), efs_hits, mode_hits) == (71, 1, 35)  # 005.json: transitEncryption DISABLED
