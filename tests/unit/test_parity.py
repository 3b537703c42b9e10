"""Parity with AWS Config, Security Hub and Control Tower on the real definitions of tests/data/corpus.

Each AWS control that judges a task definition is written down here as the published rule says it
(a reference predicate over the raw definition), and compared, definition by definition, with
ecsguard's verdict (offline, as ``ecsguard scan`` runs it). Where the semantics overlap the verdicts
must be equal; where ecsguard is deliberately different (docs/parity.md says why), the test pins the
exact difference instead, so it cannot grow unnoticed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from ecsguard.checks import load_all
from ecsguard.model import DocumentError, Finding, TaskDefinition, task_definitions_in
from ecsguard.policy import Settings, evaluate
from ecsguard.secretscan import is_reference_or_placeholder

from conftest import CORPUS, ROOT


def _corpus() -> list[tuple[str, TaskDefinition]]:
    found = []
    for path in sorted((CORPUS / "taskdefs").glob("*.json")):
        try:
            found += [(path.name, td) for _, td in task_definitions_in(json.loads(path.read_text()))]
        except (ValueError, DocumentError, UnicodeDecodeError):
            continue
    return found


CORPUS_DEFINITIONS = _corpus()
FINDINGS: dict[str, list[Finding]] = {
    name: evaluate(td, Settings(), None, td.region or "us-east-1")[0] for name, td in CORPUS_DEFINITIONS
}


def containers(td: TaskDefinition) -> list[Mapping[str, Any]]:
    return [c for c in td.raw.get("containerDefinitions") or [] if isinstance(c, Mapping)]


def windows(td: TaskDefinition) -> bool:
    return td.is_windows


def fires(name: str, check: str, field: str | None = None) -> bool:
    return any(f.check == check and (field is None or f.field == field) for f in FINDINGS[name])


# --- the published rules, as written -------------------------------------------------------------


def config_nonprivileged(td: TaskDefinition) -> bool:
    """ecs-containers-nonprivileged / ECS.4 / CT.ECS.PR.11: NON_COMPLIANT if privileged is true."""
    return any(c.get("privileged") is True for c in containers(td))


def config_readonly(td: TaskDefinition) -> bool:
    """ecs-containers-readonly-access / ECS.5 / CT.ECS.PR.6: NON_COMPLIANT unless readonlyRootFilesystem is true."""
    return any(c.get("readonlyRootFilesystem") is not True for c in containers(td))


def config_pid_mode(td: TaskDefinition) -> bool:
    """ecs-task-definition-pid-mode-check / ECS.3 / CT.ECS.PR.10: NON_COMPLIANT if pidMode is host."""
    return td.raw.get("pidMode") == "host"


def config_network_mode_not_host(td: TaskDefinition) -> bool:
    """ecs-task-definition-network-mode-not-host / ECS.17: NON_COMPLIANT if networkMode is host."""
    return td.raw.get("networkMode") == "host"


def config_log_configuration(td: TaskDefinition) -> bool:
    """ecs-task-definition-log-configuration / ECS.9 / CT.ECS.PR.5: a container without logConfiguration."""
    return any(not isinstance(c.get("logConfiguration"), Mapping) for c in containers(td))


def config_efs(td: TaskDefinition) -> bool:
    """ecs-task-definition-efs-encryption-enabled / ECS.18: an EFS volume without transitEncryption ENABLED."""
    volumes = [v for v in td.raw.get("volumes") or [] if isinstance(v, Mapping)]
    return any(
        isinstance(v.get("efsVolumeConfiguration"), Mapping)
        and v["efsVolumeConfiguration"].get("transitEncryption") != "ENABLED"
        for v in volumes
    )


def config_linux_non_root(td: TaskDefinition) -> bool:
    """ecs-task-definition-linux-user-non-root / -nonroot-user / ECS.20 / CT.ECS.PR.3: user absent or root."""
    return not windows(td) and any(c.get("user") in (None, "", "root") for c in containers(td))


def config_windows_non_admin(td: TaskDefinition) -> bool:
    """ecs-task-definition-windows-user-non-admin / ECS.21: user absent or ContainerAdministrator."""
    return windows(td) and any(c.get("user") in (None, "", "ContainerAdministrator") for c in containers(td))


def config_memory_hard_limit(td: TaskDefinition) -> bool:
    """ecs-task-definition-memory-hard-limit / CT.ECS.PR.7: a container without a hard memory limit."""
    return any(not isinstance(c.get("memory"), int) or c.get("memory") <= 0 for c in containers(td))


def config_awsvpc(td: TaskDefinition) -> bool:
    """ecs-awsvpc-networking-enabled / CT.ECS.PR.4: networkMode other than awsvpc."""
    return td.raw.get("networkMode") != "awsvpc"


SECRET_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA")


def config_environment_secrets(td: TaskDefinition) -> list[tuple[str, str, str]]:
    """ecs-no-environment-secrets / ECS.8 / CT.ECS.PR.12: these names in environment, whatever the value."""
    return [
        (c.get("name", ""), e.get("name", ""), e.get("value") or "")
        for c in containers(td)
        for e in c.get("environment") or []
        if isinstance(e, Mapping) and e.get("name") in SECRET_NAMES
    ]


# (reference rule, ecsguard verdict) pairs whose verdicts must be equal on every definition.
EQUAL: dict[str, tuple[Callable[[TaskDefinition], bool], Callable[[str], bool]]] = {
    "ecs-containers-nonprivileged": (config_nonprivileged, lambda n: fires(n, "privileged-container")),
    "ecs-task-definition-pid-mode-check": (config_pid_mode, lambda n: fires(n, "host-namespace", "pidMode")),
    "ecs-task-definition-network-mode-not-host": (
        config_network_mode_not_host,
        lambda n: fires(n, "host-namespace", "networkMode"),
    ),
    "ecs-task-definition-efs-encryption-enabled": (config_efs, lambda n: fires(n, "efs-transit-encryption-disabled")),
    "ecs-task-definition-windows-user-non-admin": (
        config_windows_non_admin,
        lambda n: fires(n, "runs-as-root") and dict(CORPUS_DEFINITIONS)[n].is_windows,
    ),
    "ecs-awsvpc-networking-enabled": (
        config_awsvpc,
        lambda n: fires(n, "network-mode-not-awsvpc") or fires(n, "host-namespace", "networkMode"),
    ),
}


@pytest.mark.parametrize("rule", sorted(EQUAL))
def test_same_verdict_as_aws_on_every_real_definition(rule: str):
    reference, ecsguard = EQUAL[rule]
    differ = [name for name, td in CORPUS_DEFINITIONS if reference(td) != ecsguard(name)]
    assert differ == [], f"{rule}: verdicts differ on {differ}"


def test_the_corpus_exercises_the_rules():
    """A parity test over definitions that never trip a rule proves nothing: count the positives."""
    positives = {rule: sum(reference(td) for _, td in CORPUS_DEFINITIONS) for rule, (reference, _) in EQUAL.items()}
    assert positives["ecs-containers-nonprivileged"] >= 1
    assert sum(config_log_configuration(td) for _, td in CORPUS_DEFINITIONS) >= 10
    assert positives["ecs-task-definition-efs-encryption-enabled"] >= 1
    assert positives["ecs-awsvpc-networking-enabled"] >= 10
    assert len(CORPUS_DEFINITIONS) >= 70


def test_log_configuration_differs_only_on_the_none_driver():
    """Config accepts logDriver 'none' (a logConfiguration is set); ecsguard reports it: the output is discarded."""
    differ = []
    for name, td in CORPUS_DEFINITIONS:
        if config_log_configuration(td):
            assert fires(name, "logging-disabled", "logConfiguration"), name
        elif fires(name, "logging-disabled"):
            differ.append(name)
            assert {f.field for f in FINDINGS[name] if f.check == "logging-disabled"} == {"logConfiguration.logDriver"}
    assert differ == ["027.json"]  # the one real definition with the none driver


def test_readonly_root_filesystem_differs_only_on_windows():
    """ecsguard does not ask Windows containers for readonlyRootFilesystem (ECS does not support it there)."""
    differ = [name for name, td in CORPUS_DEFINITIONS if config_readonly(td) != fires(name, "root-filesystem-writable")]
    assert all(dict(CORPUS_DEFINITIONS)[name].is_windows for name in differ), differ


def test_non_root_user_differs_only_where_ecsguard_is_stricter():
    """Config flags an absent or 'root' user; ecsguard also flags UID 0 spellings ('0', '0:0', 'root:wheel')."""
    for name, td in CORPUS_DEFINITIONS:
        if windows(td):
            continue
        ours = any(f.check == "runs-as-root" for f in FINDINGS[name])
        if config_linux_non_root(td):
            assert ours, f"{name}: Config flags a root or absent user and ecsguard does not"
        elif ours:
            users = {str(c.get("user")) for c in containers(td)}
            assert any(re.match(r"^(0|root)(:|$)", u.strip().lower()) for u in users), (name, users)


def test_memory_hard_limit_ecsguard_asks_less():
    """Config wants a hard limit on every container; ecsguard accepts a task-level memory or a reservation."""
    for name, td in CORPUS_DEFINITIONS:
        if fires(name, "memory-limit-missing"):
            assert config_memory_hard_limit(td), name  # never stricter than Config


def test_environment_secrets_judged_by_value_not_by_name():
    """Config fails on the name alone; ecsguard on a real credential under any name (placeholders pass).

    In the corpus those names only ever hold placeholders (``${extract_iam_key}``): Config fails them,
    ecsguard passes them. A real key under the same name fails both.
    """
    flagged = {
        name: config_environment_secrets(td) for name, td in CORPUS_DEFINITIONS if config_environment_secrets(td)
    }
    assert flagged, "the corpus no longer exercises ecs-no-environment-secrets"
    for name, entries in flagged.items():
        for _container, variable, value in entries:
            assert value.startswith("${") or is_reference_or_placeholder(value), (name, variable)
            assert not fires(name, "plaintext-secret", f"environment.{variable}"), (name, variable)
    real = TaskDefinition.from_api(
        {
            "family": "t",
            "containerDefinitions": [
                {
                    "name": "app",
                    "image": "x:1",
                    "environment": [{"name": "AWS_ACCESS_KEY_ID", "value": "AKIAQ4ZT7MWX2KRB5NVD"}],
                }
            ],
        }
    )
    assert config_environment_secrets(real)
    assert any(f.check == "plaintext-secret" for f in evaluate(real, Settings(), None, "us-east-1")[0])


PARITY_DOC = ROOT / "docs" / "parity.md"


def test_every_aws_control_named_in_a_check_is_in_the_parity_table():
    text = PARITY_DOC.read_text(encoding="utf-8")
    for check in load_all().values():
        for control in (*check.config_rules, *check.security_hub, *check.control_tower):
            assert f"`{control}`" in text, f"{check.id}: {control} is missing from docs/parity.md"
