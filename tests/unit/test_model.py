"""Reading task definitions in every shape people and AWS produce."""

from __future__ import annotations

import json

import pytest

from ecsguard.model import DocumentError, TaskDefinition, parse_cpu_units, parse_document, parse_memory_mib

from conftest import CORPUS, load_event


def test_register_input_shape():
    request = load_event("plaintext-secrets")["detail"]["requestParameters"]
    td = parse_document(request)
    assert td.family == "inventory-worker" and td.revision is None
    assert [c.name for c in td.containers] == ["worker"]
    assert td.containers[0].environment[0].name == "DB_PASSWORD"
    assert td.is_fargate and td.cpu == 512 and td.memory == 1024


def test_describe_output_shape_with_tags():
    response = load_event("exempt")["detail"]["responseElements"]
    td = parse_document(response)
    assert td.name == "legacy-reporting:1"
    assert td.region == "us-east-1"
    assert td.tags["ecsguard:ignore"] == "plaintext-secret,logging-disabled"


def test_bare_container_array_and_single_container():
    containers = [{"name": "web", "image": "nginx", "environment": [{"name": "A", "value": 1}]}]
    td = parse_document(containers)
    assert td.family is None and td.containers[0].environment[0].value == "1"
    assert parse_document(containers[0]).containers[0].name == "web"


@pytest.mark.parametrize(
    "document, problem",
    [({}, "not a task definition"), ([], "empty"), ([1, 2], "container definition objects"), ("x", "JSON object")],
)
def test_documents_that_are_not_task_definitions(document, problem):
    with pytest.raises(DocumentError, match=problem):
        parse_document(document)


@pytest.mark.parametrize(
    "value, units", [(256, 256), ("256", 256), ("1 vcpu", 1024), (".25 vCPU", 256), ("${cpu}", None), (None, None)]
)
def test_cpu_units(value, units):
    assert parse_cpu_units(value) == units


@pytest.mark.parametrize("value, mib", [(512, 512), ("1 GB", 1024), (".5 gb", 512), ("2048", 2048), ("lots", None)])
def test_memory(value, mib):
    assert parse_memory_mib(value) == mib


def test_nulls_and_wrong_types_are_read_as_absent():
    td = TaskDefinition.from_api(
        {
            "family": "f",
            "containerDefinitions": [
                {"name": None, "environment": None, "logConfiguration": {"logDriver": "awslogs", "options": None}},
                "not-a-container",
            ],
            "tags": None,
        }
    )
    [container] = td.containers
    assert container.name == "container-0" and container.environment == ()
    assert container.log_configuration and container.log_configuration.options == {}


def test_register_input_drops_read_only_fields_and_keeps_tags():
    td = parse_document(load_event("exempt")["detail"]["responseElements"])
    request = td.register_input()
    assert not {"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities"} & set(request)
    assert {"key": "owner", "value": "reporting-team"} in request["tags"]


def test_every_corpus_task_definition_parses():
    files = sorted((CORPUS / "taskdefs").glob("*.json"))
    assert len(files) >= 70
    for path in files:
        td = parse_document(json.loads(path.read_text(encoding="utf-8-sig")))
        assert td.containers, path.name
