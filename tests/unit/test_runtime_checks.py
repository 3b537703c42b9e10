"""Runtime user and privilege checks (mistake 8) on models, with facts from memory."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ecsguard.checks import CheckContext, load_all, run_checks
from ecsguard.facts import EcrImage, StaticFacts, Unknown
from ecsguard.model import TaskDefinition, parse_document, task_definitions_in

from conftest import CORPUS

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.4.2"
ECR_NANO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/nano:ltsc2022"
FLUENT_BIT = "906394416424.dkr.ecr.us-east-1.amazonaws.com/aws-for-fluent-bit:stable"
ENVOY = "840364872350.dkr.ecr.us-east-1.amazonaws.com/aws-appmesh-envoy:v1.27.2.0-prod"
WINDOWS = {"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE", "cpuArchitecture": "X86_64"}}
FARGATE = {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "512", "memory": "1024"}


def definition(containers, **td) -> TaskDefinition:
    return parse_document({"family": "app", "containerDefinitions": containers, **td})


def run(check_id, containers, facts=None, **td):
    return load_all()[check_id].run(definition(containers, **td), CheckContext(target="app:1", facts=facts))


def image(user: str | None, **extra) -> EcrImage:
    return EcrImage(repository="app", region="us-east-1", user=user, user_source="image config", **extra)


class NoReads(StaticFacts):
    """Facts that fail the test if asked about an image."""

    def ecr_image(self, image, *, platform=None):
        raise AssertionError(f"a placeholder image must not be looked up: {image} {platform}")


# ---------------------------------------------------------------------------------------- runs-as-root


@pytest.mark.parametrize("user", ["root", "0", "0:0", " 0 : 0 ", "ROOT", "Root:staff", "root:root", "0:1000", "00"])
def test_explicit_root_user_is_medium_and_names_the_task_definition(user):
    [finding] = run("runs-as-root", [{"name": "web", "image": ECR, "user": user}])
    assert (finding.severity, finding.container, finding.field) == ("medium", "web", "user")
    assert f"the task definition sets user '{user.strip()}'" in finding.message
    assert finding.data["user_source"] == "task definition"
    assert "UID 0" in finding.message or user.strip().lower().startswith("root")


@pytest.mark.parametrize("user", ["1000", "1000:1000", "1000:0", "nobody", "app:app", "1337", "node"])
def test_non_root_user_passes_without_guessing_names(user):
    assert run("runs-as-root", [{"name": "web", "image": ECR, "user": user}]) == []


def test_placeholder_user_is_not_judged():
    assert run("runs-as-root", [{"name": "web", "image": ECR, "user": "${app_user}"}]) == []


def test_unset_user_offline_is_low_and_says_the_image_decides():
    [finding] = run("runs-as-root", [{"name": "web", "image": ECR}])
    assert finding.severity == "low"
    assert "ecsguard ran without AWS" in finding.message
    assert "root unless its Dockerfile sets USER" in finding.message
    assert finding.data["user_source"] == "not read (offline)"


def test_unset_user_with_an_image_that_sets_no_user_is_medium_and_says_so():
    facts = StaticFacts(images={ECR: image("")})
    [finding] = run("runs-as-root", [{"name": "web", "image": ECR}], facts)
    assert finding.severity == "medium"
    assert "the task definition sets no user and the image's config sets no USER, so it runs as root" in finding.message
    assert finding.data == {"user": "", "user_source": "image config"}


def test_unset_user_with_an_image_user_of_root_is_medium():
    facts = StaticFacts(images={ECR: image("0:0")})
    [finding] = run("runs-as-root", [{"name": "web", "image": ECR}], facts)
    assert finding.severity == "medium" and "sets USER '0:0' (root)" in finding.message


def test_unset_user_with_a_non_root_image_user_passes():
    facts = StaticFacts(images={ECR: image("app")})
    assert run("runs-as-root", [{"name": "web", "image": ECR}], facts) == []


def test_explicit_user_wins_over_the_image():
    facts = StaticFacts(images={ECR: image("app")})
    [finding] = run("runs-as-root", [{"name": "web", "image": ECR, "user": "root"}], facts)
    assert finding.data["user_source"] == "task definition"


def test_image_not_in_ecr_is_low_and_says_so():
    facts = StaticFacts()  # a Docker Hub reference is not an ECR one
    [finding] = run("runs-as-root", [{"name": "web", "image": "nginx:1.27"}], facts)
    assert finding.severity == "low"
    assert "the image nginx:1.27 is not in ECR" in finding.message
    assert finding.data["user_source"] == "not in ECR"


def test_unreadable_image_is_low_and_marked_unverified_with_its_reason():
    facts = StaticFacts(images={ECR: Unknown("ecr:BatchGetImage: AccessDeniedException")})
    [finding] = run("runs-as-root", [{"name": "web", "image": ECR}], facts)
    assert finding.severity == "low"
    assert "could not read the image's USER from ECR (ecr:BatchGetImage: AccessDeniedException)" in finding.message
    assert finding.data["unverified"] is True
    assert finding.data["reason"] == "ecr:BatchGetImage: AccessDeniedException"


def test_image_missing_from_ecr_or_without_config_is_low():
    facts = StaticFacts(
        images={
            ECR: image(None, found=False, not_found_reason="ImageNotFoundException"),
            ECR_NANO: image(None, user_reason="ecr:GetDownloadUrlForLayer: AccessDeniedException"),
        }
    )
    gone, no_config = run("runs-as-root", [{"name": "a", "image": ECR}, {"name": "b", "image": ECR_NANO}], facts)
    assert (gone.severity, no_config.severity) == ("low", "low")
    assert "was not found in ECR (ImageNotFoundException)" in gone.message
    assert no_config.data["unverified"] is True
    assert "(ecr:GetDownloadUrlForLayer: AccessDeniedException)" in no_config.message


def test_the_platform_entry_read_is_named_and_asked_for_by_the_task_platform():
    asked = []

    class Recording(StaticFacts):
        def ecr_image(self, image, *, platform=None):
            asked.append(platform)
            entry = f"{platform} entry of a multi-platform image"
            return EcrImage(repository="app", region="us-east-1", user="", user_source="image config", platform=entry)

    arm = {"runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}}
    [finding] = run("runs-as-root", [{"name": "web", "image": ECR}], Recording(), **arm)
    assert asked == ["linux/arm64"]
    assert "the image's config (its linux/arm64 entry of a multi-platform image) sets no USER" in finding.message
    run("runs-as-root", [{"name": "iis", "image": ECR}], Recording(), **WINDOWS)
    assert asked[-1] == "windows/amd64"


def test_placeholder_image_is_not_looked_up():
    [finding] = run("runs-as-root", [{"name": "web", "image": "${image}"}], NoReads())
    assert finding.severity == "low" and "the image reference is a placeholder" in finding.message


def test_sidecars_are_judged_like_any_container_with_the_source_in_each_message():
    """FireLens with user 0 (as AWS examples write it), App Mesh Envoy as 1337, the X-Ray daemon unset."""
    containers = [
        {"name": "log_router", "image": FLUENT_BIT, "user": "0", "firelensConfiguration": {"type": "fluentbit"}},
        {"name": "envoy", "image": ENVOY, "user": "1337"},
        {"name": "xray-daemon", "image": "amazon/aws-xray-daemon"},
    ]
    findings = run("runs-as-root", containers, StaticFacts(), **FARGATE)
    assert [(f.container, f.severity, f.data["user_source"]) for f in findings] == [
        ("log_router", "medium", "task definition"),
        ("xray-daemon", "low", "not in ECR"),
    ]
    assert "ecsguard:ignore=runs-as-root" not in findings[0].message  # the message is about the container


def test_windows_container_administrator_is_reported_like_root():
    [finding] = run("runs-as-root", [{"name": "iis", "image": ECR, "user": "ContainerAdministrator"}], **WINDOWS)
    assert finding.severity == "medium"
    assert "runs as its administrator" in finding.message
    assert '"user": "ContainerUser"' in finding.remediation


@pytest.mark.parametrize("user", ["ContainerUser", "root", "0"])
def test_windows_is_not_judged_by_linux_rules(user):
    assert run("runs-as-root", [{"name": "iis", "image": ECR, "user": user}], **WINDOWS) == []


def test_windows_unset_user_offline_names_the_windows_defaults():
    [finding] = run("runs-as-root", [{"name": "iis", "image": ECR}], **WINDOWS)
    assert finding.severity == "low"
    assert "Server Core images run as ContainerAdministrator, Nano Server images as ContainerUser" in finding.message


def test_windows_image_without_a_user_runs_as_container_administrator():
    facts = StaticFacts(images={ECR: image(""), ECR_NANO: image("ContainerUser")})
    containers = [{"name": "core", "image": ECR}, {"name": "nano", "image": ECR_NANO}]
    findings = run("runs-as-root", containers, facts, **WINDOWS)
    [finding] = findings
    assert finding.container == "core" and finding.severity == "medium"
    assert "sets no user, so it runs as ContainerAdministrator" in finding.message


def test_runs_as_root_runs_without_facts_in_the_registry():
    """needs_facts=False: `ecsguard scan` (no AWS) still reports, at low."""
    findings = run_checks(definition([{"name": "web", "image": ECR}]), CheckContext(target="t"))
    assert [f.severity for f in findings if f.check == "runs-as-root"] == ["low"]


# ---------------------------------------------------------------------------------------- privileged


def test_privileged_container_is_high():
    [finding] = run("privileged-container", [{"name": "agent", "image": ECR, "privileged": True}, {"name": "b"}])
    assert (finding.severity, finding.container, finding.field) == ("high", "agent", "privileged")
    assert "controls the container instance" in finding.message
    assert "ecsguard:ignore=privileged-container" in finding.remediation


def test_privileged_false_or_unset_passes_and_a_string_true_counts():
    assert run("privileged-container", [{"name": "a", "privileged": False}, {"name": "b"}]) == []
    assert len(run("privileged-container", [{"name": "a", "privileged": "true"}])) == 1


def test_privileged_windows_container_says_it_cannot_run_and_sidecars_are_judged_too():
    containers = [{"name": "iis", "privileged": True}, {"name": "log_router", "privileged": True}]
    findings = run("privileged-container", containers, **WINDOWS)
    assert [f.container for f in findings] == ["iis", "log_router"]
    assert "Windows containers do not support privileged mode" in findings[0].message


def test_privileged_on_fargate_says_it_cannot_run_there():
    [finding] = run("privileged-container", [{"name": "a", "privileged": True}], **FARGATE)
    assert "Fargate does not support privileged containers" in finding.message


# ---------------------------------------------------------------------------------------- root filesystem


def test_writable_root_filesystem_is_low_per_container_sidecars_included():
    containers = [
        {"name": "app", "image": ECR},
        {"name": "log_router", "image": FLUENT_BIT, "readonlyRootFilesystem": False},
        {"name": "envoy", "image": ENVOY, "readonlyRootFilesystem": True},
    ]
    findings = run("root-filesystem-writable", containers, **FARGATE)
    assert [(f.container, f.severity) for f in findings] == [("app", "low"), ("log_router", "low")]
    assert "(readonlyRootFilesystem is not set)" in findings[0].message
    assert "(readonlyRootFilesystem is false)" in findings[1].message
    assert '"readonlyRootFilesystem": true' in findings[0].remediation


def test_windows_root_filesystem_is_not_judged():
    assert run("root-filesystem-writable", [{"name": "iis", "image": ECR}], **WINDOWS) == []


# ---------------------------------------------------------------------------------------- host namespaces


def test_host_pid_is_high_and_host_ipc_medium():
    findings = run("host-namespace", [{"name": "a", "user": "1000"}], pidMode="host", ipcMode="host")
    assert [(f.field, f.severity, f.data["namespace"]) for f in findings] == [
        ("pidMode", "high", "pid"),
        ("ipcMode", "medium", "ipc"),
    ]
    assert all(f.container is None for f in findings)


def test_task_namespaces_and_awsvpc_pass():
    assert run("host-namespace", [{"name": "a"}], pidMode="task", ipcMode="none", networkMode="awsvpc") == []
    assert run("host-namespace", [{"name": "a"}], networkMode="bridge") == []


def test_host_network_with_a_root_container_is_medium_and_names_it():
    containers = [{"name": "nginx", "image": "nginx"}, {"name": "agent", "user": "1000"}]
    [finding] = run("host-namespace", containers, networkMode="host")
    assert (finding.field, finding.severity) == ("networkMode", "medium")
    assert finding.data["containers"] == ["nginx"]
    assert "container 'nginx' may run as root there (no user set" in finding.message


def test_host_network_with_only_non_root_or_privileged_containers_is_low():
    containers = [{"name": "a", "user": "1000"}, {"name": "b", "privileged": True}]
    [finding] = run("host-namespace", containers, networkMode="host")
    assert finding.severity == "low" and finding.data["containers"] == []


def _ecs1_fails(document: dict) -> bool:
    """Security Hub ECS.1 / Config ecs-task-definition-user-for-host-mode-check / CT.ECS.PR.8, as documented:
    host network mode and a container with privileged false or unset and user root (or a UID 0 form) or unset."""
    if document.get("networkMode") != "host":
        return False
    for container in document.get("containerDefinitions") or []:
        user = str(container.get("user") or "")
        rootish = user in ("", "0", "root") or user.startswith(("0:", "root:"))
        if container.get("privileged") is not True and rootish:
            return True
    return False


@pytest.mark.parametrize(
    "containers",
    [
        [{"name": "a"}],
        [{"name": "a", "user": "root"}],
        [{"name": "a", "user": "0:0"}],
        [{"name": "a", "user": "1000"}],
        [{"name": "a", "user": "root", "privileged": True}],
        [{"name": "a", "privileged": True}, {"name": "b", "user": "app"}],
        [{"name": "a", "privileged": True}, {"name": "b", "user": "root"}],  # the CT.ECS.PR.8 FAIL example
    ],
)
def test_host_network_verdict_equals_security_hub_ecs1(containers):
    document = {"family": "x", "networkMode": "host", "containerDefinitions": containers}
    findings = load_all()["host-namespace"].run(parse_document(document), CheckContext(target="x"))
    paged = any(f.severity in ("medium", "high") for f in findings)
    assert paged == _ecs1_fails(document)
    assert findings, "host network mode is always reported (Security Hub ECS.17)"


# ---------------------------------------------------------------------------------------- capabilities


def caps(*add, **extra):
    return {"name": "c", "image": ECR, "linuxParameters": {"capabilities": {"add": list(add)}}, **extra}


def test_sys_admin_is_high_and_names_what_it_allows():
    [finding] = run("dangerous-capabilities", [caps("SYS_ADMIN")])
    assert (finding.severity, finding.field) == ("high", "linuxParameters.capabilities.add")
    assert "adds SYS_ADMIN (mount filesystems" in finding.message
    assert finding.data["capabilities"] == ["SYS_ADMIN"]


def test_cap_prefix_and_case_are_normalised_and_duplicates_listed_once():
    [finding] = run("dangerous-capabilities", [caps("cap_sys_module", "SYS_MODULE")])
    assert finding.data["capabilities"] == ["SYS_MODULE"]


def test_net_admin_and_sys_ptrace_are_medium_unless_the_host_namespace_is_shared():
    [alone] = run("dangerous-capabilities", [caps("NET_ADMIN", "SYS_PTRACE")])
    assert alone.severity == "medium"
    [net] = run("dangerous-capabilities", [caps("NET_ADMIN")], networkMode="host")
    [pid] = run("dangerous-capabilities", [caps("SYS_PTRACE")], pidMode="host")
    assert (net.severity, pid.severity) == ("high", "high")
    assert "of the container instance itself" in net.message and "on the host" in pid.message


def test_net_raw_and_ordinary_capabilities_are_not_reported():
    assert run("dangerous-capabilities", [caps("NET_RAW", "NET_BIND_SERVICE", "CHOWN", "SYS_NICE")]) == []
    assert run("dangerous-capabilities", [{"name": "c", "linuxParameters": {"capabilities": {"drop": ["ALL"]}}}]) == []


def test_fargate_accepts_only_sys_ptrace():
    [ptrace] = run("dangerous-capabilities", [caps("SYS_PTRACE")], **FARGATE)
    assert "Fargate" not in ptrace.message
    [admin] = run("dangerous-capabilities", [caps("NET_ADMIN", "SYS_PTRACE")], **FARGATE)
    assert "Fargate supports adding only SYS_PTRACE: with NET_ADMIN this definition cannot run on Fargate" in (
        admin.message
    )


def test_envoy_with_net_admin_gets_advice_not_a_free_pass():
    """App Mesh sidecars are not special-cased by name: the fix says how to keep a capability a proxy needs."""
    [finding] = run("dangerous-capabilities", [caps("NET_ADMIN", name="envoy", user="1337")])
    assert finding.container == "envoy" and finding.severity == "medium"
    assert "a proxy that programs iptables needs NET_ADMIN" in finding.remediation
    assert "ecsguard:ignore=dangerous-capabilities" in finding.remediation


def test_privileged_with_capabilities_says_so_and_windows_is_not_judged():
    [finding] = run("dangerous-capabilities", [caps("SYS_ADMIN", privileged=True)])
    assert "It is also privileged" in finding.message
    assert run("dangerous-capabilities", [caps("SYS_ADMIN")], **WINDOWS) == []


# ---------------------------------------------------------------------------------------- real corpus

RUNTIME_CHECKS = (
    "runs-as-root",
    "privileged-container",
    "root-filesystem-writable",
    "host-namespace",
    "dangerous-capabilities",
)


def corpus() -> list[tuple[str, dict, TaskDefinition]]:
    found = []
    for path in sorted((CORPUS / "taskdefs").glob("*.json")):
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
        for _label, td in task_definitions_in(document):
            found.append((path.name, document, td))
    return found


def test_runtime_checks_over_the_real_corpus_offline():
    """71 real definitions, no AWS: what fires where (a change of behaviour shows up here)."""
    registry = load_all()
    definitions: Counter[str] = Counter()
    severities: Counter[tuple[str, str]] = Counter()
    where: dict[str, set[str]] = {}
    for name, _document, td in corpus():
        for check_id in RUNTIME_CHECKS:
            findings = registry[check_id].run(td, CheckContext(target=name))
            definitions[check_id] += bool(findings)
            severities.update((check_id, f.severity) for f in findings)
            if any(f.severity in ("medium", "high") for f in findings):
                where.setdefault(check_id, set()).add(name)
    assert sum(1 for _ in corpus()) == 71
    assert definitions == {
        "runs-as-root": 71,
        "root-filesystem-writable": 70,
        "privileged-container": 2,
        "dangerous-capabilities": 1,
        "host-namespace": 1,
    }
    assert severities == {
        ("runs-as-root", "low"): 99,
        ("runs-as-root", "medium"): 1,
        ("root-filesystem-writable", "low"): 101,
        ("privileged-container", "high"): 2,
        ("dangerous-capabilities", "high"): 1,
        ("host-namespace", "medium"): 1,
    }
    assert where == {  # what would page (medium and above)
        "runs-as-root": {"005.json"},  # FireLens log_router with "user": "0"
        "privileged-container": {"009.json", "015.json"},
        "dangerous-capabilities": {"009.json"},  # SYS_ADMIN on a privileged container
        "host-namespace": {"059.json"},  # networkMode host, nginx with no user
    }


def test_corpus_verdicts_equal_the_aws_controls_where_they_overlap():
    """Per definition: privileged (ECS.4), readonly root (ECS.5: not true, absent included), pidMode host (ECS.3),
    host network with a root, non-privileged container (ECS.1), user unset or root (Config nonroot-user, offline)."""
    registry = load_all()
    for name, _document, td in corpus():
        raw = [c.raw for c in td.containers]

        def fires(check_id: str, *, minimum: str = "info", td: TaskDefinition = td, name: str = name) -> bool:
            order = ["info", "low", "medium", "high", "critical"]
            findings = registry[check_id].run(td, CheckContext(target=name))
            return any(order.index(f.severity) >= order.index(minimum) for f in findings)

        assert fires("privileged-container") == any(c.get("privileged") is True for c in raw), name
        assert fires("root-filesystem-writable") == any(c.get("readonlyRootFilesystem") is not True for c in raw), name
        assert fires("host-namespace", minimum="high") == (td.raw.get("pidMode") == "host"), name
        assert fires("host-namespace", minimum="medium") == (
            _ecs1_fails(dict(td.raw)) or td.raw.get("pidMode") == "host" or td.raw.get("ipcMode") == "host"
        ), name
        assert fires("runs-as-root") == any(not c.get("user") or c.get("user") == "root" for c in raw), name
