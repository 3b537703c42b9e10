"""LaunchFacts' network reads against moto, and registry-unreachable through them on real VPC layouts.

moto implements DescribeSubnets, DescribeRouteTables (association.subnet-id and association.main filters),
DescribeVpcEndpoints (Interface endpoints with PrivateDnsEnabled, SubnetIds and security groups; Gateway endpoints
with route tables, adding the prefix-list route), DescribeSecurityGroups and NAT gateway / internet gateway routes:
no Stubber is needed for the layouts. A failed call is forced with a before-call hook (an AccessDenied-like error)
to prove "could not verify". Every EC2 call is counted through botocore's before-call event.
"""

from __future__ import annotations

from collections import Counter

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ecsguard.aws import Clients
from ecsguard.aws.facts import LaunchFacts
from ecsguard.aws.network import clear_caches
from ecsguard.checks import CheckContext, load_all
from ecsguard.facts import SubnetNetwork, Unknown
from ecsguard.model import NetworkConfiguration, TaskDefinition, TaskLaunch

from conftest import ACCOUNT, REGION

CHECKS = load_all()
ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:1.4.2"


@pytest.fixture
def ec2():
    clear_caches()
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)
    clear_caches()


class Vpc:
    def __init__(self, ec2) -> None:
        self.ec2 = ec2
        self.id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.task_sg = ec2.create_security_group(GroupName="task", Description="task", VpcId=self.id)["GroupId"]
        self.endpoint_sg = ec2.create_security_group(GroupName="ep", Description="ep", VpcId=self.id)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=self.endpoint_sg,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}
            ],
        )
        self._n = 0

    def subnet(self, *, table: bool = True) -> tuple[str, str | None]:
        self._n += 1
        subnet = self.ec2.create_subnet(
            VpcId=self.id, CidrBlock=f"10.0.{self._n}.0/24", AvailabilityZone=f"{REGION}{'ab'[self._n % 2]}"
        )["Subnet"]["SubnetId"]
        if not table:
            return subnet, None
        rtb = self.ec2.create_route_table(VpcId=self.id)["RouteTable"]["RouteTableId"]
        self.ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
        return subnet, rtb

    def igw_route(self, rtb: str) -> None:
        igw = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=self.id)
        self.ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)

    def nat_route(self, rtb: str) -> None:
        public, _ = self.subnet()
        eip = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = self.ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        self.ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)

    def ecr_endpoints(self, subnet: str, rtb: str) -> None:
        for service in ("ecr.api", "ecr.dkr"):
            self.ec2.create_vpc_endpoint(
                VpcId=self.id,
                ServiceName=f"com.amazonaws.{REGION}.{service}",
                VpcEndpointType="Interface",
                SubnetIds=[subnet],
                SecurityGroupIds=[self.endpoint_sg],
                PrivateDnsEnabled=True,
            )
        self.ec2.create_vpc_endpoint(
            VpcId=self.id, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway", RouteTableIds=[rtb]
        )


@pytest.fixture
def vpc(ec2) -> Vpc:
    return Vpc(ec2)


def definition(*images: str) -> TaskDefinition:
    return TaskDefinition.from_api(
        {
            "family": "web",
            "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:1",
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "containerDefinitions": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)],
        }
    )


def counted_facts() -> tuple[LaunchFacts, Counter]:
    clients = Clients()
    calls: Counter = Counter()
    clients("ec2", REGION).meta.events.register("before-call.ec2", lambda model, **_: calls.update([model.name]))
    return LaunchFacts(clients), calls


def check(vpc: Vpc, subnets, td: TaskDefinition, *, public=False, launch_type="FARGATE", facts=None, groups=None):
    facts = facts or counted_facts()[0]
    launch = TaskLaunch(
        task_definition="web:1",
        launch_type=launch_type,
        network=NetworkConfiguration(tuple(subnets), tuple(groups if groups is not None else [vpc.task_sg]), public),
    )
    context = CheckContext(target=td.name, facts=facts, region=REGION, launch=launch)
    return CHECKS["registry-unreachable"].run(td, context) + CHECKS["public-ip-exposed"].run(td, context)


def high(findings):
    return [f for f in findings if f.severity == "high"]


def test_private_subnet_without_nat_or_endpoints_fires(vpc):
    subnet, _ = vpc.subnet()
    [finding] = check(vpc, [subnet], definition(ECR_IMAGE))
    assert finding.severity == "high" and subnet in finding.message
    assert "has no default route (0.0.0.0/0)" in finding.message


def test_the_same_with_a_nat_route_does_not(vpc):
    subnet, rtb = vpc.subnet()
    vpc.nat_route(rtb)
    assert check(vpc, [subnet], definition(ECR_IMAGE, "nginx:1.27")) == []


def test_ecr_and_s3_endpoints_serve_an_ecr_image_not_a_docker_hub_one(vpc):
    subnet, rtb = vpc.subnet()
    vpc.ecr_endpoints(subnet, rtb)
    assert check(vpc, [subnet], definition(ECR_IMAGE)) == []
    [finding] = check(vpc, [subnet], definition(ECR_IMAGE, "nginx:1.27"))
    assert "'nginx:1.27' (container 'c1', Docker Hub) needs the internet" in finding.message


def test_public_subnet_disabled_fires_enabled_does_not(vpc):
    subnet, rtb = vpc.subnet()
    vpc.igw_route(rtb)
    [finding] = check(vpc, [subnet], definition("nginx:1.27"), public=False)
    assert "but the task gets no public IP" in finding.message
    assert '"assignPublicIp": "ENABLED"' in finding.remediation
    assert check(vpc, [subnet], definition("nginx:1.27"), public=True) == []


def test_public_ip_in_a_subnet_without_an_igw_route_fires(vpc):
    subnet, _ = vpc.subnet()
    [finding] = check(vpc, [subnet], definition("nginx:1.27"), public=True)
    assert finding.severity == "high"
    assert "assignPublicIp ENABLED has no effect here" in finding.message


def test_the_main_route_table_is_followed_without_an_association(vpc):
    subnet, _ = vpc.subnet(table=False)
    main = vpc.ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc.id]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"][0]["RouteTableId"]
    [finding] = check(vpc, [subnet], definition("nginx:1.27"))
    assert f"route table {main} (the VPC's main table)" in finding.message
    vpc.nat_route(main)
    clear_caches()
    assert check(vpc, [subnet], definition("nginx:1.27")) == []


def test_the_ec2_launch_type_does_not(vpc):
    subnet, _ = vpc.subnet()
    assert check(vpc, [subnet], definition("nginx:1.27"), launch_type="EC2") == []


def test_the_vpc_default_group_when_none_is_named(vpc):
    subnet, rtb = vpc.subnet()
    vpc.nat_route(rtb)
    default = vpc.ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc.id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    vpc.ec2.revoke_security_group_egress(
        GroupId=default, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    [finding] = check(vpc, [subnet], definition("nginx:1.27"), groups=[])
    assert f"its security groups ({default}) allow no outbound TCP 443" in finding.message


def test_public_ip_exposed_with_endpoints_and_open_ingress(vpc):
    subnet, rtb = vpc.subnet()
    vpc.igw_route(rtb)
    vpc.ecr_endpoints(subnet, rtb)
    vpc.ec2.authorize_security_group_ingress(
        GroupId=vpc.task_sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    [finding] = check(vpc, [subnet], definition(ECR_IMAGE), public=True)
    assert finding.check == "public-ip-exposed" and finding.severity == "info"
    assert f"{vpc.task_sg}: TCP 80 from 0.0.0.0/0" in finding.message


def test_facts_read_the_layout(vpc):
    subnet, rtb = vpc.subnet()
    vpc.ecr_endpoints(subnet, rtb)
    facts, _ = counted_facts()
    network = facts.subnet_network(REGION, subnet)
    assert isinstance(network, SubnetNetwork)
    assert network.vpc_id == vpc.id and network.cidr == "10.0.1.0/24" and network.route_table.id == rtb
    kinds = {r.target_kind for r in network.route_table.routes}
    assert kinds == {"local", "vpc-endpoint"}
    services = {(e.service_name, e.type, e.private_dns) for e in network.endpoints}
    assert (f"com.amazonaws.{REGION}.ecr.dkr", "Interface", True) in services
    groups = facts.security_groups(REGION, [vpc.task_sg])
    assert not isinstance(groups, Unknown) and groups[vpc.task_sg].egress[0].protocol == "-1"
    assert isinstance(facts.subnet_network(REGION, "subnet-00000000"), Unknown)


@pytest.mark.parametrize("operation", ["DescribeSubnets", "DescribeRouteTables", "DescribeVpcEndpoints"])
def test_a_failed_call_is_could_not_verify_never_a_pass(vpc, operation):
    subnet, _ = vpc.subnet()
    facts, _ = counted_facts()

    def deny(model, **_):
        if model.name == operation:
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, model.name)

    facts._clients("ec2", REGION).meta.events.register("before-call.ec2", deny)
    [finding] = check(vpc, [subnet], definition("nginx:1.27"), facts=facts)
    assert finding.severity == "info" and finding.data["unverified"]
    assert f"ec2:{operation}: UnauthorizedOperation" in finding.message


def test_failed_security_group_read_with_a_nat_route_is_could_not_verify(vpc):
    subnet, rtb = vpc.subnet()
    vpc.nat_route(rtb)
    facts, _ = counted_facts()

    def deny(model, **_):
        if model.name == "DescribeSecurityGroups":
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, model.name)

    facts._clients("ec2", REGION).meta.events.register("before-call.ec2", deny)
    [finding] = check(vpc, [subnet], definition("nginx:1.27"), facts=facts)
    assert finding.data["unverified"] and "ec2:DescribeSecurityGroups: UnauthorizedOperation" in finding.message


def test_calls_per_two_subnet_launch(vpc):
    """Two private subnets of one VPC, one with its own table, one on the main table, ECR endpoints in the VPC."""
    first, rtb = vpc.subnet()
    second, _ = vpc.subnet(table=False)
    vpc.ecr_endpoints(first, rtb)
    facts, calls = counted_facts()
    findings = check(vpc, [first, second], definition(ECR_IMAGE), facts=facts)
    assert [f.data["subnet"] for f in high(findings)] == [second]  # the main table has no S3 gateway route
    assert dict(calls) == {
        "DescribeSubnets": 1,
        "DescribeRouteTables": 2,  # the explicit associations, then the VPC's main table
        "DescribeVpcEndpoints": 1,
        "DescribeSecurityGroups": 1,  # the task's and the endpoints' groups together
    }
    assert sum(calls.values()) == 5
