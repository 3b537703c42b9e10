"""CPU and memory checks (mistake 7) on models."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ecsguard.checks import CheckContext, load_all
from ecsguard.checks.resources import FARGATE_SIZES, fargate_sizes, nearest_fargate_sizes
from ecsguard.model import TaskDefinition, parse_document, task_definitions_in

from conftest import CORPUS

WINDOWS = {"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE", "cpuArchitecture": "X86_64"}}
FARGATE = {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc"}
EC2 = {"requiresCompatibilities": ["EC2"]}


def run(check_id, containers, **td):
    document = containers if isinstance(containers, list) and td.pop("bare", False) else None
    document = document or {"family": "app", "containerDefinitions": containers, **td}
    return load_all()[check_id].run(parse_document(document), CheckContext(target="app:1"))


def fargate(cpu, memory, containers=None, **td):
    size = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return run("fargate-size-invalid", containers or [{"name": "web", "image": "nginx"}], **FARGATE, **size, **td)


# ---------------------------------------------------------------------------------------- memory-limit-missing


def test_ec2_container_without_any_memory_is_high():
    [finding] = run("memory-limit-missing", [{"name": "web"}, {"name": "sidecar", "memoryReservation": 64}], **EC2)
    assert (finding.severity, finding.container, finding.field) == ("high", "web", "memoryReservation")
    assert "ECS rejects the definition for EC2" in finding.message
    assert '"memoryReservation": 512' in finding.remediation


def test_no_compatibilities_means_ec2_and_is_judged_too():
    assert len(run("memory-limit-missing", [{"name": "web"}])) == 1


def test_task_memory_or_container_memory_satisfies_ec2():
    assert run("memory-limit-missing", [{"name": "web"}], memory="512", **EC2) == []
    assert run("memory-limit-missing", [{"name": "web", "memory": 256}], **EC2) == []
    assert run("memory-limit-missing", [{"name": "web", "memoryReservation": "128"}], **EC2) == []


def test_fargate_is_left_to_fargate_size_invalid_and_hard_limits_are_not_demanded():
    """Deliberately unlike Config ecs-task-definition-memory-hard-limit: the task's memory bounds its containers."""
    assert run("memory-limit-missing", [{"name": "web"}], **FARGATE) == []
    assert run("memory-limit-missing", [{"name": "web"}], cpu="256", memory="512", **FARGATE) == []


def test_bare_container_arrays_and_placeholders_are_not_judged():
    """Terraform's container_definitions: the task's memory is set elsewhere."""
    assert run("memory-limit-missing", [{"name": "web", "image": "${image}"}], bare=True) == []
    assert run("memory-limit-missing", [{"name": "web", "memory": "${memory}"}], **EC2) == []
    assert run("memory-limit-missing", [{"name": "web"}], memory="${task_memory}", **EC2) == []


def test_windows_on_ec2_needs_container_memory_because_task_memory_is_ignored():
    [finding] = run("memory-limit-missing", [{"name": "iis"}], memory="2048", **WINDOWS, **EC2)
    assert finding.severity == "medium"
    assert "task-level memory is ignored for Windows containers" in finding.message
    assert "Windows" in finding.remediation
    assert run("memory-limit-missing", [{"name": "iis", "memoryReservation": 1024}], **WINDOWS, **EC2) == []


def test_firelens_sidecar_without_memory_is_reported_by_name():
    containers = [
        {"name": "log_router", "firelensConfiguration": {"type": "fluentbit"}},
        {"name": "app", "memory": 512},
    ]
    assert [f.container for f in run("memory-limit-missing", containers, **EC2)] == ["log_router"]


# ---------------------------------------------------------------------------------------- exceeds task


def test_container_memory_above_the_task_is_high():
    [finding] = run("container-memory-exceeds-task", [{"name": "web", "memory": 2048}], cpu="512", memory="1024")
    assert (finding.severity, finding.container, finding.field) == ("high", "web", "memory")
    assert "2048 MiB, above the task's 1024 MiB" in finding.message
    assert 'raise the task-level "memory" to at least 2048' in finding.remediation


def test_reservation_above_the_task_is_reported_on_its_field():
    [finding] = run("container-memory-exceeds-task", [{"name": "web", "memoryReservation": 1536}], memory="1024")
    assert finding.field == "memoryReservation"


def test_sum_of_reservations_above_the_task_is_one_task_level_finding_sidecars_included():
    containers = [
        {"name": "log_router", "memoryReservation": 50, "firelensConfiguration": {"type": "fluentbit"}},
        {"name": "app", "memoryReservation": 900},
        {"name": "envoy", "memory": 128},  # no reservation: its hard limit is what is reserved
    ]
    [finding] = run("container-memory-exceeds-task", containers, cpu="512", memory="1024", **FARGATE)
    assert (finding.container, finding.field, finding.data["total"]) == (None, "memory", 1078)
    assert "50 ('log_router') + 900 ('app') + 128 ('envoy')" in finding.message


def test_a_container_that_alone_exceeds_is_not_also_reported_as_a_sum():
    containers = [{"name": "a", "memory": 2048}, {"name": "b", "memory": 512}]
    assert [f.container for f in run("container-memory-exceeds-task", containers, memory="1024")] == ["a"]


def test_cpu_above_the_task_alone_or_in_sum():
    [alone] = run("container-memory-exceeds-task", [{"name": "a", "cpu": 1024}], cpu="512")
    assert (alone.field, alone.container) == ("cpu", "a")
    assert "1024 CPU units (1 vCPU), above the task's 512 CPU units (0.5 vCPU)" in alone.message
    [total] = run("container-memory-exceeds-task", [{"name": "a", "cpu": 256}, {"name": "b", "cpu": 512}], cpu="512")
    assert (total.field, total.container, total.data["total"]) == ("cpu", None, 768)


def test_exact_fits_pass():
    """The corpus' 055.json shape: 256+192+64 CPU and 512+384+128 MiB in a 512/1024 task."""
    containers = [
        {"name": "web", "cpu": 256, "memoryReservation": 512},
        {"name": "worker", "cpu": 192, "memoryReservation": 384},
        {"name": "beat", "cpu": 64, "memoryReservation": 128},
    ]
    assert run("container-memory-exceeds-task", containers, cpu="512", memory="1024", **FARGATE) == []
    assert run("container-memory-exceeds-task", [{"name": "a", "memory": 256, "memoryReservation": 256}]) == []


def test_reservation_above_its_own_hard_limit_is_found_even_in_a_bare_array():
    [finding] = run(
        "container-memory-exceeds-task", [{"name": "a", "memory": 256, "memoryReservation": 512}], bare=True
    )
    assert finding.field == "memoryReservation"
    assert "reserves 512 MiB (memoryReservation) but its hard limit is 256 MiB" in finding.message


def test_units_and_placeholders():
    assert run("container-memory-exceeds-task", [{"name": "a", "memory": "${mem}"}], memory="1 GB") == []
    [finding] = run("container-memory-exceeds-task", [{"name": "a", "memory": 1536}], memory="1 GB")
    assert "above the task's 1024 MiB" in finding.message


def test_windows_task_level_sizes_are_compared_only_on_fargate():
    containers = [{"name": "iis", "cpu": 2048, "memory": 4096}]
    assert run("container-memory-exceeds-task", containers, cpu="1024", memory="2048", **WINDOWS, **EC2) == []
    fargate_windows = run("container-memory-exceeds-task", containers, cpu="1024", memory="2048", **WINDOWS, **FARGATE)
    assert {f.field for f in fargate_windows} == {"cpu", "memory"}


# ---------------------------------------------------------------------------------------- Fargate sizes


def test_the_size_table_is_the_documented_one():
    assert FARGATE_SIZES[256] == (512, 1024, 2048)
    assert FARGATE_SIZES[512] == (1024, 2048, 3072, 4096)
    assert FARGATE_SIZES[1024] == tuple(range(2048, 8193, 1024))
    assert (FARGATE_SIZES[2048][0], FARGATE_SIZES[2048][-1], len(FARGATE_SIZES[2048])) == (4096, 16384, 13)
    assert (FARGATE_SIZES[4096][0], FARGATE_SIZES[4096][-1], len(FARGATE_SIZES[4096])) == (8192, 30720, 23)
    assert (FARGATE_SIZES[8192][0], FARGATE_SIZES[8192][-1], len(FARGATE_SIZES[8192])) == (16384, 61440, 12)
    assert (FARGATE_SIZES[16384][0], FARGATE_SIZES[16384][-1], len(FARGATE_SIZES[16384])) == (32768, 122880, 12)
    assert sorted(fargate_sizes(windows=True)) == [1024, 2048, 4096]


@pytest.mark.parametrize(("cpu", "memory"), [(c, m) for c, values in FARGATE_SIZES.items() for m in values])
def test_every_valid_fargate_size_passes(cpu, memory):
    assert fargate(str(cpu), str(memory)) == []


def test_units_in_strings_are_understood():
    assert fargate("1 vcpu", "2 gb") == []
    assert fargate(".25 vCPU", "0.5GB") == []


def test_the_brief_example_names_the_nearest_sizes():
    [finding] = fargate("1024", "1536")
    assert (finding.severity, finding.field) == ("high", "memory")
    assert "cpu 1024 with 1536 MiB is not a Fargate size (1024 CPU takes 2048 to 8192 MiB in 1024 MiB steps)" in (
        finding.message
    )
    assert "Nearest valid: 1024 CPU with 2048 MiB, or 512 CPU with 1024 or 2048 MiB." in finding.message
    assert finding.data["nearest"] == ["1024 CPU with 2048 MiB", "512 CPU with 1024 or 2048 MiB"]


@pytest.mark.parametrize(
    ("cpu", "memory", "nearest"),
    [
        (256, 4096, ["256 CPU with 2048 MiB", "512 CPU with 4096 MiB"]),
        (768, 2048, ["1024 CPU with 2048 MiB", "512 CPU with 2048 MiB"]),
        (8192, 18432, ["8192 CPU with 16384 or 20480 MiB", "4096 CPU with 18432 MiB"]),
        (2048, 5000, ["2048 CPU with 4096 or 5120 MiB", "1024 CPU with 4096 or 5120 MiB"]),
        (32768, 131072, ["16384 CPU with 122880 MiB"]),
        (256, 256, ["256 CPU with 512 MiB"]),
        (None, 2048, ["256, 512 or 1024 CPU with 2048 MiB"]),
        (512, None, ["512 CPU with 1024 to 4096 MiB in 1024 MiB steps"]),
    ],
)
def test_nearest_sizes(cpu, memory, nearest):
    assert nearest_fargate_sizes(cpu, memory) == nearest


def test_missing_cpu_or_memory():
    [no_cpu] = fargate(None, "2048")
    assert no_cpu.field == "cpu"
    assert "sets no task-level cpu (it sets memory 2048 MiB)" in no_cpu.message
    [no_memory] = fargate("512", None)
    assert no_memory.field == "memory" and "512 CPU with 1024 to 4096 MiB in 1024 MiB steps" in no_memory.message


def test_no_size_at_all_suggests_the_smallest_that_holds_the_containers():
    containers = [
        {"name": "app", "cpu": 256, "memory": 1024},
        {"name": "log_router", "cpu": 512, "memoryReservation": 1536, "firelensConfiguration": {"type": "fluentbit"}},
    ]
    [finding] = fargate(None, None, containers)
    assert "sets no task-level cpu and memory" in finding.message
    assert "ask for 768 CPU units and 2560 MiB together: 1024 CPU with 3072 MiB is the smallest" in finding.message
    assert finding.data["nearest"] == ["1024 CPU with 3072 MiB"]
    assert "such as 1024 CPU with 3072 MiB (the smallest that holds the containers)" in finding.remediation


def test_the_fix_names_a_size_that_holds_the_containers_not_just_the_nearest():
    [finding] = fargate("1024", "1536", [{"name": "ml-model", "memory": 4096}, {"name": "proxy", "memory": 128}])
    assert finding.data["nearest"][0] == "1024 CPU with 2048 MiB"
    assert "Its containers ask for 4224 MiB together: 1024 CPU with 5120 MiB is the smallest" in finding.message
    assert "such as 1024 CPU with 5120 MiB" in finding.remediation


def test_windows_on_fargate_needs_at_least_one_vcpu():
    [finding] = fargate("512", "1024", **WINDOWS)
    assert "not a Windows on Fargate size (CPU units offered: 1024, 2048, 4096)" in finding.message
    assert finding.data["nearest"] == ["1024 CPU with 2048 MiB"]
    assert fargate("1024", "2048", **WINDOWS) == []
    assert len(fargate("8192", "16384", **WINDOWS)) == 1


def test_placeholders_and_non_fargate_definitions_are_not_judged():
    assert fargate("${cpu}", "1024") == []
    assert fargate("256", "{{ memory }}") == []
    assert run("fargate-size-invalid", [{"name": "a"}], cpu="1000", memory="1500", **EC2) == []
    assert run("fargate-size-invalid", [{"name": "a"}], bare=True) == []


def test_fargate_with_ec2_too_is_judged_and_garbage_is_named():
    assert len(run("fargate-size-invalid", [{"name": "a"}], requiresCompatibilities=["EC2", "FARGATE"])) == 1
    [finding] = fargate("abc", "1024")
    assert "cpu 'abc' is not a number of CPU units or vCPUs" in finding.message


# ---------------------------------------------------------------------------------------- real corpus

RESOURCE_CHECKS = ("memory-limit-missing", "container-memory-exceeds-task", "fargate-size-invalid")


def corpus() -> list[tuple[str, TaskDefinition]]:
    found = []
    for path in sorted((CORPUS / "taskdefs").glob("*.json")):
        for _label, td in task_definitions_in(json.loads(path.read_bytes().decode("utf-8-sig"))):
            found.append((path.name, td))
    return found


def test_resource_checks_over_the_real_corpus():
    """71 real definitions: their sizes fit (no Fargate size is invalid); one EC2 template has no memory anywhere."""
    registry = load_all()
    fired: Counter[str] = Counter()
    where: dict[str, list[tuple[str, str | None, str]]] = {}
    for name, td in corpus():
        for check_id in RESOURCE_CHECKS:
            findings = registry[check_id].run(td, CheckContext(target=name))
            fired[check_id] += bool(findings)
            where.setdefault(check_id, []).extend((name, f.container, f.severity) for f in findings)
    assert len(corpus()) == 71
    assert sum(td.is_fargate for _, td in corpus()) == 33
    assert dict(+fired) == {"memory-limit-missing": 1}
    assert where["memory-limit-missing"] == [("071.json", "%CONTAINER_NAME%", "high")]


def test_the_config_hard_limit_rule_would_fail_most_of_the_corpus():
    """Why memory-limit-missing does not copy ecs-task-definition-memory-hard-limit: it would be noise."""
    failing = [name for name, td in corpus() if any(c.memory is None for c in td.containers)]
    assert len(failing) == 50
