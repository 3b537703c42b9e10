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
    assert init_cause("unable to download env file: AccessDenied", td) == "env-files-denied"
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


# ------------------------------------------------------------------------- the table of real stop reasons
#
# Reasons as ECS writes them (Fargate platform 1.4 and later, the EC2 container agent wrapping Docker, the newer
# agents' "The task can't pull ..." wording), gathered from AWS's pages (stopped-task-error-codes,
# task_cannot_pull_image, resource-initialization-error, the re:Post articles on CannotPullContainerError, rate
# limits, "unable to pull secrets or registry auth" and stopped tasks) and the ECS agent's own error texts. Each
# goes through the real path, policy.evaluate(scope="stopped"), and names its verdict: (check, cause) pairs, or
# nothing for a routine stop or a cause ecsguard does not diagnose.

HEX = "2bb501e6429" + "0" * 53
SM_DENIED = (
    "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/web-execution/4d5e6f7a is not authorized to "
    f"perform: secretsmanager:GetSecretValue on resource: {SECRET} because no identity-based policy allows the "
    "secretsmanager:GetSecretValue action"
)
ASM = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
IMG = f"{ECR}/web:1.4.2"


def _c(reason: str | None = None, exit_code: int | None = None, name: str = "web") -> StoppedContainer:
    return StoppedContainer(name, exit_code, reason, "STOPPED", IMG if name == "web" else None)


def _task(code: str | None, reason: str | None, containers=None, launch_type: str = "FARGATE") -> StoppedTask:
    base = stopped("essential-exit-1")
    return dataclasses.replace(
        base,
        stop_code=code,
        stopped_reason=reason,
        containers=tuple(containers) if containers is not None else (_c(reason),),
        launch_type=launch_type,
    )


PULL = "TaskFailedToStart"
TABLE: list[tuple[str, StoppedTask, set[tuple[str, str]]]] = [
    # --- CannotPullContainerError: the network path
    ("pull-manifest-io-timeout", _task(PULL, f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {IMG}: failed to do request: Head \"https://{ECR}/v2/web/manifests/1.4.2\": dial tcp 10.0.3.17:443: i/o timeout"), {("image-pull-failed", "network")}),
    ("pull-api-500-request-canceled", _task(PULL, f"CannotPullContainerError: API error (500): Get https://{ECR}/v2/: net/http: request canceled while waiting for connection"), {("image-pull-failed", "network")}),
    ("pull-context-canceled", _task(PULL, "CannotPullContainerError: context canceled"), {("image-pull-failed", "network")}),
    ("pull-new-wording-layers-s3", _task(PULL, f"CannotPullContainerError: The task cannot pull {IMG}@sha256:{HEX} from the registry {IMG}@sha256:{HEX}. There is a connection issue between the task and the registry. Check your task network configuration. : failed to copy: httpReadSeeker: failed open: failed to do request: Get \"https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/x\": dial tcp 16.15.180.104:443: i/o timeout"), {("image-pull-failed", "network")}),
    ("pull-dns-no-such-host", _task(PULL, f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref {IMG}: failed to do request: Head \"https://{ECR}/v2/web/manifests/1.4.2\": dial tcp: lookup {ECR} on 10.0.0.2:53: no such host"), {("image-pull-failed", "network")}),
    ("pull-ec2-daemon-request-canceled", _task("EssentialContainerExited", "Essential container in task exited", [_c(f"CannotPullContainerError: Error response from daemon: Get https://{ECR}/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)")], "EC2"), {("image-pull-failed", "network")}),
    # --- the image or tag
    ("pull-not-found-tag", _task(PULL, f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref {ECR}/web:1.4.3: not found"), {("image-pull-failed", "not-found")}),
    ("pull-not-found-pinned-digest", _task(PULL, f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref {IMG}@sha256:{HEX}: not found"), {("image-pull-failed", "not-found")}),
    ("pull-ec2-manifest-unknown", _task(PULL, f"CannotPullContainerError: Error response from daemon: manifest for {ECR}/web:1.4.3 not found: manifest unknown: Requested image not found", launch_type="EC2"), {("image-pull-failed", "not-found")}),
    ("pull-api-404-repository", _task(PULL, f"CannotPullContainerError: API error (404): repository {ECR}/web not found"), {("image-pull-failed", "not-found")}),
    ("pull-ecr-name-unknown", _task(PULL, f"CannotPullContainerError: Error response from daemon: repository {ECR}/webb not found: name unknown: The repository with name 'webb' does not exist in the registry with id '123456789012'"), {("image-pull-failed", "not-found")}),
    ("pull-agent-check-image-exists", _task(PULL, "CannotPullContainerError: The task can’t pull the image. Check whether the image exists. Error response from daemon: pull access denied for acme/nonsense, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"), {("image-pull-failed", "not-found")}),
    ("pull-words-in-the-name-do-not-decide", _task(PULL, f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref {ECR}/auth-denied-timeout:403: not found"), {("image-pull-failed", "not-found")}),
    # --- the pull is denied
    ("pull-denied-batchgetimage", _task(PULL, f"CannotPullContainerError: The task can’t pull the image. Check that the role has the permissions to pull images from the registry. Error response from daemon: pull access denied for {ECR}/web, repository does not exist or may require 'docker login': denied: User: arn:aws:sts::123456789012:assumed-role/web-execution/xyz is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/web because no identity-based policy allows the ecr:BatchGetImage action"), {("image-pull-failed", "access-denied")}),
    ("pull-403-forbidden", _task(PULL, f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref {IMG}: pulling from host {ECR} failed with status code [manifests 1.4.2]: 403 Forbidden"), {("image-pull-failed", "access-denied")}),
    ("pull-ghcr-anonymous-401", _task(PULL, "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ghcr.io/acme/web:1.4.2: failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token?scope=repository%3Aacme%2Fweb%3Apull&service=ghcr.io: 401 Unauthorized"), {("image-pull-failed", "access-denied")}),
    ("pull-ec2-no-basic-auth", _task(PULL, f"CannotPullContainerError: Error response from daemon: Get https://{ECR}/v2/web/manifests/1.4.2: no basic auth credentials", launch_type="EC2"), {("image-pull-failed", "access-denied")}),
    ("pull-docker-hub-private-or-missing", _task(PULL, "CannotPullContainerError: Error response from daemon: pull access denied for acme/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", launch_type="EC2"), {("image-pull-failed", "access-denied")}),
    # --- the registry's limit, the platform, the disk
    ("pull-docker-hub-rate-limit", _task(PULL, f"CannotPullContainerError: inspect image has been retried 5 time(s): httpReaderSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/sha256:{HEX}: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"), {("image-pull-failed", "rate-limited")}),
    ("pull-no-platform-variant", _task(PULL, "CannotPullContainerError: pull image manifest has been retried 1 time(s): image Manifest does not contain descriptor matching platform 'linux/arm64'"), {("image-pull-failed", "platform")}),
    ("pull-ec2-no-space", _task(PULL, "CannotPullContainerError: write /var/lib/docker/tmp/GetImageBlob111111111: no space left on device", launch_type="EC2"), {("image-pull-failed", "disk-full")}),
    # --- ResourceInitializationError: logs
    ("init-log-group-missing", _task(PULL, "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist."), {("task-init-failed", "log-group")}),
    ("init-ec2-logging-driver-group-missing", _task("EssentialContainerExited", "Essential container in task exited", [_c("CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.")], "EC2"), {("task-init-failed", "log-group")}),
    ("init-log-stream-denied", _task(PULL, "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/web-execution/x is not authorized to perform: logs:CreateLogStream on resource: arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:log-stream:web/web/4d5e"), {("task-init-failed", "log-access-denied")}),
    ("init-log-create-group-denied", _task(PULL, "ResourceInitializationError: failed to validate logger args: failed to create Cloudwatch log group: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/web-execution/x is not authorized to perform: logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web"), {("task-init-failed", "log-create-denied")}),
    ("init-log-region-required", _task(PULL, "ResourceInitializationError: failed to validate logger args: unable to get awslogs driver arguments: awslogs-region is required"), {("task-init-failed", "log-config")}),
    ("init-log-timeout", _task(PULL, "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: RequestError: send request failed caused by: Post \"https://logs.us-east-1.amazonaws.com/\": dial tcp 52.46.1.9:443: i/o timeout"), {("task-init-failed", "log-network")}),
    # --- secrets
    ("init-asm-denied", _task(PULL, f"{ASM}unable to retrieve secret from asm: service call has been retried 1 time(s): {SM_DENIED}"), {("task-init-failed", "secrets-access-denied")}),
    ("init-ssm-denied", _task(PULL, f"{ASM}unable to retrieve secrets from ssm: service call has been retried 1 time(s): operation error SSM: GetParameters, https response error StatusCode: 400, RequestID: 1f2e, api error AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/web-execution/x is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:us-east-1:123456789012:parameter/prod/web/DATABASE_URL because no identity-based policy allows the ssm:GetParameters action"), {("task-init-failed", "secrets-access-denied")}),
    ("init-ssm-kms-ciphertext", _task(PULL, f"{ASM}unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException: The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access."), {("task-init-failed", "secrets-kms")}),
    ("init-asm-kms-not-allowed", _task(PULL, f"{ASM}unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {SECRET} from secrets manager: AccessDeniedException: Access to KMS is not allowed"), {("task-init-failed", "secrets-kms")}),
    ("init-asm-not-found", _task(PULL, f"{ASM}unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {SECRET} from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret."), {("task-init-failed", "secrets-not-found")}),
    ("init-asm-no-awscurrent", _task(PULL, f"{ASM}unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {SECRET} from secrets manager: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, RequestID: 047440d4, ResourceNotFoundException: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"), {("task-init-failed", "secrets-not-found")}),
    ("init-ssm-invalid-parameters", _task(PULL, f"{ASM}unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid parameters: /prod/web/db"), {("task-init-failed", "secrets-not-found")}),
    ("init-asm-json-key-missing", _task(PULL, f"{ASM}unable to retrieve secret from asm: service call has been retried 1 time(s): retrieved secret from Secrets Manager did not contain json key password"), {("task-init-failed", "secrets-not-found")}),
    ("init-asm-invalid-version-id", _task(PULL, f"{ASM}unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {SECRET} from secrets manager: InvalidParameter: 1 validation error(s) found. - minimum field size of 32, GetSecretValueInput.VersionId."), {("task-init-failed", "secrets-invalid")}),
    ("init-ssm-deadline", _task(PULL, f"{ASM}unable to retrieve secrets from ssm: service call has been retried 5 time(s): RequestCanceled: request context canceled caused by: context deadline exceeded"), {("task-init-failed", "secrets-network")}),
    ("init-asm-new-sdk-deadline", _task(PULL, f"{ASM}unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {SECRET} from secrets manager: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 0, RequestID: , canceled, context deadline exceeded"), {("task-init-failed", "secrets-network")}),
    ("init-pull-command-killed", _task(PULL, "ResourceInitializationError: unable to pull secrets or registry auth: pull command failed: : signal: killed"), {("task-init-failed", "network")}),
    # --- registry authorization
    ("init-ecr-auth-timeout", _task(PULL, f"{ASM}unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post \"https://api.ecr.us-east-1.amazonaws.com/\": dial tcp 52.46.1.1:443: i/o timeout. Please check your task network configuration."), {("task-init-failed", "registry-auth-network")}),
    ("init-ecr-auth-new-wording", _task(PULL, "ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull registry auth from Amazon ECR: There is a connection issue between the task and Amazon ECR. Check your task network configuration. operation error ECR: GetAuthorizationToken, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post \"https://api.ecr.us-east-1.amazonaws.com/\": dial tcp 44.213.79.104:443: i/o timeout"), {("task-init-failed", "registry-auth-network")}),
    ("init-ecr-auth-denied", _task(PULL, f"{ASM}unable to retrieve ecr registry auth: service call has been retried 3 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/web-execution/x is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action"), {("task-init-failed", "registry-auth-denied")}),
    # --- environment files, EFS, the network interface
    ("init-env-files-denied", _task(PULL, "ResourceInitializationError: failed to download env files: file download command: non empty error stream: service call has been retried 5 time(s): AccessDenied: Access Denied"), {("task-init-failed", "env-files-denied")}),
    ("init-efs-resolve", _task(PULL, "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: Failed to resolve \"fs-0123456789abcdef0.efs.us-east-1.amazonaws.com\" - check that your file system ID is correct"), {("task-init-failed", "efs")}),
    ("eni-provisioning-timeout", _task(PULL, "Timeout waiting for network interface provisioning to complete.", [_c(None)]), {("task-init-failed", "eni")}),
    # --- a container that cannot start
    ("start-fargate-exec-not-found", _task(PULL, "CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/app/start.sh\": stat /app/start.sh: no such file or directory: unknown"), {("essential-container-exited", "command-not-found")}),
    ("start-ec2-port-allocated", _task("EssentialContainerExited", "Essential container in task exited", [_c("CannotStartContainerError: Error response from daemon: driver failed programming external connectivity on endpoint ecs-web-7-web-a1b2: Bind for 0.0.0.0:80 failed: port is already allocated")], "EC2"), {("essential-container-exited", "port-in-use")}),
    ("start-unknown-user", _task("EssentialContainerExited", "Essential container in task exited", [_c("CannotStartContainerError: Error response from daemon: unable to find user app: no matching entries in passwd file")], "EC2"), {("essential-container-exited", "user-not-found")}),
    ("start-runtime-timeout", _task(PULL, "ContainerRuntimeTimeoutError: Could not transition to running; timed out after waiting 1m: context deadline exceeded"), {("essential-container-exited", "start-timeout")}),
    ("start-ec2-docker-timeout", _task("EssentialContainerExited", "Essential container in task exited", [_c("DockerTimeoutError: Could not transition to started; timed out after waiting 3m0s")], "EC2"), {("essential-container-exited", "start-timeout")}),
    # --- memory and exits
    ("oom-fargate", _task("EssentialContainerExited", "Essential container in task exited", [_c("OutOfMemoryError: Container killed due to memory usage", 137), _c(None, 143, "xray-daemon")]), {("oom-killed", "oom")}),
    ("oom-ec2-no-stop-code", _task(None, "Essential container in task exited", [_c("OutOfMemoryError: Container killed due to memory usage", 137)], "EC2"), {("oom-killed", "oom")}),
    ("exit-1-sidecar-sigterm", _task("EssentialContainerExited", "Essential container in task exited", [_c(None, 1), _c(None, 143, "xray-daemon")]), {("essential-container-exited", "exit-1")}),
    # --- routine, or not diagnosed: silent
    ("routine-scale-in", _task("ServiceSchedulerInitiated", "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)", [_c(None, 143)]), set()),
    ("routine-scale-in-no-code", _task(None, "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)", [_c(None, 137)]), set()),
    ("routine-user-stop", _task("UserInitiated", "Task stopped by user", [_c(None, 143)]), set()),
    ("routine-spot", _task("SpotInterruption", "Your Spot Task was interrupted.", [_c(None, 143)]), set()),
    ("routine-host-terminated", _task(None, "Host EC2 (instance i-0123456789abcdef0) stopped/terminated.", [_c(None, 137)], "EC2"), set()),
    ("routine-infrastructure-health", _task("InfrastructureHealth", "Task stopped due to unhealthy infrastructure", [_c(None, 143)]), set()),
    ("undiagnosed-elb-health-check", _task("ServiceSchedulerInitiated", "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef)", [_c(None, 143)]), set()),
    ("undiagnosed-container-health-check", _task(None, "Task failed container health checks", [_c(None, 143)]), set()),
    ("routine-batch-done-sidecar-stopped", _task("EssentialContainerExited", "Essential container in task exited", [_c(None, 0), _c(None, 143, "xray-daemon")]), set()),
    ("info-internal-error", _task(PULL, "InternalError: Fargate encountered an unexpected error while starting the task"), {("essential-container-exited", "runtime-error")}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "task", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_the_table_of_real_stop_reasons(name: str, task: StoppedTask, expected: set[tuple[str, str]]):
    from ecsguard.policy import evaluate

    groups = [(REGION, "/ecs/web")] if "log-group" not in name else []
    findings, _ = evaluate(
        TaskDefinition.from_api(web()),
        Settings.from_env({}),
        StaticFacts(log_groups=groups),
        REGION,
        scope="stopped",
        stopped=task,
    )
    assert {(f.check, f.data.get("cause", "")) for f in findings} == expected
    routine = routine_stop(task)
    assert bool(routine) == (not expected and name.startswith(("routine", "undiagnosed")))
    for finding in findings:
        assert finding.message and finding.remediation
        # The reason text is never repeated: no run of its words beyond what the definition names.
        for text in [task.stopped_reason or ""] + [c.reason or "" for c in task.containers]:
            tail = text.split(": ", 1)[-1]
            assert len(tail) < 40 or tail not in finding.message + finding.remediation


NEW_LOGGER = (
    "ResourceInitializationError: failed to validate logger args: The task cannot find the Amazon CloudWatch log group "
    "defined in the task definition. There is a connection issue between the task and Amazon CloudWatch. Check your "
    "network configuration. : signal: killed"
)


def test_the_newer_either_or_log_group_message_is_decided_by_whether_the_group_exists():
    task = _task(PULL, NEW_LOGGER)
    [missing] = diagnose(task, facts=StaticFacts())
    assert (missing.data["cause"], missing.data["log_group"]) == ("log-group", "/ecs/web")
    assert "com.amazonaws.us-east-1.logs" in missing.message  # it may also be the network: said, not hidden
    [reachable] = diagnose(task, facts=StaticFacts(log_groups=[(REGION, "/ecs/web")]))
    assert reachable.data["cause"] == "log-network" and "log_group" not in reachable.data


def test_who_is_paged_for_a_task_that_cannot_start():
    def severity(task: StoppedTask) -> list[str]:
        return [f.severity for f in diagnose(task, facts=StaticFacts(log_groups=[(REGION, "/ecs/web")]))]

    rows = {row[0]: row[1] for row in TABLE}
    assert severity(rows["start-fargate-exec-not-found"]) == ["high"]
    assert severity(rows["start-runtime-timeout"]) == ["medium"]
    assert severity(rows["eni-provisioning-timeout"]) == ["medium"]
    assert severity(rows["info-internal-error"]) == ["info"]
    assert severity(rows["exit-1-sidecar-sigterm"]) == ["info"]


def test_an_essential_envoy_stopped_by_ecs_is_a_consequence_not_a_cause():
    definition = web()
    definition["containerDefinitions"].append(
        {"name": "envoy", "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29"}
    )
    task = _task(
        "EssentialContainerExited", "Essential container in task exited", [_c(None, 1), _c(None, 143, "envoy")]
    )
    assert verdict(diagnose(task, definition)) == [("essential-container-exited", "web", "exit-1")]
    alone = _task(
        "EssentialContainerExited", "Essential container in task exited", [_c(None, 0), _c(None, 143, "envoy")]
    )
    assert diagnose(alone, definition) == []


def test_the_message_says_what_each_cause_means():
    rows = {row[0]: row[1] for row in TABLE}

    def one(name: str):
        [finding] = diagnose(rows[name], facts=StaticFacts(log_groups=[(REGION, "/ecs/web")]))
        return finding

    assert "S3 gateway endpoint com.amazonaws.us-east-1.s3" in one("pull-new-wording-layers-s3").message
    assert "enableDnsSupport" in one("pull-dns-no-such-host").message
    assert "pins a service's tag to the digest" in one("pull-not-found-pinned-digest").message
    assert "Docker reports both" not in one("pull-denied-batchgetimage").message
    assert '"ephemeralStorage"' not in one("pull-ec2-no-space").remediation
    assert "logs:CreateLogGroup" in one("init-log-create-group-denied").remediation
    assert "AWSCURRENT" in one("init-asm-no-awscurrent").remediation
    assert SECRET in one("init-asm-denied").message
    assert '"hostPort": 0' in one("start-ec2-port-allocated").remediation
