"""The stopped-task diagnosis: the event parser, the four checks (each cause, routine stops, sidecars, Windows,
EC2 versus Fargate), the message and the real corpus, with facts from memory."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

import pytest

from ecsguard.checks import CheckContext, load_all
from ecsguard.checks.diagnosis import init_cause, pull_cause, routine_stop
from ecsguard.events import SkipEvent, parse_task_stopped
from ecsguard.facts import StaticFacts
from ecsguard.model import Report, StoppedContainer, StoppedTask, TaskDefinition, task_definitions_in
from ecsguard.policy import ConfigError, Settings
from ecsguard.render.sns import render

from conftest import ACCOUNT, CORPUS, REGION, load_event

CHECKS = load_all()
STOPPED_CHECKS = ("image-pull-failed", "task-init-failed", "oom-killed", "essential-container-exited")
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/web/db-password-Xk3V9q"
CANARY = "Qm4-canary-Hs8Tz2Lw-do-not-repeat"


def web(**overrides: Any) -> dict[str, Any]:
    definition = {
        "family": "web",
        "revision": 7,
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-execution",
        "containerDefinitions": [
            {
                "name": "web",
                "image": f"{ECR}/web:1.4.2",
                "environment": [{"name": "API_TOKEN", "value": CANARY}],
                "secrets": [{"name": "DB_PASSWORD", "valueFrom": SECRET}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/ecs/web", "awslogs-region": REGION, "awslogs-stream-prefix": "web"},
                },
            },
            {
                "name": "xray-daemon",
                "image": "public.ecr.aws/xray/aws-xray-daemon:3.3.12",
                "essential": False,
                "memoryReservation": 32,
            },
        ],
    }
    definition.update(overrides)
    return definition


def stopped(name: str, **changes: Any) -> StoppedTask:
    task = parse_task_stopped(load_event(name, flow="task_stopped")).task
    return dataclasses.replace(task, **changes) if changes else task


def diagnose(task: StoppedTask, definition: dict[str, Any] | None = None, facts=None, checks=STOPPED_CHECKS):
    td = TaskDefinition.from_api(definition or web())
    context = CheckContext(target=td.name, facts=facts, region=REGION, stopped=task)
    return [f for check_id in checks for f in CHECKS[check_id].run(td, context)]


def verdict(findings) -> list[tuple[str, str | None, str]]:
    return [(f.check, f.container, f.data.get("cause", "")) for f in findings]


# --------------------------------------------------------------------------------------------- the event


def test_the_event_becomes_a_stopped_task():
    task = stopped("oom-killed")
    assert task.task_definition_arn == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7"
    assert task.service == "web" and task.stop_code == "EssentialContainerExited"
    assert task.launch_type == "FARGATE" and task.subnets == ("subnet-0a1b2c3d4e5f60718",)
    assert [(c.name, c.exit_code) for c in task.containers] == [("web", 137), ("xray-daemon", 143)]
    assert task.cpu == "256" and task.memory == "512" and task.started_at and task.stopped_at


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: e.update(source="aws.ec2"), "source"),
        (lambda e: e.update({"detail-type": "ECS Container Instance State Change"}), "detail-type"),
        (lambda e: e["detail"].update(lastStatus="RUNNING"), "has not stopped"),
        (lambda e: e["detail"].update(taskArn={"arn": CANARY}), "no task ARN"),
        (lambda e: e["detail"].update(taskDefinitionArn="web"), "no task definition revision"),
        (lambda e: e.update(region="Mars", account=None, resources=[]) or e["detail"].update(taskArn="x"), "task ARN"),
        (lambda e: e.update(id={"x": 1}), "no id"),
    ],
)
def test_what_is_not_a_stopped_task_is_skipped_without_echoing_it(change, reason):
    event = load_event("oom-killed", flow="task_stopped")
    change(event)
    with pytest.raises(SkipEvent, match=reason) as skipped:
        parse_task_stopped(event)
    assert CANARY not in str(skipped.value)


def test_hostile_fields_are_absent_not_repeated():
    event = load_event("oom-killed", flow="task_stopped")
    event["detail"]["containers"][0]["exitCode"] = "137; rm -rf /"
    event["detail"]["containers"][1]["name"] = CANARY + " !"
    event["detail"]["group"] = ["service:web"]
    task = parse_task_stopped(event).task
    assert [c.name for c in task.containers] == ["web"] and task.containers[0].exit_code is None
    assert task.group is None


# --------------------------------------------------------------------------------------------- the causes

CAUSES = {
    "image-pull-timeout": [("image-pull-failed", "web", "network")],
    "image-pull-not-found": [("image-pull-failed", "web", "not-found")],
    "image-pull-access-denied": [("image-pull-failed", "web", "access-denied")],
    "secret-access-denied": [("task-init-failed", None, "secrets-access-denied")],
    "secret-not-found": [("task-init-failed", None, "secrets-not-found")],
    "secret-timeout": [("task-init-failed", None, "secrets-network")],
    "registry-auth-denied": [("task-init-failed", None, "registry-auth-denied")],
    "oom-killed": [("oom-killed", "web", "oom")],
    "essential-exit-1": [("essential-container-exited", "web", "exit-1")],
}


@pytest.mark.parametrize("name", sorted(CAUSES))
def test_each_cause_is_named(name: str):
    findings = diagnose(stopped(name), facts=StaticFacts(log_groups=[(REGION, "/ecs/web")]))
    assert verdict(findings) == CAUSES[name]
    for finding in findings:
        assert CANARY not in finding.message + finding.remediation


@pytest.mark.parametrize("name", ["scale-in", "deployment", "user-stop", "exit-0", "spot-interruption"])
def test_routine_stops_say_nothing(name: str):
    task = stopped(name)
    assert routine_stop(task)
    assert diagnose(task, facts=StaticFacts()) == []


def test_an_oom_in_a_routine_stop_code_is_still_routine_but_an_oom_with_no_code_is_not():
    oom = StoppedContainer("web", 137, "OutOfMemoryError: Container killed due to memory usage")
    assert diagnose(stopped("scale-in", containers=(oom,))) == []
    assert verdict(diagnose(stopped("scale-in", containers=(oom,), stop_code=None))) == [("oom-killed", "web", "oom")]


def test_the_pull_causes():
    assert pull_cause("dial tcp 52.94.224.51:443: i/o timeout") == "network"
    assert pull_cause("toomanyrequests: You have reached your pull rate limit") == "rate-limited"
    assert pull_cause("no matching manifest for linux/arm64/v8 in the manifest list entries") == "platform"
    assert pull_cause("pull access denied for acme/app, repository does not exist") == "access-denied"
    assert pull_cause("manifest for x:1 not found: manifest unknown") == "not-found"
    assert pull_cause("something else entirely") == "other"


def test_the_init_causes():
    td = TaskDefinition.from_api(web())
    assert init_cause("failed to validate logger args: The specified log group does not exist", td) == "log-group"
    assert init_cause("unable to retrieve secrets from ssm: AccessDeniedException: kms:Decrypt", td) == "secrets-kms"
    assert init_cause("unable to retrieve secrets from ssm: invalid parameters: /prod/db", td) == "secrets-not-found"
    assert init_cause("unable to download env file: AccessDenied", td) == "env-files"
    assert init_cause("unable to retrieve ecr registry auth: dial tcp: i/o timeout", td) == "registry-auth-network"


# --------------------------------------------------------------------------------------------- messages


def test_a_secret_in_the_reason_or_the_environment_never_reaches_a_message():
    leaky = f"CannotPullContainerError: failed to resolve ref https://deploy:{CANARY}@registry.example.com/app:1: i/o timeout"
    task = stopped(
        "image-pull-timeout",
        stopped_reason=leaky,
        containers=(StoppedContainer("web", None, leaky, "STOPPED", f"{ECR}/web:1.4.2"),),
    )
    findings = diagnose(task, facts=StaticFacts())
    crash = stopped(
        "essential-exit-1",
        containers=(StoppedContainer("web", 1, f"Error: password={CANARY} rejected"),),
    )
    findings += diagnose(crash)
    assert {f.check for f in findings} == {"image-pull-failed", "essential-container-exited"}
    report = Report(
        task_definition=TaskDefinition.from_api(web()),
        account=ACCOUNT,
        region=REGION,
        actor="ECS",
        event_time=None,
        event_id="e-1",
        findings=findings,
        modes={},
        stopped=task,
    )
    notification = render(report)
    assert CANARY not in notification.text + json.dumps(notification.document) + json.dumps(notification.attributes)


def test_the_pull_timeout_explains_the_path_for_fargate_and_for_ec2():
    [fargate] = diagnose(stopped("image-pull-timeout"))
    assert "com.amazonaws.us-east-1.ecr.dkr" in fargate.message and "S3 gateway" in fargate.message
    assert "subnet-0a1b2c3d4e5f60718" in fargate.message and "assignPublicIp" in fargate.remediation
    [ec2] = diagnose(stopped("image-pull-timeout", launch_type="EC2"), web(requiresCompatibilities=["EC2"]))
    assert "container instance pulls the image" in ec2.message


def test_a_docker_hub_timeout_needs_the_internet_not_endpoints():
    text = "CannotPullContainerError: failed to resolve ref docker.io/library/nginx:1.27: dial tcp: i/o timeout"
    task = stopped("image-pull-timeout", containers=(StoppedContainer("web", None, text, None, "nginx:1.27"),))
    [finding] = diagnose(task, web(containerDefinitions=[{"name": "web", "image": "nginx:1.27"}]))
    assert "no VPC endpoint reaches docker.io" in finding.message and "pull-through cache" in finding.message


def test_a_denied_pull_without_an_execution_role_says_so():
    definition = web()
    del definition["executionRoleArn"]
    [finding] = diagnose(stopped("image-pull-access-denied"), definition)
    assert "no executionRoleArn" in finding.message and '"executionRoleArn"' in finding.remediation


def test_a_private_registry_refusing_an_anonymous_pull_asks_for_repository_credentials():
    text = "CannotPullContainerError: pull access denied for acme/app, repository does not exist: denied"
    task = stopped("image-pull-access-denied", containers=(StoppedContainer("web", None, text, None, "acme/app:3"),))
    [finding] = diagnose(task, web(containerDefinitions=[{"name": "web", "image": "acme/app:3"}]))
    assert "repositoryCredentials" in finding.remediation


def test_not_found_is_confirmed_by_ecr_when_it_can_be_read():
    from ecsguard.facts import EcrImage

    image = f"{ECR}/web:1.4.3"
    facts = StaticFacts(images={image: EcrImage("web", REGION, found=False, not_found_reason="ImageNotFoundException")})
    [finding] = diagnose(stopped("image-pull-not-found"), facts=facts)
    assert "ECR confirms it now: ImageNotFoundException" in finding.message
    assert "web:1.4.3" in finding.message and "describe-images --repository-name web" in finding.remediation


def test_the_missing_log_group_is_named_on_the_firelens_router_and_exists_groups_are_not():
    orders = web(
        family="orders-api",
        containerDefinitions=[
            {"name": "api", "image": f"{ECR}/orders-api:2", "logConfiguration": {"logDriver": "awsfirelens"}},
            {
                "name": "log_router",
                "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
                "firelensConfiguration": {"type": "fluentbit"},
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/firelens"}},
            },
        ],
    )
    [finding] = diagnose(stopped("log-group-missing"), orders, facts=StaticFacts())
    assert (finding.container, finding.data["log_group"], finding.data["region"]) == (
        "log_router",
        "/ecs/firelens",
        REGION,
    )
    [exists] = diagnose(stopped("log-group-missing"), orders, facts=StaticFacts(log_groups=[(REGION, "/ecs/firelens")]))
    assert "log_group" not in exists.data and "exists now" in exists.message


def test_the_secret_is_named_by_its_reference():
    [finding] = diagnose(stopped("secret-access-denied"))
    assert SECRET in finding.message and "secretsmanager:GetSecretValue" in finding.remediation
    assert finding.data["secrets"] == [SECRET]


# --------------------------------------------------------------------------------------------- oom-killed


def test_oom_on_fargate_suggests_the_next_fargate_size():
    [finding] = diagnose(stopped("oom-killed"))
    assert "the task had 512 MiB with 256 CPU units" in finding.message
    assert finding.data["suggestion"] == {"task_cpu": 256, "task_memory": 1024}


def test_oom_at_the_largest_size_for_its_cpu_moves_to_the_next_cpu():
    [finding] = diagnose(stopped("oom-killed"), web(cpu="256", memory="2048"))
    assert finding.data["suggestion"] == {"task_cpu": 512, "task_memory": 3072}
    assert '"cpu" to "512"' in finding.remediation


def test_oom_with_a_container_hard_limit_on_ec2_doubles_it_and_the_task():
    definition = web(requiresCompatibilities=["EC2"], networkMode="bridge", cpu=None, memory=None)
    definition["containerDefinitions"][0]["memory"] = 300
    [finding] = diagnose(stopped("oom-killed", launch_type="EC2", memory=None, cpu=None), definition)
    assert "a hard limit of 300 MiB" in finding.message
    assert finding.data["suggestion"] == {"container_memory": 640}


def test_oom_on_windows_fargate_uses_the_windows_sizes():
    definition = web(cpu="1024", memory="8192", runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"})
    [finding] = diagnose(stopped("oom-killed", cpu="1024", memory="8192"), definition)
    assert finding.data["suggestion"] == {"task_cpu": 2048, "task_memory": 9216}


def test_a_non_essential_sidecar_killed_for_memory_is_not_oom_killed():
    xray = StoppedContainer("xray-daemon", 137, "OutOfMemoryError: Container killed due to memory usage")
    web_ok = StoppedContainer("web", 143)
    assert diagnose(stopped("oom-killed", containers=(web_ok, xray)), checks=("oom-killed",)) == []


# ------------------------------------------------------------------------------- essential-container-exited


def test_an_exit_long_after_start_is_not_reported():
    task = stopped("essential-exit-1", started_at="2026-11-30T07:00:00.000Z")
    assert diagnose(task) == []


def test_an_exit_says_what_the_code_means_and_where_the_log_is():
    [finding] = diagnose(stopped("essential-exit-1", containers=(StoppedContainer("web", 127),)))
    assert "code 127 (the command was not found in the image)" in finding.message
    assert "log group '/ecs/web'" in finding.message and finding.severity == "info"


def test_a_non_essential_container_exiting_is_not_reported():
    assert diagnose(stopped("essential-exit-1", containers=(StoppedContainer("xray-daemon", 1),))) == []


# --------------------------------------------------------------------------------------------- the message


def test_the_subject_and_the_stops_line():
    task = stopped("oom-killed", stops=23, previous_message_at="2026-11-30T08:15:52+00:00", counting_until="x")
    findings = diagnose(task)
    report = Report(
        task_definition=TaskDefinition.from_api(web()),
        account=ACCOUNT,
        region=REGION,
        actor="ECS",
        event_time=None,
        event_id="e-1",
        findings=findings,
        modes={"oom-killed": "notify"},
        stopped=task,
    )
    notification = render(report)
    assert notification.subject == f"[ecsguard] HIGH: web stopped 23x: oom-killed ({ACCOUNT} {REGION})"
    assert "23 stops of this definition for this cause since the previous message" in notification.text
    assert notification.attributes["stops"] == {"DataType": "Number", "StringValue": "23"}
    long = dataclasses.replace(task, group="service:" + "s" * 255)
    assert len(render(dataclasses.replace(report, stopped=long)).subject) < 100


def test_the_window_setting_is_validated():
    assert Settings.from_env({}).diagnosis_window_minutes == 60
    assert Settings.from_env({"ECSGUARD_DIAGNOSIS_WINDOW_MINUTES": "15"}).diagnosis_window_minutes == 15
    for bad in ("0", "-5", "1h", str(7 * 24 * 60 + 1)):
        with pytest.raises(ConfigError, match="ECSGUARD_DIAGNOSIS_WINDOW_MINUTES"):
            Settings.from_env({"ECSGUARD_DIAGNOSIS_WINDOW_MINUTES": bad})


def test_the_metadata():
    for check_id in STOPPED_CHECKS:
        assert CHECKS[check_id].scope == "stopped"
    assert CHECKS["task-init-failed"].default_mode == "remediate" and CHECKS["task-init-failed"].remediable
    assert [CHECKS[c].severity for c in STOPPED_CHECKS] == ["high", "high", "high", "info"]


# --------------------------------------------------------------------------------------------- real corpus

FAILURES = ("oom-killed", "essential-exit-1", "log-group-missing", "image-pull-timeout", "secret-access-denied")
ROUTINE = ("scale-in", "deployment", "user-stop", "exit-0", "spot-interruption")


def corpus() -> list[tuple[str, TaskDefinition]]:
    found = []
    for path in sorted((CORPUS / "taskdefs").glob("*.json")):
        for _label, td in task_definitions_in(json.loads(path.read_bytes().decode("utf-8-sig"))):
            found.append((path.name, td))
    return found


def test_the_diagnosis_over_the_real_corpus():
    """Each stop event replayed on each of the 71 real definitions (on its first container): the failures are named
    on every definition whose first container is essential, routine stops on none; 29 name a concrete awslogs group
    (the others use FireLens, another driver, a placeholder or no logging) that remediate mode would create."""
    fired: dict[str, Counter[str]] = {}
    groups = 0
    definitions = corpus()
    for name in FAILURES + ROUTINE:
        base = stopped(name)
        fired[name] = Counter()
        for label, td in definitions:
            first = td.containers[0]
            container = dataclasses.replace(base.containers[0], name=first.name, image=None)
            task = dataclasses.replace(base, containers=(container,), launch_type="FARGATE" if td.is_fargate else "EC2")
            context = CheckContext(target=label, facts=StaticFacts(), region=REGION, stopped=task)
            for check_id in STOPPED_CHECKS:
                findings = CHECKS[check_id].run(td, context)
                fired[name][check_id] += bool(findings)
                groups += name == "log-group-missing" and any(f.data.get("log_group") for f in findings)
                for finding in findings:
                    assert finding.message and finding.remediation
    assert len(definitions) == 71
    assert {name: dict(+counts) for name, counts in fired.items()} == {
        "oom-killed": {"oom-killed": 70},
        "essential-exit-1": {"essential-container-exited": 70},
        "log-group-missing": {"task-init-failed": 71},
        "image-pull-timeout": {"image-pull-failed": 71},
        "secret-access-denied": {"task-init-failed": 71},
        **{name: {} for name in ROUTINE},
    }
    assert groups == 29
