"""Runtime user and privileges (mistake 8): what a compromised container could do to its host.

``runs-as-root`` (the user a container runs as; when the definition sets none, the image's own USER
decides, read from ECR when AWS can be read), ``privileged-container``, ``root-filesystem-writable``,
``host-namespace`` (pid, IPC and network namespaces shared with the container instance) and
``dangerous-capabilities`` (Linux capabilities added beyond Docker's default set).

Windows task definitions are judged as Windows: ContainerAdministrator is their root, and the
Linux-only parameters (readonlyRootFilesystem, linuxParameters) are not judged there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..facts import Unknown
from ..imageref import task_platform
from ..model import Container, Finding, TaskDefinition
from .logging import templated
from .registry import CheckContext, check

DOCS_SECURITY = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html"
    "#container_definition_security"
)
DOCS_BEST_PRACTICES = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-tasks-containers.html"
DOCS_CAPABILITIES = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_KernelCapabilities.html"

_EXEMPT_HINT = (
    "If this is deliberate for this family (some monitoring agents document it), exempt it with the task "
    "definition tag ecsguard:ignore={check}."
)

# ------------------------------------------------------------------------------------------ users


def linux_root(user: str) -> bool:
    """``root``, ``0``, ``0:0``, ``root:staff``, ``0:1000`` (any case, any spacing): UID 0 inside the container.

    A group of 0 with a non-root user (``1000:0``) is not root. A name other than root passes: it could
    map to UID 0 in the image's /etc/passwd, but guessing that would accuse every named user.
    """
    name = user.strip().partition(":")[0].strip()
    return name.lower() == "root" or (name.isdigit() and int(name) == 0)


def windows_admin(user: str) -> bool:
    """ContainerAdministrator is the administrator account of Windows containers (ContainerUser is not)."""
    return user.strip().lower() == "containeradministrator"


def _uid_note(user: str) -> str:
    name = user.strip().partition(":")[0].strip()
    return "" if name.lower() == "root" else " (UID 0, root)"


def _container_user(container: Container) -> str | None:
    """The container's ``user`` as written, None when unset (an empty string is unset for ECS too)."""
    user = (container.user or "").strip()
    return user or None


_LINUX_FIX = (
    'Run the container as a non-root user: set "user": "1000:1000" (a UID and GID the image can run as) in the '
    'container definition, or build the image with a non-root USER instruction and leave "user" unset. '
    "Give the files the process writes to that user, and listen on ports above 1024."
)
_WINDOWS_FIX = (
    'Set "user": "ContainerUser" in the container definition (or a USER ContainerUser instruction in the image) '
    "and grant that account the files and ports the application needs."
)


@check(
    id="runs-as-root",
    title="Container runs as root",
    severity="medium",
    mistake=8,
    rationale=(
        "A process running as root (UID 0; ContainerAdministrator on Windows) owns its container and keeps root's "
        "powers against the host's kernel: one compromise or container-escape flaw makes it root on the instance. "
        "With no user in the definition the image's USER decides, and most images set none. AWS Config "
        "ecs-task-definition-nonroot-user and ecs-task-definition-linux-user-non-root, Security Hub ECS.20 and "
        "Control Tower CT.ECS.PR.3 fail any container whose user is unset or root (ECS.21 and "
        "ecs-task-definition-windows-user-non-admin: unset or ContainerAdministrator); ecsguard differs in that it "
        "reads the image's USER in ECR before accusing an unset one (passing an image whose USER is not root, and "
        "reporting at low, never paging, what it cannot read), counts every UID 0 spelling as root (0:0, root:group, "
        "any case) and judges every launch type, not only EC2."
    ),
    remediation=_LINUX_FIX,
    docs=DOCS_SECURITY,
    needs_facts=False,  # runs offline too: then the image's default user decides, and the finding says so
    config_rules=(
        "ecs-task-definition-nonroot-user",
        "ecs-task-definition-linux-user-non-root",
        "ecs-task-definition-windows-user-non-admin",
    ),
    security_hub=("ECS.20", "ECS.21"),
    control_tower=("CT.ECS.PR.3",),
    aws_calls=("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
)
def runs_as_root(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    windows = task_definition.is_windows
    platform = task_platform(task_definition.os_family, task_definition.cpu_architecture)
    for container in task_definition.containers:
        user = _container_user(container)
        if user is not None and templated(user) and not (windows_admin(user) or linux_root(user)):
            continue  # filled in later: never judged ("ROOT" reads like a placeholder but is root)
        if windows:
            finding = _windows_user(container, user, context, platform)
        else:
            finding = _linux_user(container, user, context, platform)
        if finding is not None:
            yield finding


def _linux_user(container: Container, user: str | None, context: CheckContext, platform: str) -> Finding | None:
    name = container.name
    if user is not None:
        if not linux_root(user):
            return None
        return runs_as_root.finding(
            context,
            f"Container '{name}' runs as root: the task definition sets user '{user}'{_uid_note(user)}, so every "
            "process in it has root's powers inside the container and against the host's kernel.",
            container=name,
            field="user",
            user=user,
            user_source="task definition",
        )
    verdict = _image_user(container, context, platform)
    if verdict.user is not None:
        if not linux_root(verdict.user) and verdict.user != "":
            return None  # the image's own USER is not root
        said = "sets no USER, so it runs as root" if verdict.user == "" else f"sets USER '{verdict.user}' (root)"
        return runs_as_root.finding(
            context,
            f"Container '{name}' runs as root: the task definition sets no user and the image's config"
            f"{verdict.where} {said}.",
            container=name,
            field="user",
            user=verdict.user,
            user_source=verdict.source,
        )
    return runs_as_root.finding(
        context,
        f"Container '{name}' sets no user: {verdict.why}, so the image's default user decides (root unless its "
        "Dockerfile sets USER).",
        container=name,
        field="user",
        severity="low",
        user=None,
        user_source=verdict.source,
        **verdict.extra,
    )


def _windows_user(container: Container, user: str | None, context: CheckContext, platform: str) -> Finding | None:
    name = container.name
    if user is not None:
        if not windows_admin(user):
            return None
        return runs_as_root.finding(
            context,
            f"Windows container '{name}' runs as its administrator: the task definition sets user '{user}', the "
            "account with full control of the container.",
            container=name,
            field="user",
            remediation=_WINDOWS_FIX,
            user=user,
            user_source="task definition",
        )
    verdict = _image_user(container, context, platform)
    if verdict.user is not None:
        if verdict.user != "" and not windows_admin(verdict.user):
            return None
        said = (
            "sets no user, so it runs as ContainerAdministrator"
            if verdict.user == ""
            else f"sets user '{verdict.user}', the administrator account"
        )
        return runs_as_root.finding(
            context,
            f"Windows container '{name}' runs as its administrator: the task definition sets no user and the image's "
            f"config{verdict.where} {said}.",
            container=name,
            field="user",
            remediation=_WINDOWS_FIX,
            user=verdict.user,
            user_source=verdict.source,
        )
    return runs_as_root.finding(
        context,
        f"Windows container '{name}' sets no user: {verdict.why}, so the image's default user decides (Windows "
        "Server Core images run as ContainerAdministrator, Nano Server images as ContainerUser).",
        container=name,
        field="user",
        severity="low",
        remediation=_WINDOWS_FIX,
        user=None,
        user_source=verdict.source,
        **verdict.extra,
    )


@dataclass(frozen=True, slots=True)
class _ImageUser:
    """What decided (or failed to decide) an unset user: ``user`` is the image's USER ("" = none) or None.

    ``source`` goes in the finding's data; ``why`` (no USER read) or ``where`` (a USER read: which platform
    entry of a multi-platform image) go in its message.
    """

    user: str | None
    source: str
    why: str = ""
    where: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def _image_user(container: Container, context: CheckContext, platform: str) -> _ImageUser:
    image = (container.image or "").strip()
    if context.facts is None:
        return _ImageUser(None, "not read (offline)", "ecsguard ran without AWS and could not read the image's USER")
    if not image or templated(image):
        return _ImageUser(None, "not read (placeholder)", "the image reference is a placeholder")
    answer = context.facts.ecr_image(image, platform=platform)
    if isinstance(answer, Unknown):
        return _ImageUser(
            None,
            "not read",
            f"ecsguard could not read the image's USER from ECR ({answer.reason})",
            extra={"unverified": True, "reason": answer.reason},
        )
    if answer is None:
        return _ImageUser(None, "not in ECR", f"the image {image} is not in ECR")
    if not answer.found:
        because = f" ({answer.not_found_reason})" if answer.not_found_reason else ""
        return _ImageUser(None, "not found in ECR", f"the image {image} was not found in ECR{because}")
    if answer.user is None:
        reason = answer.user_reason or "the image config could not be read"
        return _ImageUser(
            None,
            "not read",
            f"ecsguard could not read the image's USER from ECR ({reason})",
            extra={"unverified": True, "reason": reason},
        )
    where = f" (its {answer.platform})" if answer.platform else ""
    return _ImageUser(answer.user.strip(), answer.user_source or "image config", where=where)


# ------------------------------------------------------------------------------------- privileged


@check(
    id="privileged-container",
    title="Privileged container",
    severity="high",
    mistake=8,
    rationale=(
        "privileged: true gives the container every Linux capability and the host's devices, with the usual "
        "confinement (seccomp, AppArmor) lifted: whoever compromises it controls the container instance and every "
        "task on it. Same verdict as AWS Config ecs-containers-nonprivileged, Security Hub ECS.4, Control Tower "
        "CT.ECS.PR.11 and Prowler ecs_task_definitions_no_privileged_containers (privileged is true)."
    ),
    remediation=(
        'Remove "privileged": true (or set it to false). If the container needs one specific power, add only that '
        "capability under linuxParameters.capabilities.add, and run it as a non-root user."
    ),
    docs=DOCS_SECURITY,
    config_rules=("ecs-containers-nonprivileged",),
    security_hub=("ECS.4",),
    control_tower=("CT.ECS.PR.11",),
    prowler=("ecs_task_definitions_no_privileged_containers",),
)
def privileged_container(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    where = ""
    if task_definition.is_fargate:
        where = " Fargate does not support privileged containers: this definition cannot run on Fargate as it is."
    elif task_definition.is_windows:
        where = " Windows containers do not support privileged mode: this definition cannot run as it is."
    for container in task_definition.containers:
        if container.privileged is not True:
            continue
        yield privileged_container.finding(
            context,
            f"Container '{container.name}' is privileged: it gets every Linux capability and the host's devices, so "
            f"anyone who compromises it controls the container instance and the other tasks on it.{where}",
            container=container.name,
            field="privileged",
            remediation=privileged_container.remediation + " " + _EXEMPT_HINT.format(check="privileged-container"),
        )


# ----------------------------------------------------------------------------------- root filesystem


@check(
    id="root-filesystem-writable",
    title="Container root filesystem is writable",
    severity="low",  # hardening advice that nearly every real definition violates: it never pages on its own
    mistake=8,
    rationale=(
        "With a writable root filesystem an intruder can replace the application's files and drop tools that stay "
        "until the task stops; a read-only root limits writes to the volumes you mount on purpose. Same verdict as "
        "Security Hub ECS.5, Control Tower CT.ECS.PR.6 and Prowler ecs_task_definitions_containers_readonly_access "
        "(readonlyRootFilesystem not true, absent included; AWS Config ecs-containers-readonly-access documents only "
        "an explicit false), except that Windows containers are not judged: the parameter is not supported there."
    ),
    remediation=(
        'Set "readonlyRootFilesystem": true and give the paths the application writes to a volume: add '
        '{"name": "tmp"} to the task\'s "volumes" and "mountPoints": [{"sourceVolume": "tmp", "containerPath": '
        '"/tmp"}] to the container. Start it once to find what else it writes (caches, pid files).'
    ),
    docs=DOCS_SECURITY,
    config_rules=("ecs-containers-readonly-access",),
    security_hub=("ECS.5",),
    control_tower=("CT.ECS.PR.6",),
    prowler=("ecs_task_definitions_containers_readonly_access",),
)
def root_filesystem_writable(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    if task_definition.is_windows:
        return  # readonlyRootFilesystem is not supported for Windows containers
    for container in task_definition.containers:
        if container.readonly_root_filesystem is True:
            continue
        how = "false" if container.readonly_root_filesystem is False else "not set"
        yield root_filesystem_writable.finding(
            context,
            f"Container '{container.name}' can write to its root filesystem (readonlyRootFilesystem is {how}): an "
            "intruder can change its files and leave tools behind for as long as the task runs.",
            container=container.name,
            field="readonlyRootFilesystem",
        )


# ------------------------------------------------------------------------------------ host namespaces


def _host_network_root_containers(task_definition: TaskDefinition) -> list[tuple[str, str]]:
    """Containers that fail ECS.1 / CT.ECS.PR.8 in host network mode: not privileged, user unset or root."""
    failing = []
    for container in task_definition.containers:
        if container.privileged is True:
            continue  # "opted in to elevated privileges" for ECS.1; privileged-container reports it anyway
        user = _container_user(container)
        if user is None:
            failing.append((container.name, "no user set: the image's default user, root unless it sets USER"))
        elif not templated(user) and linux_root(user):
            failing.append((container.name, f"user '{user}'"))
    return failing


@check(
    id="host-namespace",
    title="Task shares a host namespace (pid, IPC or network)",
    severity="high",
    mistake=8,
    rationale=(
        "pidMode host lets the task's containers see, signal and (as root) trace every process on the instance, the "
        "ECS agent and other tasks included; ipcMode host shares the host's shared memory; networkMode host puts them "
        "on the instance's own network stack, where they bind its ports, see its traffic and reach services on its "
        "loopback interface. pidMode host: same verdict as Security Hub ECS.3, AWS Config "
        "ecs-task-definition-pid-mode-check, CT.ECS.PR.10 and Prowler ecs_task_definitions_host_namespace_not_shared. "
        "networkMode host: what Security Hub ECS.1, Config ecs-task-definition-user-for-host-mode-check, CT.ECS.PR.8 "
        "and Prowler ecs_task_definitions_host_networking_mode_users fail (a container neither privileged nor given a "
        "non-root user; UID 0 spellings count as root, as in CT.ECS.PR.8) is medium; deliberately stricter, any other "
        "host network mode is still reported at low, as Security Hub ECS.17 and Config "
        "ecs-task-definition-network-mode-not-host fail it. ipcMode host has no AWS control."
    ),
    remediation=(
        'Remove "pidMode" and "ipcMode" (or set them to "task") and use "networkMode": "awsvpc" (or "bridge" on '
        "EC2) unless the task really must run in the host's namespaces."
    ),
    docs=DOCS_BEST_PRACTICES,
    config_rules=(
        "ecs-task-definition-pid-mode-check",
        "ecs-task-definition-user-for-host-mode-check",
        "ecs-task-definition-network-mode-not-host",
    ),
    security_hub=("ECS.3", "ECS.1", "ECS.17"),
    control_tower=("CT.ECS.PR.10", "CT.ECS.PR.8"),
    prowler=("ecs_task_definitions_host_namespace_not_shared", "ecs_task_definitions_host_networking_mode_users"),
)
def host_namespace(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    if (task_definition.pid_mode or "").strip().lower() == "host":
        yield host_namespace.finding(
            context,
            "The task shares the host's process namespace (pidMode host): its containers see every process on the "
            "container instance, including the ECS agent and other tasks, and a container running as root can "
            "signal or trace them.",
            field="pidMode",
            severity="high",
            remediation=(
                'Remove "pidMode" (each container then gets its own process namespace), or set "pidMode": "task" if '
                "the task's containers must see each other's processes. " + _EXEMPT_HINT.format(check="host-namespace")
            ),
            namespace="pid",
        )
    if (task_definition.ipc_mode or "").strip().lower() == "host":
        yield host_namespace.finding(
            context,
            "The task shares the host's IPC namespace (ipcMode host): its containers can read and write the shared "
            "memory segments and message queues of processes on the container instance.",
            field="ipcMode",
            severity="medium",
            remediation=(
                'Remove "ipcMode" (each container gets a private IPC namespace), or set "ipcMode": "task" to share '
                "IPC resources only within the task."
            ),
            namespace="ipc",
        )
    if (task_definition.network_mode or "").strip().lower() == "host":
        root = _host_network_root_containers(task_definition)
        exposure = (
            "The task uses the host's network (networkMode host): its containers bind ports directly on the "
            "container instance, see its network traffic and can reach services listening on its loopback interface"
        )
        fix = (
            'Use "networkMode": "awsvpc" (each task gets its own network interface and security group) or "bridge". '
            'If the task must use the host network, set a non-root "user" on every container, such as "1000:1000".'
        )
        if root:
            if len(root) == 1:
                (name, why), *_ = root
                who = f"container '{name}' may run as root there ({why})"
            else:
                who = "these containers may run as root there: " + "; ".join(f"'{n}' ({w})" for n, w in root)
            yield host_namespace.finding(
                context,
                f"{exposure}, and {who}.",
                field="networkMode",
                severity="medium",
                remediation=fix,
                namespace="network",
                containers=[name for name, _ in root],
            )
        else:
            yield host_namespace.finding(
                context,
                f"{exposure}. Every container runs as a non-root user or is privileged (reported on its own).",
                field="networkMode",
                severity="low",
                remediation=fix,
                namespace="network",
                containers=[],
            )


# ------------------------------------------------------------------------------------- capabilities

# Capabilities outside Docker's default set that give a container power over the host, with what each allows.
# NET_RAW is not here: it is already in Docker's default set, so adding it changes nothing (dropping it is
# hardening advice of its own); nor are the default-set ones (CHOWN, SETUID, ...) or the merely operational
# ones (SYS_NICE, SYS_RESOURCE, IPC_LOCK, NET_BIND_SERVICE...).
DANGEROUS_CAPABILITIES: dict[str, tuple[str, str]] = {
    "ALL": ("high", "every capability, nearly what privileged mode gives"),
    "SYS_ADMIN": ("high", "mount filesystems and use many kernel interfaces: what most container escapes need"),
    "SYS_MODULE": ("high", "load modules into the host's kernel"),
    "SYS_RAWIO": ("high", "raw access to devices, memory and I/O ports"),
    "DAC_READ_SEARCH": ("high", "read any file by handle whatever its permissions (the 'shocker' host escape)"),
    "BPF": ("high", "load eBPF programs into the host's kernel"),
    "MAC_ADMIN": ("high", "reconfigure AppArmor or SELinux"),
    "MAC_OVERRIDE": ("high", "bypass AppArmor or SELinux"),
    "SYS_PTRACE": ("medium", "trace other processes and inject code into them"),
    "NET_ADMIN": ("medium", "reconfigure network interfaces, routes and firewall rules"),
    "PERFMON": ("medium", "kernel performance monitoring, which reveals kernel memory layout"),
    "SYSLOG": ("medium", "read the kernel log, with kernel addresses"),
    "SYS_TIME": ("medium", "set the host's clock, which no namespace isolates"),
    "AUDIT_CONTROL": ("medium", "change or switch off the host's audit rules"),
}
_RANK = {"high": 0, "medium": 1, "low": 2}


@check(
    id="dangerous-capabilities",
    title="Container adds dangerous Linux capabilities",
    severity="high",
    mistake=8,
    rationale=(
        "Docker's default capability set already lets a container run ordinary software as root; capabilities "
        "added beyond it (SYS_ADMIN, SYS_MODULE, DAC_READ_SEARCH, BPF, ALL...) are what container escapes use, and "
        "SYS_PTRACE or NET_ADMIN act on the host itself when the task shares its pid or network namespace (then "
        "they are reported as high). NET_RAW is not reported: it is in Docker's default set, so adding it changes "
        "nothing. No AWS Config, Security Hub, Control Tower or Prowler control covers added capabilities."
    ),
    remediation=(
        "Remove the capability from linuxParameters.capabilities.add, or keep only the one the process needs on the "
        "one container that needs it (a proxy that programs iptables needs NET_ADMIN, a profiler SYS_PTRACE), run "
        'that container as a non-root user, and drop the rest: "linuxParameters": {"capabilities": {"drop": '
        '["ALL"], "add": ["NET_BIND_SERVICE"]}}.'
    ),
    docs=DOCS_CAPABILITIES,
)
def dangerous_capabilities(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    if task_definition.is_windows:
        return  # linuxParameters do not apply to Windows containers
    host_pid = (task_definition.pid_mode or "").strip().lower() == "host"
    host_net = (task_definition.network_mode or "").strip().lower() == "host"
    for container in task_definition.containers:
        added = []
        for capability in dict.fromkeys(container.capabilities_add):
            if capability not in DANGEROUS_CAPABILITIES:
                continue
            severity, allows = DANGEROUS_CAPABILITIES[capability]
            if capability == "SYS_PTRACE" and host_pid:
                severity, allows = "high", allows + " on the host, since the task shares its pid namespace"
            elif capability == "NET_ADMIN" and host_net:
                severity, allows = "high", allows + " of the container instance itself (networkMode host)"
            added.append((capability, severity, allows))
        if not added:
            continue
        worst = min((severity for _, severity, _ in added), key=_RANK.__getitem__)
        listed = "; ".join(f"{capability} ({allows})" for capability, _, allows in added)
        notes = ""
        beyond_fargate = [c for c, _, _ in added if c != "SYS_PTRACE"]
        if task_definition.is_fargate and beyond_fargate:
            notes = (
                f" Fargate supports adding only SYS_PTRACE: with {', '.join(beyond_fargate)} this definition cannot "
                "run on Fargate."
            )
        if container.privileged is True:
            notes += " It is also privileged, which grants every capability anyway (see privileged-container)."
        yield dangerous_capabilities.finding(
            context,
            f"Container '{container.name}' adds {listed}.{notes}",
            container=container.name,
            field="linuxParameters.capabilities.add",
            severity=worst,
            remediation=dangerous_capabilities.remediation + " " + _EXEMPT_HINT.format(check="dangerous-capabilities"),
            capabilities=[capability for capability, _, _ in added],
        )
