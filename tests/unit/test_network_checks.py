"""registry-unreachable and public-ip-exposed (launch scope) on the StaticFacts twin: every path, the messages."""

from __future__ import annotations

import json

import pytest

from ecsguard.checks import CheckContext, load_all
from ecsguard.facts import (
    Route,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    StaticFacts,
    SubnetNetwork,
    Unknown,
    VpcEndpoint,
)
from ecsguard.model import DocumentError, NetworkConfiguration, TaskDefinition, TaskLaunch, task_definitions_in
from ecsguard.policy import Settings, evaluate

from conftest import CORPUS

CHECKS = load_all()
REGION = "us-east-1"
ACCOUNT = "123456789012"
ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:1.4.2"
VPC = "vpc-1"
LOCAL = Route("10.0.0.0/16", "ipv4", "local", "local")
IGW = Route("0.0.0.0/0", "ipv4", "igw-1", "internet-gateway")
NAT = Route("0.0.0.0/0", "ipv4", "nat-1", "nat-gateway")
S3_ROUTE = Route("pl-63a5400a", "prefix-list", "vpce-s3", "vpc-endpoint")
ALL_OUT = SecurityGroupRule("-1", cidrs=("0.0.0.0/0",))
TASK_SG = SecurityGroup("sg-task", VPC, "task", egress=(ALL_OUT,))
ENDPOINT_SG = SecurityGroup(
    "sg-endpoints", VPC, "endpoints", ingress=(SecurityGroupRule("tcp", 443, 443, cidrs=("10.0.0.0/16",)),)
)


def interface(service: str, **changes) -> VpcEndpoint:
    fields = dict(
        id=f"vpce-{service}",
        service_name=f"com.amazonaws.{REGION}.{service}",
        type="Interface",
        state="available",
        subnet_ids=("subnet-a",),
        private_dns=True,
        security_groups=("sg-endpoints",),
    )
    fields.update(changes)
    return VpcEndpoint(**fields)


S3_GATEWAY = VpcEndpoint("vpce-s3", f"com.amazonaws.{REGION}.s3", "Gateway", "available", route_table_ids=("rtb-a",))
ECR_ENDPOINTS = (interface("ecr.api"), interface("ecr.dkr"), S3_GATEWAY)


def subnet(*routes: Route, endpoints=(), subnet_id="subnet-a", table="rtb-a", main=False) -> SubnetNetwork:
    return SubnetNetwork(
        subnet_id, VPC, "us-east-1a", "10.0.1.0/24", RouteTable(table, main, (LOCAL, *routes)), tuple(endpoints)
    )


def facts(*subnets: SubnetNetwork, groups=(TASK_SG, ENDPOINT_SG), **extra) -> StaticFacts:
    return StaticFacts(
        subnets={s.subnet_id: s for s in subnets},
        groups={g.id: g for g in groups},
        default_groups={VPC: "sg-task"},
        **extra,
    )


def td(*images: str, compat=("FARGATE",), **container) -> TaskDefinition:
    return TaskDefinition.from_api(
        {
            "family": "web",
            "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:3",
            "networkMode": "awsvpc",
            "requiresCompatibilities": list(compat),
            "containerDefinitions": [
                {"name": f"c{i}", "image": image, **(container if i == 0 else {})} for i, image in enumerate(images)
            ],
        }
    )


def launch(*subnets: str, public=False, groups=("sg-task",), launch_type="FARGATE", service=None, **kw) -> TaskLaunch:
    return TaskLaunch(
        task_definition="web:3",
        launch_type=launch_type,
        network=NetworkConfiguration(tuple(subnets or ("subnet-a",)), tuple(groups), public),
        service=service,
        **kw,
    )


def run(check_id: str, definition: TaskDefinition, the_facts, the_launch: TaskLaunch):
    context = CheckContext(target=definition.name, facts=the_facts, region=REGION, launch=the_launch)
    return CHECKS[check_id].run(definition, context)


def failures(findings):
    return [f for f in findings if not f.data.get("unverified")]


def unverified(findings):
    return [f for f in findings if f.data.get("unverified")]


# --------------------------------------------------------------------------------------------- paths


def test_private_subnet_without_nat_or_endpoints_fires_with_the_cheapest_fix():
    [finding] = run("registry-unreachable", td(ECR_IMAGE, "nginx:1.27"), facts(subnet()), launch())
    assert finding.severity == "high"
    assert finding.field == "networkConfiguration.awsvpcConfiguration.subnets"
    assert finding.message.startswith("Tasks of this launch in subnet subnet-a (us-east-1a) cannot start: ")
    assert "'nginx:1.27' (container 'c1', Docker Hub) needs the internet" in finding.message
    assert "route table rtb-a has no default route (0.0.0.0/0)" in finding.message
    assert f"com.amazonaws.{REGION}.ecr.api for ECR image pulls (authentication), which is missing" in finding.message
    assert finding.message.endswith("They stop with CannotPullContainerError.")
    assert "create-route" in finding.remediation and "--route-table-id rtb-a" in finding.remediation
    assert finding.data["missing_endpoints"] == [
        f"com.amazonaws.{REGION}.ecr.api",
        f"com.amazonaws.{REGION}.ecr.dkr",
        f"com.amazonaws.{REGION}.s3 (Gateway)",
    ]


def test_a_nat_route_is_a_path():
    assert run("registry-unreachable", td(ECR_IMAGE, "nginx:1.27"), facts(subnet(NAT)), launch()) == []


def test_a_nat_instance_route_is_a_path():
    route = Route("0.0.0.0/0", "ipv4", "i-0abc", "instance")
    assert run("registry-unreachable", td("nginx:1.27"), facts(subnet(route)), launch()) == []


def test_endpoints_serve_ecr_but_not_docker_hub():
    the_facts = facts(subnet(S3_ROUTE, endpoints=ECR_ENDPOINTS))
    assert run("registry-unreachable", td(ECR_IMAGE), the_facts, launch()) == []
    [finding] = run("registry-unreachable", td(ECR_IMAGE, "nginx:1.27"), the_facts, launch())
    assert "'nginx:1.27' (container 'c1', Docker Hub) needs the internet" in finding.message
    assert "ecr.api" not in finding.message
    assert "NAT gateway" in finding.remediation


def test_endpoints_cover_an_ecr_only_task_and_the_fix_lists_the_exact_endpoints():
    [finding] = run("registry-unreachable", td(ECR_IMAGE), facts(subnet(endpoints=[interface("ecr.api")])), launch())
    assert "ecr.dkr for ECR image pulls, which is missing" in finding.message
    assert "ecr.api" not in finding.message.split("ecr.dkr")[0].split("cannot start")[1]
    assert finding.remediation.startswith("Cheapest for ECR-only tasks: add the missing VPC endpoints: ")
    assert (
        f"aws ec2 create-vpc-endpoint --region {REGION} --vpc-id {VPC} --vpc-endpoint-type Interface "
        f"--service-name com.amazonaws.{REGION}.ecr.dkr --subnet-ids subnet-a --private-dns-enabled"
    ) in finding.remediation
    assert (
        f"--vpc-endpoint-type Gateway --service-name com.amazonaws.{REGION}.s3 --route-table-ids rtb-a"
    ) in finding.remediation


def test_an_s3_gateway_on_another_route_table_does_not_count():
    other = VpcEndpoint("vpce-s3", f"com.amazonaws.{REGION}.s3", "Gateway", "available", route_table_ids=("rtb-z",))
    endpoints = (interface("ecr.api"), interface("ecr.dkr"), other)
    [finding] = run("registry-unreachable", td(ECR_IMAGE), facts(subnet(endpoints=endpoints)), launch())
    assert "vpce-s3 is not associated with route table rtb-a" in finding.message
    assert "modify-vpc-endpoint --region us-east-1 --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-a" in (
        finding.remediation
    )


def test_private_dns_off_or_pending_endpoint_does_not_count():
    endpoints = (interface("ecr.api", private_dns=False), interface("ecr.dkr", state="pending"), S3_GATEWAY)
    [finding] = run("registry-unreachable", td(ECR_IMAGE), facts(subnet(S3_ROUTE, endpoints=endpoints)), launch())
    assert "vpce-ecr.api has private DNS off" in finding.message
    assert "vpce-ecr.dkr is pending" in finding.message
    assert "modify-vpc-endpoint --region us-east-1 --vpc-endpoint-id vpce-ecr.api --private-dns-enabled" in (
        finding.remediation
    )


def test_an_interface_endpoint_in_another_az_of_the_vpc_serves_the_subnet():
    endpoints = (interface("ecr.api", subnet_ids=("subnet-z",)), interface("ecr.dkr", subnet_ids=()), S3_GATEWAY)
    assert run("registry-unreachable", td(ECR_IMAGE), facts(subnet(S3_ROUTE, endpoints=endpoints)), launch()) == []


def test_ecr_of_another_region_and_ecr_public_need_the_internet():
    other = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/app:1"
    definition = td(other, "public.ecr.aws/nginx/nginx:1.27")
    [finding] = run("registry-unreachable", definition, facts(subnet(S3_ROUTE, endpoints=ECR_ENDPOINTS)), launch())
    assert "ECR in eu-west-1, not the task's region us-east-1" in finding.message
    assert "ECR Public, which has no VPC endpoint" in finding.message


def test_public_subnet_with_public_ip_is_reachable_and_without_it_fires():
    the_facts = facts(subnet(IGW))
    assert run("registry-unreachable", td("nginx:1.27"), the_facts, launch(public=True)) == []
    [finding] = run("registry-unreachable", td("nginx:1.27"), the_facts, launch(public=False))
    assert "routes 0.0.0.0/0 to internet gateway igw-1, but the task gets no public IP" in finding.message
    assert finding.remediation.startswith("Cheapest: give the task a public IP")
    assert '"assignPublicIp": "ENABLED"' in finding.remediation


def test_public_ip_without_an_igw_route_has_no_effect_and_is_called_out():
    [finding] = run("registry-unreachable", td("nginx:1.27"), facts(subnet()), launch(public=True))
    assert "assignPublicIp ENABLED has no effect here: the subnet has no route to an internet gateway" in (
        finding.message
    )


def test_blackhole_default_route_reaches_nothing():
    route = Route("0.0.0.0/0", "ipv4", "nat-gone", "nat-gateway", state="blackhole")
    [finding] = run("registry-unreachable", td("nginx:1.27"), facts(subnet(route)), launch())
    assert "points to nat-gone, which is a blackhole" in finding.message


@pytest.mark.parametrize(
    "route",
    [
        Route("0.0.0.0/0", "ipv4", "tgw-1", "transit-gateway"),
        Route("0.0.0.0/0", "ipv4", "pcx-1", "peering"),
        Route("0.0.0.0/0", "ipv4", "vpce-fw", "vpc-endpoint"),
        Route("0.0.0.0/0", "ipv4", "eni-1", "network-interface"),
        Route("pl-corp", "prefix-list", "tgw-1", "transit-gateway"),
    ],
    ids=["transit-gateway", "peering", "firewall-endpoint", "eni-appliance", "prefix-list-route"],
)
def test_routes_ecsguard_cannot_follow_are_unverified_never_failures(route):
    findings = run("registry-unreachable", td("nginx:1.27"), facts(subnet(route)), launch())
    [finding] = findings
    assert finding.severity == "info" and finding.data["unverified"]
    assert finding.message.startswith("Could not verify for subnet subnet-a: whether subnet subnet-a reaches")
    assert route.target in finding.message


def test_opaque_route_but_endpoints_serve_everything_is_reachable():
    route = Route("0.0.0.0/0", "ipv4", "tgw-1", "transit-gateway")
    assert (
        run("registry-unreachable", td(ECR_IMAGE), facts(subnet(route, S3_ROUTE, endpoints=ECR_ENDPOINTS)), launch())
        == []
    )


def test_main_route_table_is_used_when_there_is_no_association():
    the_facts = facts(subnet(NAT, main=True, table="rtb-main"))
    assert run("registry-unreachable", td("nginx:1.27"), the_facts, launch()) == []
    [finding] = run("registry-unreachable", td("nginx:1.27"), facts(subnet(main=True, table="rtb-main")), launch())
    assert "route table rtb-main (the VPC's main table) has no default route" in finding.message


# --------------------------------------------------------------------------------------------- start-time services


SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-AbCdEf"
AWSLOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web", "awslogs-region": REGION}}


def test_endpoint_path_needs_logs_and_secrets_endpoints_else_resource_initialization_error():
    definition = td(ECR_IMAGE, logConfiguration=AWSLOGS, secrets=[{"name": "DB", "valueFrom": SECRET}])
    [finding] = run("registry-unreachable", definition, facts(subnet(S3_ROUTE, endpoints=ECR_ENDPOINTS)), launch())
    assert f"com.amazonaws.{REGION}.logs for awslogs of container 'c0', which is missing" in finding.message
    assert f"com.amazonaws.{REGION}.secretsmanager for secret DB of container 'c0'" in finding.message
    assert finding.message.endswith("They stop with ResourceInitializationError.")
    assert SECRET not in finding.message  # names the secret's variable, not its ARN
    endpoints = (*ECR_ENDPOINTS, interface("logs"), interface("secretsmanager"))
    assert run("registry-unreachable", definition, facts(subnet(S3_ROUTE, endpoints=endpoints)), launch()) == []


def test_ssm_parameter_by_name_needs_the_ssm_endpoint():
    definition = td(ECR_IMAGE, secrets=[{"name": "TOKEN", "valueFrom": "/web/token"}])
    [finding] = run("registry-unreachable", definition, facts(subnet(S3_ROUTE, endpoints=ECR_ENDPOINTS)), launch())
    assert f"com.amazonaws.{REGION}.ssm for SSM parameter '/web/token' of container 'c0'" in finding.message


def test_awslogs_of_another_region_needs_the_internet():
    logs = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web", "awslogs-region": "eu-west-1"}}
    definition = td(ECR_IMAGE, logConfiguration=logs)
    endpoints = (*ECR_ENDPOINTS, interface("logs"))
    [finding] = run("registry-unreachable", definition, facts(subnet(S3_ROUTE, endpoints=endpoints)), launch())
    assert "awslogs of container 'c0' (in eu-west-1, which this VPC's endpoints do not serve)" in finding.message


def test_with_a_nat_route_no_endpoint_is_needed():
    definition = td(ECR_IMAGE, logConfiguration=AWSLOGS, secrets=[{"name": "DB", "valueFrom": SECRET}])
    assert run("registry-unreachable", definition, facts(subnet(NAT)), launch()) == []


# --------------------------------------------------------------------------------------------- security groups


def test_egress_without_443_blocks_the_internet_path():
    closed = SecurityGroup("sg-task", VPC, egress=(SecurityGroupRule("tcp", 80, 80, cidrs=("0.0.0.0/0",)),))
    [finding] = run("registry-unreachable", td("nginx:1.27"), facts(subnet(NAT), groups=(closed,)), launch())
    assert "its security groups (sg-task) allow no outbound TCP 443 to 0.0.0.0/0" in finding.message
    assert "authorize-security-group-egress --group-id sg-task" in finding.remediation
    assert "FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0}]" in finding.remediation


@pytest.mark.parametrize(
    "rule",
    [
        SecurityGroupRule("tcp", 443, 443, cidrs=("0.0.0.0/0",)),
        SecurityGroupRule("tcp", 0, 65535, cidrs=("0.0.0.0/0",)),
        SecurityGroupRule("6", 400, 500, cidrs=("0.0.0.0/0",)),
        SecurityGroupRule("-1", cidrs=("0.0.0.0/0",)),
    ],
    ids=["443", "all-tcp", "protocol-number-range", "all-traffic"],
)
def test_egress_rules_that_allow_443(rule):
    group = SecurityGroup("sg-task", VPC, egress=(rule,))
    assert run("registry-unreachable", td("nginx:1.27"), facts(subnet(NAT), groups=(group,)), launch()) == []


def test_egress_to_a_narrower_public_cidr_cannot_be_judged():
    group = SecurityGroup("sg-task", VPC, egress=(SecurityGroupRule("tcp", 443, 443, cidrs=("52.0.0.0/8",)),))
    [finding] = run("registry-unreachable", td("nginx:1.27"), facts(subnet(NAT), groups=(group,)), launch())
    assert finding.severity == "info" and finding.data["unverified"]
    assert "52.0.0.0/8" in finding.message


def test_egress_to_the_vpc_cidr_reaches_the_endpoints_but_not_s3():
    group = SecurityGroup("sg-task", VPC, egress=(SecurityGroupRule("tcp", 443, 443, cidrs=("10.0.0.0/16",)),))
    the_facts = facts(subnet(S3_ROUTE, endpoints=ECR_ENDPOINTS), groups=(group, ENDPOINT_SG))
    [finding] = run("registry-unreachable", td(ECR_IMAGE), the_facts, launch())
    assert "allow no outbound TCP 443 to S3 (prefix list pl-63a5400a)" in finding.message
    assert "PrefixListIds=[{PrefixListId=pl-63a5400a}]" in finding.remediation
    ok = SecurityGroup(
        "sg-task",
        VPC,
        egress=(
            SecurityGroupRule("tcp", 443, 443, cidrs=("10.0.0.0/16",)),
            SecurityGroupRule("tcp", 443, 443, prefix_lists=("pl-63a5400a",)),
        ),
    )
    the_facts = facts(subnet(S3_ROUTE, endpoints=ECR_ENDPOINTS), groups=(ok, ENDPOINT_SG))
    assert run("registry-unreachable", td(ECR_IMAGE), the_facts, launch()) == []


def test_endpoint_security_group_without_ingress_from_the_task_blocks_it():
    closed = SecurityGroup("sg-endpoints", VPC, ingress=(SecurityGroupRule("tcp", 443, 443, cidrs=("10.9.0.0/16",)),))
    the_facts = facts(subnet(S3_ROUTE, endpoints=ECR_ENDPOINTS), groups=(TASK_SG, closed))
    [finding] = run("registry-unreachable", td(ECR_IMAGE), the_facts, launch())
    assert "endpoint vpce-ecr.api" in finding.message and "allow no inbound TCP 443 from the task" in finding.message
    assert "authorize-security-group-ingress --group-id sg-endpoints --protocol tcp --port 443 --cidr 10.0.1.0/24" in (
        finding.remediation
    )
    by_group = SecurityGroup("sg-endpoints", VPC, ingress=(SecurityGroupRule("tcp", 443, 443, groups=("sg-task",)),))
    the_facts = facts(subnet(S3_ROUTE, endpoints=ECR_ENDPOINTS), groups=(TASK_SG, by_group))
    assert run("registry-unreachable", td(ECR_IMAGE), the_facts, launch()) == []


def test_no_security_groups_named_uses_the_vpc_default_group():
    closed = SecurityGroup("sg-default", VPC, "default")
    the_facts = StaticFacts(
        subnets={"subnet-a": subnet(NAT)}, groups={"sg-default": closed}, default_groups={VPC: "sg-default"}
    )
    [finding] = run("registry-unreachable", td("nginx:1.27"), the_facts, launch(groups=()))
    assert "its security groups (sg-default) allow no outbound TCP 443" in finding.message


def test_unreadable_security_groups_are_unverified_when_routes_are_fine_and_irrelevant_when_not():
    the_facts = facts(subnet(NAT), groups=())
    [finding] = run("registry-unreachable", td("nginx:1.27"), the_facts, launch())
    assert finding.data["unverified"] and "security group sg-task not known offline" in finding.message
    [finding] = run("registry-unreachable", td("nginx:1.27"), facts(subnet(), groups=()), launch())
    assert finding.severity == "high"


# --------------------------------------------------------------------------------------------- scope and edges


def test_ec2_launch_type_is_not_checked():
    assert (
        run("registry-unreachable", td("nginx:1.27", compat=("EC2",)), facts(subnet()), launch(launch_type="EC2")) == []
    )
    assert run("public-ip-exposed", td("nginx:1.27"), facts(subnet()), launch(launch_type="EC2", public=True)) == []


def test_unknown_launch_type_judges_fargate_only_definitions():
    no_type = launch(launch_type=None)
    assert len(run("registry-unreachable", td("nginx:1.27"), facts(subnet()), no_type)) == 1
    both = td("nginx:1.27", compat=("EC2", "FARGATE"))
    assert run("registry-unreachable", both, facts(subnet()), no_type) == []
    spot = launch(launch_type=None, capacity_providers=("FARGATE_SPOT",))
    assert len(run("registry-unreachable", both, facts(subnet()), spot)) == 1


def test_one_finding_per_subnet_images_grouped():
    the_facts = facts(subnet(), subnet(subnet_id="subnet-b", table="rtb-b"))
    findings = run(
        "registry-unreachable", td("nginx:1.27", "redis:7", ECR_IMAGE), the_facts, launch("subnet-a", "subnet-b")
    )
    assert [f.data["subnet"] for f in findings] == ["subnet-a", "subnet-b"]
    assert "'nginx:1.27' (container 'c0', Docker Hub) and 'redis:7' (container 'c1', Docker Hub) need the internet" in (
        findings[0].message
    )


def test_only_the_broken_subnet_fires():
    the_facts = facts(subnet(NAT), subnet(subnet_id="subnet-b", table="rtb-b"))
    [finding] = run("registry-unreachable", td("nginx:1.27"), the_facts, launch("subnet-a", "subnet-b"))
    assert finding.data["subnet"] == "subnet-b"


def test_unknown_subnet_is_unverified_with_the_reason():
    the_facts = facts(subnet())
    the_facts.subnets = {"subnet-a": Unknown("ec2:DescribeSubnets: UnauthorizedOperation")}
    [finding] = run("registry-unreachable", td("nginx:1.27"), the_facts, launch())
    assert finding.message == (
        "Could not verify the network path from subnet subnet-a (ec2:DescribeSubnets: UnauthorizedOperation)."
    )


def test_a_launch_without_subnets_is_unverified():
    no_network = TaskLaunch(task_definition="web:3", launch_type="FARGATE")
    [finding] = run("registry-unreachable", td("nginx:1.27"), facts(subnet()), no_network)
    assert finding.data["unverified"] and "names no awsvpcConfiguration subnets" in finding.message


def test_placeholders_are_never_judged():
    assert run("registry-unreachable", td("${IMAGE}"), facts(subnet()), launch()) == []


def test_sidecars_are_judged_like_any_image():
    definition = td(
        ECR_IMAGE,
        "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
        "public.ecr.aws/xray/aws-xray-daemon:3.3.13",
        "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod",
    )
    [finding] = run("registry-unreachable", definition, facts(subnet(S3_ROUTE, endpoints=ECR_ENDPOINTS)), launch())
    for name in ("aws-for-fluent-bit", "aws-xray-daemon", "aws-appmesh-envoy"):
        assert name in finding.message
    assert "ECR Public, which has no VPC endpoint" in finding.message


def test_windows_fargate_tasks_need_the_same_path():
    definition = TaskDefinition.from_api(
        {
            "family": "win",
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE", "cpuArchitecture": "X86_64"},
            "containerDefinitions": [{"name": "iis", "image": "mcr.microsoft.com/windows/servercore/iis:latest"}],
        }
    )
    [finding] = run("registry-unreachable", definition, facts(subnet()), launch())
    assert "mcr.microsoft.com" in finding.message


def test_service_launch_says_the_service_keeps_replacing_tasks():
    [finding] = run("registry-unreachable", td("nginx:1.27"), facts(subnet()), launch(service="web"))
    assert finding.message.endswith("and the service keeps replacing them.")


def test_pull_through_cache_rule_gives_the_ecr_uri_in_the_fix():
    the_facts = facts(subnet(), cache_rules={REGION: {"docker-hub": "registry-1.docker.io"}})
    [finding] = run("registry-unreachable", td("nginx:1.27"), the_facts, launch())
    assert f'"image": "{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/docker-hub/library/nginx:1.27"' in finding.remediation


def test_offline_facts_say_could_not_verify():
    [finding] = run("registry-unreachable", td("nginx:1.27"), StaticFacts(offline=True), launch())
    assert finding.data["unverified"]


# --------------------------------------------------------------------------------------------- public-ip-exposed


def test_public_ip_where_endpoints_serve_everything_names_the_open_ingress():
    web = SecurityGroup(
        "sg-task", VPC, ingress=(SecurityGroupRule("tcp", 80, 80, cidrs=("0.0.0.0/0",)),), egress=(ALL_OUT,)
    )
    the_facts = facts(subnet(IGW, S3_ROUTE, endpoints=ECR_ENDPOINTS), groups=(web, ENDPOINT_SG))
    [finding] = run("public-ip-exposed", td(ECR_IMAGE), the_facts, launch(public=True))
    assert finding.severity == "info"
    assert finding.field == "networkConfiguration.awsvpcConfiguration.assignPublicIp"
    assert "its security groups let the internet in: sg-task: TCP 80 from 0.0.0.0/0" in finding.message
    assert run("registry-unreachable", td(ECR_IMAGE), the_facts, launch(public=True)) == []


def test_public_ip_that_makes_the_task_work_is_silent():
    assert run("public-ip-exposed", td("nginx:1.27"), facts(subnet(IGW)), launch(public=True)) == []
    assert run("public-ip-exposed", td(ECR_IMAGE), facts(subnet(IGW)), launch(public=True)) == []


def test_public_ip_with_a_nat_route_has_no_effect():
    [finding] = run("public-ip-exposed", td("nginx:1.27"), facts(subnet(NAT)), launch(public=True))
    assert finding.message.startswith("assignPublicIp ENABLED has no effect in subnet subnet-a")
    assert "routes 0.0.0.0/0 to NAT gateway nat-1" in finding.message


def test_public_ip_in_an_unreachable_subnet_is_left_to_registry_unreachable():
    assert run("public-ip-exposed", td("nginx:1.27"), facts(subnet()), launch(public=True)) == []


def test_no_public_ip_no_finding():
    assert (
        run("public-ip-exposed", td(ECR_IMAGE), facts(subnet(IGW, S3_ROUTE, endpoints=ECR_ENDPOINTS)), launch()) == []
    )


def test_public_ip_exposed_verdict_differs_from_ecs2_on_purpose():
    """ECS.2 fails every ENABLED; ecsguard is silent when the public IP is the task's only way out."""
    assert run("public-ip-exposed", td("nginx:1.27"), facts(subnet(IGW)), launch(public=True)) == []
    assert "ecs-service-assign-public-ip-disabled" in CHECKS["public-ip-exposed"].rationale
    assert CHECKS["public-ip-exposed"].security_hub == ("ECS.2",)


# --------------------------------------------------------------------------------------------- corpus


def _corpus():
    found = []
    # tests/data/corpus is the repository's copy of the shared corpus (/work/shared/corpus: identical).
    for path in sorted((CORPUS / "taskdefs").glob("*.json")):
        try:
            found += [(path.name, d) for _, d in task_definitions_in(json.loads(path.read_text()))]
        except (ValueError, DocumentError, UnicodeDecodeError):
            continue
    return found


CORPUS_DEFINITIONS = _corpus()


def test_launch_checks_never_run_in_scan():
    for _, definition in CORPUS_DEFINITIONS:
        findings, _ = evaluate(definition, Settings(), None, REGION)
        assert not {f.check for f in findings} & {"registry-unreachable", "public-ip-exposed"}
        findings, _ = evaluate(definition, Settings(), StaticFacts(), REGION)
        assert not {f.check for f in findings} & {"registry-unreachable", "public-ip-exposed"}


def corpus_counts(the_facts, the_launch):
    counts = {"registry-unreachable": 0, "public-ip-exposed": 0, "unverified": 0}
    for _, definition in CORPUS_DEFINITIONS:
        # Every definition launched in us-east-1 (its images in other regions then need the internet).
        findings, _ = evaluate(definition, Settings(), the_facts, REGION, scope="launch", launch=the_launch)
        for check in ("registry-unreachable", "public-ip-exposed"):
            if failures(f for f in findings if f.check == check):
                counts[check] += 1
        if unverified(findings):
            counts["unverified"] += 1
    return counts


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("private", {"registry-unreachable": 54, "public-ip-exposed": 0, "unverified": 0}),
        ("private-launch-type-unknown", {"registry-unreachable": 27, "public-ip-exposed": 0, "unverified": 0}),
        ("ecr-endpoints", {"registry-unreachable": 53, "public-ip-exposed": 0, "unverified": 0}),
        ("nat-public-ip", {"registry-unreachable": 0, "public-ip-exposed": 54, "unverified": 0}),
        ("igw-endpoints-public-ip", {"registry-unreachable": 0, "public-ip-exposed": 1, "unverified": 0}),
        ("igw-public-ip", {"registry-unreachable": 0, "public-ip-exposed": 0, "unverified": 0}),
        ("tgw", {"registry-unreachable": 0, "public-ip-exposed": 0, "unverified": 54}),
    ],
)
def test_corpus_counts(layout, expected):
    """How many of the corpus's definitions each check fires on, launched on Fargate in a given subnet layout."""
    layouts = {
        "private": (facts(subnet()), launch()),
        "private-launch-type-unknown": (facts(subnet()), launch(launch_type=None)),
        "ecr-endpoints": (facts(subnet(S3_ROUTE, endpoints=ECR_ENDPOINTS)), launch()),
        "nat-public-ip": (facts(subnet(NAT)), launch(public=True)),
        "igw-endpoints-public-ip": (facts(subnet(IGW, S3_ROUTE, endpoints=ECR_ENDPOINTS)), launch(public=True)),
        "igw-public-ip": (facts(subnet(IGW)), launch(public=True)),
        "tgw": (facts(subnet(Route("0.0.0.0/0", "ipv4", "tgw-1", "transit-gateway"))), launch()),
    }
    assert len(CORPUS_DEFINITIONS) == 71
    assert corpus_counts(*layouts[layout]) == expected
