"""The core package's rooms: no import circle, arrows point down, each entry point loads only its flow.

The import graph is read from the source (every ``import`` of an ecsguard module, module-level and
inside functions, except ``if TYPE_CHECKING:`` blocks), so a lazy import that closes a circle
fails here too. What an entry point loads is measured in a fresh interpreter.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "ecsguard" / "ecsguard"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str) -> set[str]:
    """Every ecsguard module ``module`` imports, anywhere in its code but TYPE_CHECKING blocks."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    targets: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom):
                base = (
                    ".".join(package[: len(package) - child.level + 1] + ([child.module] if child.module else []))
                    if child.level
                    else child.module or ""
                )
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    targets.add(candidate if candidate in MODULES else base)
            elif isinstance(child, ast.Import):
                targets.update(alias.name for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {t for t in targets if t in MODULES and t != module}


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            connect(v)
    return found


def test_the_graph_is_read() -> None:
    # The reader must see real edges, or every assertion below passes vacuously.
    assert "ecsguard.flows.registration" in MODULES
    assert "ecsguard.flows.act_and_notify" in GRAPH["ecsguard.flows.registration"]
    assert "ecsguard.flows.migration" in GRAPH["ecsguard.flows.remediations"]  # a function-level import
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


def test_no_import_circle_in_the_core() -> None:
    assert _cycles(GRAPH) == []


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ecsguard"


# room -> rooms it must never import (DESIGN: arrows point down the list, never back up).
FORBIDDEN = {
    "model": {"events", "policy", "checks", "secretscan", "aws", "flows", "render", "cli", "handlers", "delivery"},
    "facts": {"events", "policy", "checks", "secretscan", "aws", "flows", "render", "cli", "handlers", "delivery"},
    "imageref": {"model", "events", "policy", "checks", "secretscan", "aws", "flows", "render", "cli", "handlers"},
    "events": {"policy", "checks", "aws", "flows", "render", "cli", "handlers", "delivery"},
    "secretscan": {"model", "events", "policy", "checks", "aws", "flows", "render", "cli", "handlers", "delivery"},
    "checks": {"policy", "aws", "flows", "render", "cli", "handlers", "delivery"},
    "policy": {"aws", "flows", "render", "cli", "handlers", "delivery"},
    "aws": {"checks", "flows", "render", "cli", "handlers", "delivery"},
    "render": {"aws", "flows", "cli", "handlers", "delivery"},
    "flows": {"cli", "handlers", "delivery"},
    "handlers": {"cli", "delivery"},
    "delivery": {"cli"},
}


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_arrows_point_down(room: str) -> None:
    wrong = {
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if _room(module) == room
        for target in targets
        if _room(target) in FORBIDDEN[room]
    }
    assert not wrong, sorted(wrong)


SERVICES = (
    "ecs",
    "logs",
    "sns",
    "sqs",
    "secretsmanager",
    "ssm",
    "iam",
    "kms",
    "dynamodb",
    "ec2",
    "ecr",
    "sts",
    "securityhub",
    "resourcegroupstaggingapi",
    "stepfunctions",
)
READ_PREFIXES = ("describe_", "list_", "get_", "batch_get_", "lookup_", "search_", "simulate_", "can_paginate")


def _write_operations() -> set[str]:
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    names = {
        xform_name(operation)
        for service in SERVICES
        for operation in session.get_service_model(service).operation_names
    }
    return {name for name in names if not name.startswith(READ_PREFIXES)}


def test_only_the_actions_module_writes_to_aws() -> None:
    """No module but aws.actions (and the state table) calls a boto3 operation that changes anything."""
    writes = _write_operations()
    assert {"create_log_group", "deregister_task_definition", "publish", "stop_task"} <= writes
    offenders = []
    for module, path in MODULES.items():
        # The demo builds its stand-in account on its own local moto server (topic, queue, the definitions).
        if module in {"ecsguard.aws.actions", "ecsguard.aws.state", "ecsguard.aws.sweep_state", "ecsguard.cli.demo"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in writes
                and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "actions")
            ):
                offenders.append(f"{module}:{node.lineno} {node.func.attr}")
    assert not offenders, offenders


PROBE = """
import json, sys
sys.path.insert(0, {layer!r})
{setup}
print(json.dumps(sorted(m for m in sys.modules if m == "boto3" or m.startswith("ecsguard"))))
"""


def _loaded(setup: str) -> set[str]:
    code = PROBE.format(layer=str(PACKAGE.parent), setup=setup)
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _app(flow: str) -> str:
    app = ROOT / "functions" / flow / "app.py"
    return f"sys.path.insert(0, {str(app.parent)!r}); import app"


def test_importing_the_checks_loads_no_aws_and_no_flow() -> None:
    loaded = _loaded("import ecsguard.checks; ecsguard.checks.load_all()")
    assert "ecsguard.checks.logging" in loaded and "ecsguard.checks.secrets" in loaded
    assert "boto3" not in loaded
    assert not {m for m in loaded if _room(m) in {"aws", "flows", "render", "cli", "handlers", "delivery"}}


def test_the_registration_function_loads_only_its_flow() -> None:
    loaded = _loaded(_app("register_task_definition"))
    assert "ecsguard.flows.registration" in loaded
    assert not loaded & {"ecsguard.flows.launch", "ecsguard.flows.migration", "ecsguard.flows.scan"}
    assert not {m for m in loaded if _room(m) in {"cli", "delivery"}}
    assert "ecsguard.render.sarif" not in loaded and "ecsguard.render.terminal" not in loaded


def test_the_launch_function_loads_only_its_flow() -> None:
    loaded = _loaded(_app("run_task"))
    assert "ecsguard.flows.launch" in loaded
    assert not loaded & {
        "ecsguard.flows.registration",
        "ecsguard.flows.migration",
        "ecsguard.flows.scan",
        "ecsguard.flows.stopped",
    }
    assert not {m for m in loaded if _room(m) in {"cli", "delivery"}}
    assert "ecsguard.render.sarif" not in loaded


def test_the_stopped_task_function_loads_only_its_flow() -> None:
    loaded = _loaded(_app("task_stopped"))
    assert "ecsguard.flows.stopped" in loaded
    assert not loaded & {
        "ecsguard.flows.registration",
        "ecsguard.flows.launch",
        "ecsguard.flows.migration",
        "ecsguard.flows.remediations",
        "ecsguard.flows.scan",
    }
    assert not {m for m in loaded if _room(m) in {"cli", "delivery"}}
    assert "ecsguard.render.sarif" not in loaded


def test_the_scan_command_needs_no_boto3() -> None:
    """``ecsguard scan`` runs in pre-commit hooks and CI gates: no SDK import on its path."""
    loaded = _loaded(
        "from ecsguard.cli.scan import scan_paths; from ecsguard.policy import Settings; "
        f"scan_paths([{str(ROOT / 'events' / 'register_task_definition' / 'clean.json')!r}], Settings())"
    )
    assert "ecsguard.flows.scan" in loaded
    assert "boto3" not in loaded
