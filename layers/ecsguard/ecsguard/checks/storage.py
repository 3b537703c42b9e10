"""Storage and network mode: EFS volumes mounted without encryption in transit, tasks outside awsvpc."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..model import Finding, TaskDefinition
from .logging import templated
from .registry import CheckContext, check

DOCS_EFS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html"
DOCS_NETWORK = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking.html"


def _volumes(task_definition: TaskDefinition) -> list[Mapping]:
    volumes = task_definition.raw.get("volumes")
    return [v for v in volumes if isinstance(v, Mapping)] if isinstance(volumes, list) else []


@check(
    id="efs-transit-encryption-disabled",
    title="EFS volume mounted without encryption in transit",
    severity="medium",
    mistake=3,
    rationale=(
        "An EFS volume without transitEncryption is mounted over plain NFS: the files the task reads and writes "
        "cross the network unencrypted. Same verdict as AWS Config's ecs-task-definition-efs-encryption-enabled "
        "and Security Hub's ECS.18 (any EFS volume whose transitEncryption is not ENABLED), applied to every revision ecsguard sees rather "
        "than the latest active one."
    ),
    remediation=(
        'Set "transitEncryption": "ENABLED" in the volume\'s efsVolumeConfiguration (it is required with IAM '
        "authorization or an access point), and consider an EFS access point with IAM authorization."
    ),
    docs=DOCS_EFS,
    config_rules=("ecs-task-definition-efs-encryption-enabled",),
    security_hub=("ECS.18",),
)
def efs_transit_encryption_disabled(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    for index, volume in enumerate(_volumes(task_definition)):
        efs = volume.get("efsVolumeConfiguration")
        if not isinstance(efs, Mapping):
            continue
        setting = efs.get("transitEncryption")
        if isinstance(setting, str) and setting.upper() == "ENABLED":
            continue
        if isinstance(setting, str) and setting.upper() != "DISABLED" and templated(setting):
            continue  # ${TRANSIT}: filled in later, not judged (a bare DISABLED is the value, not a placeholder)
        name = volume.get("name") if isinstance(volume.get("name"), str) else f"volumes[{index}]"
        state = f"is {setting}" if isinstance(setting, str) and setting else "is not set (the default is DISABLED)"
        yield efs_transit_encryption_disabled.finding(
            context,
            f"EFS volume '{name}' (file system {efs.get('fileSystemId', 'unknown')}): transitEncryption {state}, "
            "so its NFS traffic is not encrypted.",
            field=f"volumes.{name}.efsVolumeConfiguration.transitEncryption",
        )


@check(
    id="network-mode-not-awsvpc",
    title="Task does not use the awsvpc network mode",
    severity="info",
    mistake=8,
    rationale=(
        "Only awsvpc gives each task its own network interface and security groups; in bridge mode every task on "
        "an instance shares the instance's security groups, and VPC flow logs cannot tell the tasks apart. Same "
        "verdict as AWS Config's ecs-awsvpc-networking-enabled and Control Tower's CT.ECS.PR.4. Informational: "
        "bridge mode on EC2 is a legitimate choice (port mapping, density); host mode is reported by "
        "host-namespace."
    ),
    remediation=(
        'Set "networkMode": "awsvpc" and give the service or RunTask call a networkConfiguration with subnets and '
        "security groups; on EC2, mind the instance's ENI limits (or enable ENI trunking)."
    ),
    docs=DOCS_NETWORK,
    config_rules=("ecs-awsvpc-networking-enabled",),
    control_tower=("CT.ECS.PR.4",),
)
def network_mode_not_awsvpc(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    mode = task_definition.network_mode
    if task_definition.is_fargate or (mode or "").lower() == "awsvpc" or templated(mode):
        return  # Fargate accepts awsvpc only: a definition for it cannot be anything else
    if (mode or "").lower() == "host":
        return  # host-namespace reports it, with the privilege consequence
    shown = f"uses network mode {mode}" if mode else "sets no networkMode (bridge on Linux EC2, default on Windows)"
    yield network_mode_not_awsvpc.finding(
        context,
        f"The task {shown}: its containers share the instance's network identity and security groups.",
        field="networkMode",
    )
