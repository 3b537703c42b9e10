"""Network checks of a launch (scope "launch"): can this task reach its image registry?

* ``registry-unreachable``: for an awsvpc task on Fargate, every subnet of the launch's network configuration
  is followed (route table, VPC endpoints, security groups) to every registry and service the task needs at
  start; a subnet from which the task cannot start gets one finding naming what is missing and the cheapest fix.
* ``public-ip-exposed`` (info): a public IP the task does not need (the endpoints serve everything), with the
  security-group ingress open to the internet; or a public IP that has no effect (no internet gateway route).

The reasoning is pure and lives in :mod:`._netpath`; the facts come from ``context.facts`` (EC2 reads in
:mod:`ecsguard.aws.network`). These checks run only for launches (RunTask, StartTask, CreateService,
UpdateService), never in ``ecsguard scan``: a definition alone says nothing about subnets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..facts import SecurityGroup, SubnetNetwork, Unknown
from ..imageref import cache_repository, parse_image, same_upstream
from ..model import Finding, NetworkConfiguration, TaskDefinition
from ._netpath import (
    Image,
    Need,
    Needs,
    Verdict,
    evaluate_subnet,
    internet_ingress,
    service_name,
)
from .logging import awslogs_destination, templated
from .registry import CheckContext, check

DOCS_FARGATE_NETWORK = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html"
DOCS_ECS2 = "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-2"

_ARN = re.compile(r"^arn:aws[a-z-]*:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:")
_TD_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:(\d{12}):task-definition/")
# The interface endpoints whose security groups matter to a task (read together with the task's own groups).
_SERVICES = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm")

_NETWORK_CALLS = (
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeSecurityGroups",
)


# --------------------------------------------------------------------------------------------- what applies


def _on_fargate(task_definition: TaskDefinition, context: CheckContext) -> bool:
    launch = context.launch
    if launch is None:
        return False
    if launch.on_fargate is not None:
        return launch.on_fargate
    # Neither a launch type nor capacity providers (the cluster's default strategy): judge only a definition
    # that can run nowhere but on Fargate.
    compatibilities = {c.upper() for c in task_definition.requires_compatibilities}
    return compatibilities == {"FARGATE"}


def _applies(task_definition: TaskDefinition, context: CheckContext) -> bool:
    if not _on_fargate(task_definition, context):
        return False
    # Fargate refuses any other network mode: such a launch failed, nothing to judge.
    return not task_definition.network_mode or task_definition.network_mode.lower() == "awsvpc"


def _region(task_definition: TaskDefinition, context: CheckContext) -> str | None:
    region = context.region or task_definition.region
    return region if region and not templated(region) else None


def needs_of(task_definition: TaskDefinition, region: str) -> Needs:
    """The registries and services the task reaches while it starts."""
    images = []
    for container in task_definition.containers:
        ref = parse_image(container.image)
        if ref is None:
            continue  # a placeholder, or not a reference: never judged
        if ref.is_ecr:
            same = ref.ecr_region == region
            where = f"ECR in {ref.ecr_region}" + ("" if same else f", not the task's region {region}")
            # FIPS and dual-stack hosts are not the names the ecr.api/ecr.dkr endpoints' private DNS answers.
            capable = same and not ref.ecr_fips and not ref.ecr_dual_stack
            if same and not capable:
                where += " (a FIPS or dual-stack host: the ecr.api/ecr.dkr endpoints do not serve it)"
        elif ref.is_public_ecr:
            where, capable = "ECR Public, which has no VPC endpoint", False
        elif ref.is_docker_hub:
            where, capable = "Docker Hub", False
        else:
            where, capable = ref.registry, False
        images.append(Image(container.name, ref, capable, where))
    services: list[Need] = []
    for container in task_definition.containers:
        destination = awslogs_destination(container, region)
        if destination is not None:
            services.append(Need("logs", destination[0], f"awslogs of container '{container.name}'"))
        references = [*container.secrets]
        if container.log_configuration is not None:
            references += container.log_configuration.secret_options
        for secret in references:
            value = secret.value_from
            if not value or templated(value):
                continue
            match = _ARN.match(value)
            if match is None:
                services.append(Need("ssm", region, f"SSM parameter '{value}' of container '{container.name}'"))
            elif match.group("service") in {"secretsmanager", "ssm"}:
                service = match.group("service")
                what = "secret" if service == "secretsmanager" else "SSM parameter"
                services.append(
                    Need(
                        service,
                        match.group("region") or region,
                        f"{what} {secret.name} of container '{container.name}'",
                    )
                )
        credentials = container.repository_credentials
        if credentials and not templated(credentials):
            match = _ARN.match(credentials)
            services.append(
                Need(
                    "secretsmanager",
                    (match.group("region") if match else None) or region,
                    f"repositoryCredentials of container '{container.name}'",
                )
            )
        for environment_file in container.environment_files:
            if environment_file and not templated(environment_file):
                services.append(Need("s3", region, f"environment file of container '{container.name}'"))
    return Needs(region=region, images=tuple(images), services=tuple(services))


@dataclass(frozen=True, slots=True)
class _Subnet:
    subnet_id: str
    network: SubnetNetwork | Unknown
    verdict: Verdict | None
    groups: Mapping[str, SecurityGroup] | Unknown


def _evaluate(
    task_definition: TaskDefinition, context: CheckContext, network: NetworkConfiguration, region: str, needs: Needs
) -> list[_Subnet]:
    assert context.facts is not None
    facts = context.facts
    subnets = facts.subnet_networks(region, network.subnets)
    known = [s for s in subnets.values() if isinstance(s, SubnetNetwork)]
    relevant = {service_name(region, s) for s in _SERVICES}
    endpoint_group_ids = sorted(
        {
            g
            for s in known
            for e in s.endpoints
            if e.service_name in relevant and e.type.lower() == "interface"
            for g in e.security_groups
        }
    )
    groups_by_vpc: dict[str, tuple[Mapping[str, SecurityGroup] | Unknown, Mapping[str, SecurityGroup] | Unknown]] = {}
    if network.security_groups:
        # One call for the task's groups and the endpoints' groups.
        everything = facts.security_groups(region, [*network.security_groups, *endpoint_group_ids]) if known else {}
        if isinstance(everything, Unknown):
            task_groups: Mapping[str, SecurityGroup] | Unknown = everything
        else:
            task_groups = {g: everything[g] for g in network.security_groups if g in everything}
        for vpc in {s.vpc_id for s in known}:
            groups_by_vpc[vpc] = (task_groups, everything)
    else:
        # No groups named: ECS puts the VPC's default security group on the task.
        endpoint_groups = facts.security_groups(region, endpoint_group_ids) if endpoint_group_ids else {}
        for vpc in {s.vpc_id for s in known}:
            groups_by_vpc[vpc] = (facts.security_groups(region, [], vpc_id=vpc), endpoint_groups)
    answers = []
    for subnet_id, subnet in subnets.items():
        if isinstance(subnet, Unknown):
            answers.append(_Subnet(subnet_id, subnet, None, subnet))
            continue
        task_groups, endpoint_groups = groups_by_vpc[subnet.vpc_id]
        verdict = evaluate_subnet(
            subnet,
            needs,
            public_ip=network.assign_public_ip,
            task_groups=task_groups,
            endpoint_groups=endpoint_groups,
        )
        answers.append(_Subnet(subnet_id, subnet, verdict, task_groups))
    return answers


def _launch_inputs(
    task_definition: TaskDefinition, context: CheckContext
) -> tuple[NetworkConfiguration | None, str | None, Needs | None]:
    """(network configuration, region, needs) when the network checks apply to this launch, else Nones."""
    if not _applies(task_definition, context):
        return None, None, None
    region = _region(task_definition, context)
    assert context.launch is not None
    return context.launch.network, region, needs_of(task_definition, region) if region else None


# --------------------------------------------------------------------------------------------- registry-unreachable


@check(
    id="registry-unreachable",
    title="Fargate task cannot reach its image registry from its subnet",
    severity="high",
    mistake=2,
    rationale=(
        "A Fargate task pulls its images, fetches its secrets and creates its log stream through its own network "
        "interface in the subnet it is launched in. Without a path (an internet gateway route plus a public IP, a "
        "NAT route, or for ECR in the task's region the ecr.api and ecr.dkr interface endpoints with private DNS "
        "and the S3 gateway endpoint, plus the logs/secretsmanager/ssm endpoints the definition uses) the task "
        "never starts: CannotPullContainerError or ResourceInitializationError, retried by a service forever. "
        "Config, Security Hub and Prowler only penalise public IPs; ecsguard follows each subnet's route table, "
        "endpoints and security-group egress (TCP 443) to each registry. Routes it cannot follow (transit "
        "gateway, peering, VPN, firewall or appliance endpoints, customer prefix lists) are reported at info as "
        "unverified, never as failures; network ACLs, endpoint policies and KMS keys (the definition does not "
        "name them) are not judged. The EC2 launch type pulls through the container instance: not checked."
    ),
    remediation=(
        "Give the subnet a path: launch in a public subnet with assignPublicIp ENABLED, add a 0.0.0.0/0 route to a "
        "NAT gateway, or (ECR images only) add the interface endpoints com.amazonaws.<region>.ecr.api, .ecr.dkr "
        "(private DNS on) and the S3 gateway endpoint on the subnet's route table, plus .logs, .secretsmanager, "
        ".ssm when the definition uses them; allow outbound TCP 443 in the task's security groups."
    ),
    docs=DOCS_FARGATE_NETWORK,
    needs_facts=True,
    aws_calls=(*_NETWORK_CALLS, "ecr:DescribePullThroughCacheRules"),
    scope="launch",
)
def registry_unreachable(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    if not _applies(task_definition, context):
        return
    network, region, needs = _launch_inputs(task_definition, context)
    if region is None or needs is None:
        yield registry_unreachable.unverified(
            context, "whether the task can reach its registries", reason="the task's region is not known"
        )
        return
    if network is None or not network.subnets:
        yield registry_unreachable.unverified(
            context,
            "whether the task can reach its registries",
            reason="the launch names no awsvpcConfiguration subnets",
        )
        return
    if not needs.images and not needs.services:
        return  # every image is a placeholder: nothing to judge
    for subnet in _evaluate(task_definition, context, network, region, needs):
        if subnet.verdict is None:
            reason = subnet.network.reason if isinstance(subnet.network, Unknown) else ""
            yield _unverified(context, subnet.subnet_id, f"the network path from subnet {subnet.subnet_id}", reason)
            continue
        assert isinstance(subnet.network, SubnetNetwork)
        verdict = subnet.verdict
        if verdict.problems:
            yield _unreachable(task_definition, context, subnet.network, verdict, network, needs)
        if verdict.unverifiable:
            yield _unverified(
                context,
                subnet.subnet_id,
                "; ".join(verdict.unverifiable),
                "",
                prefix=f"for subnet {subnet.subnet_id}: ",
            )


def _unverified(context: CheckContext, subnet: str, what: str, reason: str, *, prefix: str = "") -> Finding:
    finding = registry_unreachable.unverified(context, prefix + what, reason=reason)
    finding.data["subnet"] = subnet  # type: ignore[index]
    return finding


def _unreachable(
    task_definition: TaskDefinition,
    context: CheckContext,
    subnet: SubnetNetwork,
    verdict: Verdict,
    network: NetworkConfiguration,
    needs: Needs,
) -> Finding:
    where = f"subnet {subnet.subnet_id}" + (f" ({subnet.availability_zone})" if subnet.availability_zone else "")
    errors = [
        name
        for name, flag in (
            ("CannotPullContainerError", verdict.pull_fails),
            ("ResourceInitializationError", verdict.init_fails),
        )
        if flag
    ] or ["CannotPullContainerError"]
    problems = list(verdict.problems)
    if verdict.public_ip_useless:
        problems.append("assignPublicIp ENABLED has no effect here: the subnet has no route to an internet gateway")
    message = (
        f"Tasks of this launch in {where} cannot start: {'; '.join(problems)}. "
        f"They stop with {' or '.join(errors)}"
        + (" and the service keeps replacing them." if context.launch and context.launch.service else ".")
    )
    return registry_unreachable.finding(
        context,
        message,
        field="networkConfiguration.awsvpcConfiguration.subnets",
        remediation=_fix(task_definition, context, subnet, verdict, network, needs),
        subnet=subnet.subnet_id,
        route_table=subnet.route_table.id,
        missing_endpoints=list(verdict.missing_endpoints),
        images=[i.ref.original for i in needs.images],
    )


def _fix(
    task_definition: TaskDefinition,
    context: CheckContext,
    subnet: SubnetNetwork,
    verdict: Verdict,
    network: NetworkConfiguration,
    needs: Needs,
) -> str:
    if verdict.fixes and verdict.internet != "no":
        return "Allow the traffic: " + "; ".join(verdict.fixes) + "."
    table = subnet.route_table.id
    nat = (
        f"add a default route to a NAT gateway in a public subnet: aws ec2 create-route --region {needs.region} "
        f"--route-table-id {table} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-...>"
    )
    parts = []
    if verdict.via_igw and not network.assign_public_ip:
        parts.append(
            f"Cheapest: give the task a public IP, since {table} routes 0.0.0.0/0 to an internet gateway: "
            '"networkConfiguration": {"awsvpcConfiguration": {"subnets": [...], "securityGroups": [...], '
            '"assignPublicIp": "ENABLED"}}. Or ' + nat
        )
    elif verdict.endpoints_cover or (
        all(i.endpoint_capable for i in needs.images) and not any(n.region != needs.region for n in needs.services)
    ):
        parts.append(
            "Cheapest for ECR-only tasks: add the missing VPC endpoints: " + "; ".join(verdict.endpoint_fixes)
            if verdict.endpoint_fixes
            else "Fix the endpoints named above"
        )
        parts.append("Or " + nat)
    else:
        parts.append(
            "The images need the internet: " + nat + "; or launch in a public subnet (0.0.0.0/0 to an internet "
            'gateway) with "assignPublicIp": "ENABLED"'
        )
        moved = _cache_uris(task_definition, context, needs)
        if moved:
            parts.append(
                "Without the internet, pull through ECR instead, via the account's pull-through cache rules: "
                + "; ".join(moved)
                + ", then add the ECR and S3 endpoints"
            )
    if verdict.fixes:
        parts.append("Also allow the traffic: " + "; ".join(verdict.fixes))
    return ". ".join(parts) + "."


def _cache_uris(task_definition: TaskDefinition, context: CheckContext, needs: Needs) -> list[str]:
    """``'nginx' -> "<account>.dkr.ecr.<region>.amazonaws.com/docker-hub/library/nginx:tag"`` for each public image
    a pull-through cache rule of the task's region serves (an ECR image: the endpoints can then serve it)."""
    assert context.facts is not None
    public = [i for i in needs.images if not i.endpoint_capable and not i.ref.is_ecr]
    if not public:
        return []
    rules = context.facts.pull_through_cache_prefixes(needs.region)
    if isinstance(rules, Unknown) or not rules:
        return []
    match = _TD_ACCOUNT.match(task_definition.arn or "")
    host = f"{match.group(1) if match else '<account-id>'}.dkr.ecr.{needs.region}.amazonaws.com"
    found = []
    for image in public:
        prefixes = sorted(prefix for prefix, url in rules.items() if same_upstream(url, image.ref))
        if prefixes:
            suffix = (f":{image.ref.tag}" if image.ref.tag else "") + (
                f"@{image.ref.digest}" if image.ref.digest else ""
            )
            found.append(
                f'container \'{image.container}\': "image": "{host}/{cache_repository(image.ref, prefixes[0])}{suffix}"'
            )
    return found


# --------------------------------------------------------------------------------------------- public-ip-exposed


@check(
    id="public-ip-exposed",
    title="Fargate task gets a public IP it does not need",
    severity="info",
    mistake=2,
    rationale=(
        "A public IP on a task's interface in a subnet that routes to an internet gateway makes the task reachable "
        "from the internet wherever its security groups allow ingress. When the VPC endpoints already serve every "
        "registry and service the task needs, the public IP buys nothing. Where the subnet has no internet gateway "
        "route, assignPublicIp ENABLED has no effect at all. Security Hub ECS.2 (AWS Config "
        "ecs-service-assign-public-ip-disabled), Control Tower CT.ECS.PR.9 and Prowler "
        "ecs_service_no_assign_public_ip fail every service with assignPublicIp ENABLED; ecsguard deliberately "
        "differs: it asks whether the task could start without the public IP, stays silent when the public IP is "
        "what lets the task pull its images, and only informs (a public IP is a design choice, not a defect)."
    ),
    remediation=(
        'Set "assignPublicIp": "DISABLED" in the awsvpcConfiguration and keep the VPC endpoints (or a NAT route) '
        "as the task's path out; remove security-group ingress from 0.0.0.0/0 and ::/0 unless the task is meant to "
        "serve the internet directly (then put a load balancer in front of it instead)."
    ),
    docs=DOCS_ECS2,
    needs_facts=True,
    config_rules=("ecs-service-assign-public-ip-disabled",),
    security_hub=("ECS.2",),
    control_tower=("CT.ECS.PR.9",),
    prowler=("ecs_service_no_assign_public_ip",),
    aws_calls=_NETWORK_CALLS,
    scope="launch",
)
def public_ip_exposed(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    network, region, needs = _launch_inputs(task_definition, context)
    if network is None or not network.assign_public_ip or region is None or needs is None or not network.subnets:
        return
    if not needs.images and not needs.services:
        return
    private = NetworkConfiguration(network.subnets, network.security_groups, assign_public_ip=False)
    with_ip = {s.subnet_id: s for s in _evaluate(task_definition, context, network, region, needs)}
    for subnet in _evaluate(task_definition, context, private, region, needs):
        if subnet.verdict is None or not isinstance(subnet.network, SubnetNetwork):
            continue
        if not subnet.verdict.reachable:
            continue  # without the public IP the task could not start (or ecsguard cannot tell): it is needed
        public = with_ip[subnet.subnet_id].verdict
        where = f"subnet {subnet.subnet_id}"
        if public is not None and public.via_igw:
            groups = subnet.groups if not isinstance(subnet.groups, Unknown) else {}
            opened = internet_ingress(groups.values())
            exposure = (
                f"its security groups let the internet in: {'; '.join(opened)}"
                if opened
                else "no security-group rule admits 0.0.0.0/0 or ::/0 today, but any such rule added later exposes it"
            )
            yield public_ip_exposed.finding(
                context,
                f"Tasks of this launch in {where} get a public IP (assignPublicIp ENABLED, route table "
                f"{subnet.network.route_table.id} routes 0.0.0.0/0 to an internet gateway), although the VPC "
                f"endpoints already serve every registry and service they need: {exposure}.",
                field="networkConfiguration.awsvpcConfiguration.assignPublicIp",
                subnet=subnet.subnet_id,
                ingress=opened,
            )
        else:
            how = subnet.verdict.internet_detail if subnet.verdict.internet == "yes" else "through the VPC endpoints"
            yield public_ip_exposed.finding(
                context,
                f"assignPublicIp ENABLED has no effect in {where}: route table {subnet.network.route_table.id} has "
                "no default route to an internet gateway, so the public IP is never used. The task reaches its "
                f"registries another way ({how}).",
                field="networkConfiguration.awsvpcConfiguration.assignPublicIp",
                remediation='Set "assignPublicIp": "DISABLED": it changes nothing for this subnet but the exposure.',
                subnet=subnet.subnet_id,
            )
