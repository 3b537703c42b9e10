"""CPU and memory (mistake 7): sizes that stop a definition from registering, a task from being placed, or Fargate.

``memory-limit-missing`` (a container with no memory at all on EC2), ``container-memory-exceeds-task``
(containers asking for more than their task, or a reservation above its own hard limit) and
``fargate-size-invalid`` (task cpu/memory that is not a Fargate size, with the nearest valid ones).

Units are the model's: CPU units (1024 = 1 vCPU) and MiB. Values the model could not read (unset,
templated, a CloudFormation intrinsic) are None and are never judged as values; a definition that is
only a list of container definitions (the Terraform ``container_definitions`` shape) has its task-level
size elsewhere, so nothing task-level is judged for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..model import Container, Finding, TaskDefinition
from .logging import templated
from .registry import CheckContext, check

DOCS_MEMORY = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html"
    "#container_definition_memory"
)
DOCS_FARGATE_SIZES = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html"

GIB = 1024

# Fargate task sizes: CPU units -> valid memory values in MiB (the ECS developer guide's table, "Task size").
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1 * GIB, 4 * GIB + 1, GIB)),
    1024: tuple(range(2 * GIB, 8 * GIB + 1, GIB)),
    2048: tuple(range(4 * GIB, 16 * GIB + 1, GIB)),
    4096: tuple(range(8 * GIB, 30 * GIB + 1, GIB)),
    8192: tuple(range(16 * GIB, 60 * GIB + 1, 4 * GIB)),  # Linux platform 1.4.0 or later
    16384: tuple(range(32 * GIB, 120 * GIB + 1, 8 * GIB)),  # Linux platform 1.4.0 or later
}
# Windows containers on Fargate: at least 1 vCPU, and only up to 4 vCPU.
FARGATE_WINDOWS_CPUS = (1024, 2048, 4096)


def fargate_sizes(windows: bool = False) -> dict[int, tuple[int, ...]]:
    if windows:
        return {cpu: FARGATE_SIZES[cpu] for cpu in FARGATE_WINDOWS_CPUS}
    return dict(FARGATE_SIZES)


def task_level_known(task_definition: TaskDefinition) -> bool:
    """False for a bare list of container definitions: its task-level cpu/memory/launch type live elsewhere."""
    return any(key != "containerDefinitions" for key in task_definition.raw)


def _cpu(units: int) -> str:
    return f"{units} CPU units ({units / 1024:g} vCPU)"


def _reserved(container: Container) -> int | None:
    """What the scheduler reserves for a container: memoryReservation when set, else memory."""
    return container.memory_reservation if container.memory_reservation is not None else container.memory


# ----------------------------------------------------------------------------------------- missing


@check(
    id="memory-limit-missing",
    title="Container has no memory at all",
    severity="high",
    mistake=7,
    rationale=(
        "On EC2 (and external or managed instances) a container needs a memory hard limit or a memoryReservation "
        "unless the task sets a task-level memory: without any, RegisterTaskDefinition rejects the definition. For "
        "Windows containers the task-level memory is ignored, so a container without its own memory reserves "
        "nothing on the instance and can starve its neighbours. On Fargate task-level memory is mandatory (see "
        "fargate-size-invalid) and is the limit. Deliberately different from AWS Config "
        "ecs-task-definition-memory-hard-limit and Control Tower CT.ECS.PR.7, which fail every container without a "
        "'memory' hard limit even when the task's memory bounds it (AWS Config retired that rule in April 2026): "
        "that fails 50 of the 71 real definitions ecsguard is tested on, Fargate ones included, while nothing is "
        "wrong with them; ecsguard reports only a container that has no memory from any level."
    ),
    remediation=(
        'Give the container a soft reservation, for example "memoryReservation": 512 (MiB; the scheduler reserves '
        'it and the container may use more when the instance has it), or a hard limit such as "memory": 1024, or '
        'set the task-level "memory".'
    ),
    docs=DOCS_MEMORY,
    config_rules=("ecs-task-definition-memory-hard-limit",),
    control_tower=("CT.ECS.PR.7",),
)
def memory_limit_missing(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    if task_definition.is_fargate or not task_level_known(task_definition):
        return
    windows = task_definition.is_windows
    if task_definition.memory is not None and not windows:
        return  # the task-level memory bounds every container
    if task_definition.memory is None and _unreadable(task_definition.raw, "memory"):
        return  # a task-level memory we cannot read (a placeholder) is not a missing one
    for container in task_definition.containers:
        if container.memory is not None or container.memory_reservation is not None:
            continue
        if _unreadable(container.raw, "memory") or _unreadable(container.raw, "memoryReservation"):
            continue
        if windows and task_definition.memory is not None:
            yield memory_limit_missing.finding(
                context,
                f"Windows container '{container.name}' sets neither memory nor memoryReservation: task-level memory "
                "is ignored for Windows containers, so it reserves no memory on the instance and has no limit.",
                container=container.name,
                field="memoryReservation",
                severity="medium",
                remediation=(
                    'Give the Windows container its own memory: "memoryReservation": 1024 (MiB, what the scheduler '
                    'reserves on the instance) and, to cap it, "memory" above that; task-level memory does not '
                    "apply to Windows containers on EC2."
                ),
            )
            continue
        yield memory_limit_missing.finding(
            context,
            f"Container '{container.name}' sets neither memory nor memoryReservation and the task sets no memory: "
            "ECS rejects the definition for EC2 (at least one of them is required).",
            container=container.name,
            field="memoryReservation",
        )


def _unreadable(raw: Mapping[str, Any], key: str) -> bool:
    """The key is present but the model could not read it: a placeholder, an intrinsic, a typo'd unit."""
    value = raw.get(key)
    return value is not None and value != ""


# ------------------------------------------------------------------------------------------ exceeds


@check(
    id="container-memory-exceeds-task",
    title="Containers ask for more CPU or memory than their task has",
    severity="high",
    mistake=7,
    rationale=(
        "A container's memory hard limit or reservation above the task's memory, reservations that add up to more "
        "than the task's memory, container CPU (or its sum) above the task's CPU, or a memoryReservation above the "
        "container's own hard limit: ECS rejects the definition at registration, or the task can never be placed. "
        "Task-level sizes are ignored for Windows containers on EC2, so they are compared only on Fargate there."
    ),
    remediation=(
        "Make the containers fit the task: raise the task-level cpu/memory, or lower the containers' cpu, memory and "
        "memoryReservation so that each fits and their sum does not exceed the task."
    ),
    docs=DOCS_MEMORY,
)
def container_memory_exceeds_task(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    for container in task_definition.containers:
        hard, soft = container.memory, container.memory_reservation
        if hard is not None and soft is not None and soft > hard:
            yield container_memory_exceeds_task.finding(
                context,
                f"Container '{container.name}' reserves {soft} MiB (memoryReservation) but its hard limit is {hard} "
                "MiB (memory): the reservation must not exceed the limit, and ECS rejects the definition.",
                container=container.name,
                field="memoryReservation",
                remediation=f'Set "memoryReservation" to at most {hard}, or raise "memory" to at least {soft}.',
            )
    if not task_level_known(task_definition):
        return
    if task_definition.is_windows and not task_definition.is_fargate:
        return  # task-level cpu/memory are ignored for Windows containers on EC2
    yield from _memory_against_task(task_definition, context)
    yield from _cpu_against_task(task_definition, context)


def _memory_against_task(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    task_memory = task_definition.memory
    if task_memory is None:
        return
    alone = False
    for container in task_definition.containers:
        for field, value, what in (
            ("memory", container.memory, "hard limit (memory)"),
            ("memoryReservation", container.memory_reservation, "reservation (memoryReservation)"),
        ):
            if value is not None and value > task_memory:
                alone = True
                yield container_memory_exceeds_task.finding(
                    context,
                    f"Container '{container.name}' has a memory {what} of {value} MiB, above the task's {task_memory} "
                    "MiB: ECS rejects the definition.",
                    container=container.name,
                    field=field,
                    remediation=(
                        f"Lower \"{field}\" of '{container.name}' to at most {task_memory}, or raise the task-level "
                        f'"memory" to at least {value}'
                        + (" (a valid Fargate size: see fargate-size-invalid)." if task_definition.is_fargate else ".")
                    ),
                )
                break  # one finding per container: its hard limit if that is already too big
    reserved = [(c.name, _reserved(c)) for c in task_definition.containers]
    total = sum(value for _, value in reserved if value is not None)
    if not alone and total > task_memory:
        parts = " + ".join(f"{value} ('{name}')" for name, value in reserved if value is not None)
        yield container_memory_exceeds_task.finding(
            context,
            f"The containers reserve {total} MiB together ({parts}), more than the task's {task_memory} MiB: ECS "
            "rejects the definition, or could never give the task the memory its containers reserve.",
            field="memory",
            remediation=(
                f'Raise the task-level "memory" to at least {total}, or lower the containers\' memoryReservation '
                f"(or memory) so that they add up to at most {task_memory}."
            ),
            total=total,
        )


def _cpu_against_task(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    task_cpu = task_definition.cpu
    if task_cpu is None:
        return
    alone = False
    for container in task_definition.containers:
        if container.cpu is not None and container.cpu > task_cpu:
            alone = True
            yield container_memory_exceeds_task.finding(
                context,
                f"Container '{container.name}' asks for {_cpu(container.cpu)}, above the task's {_cpu(task_cpu)}: "
                "ECS rejects the definition.",
                container=container.name,
                field="cpu",
                remediation=(
                    f'Lower "cpu" of \'{container.name}\' to at most {task_cpu}, or raise the task-level "cpu" to '
                    f"at least {container.cpu}."
                ),
            )
    total = sum(c.cpu for c in task_definition.containers if c.cpu is not None)
    if not alone and total > task_cpu:
        parts = " + ".join(f"{c.cpu} ('{c.name}')" for c in task_definition.containers if c.cpu)
        yield container_memory_exceeds_task.finding(
            context,
            f"The containers ask for {total} CPU units together ({parts}), more than the task's {_cpu(task_cpu)}: "
            "ECS rejects the definition.",
            field="cpu",
            remediation=(
                f'Raise the task-level "cpu" to at least {total}, or lower the containers\' "cpu" so that they add up '
                f"to at most {task_cpu}."
            ),
            total=total,
        )


# ------------------------------------------------------------------------------------------ Fargate


def _memory_choices(values: tuple[int, ...]) -> str:
    """``512, 1024 or 2048 MiB`` or ``4096 to 16384 MiB in 1024 MiB steps``."""
    if len(values) <= 3:
        head = ", ".join(str(v) for v in values[:-1])
        return f"{head} or {values[-1]} MiB" if head else f"{values[-1]} MiB"
    return f"{values[0]} to {values[-1]} MiB in {values[1] - values[0]} MiB steps"


def _neighbours(values: tuple[int, ...], memory: int) -> list[int]:
    """The valid values nearest to ``memory``: itself, or the one just below and the one just above it."""
    if memory in values:
        return [memory]
    below = [v for v in values if v < memory][-1:]
    above = [v for v in values if v > memory][:1]
    return below + above


def _or(values: list[int]) -> str:
    """``1024``, ``1024 or 2048``, ``256, 512 or 1024``."""
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def nearest_fargate_sizes(cpu: int | None, memory: int | None, *, windows: bool = False) -> list[str]:
    """Valid Fargate sizes near (cpu, memory), best first, as ``"1024 CPU with 2048 MiB"`` phrases."""
    sizes = fargate_sizes(windows)
    cpus = sorted(sizes)
    suggestions: list[str] = []
    if cpu is None and memory is None:
        smallest = cpus[0]
        return [f"{smallest} CPU with {sizes[smallest][0]} MiB"]
    if cpu is None:
        assert memory is not None
        fitting = [c for c in cpus if memory in sizes[c]]
        if fitting:
            return [f"{_or(fitting)} CPU with {memory} MiB"]
        return [f"{c} CPU with {_or(_neighbours(sizes[c], memory))} MiB" for c in _cpus_near_memory(sizes, memory)]
    if memory is None:
        if cpu in sizes:
            return [f"{cpu} CPU with {_memory_choices(sizes[cpu])}"]
        return [f"{c} CPU with {_memory_choices(sizes[c])}" for c in _adjacent(cpus, cpu)]
    if cpu in sizes:
        suggestions.append(f"{cpu} CPU with {_or(_neighbours(sizes[cpu], memory))} MiB")
        index = cpus.index(cpu)
        for other in (cpus[index - 1] if index > 0 else None, cpus[index + 1] if index + 1 < len(cpus) else None):
            if other is not None and sizes[other][0] <= memory <= sizes[other][-1]:
                suggestions.append(f"{other} CPU with {_or(_neighbours(sizes[other], memory))} MiB")
        return suggestions
    for other in _adjacent(cpus, cpu):
        suggestions.append(f"{other} CPU with {_or(_neighbours(sizes[other], memory))} MiB")
    return suggestions


def _adjacent(cpus: list[int], cpu: int) -> list[int]:
    """The valid CPU values just above and just below an invalid one (above first: more is safer)."""
    above = [c for c in cpus if c > cpu][:1]
    below = [c for c in cpus if c < cpu][-1:]
    return above + below


def _cpus_near_memory(sizes: dict[int, tuple[int, ...]], memory: int) -> list[int]:
    bracketing = [c for c in sorted(sizes) if sizes[c][0] <= memory <= sizes[c][-1]]
    if bracketing:
        return bracketing[:2]
    if memory < min(values[0] for values in sizes.values()):
        return [min(sizes)]
    return [max(sizes)]


def _smallest_fitting(cpu_needed: int, memory_needed: int, *, windows: bool) -> str | None:
    for cpu, values in sorted(fargate_sizes(windows).items()):
        if cpu >= cpu_needed:
            memory = next((v for v in values if v >= memory_needed), None)
            if memory is not None:
                return f"{cpu} CPU with {memory} MiB"
    return None


def _as_given(value: object) -> str:
    """A task-level cpu/memory as the message may repeat it: a short number or word, never an object."""
    text = value if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    if text is None or len(str(text)) > 24 or not str(text).isprintable():
        return f"(a {type(value).__name__} value)"
    return f"'{text}'"


@check(
    id="fargate-size-invalid",
    title="Task size is not a valid Fargate size",
    severity="high",
    mistake=7,
    rationale=(
        "A definition that requires Fargate (even alongside EC2) must set task-level cpu and memory to one of the "
        "sizes Fargate offers (256 CPU units with 512, 1024 or 2048 MiB; 512 with 1-4 GiB; 1024 with 2-8 GiB; 2048 "
        "with 4-16 GiB and 4096 with 8-30 GiB in 1 GiB steps; 8192 with 16-60 GiB in 4 GiB steps; 16384 with 32-120 "
        "GiB in 8 GiB steps; Windows: 1024, 2048 or 4096 only). Anything else fails: RegisterTaskDefinition answers "
        '"Invalid \'cpu\' setting for task" (Terraform: "No Fargate configuration exists for given values").'
    ),
    remediation="Set the task-level cpu and memory to a valid Fargate size; the message names the nearest ones.",
    docs=DOCS_FARGATE_SIZES,
)
def fargate_size_invalid(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    if not task_definition.is_fargate:
        return
    raw = task_definition.raw
    raw_cpu, raw_memory = raw.get("cpu"), raw.get("memory")
    if _placeholder(raw_cpu) or _placeholder(raw_memory):
        return  # filled in later (or a CloudFormation intrinsic): never judged
    cpu, memory = task_definition.cpu, task_definition.memory
    windows = task_definition.is_windows
    sizes = fargate_sizes(windows)
    platform = "Windows on Fargate" if windows else "Fargate"
    problems = []
    if raw_cpu not in (None, "") and cpu is None:
        problems.append(f"cpu {_as_given(raw_cpu)} is not a number of CPU units or vCPUs")
    if raw_memory not in (None, "") and memory is None:
        problems.append(f"memory {_as_given(raw_memory)} is not a size in MiB or GB")
    if problems:
        yield fargate_size_invalid.finding(
            context,
            f"The task's {' and '.join(problems)}: {platform} needs a valid task size, so ECS rejects the definition.",
            field="cpu" if cpu is None else "memory",
        )
        return
    if cpu is not None and memory is not None and memory in sizes.get(cpu, ()):
        return
    fits, hint = _fitting_hint(task_definition, windows)
    nearest = [fits] if cpu is None and memory is None and fits else nearest_fargate_sizes(cpu, memory, windows=windows)
    if cpu is None or memory is None:
        missing = " and ".join(name for name, value in (("cpu", cpu), ("memory", memory)) if value is None)
        have = f" (it sets {_describe(cpu, memory)})" if cpu is not None or memory is not None else ""
        message = (
            f"The task requires Fargate but sets no task-level {missing}{have}: {platform} needs both, so ECS "
            f"rejects the definition. Valid: {', or '.join(nearest)}.{hint}"
        )
        field = "cpu" if cpu is None else "memory"
    elif cpu not in sizes:
        offered = ", ".join(str(c) for c in sorted(sizes))
        message = (
            f"The task's cpu {cpu} is not a {platform} size (CPU units offered: {offered}), so ECS rejects the "
            f"definition. Nearest valid: {', or '.join(nearest)}.{hint}"
        )
        field = "cpu"
    else:
        message = (
            f"The task's cpu {cpu} with {memory} MiB is not a {platform} size ({cpu} CPU takes "
            f"{_memory_choices(sizes[cpu])}), so ECS rejects the definition. Nearest valid: "
            f"{', or '.join(nearest)}.{hint}"
        )
        field = "memory"
    yield fargate_size_invalid.finding(
        context,
        message,
        field=field,
        remediation=(
            f'Set the task-level "cpu" and "memory" to a valid {platform} size, such as {fits or nearest[0]}'
            + (" (the smallest that holds the containers)." if fits else ".")
        ),
        cpu=cpu,
        memory=memory,
        nearest=nearest,
        fits=fits,
    )


def _placeholder(value: object) -> bool:
    return isinstance(value, str) and templated(value)


def _describe(cpu: int | None, memory: int | None) -> str:
    return f"cpu {cpu}" if cpu is not None else f"memory {memory} MiB"


def _fitting_hint(task_definition: TaskDefinition, windows: bool) -> tuple[str | None, str]:
    """(smallest Fargate size that holds the containers, a sentence saying so); (None, "") when they ask nothing."""
    cpu = sum(c.cpu for c in task_definition.containers if c.cpu is not None)
    memory = sum(value for c in task_definition.containers if (value := _reserved(c)) is not None)
    if not cpu and not memory:
        return None, ""
    fits = _smallest_fitting(cpu, memory, windows=windows)
    asked = " and ".join(
        part for part in (f"{cpu} CPU units" if cpu else "", f"{memory} MiB" if memory else "") if part
    )
    if fits is None:
        return None, f" Its containers ask for {asked} together, more than the largest Fargate size."
    return fits, f" Its containers ask for {asked} together: {fits} is the smallest size that holds them."
