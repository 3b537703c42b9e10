"""Network facts: a task's subnets (route table, VPC endpoints) and security groups, from EC2. Reads only.

Per launch, for the subnets of one VPC and the task's security groups, at most five EC2 calls, each
batched over every subnet (or group) it can take:

1. ``DescribeSubnets`` (``SubnetIds``: all of them): VPC, availability zone, CIDR;
2. ``DescribeRouteTables`` (filter ``association.subnet-id``: all of them) for the explicit associations;
3. ``DescribeRouteTables`` (filters ``vpc-id`` + ``association.main=true``), once per VPC, only when a subnet
   has no explicit association: it then uses its VPC's main route table;
4. ``DescribeVpcEndpoints`` (filter ``vpc-id``), once per VPC;
5. ``DescribeSecurityGroups`` (``GroupIds``: the task's groups and the interface endpoints' groups, asked by
   the check in one call), or, when the launch names no group, the VPC's ``default`` group by filter.

Answers are kept for the life of the :class:`~ecsguard.aws.facts.AwsFacts` object (one invocation), never
longer: a route fixed a minute ago is seen at the next launch. Any failure (a denial, a subnet that no
longer exists, throttling the SDK's retries did not absorb, an endpoint that does not answer, a call a
local stand-in does not implement) is an :class:`~ecsguard.facts.Unknown` naming the call and the error
code: the check then says "could not verify", never "reachable".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from ..facts import (
    Route,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    SubnetNetwork,
    Unknown,
    VpcEndpoint,
)
from .errors import TimedCache, error_code

logger = logging.getLogger(__name__)

# Per AwsFacts object (weakly): one invocation's answers. The TTL only bounds a long-lived object.
INVOCATION_TTL_S = 300.0
_CACHE = TimedCache()

_ROUTE_FIELDS = (
    ("NatGatewayId", "nat-gateway"),
    ("TransitGatewayId", "transit-gateway"),
    ("VpcPeeringConnectionId", "peering"),
    ("EgressOnlyInternetGatewayId", "egress-only-internet-gateway"),
    ("CarrierGatewayId", "carrier-gateway"),
    ("LocalGatewayId", "local-gateway"),
    ("CoreNetworkArn", "core-network"),
    ("InstanceId", "instance"),
    ("NetworkInterfaceId", "network-interface"),
)
_GATEWAY_PREFIXES = (("igw-", "internet-gateway"), ("vgw-", "virtual-private-gateway"), ("vpce-", "vpc-endpoint"))


def clear_caches() -> None:
    """Forget every answer (tests)."""
    _CACHE.clear()


def _failure(exc: Exception, call: str) -> Unknown:
    if isinstance(exc, ClientError):
        reason = f"{call}: {error_code(exc) or 'error'}"
    elif isinstance(exc, NotImplementedError):  # a local stand-in for AWS (moto) without this call
        reason = f"{call}: not implemented by this endpoint"
    else:
        reason = f"{call}: {type(exc).__name__}"
    logger.warning("cannot read network facts", extra={"call": call, "error": reason})
    return Unknown(reason)


# NotImplementedError: a local stand-in (moto) without the call. UnicodeError / ResponseParserError: an id
# botocore cannot send, or an answer it cannot read back: "could not verify", never a crash loop.
_FAILURES = (ClientError, BotoCoreError, NotImplementedError, UnicodeError, ResponseParserError)


def parse_route(data: Mapping[str, Any]) -> Route:
    if data.get("DestinationCidrBlock"):
        destination, kind = str(data["DestinationCidrBlock"]), "ipv4"
    elif data.get("DestinationIpv6CidrBlock"):
        destination, kind = str(data["DestinationIpv6CidrBlock"]), "ipv6"
    else:
        destination, kind = str(data.get("DestinationPrefixListId") or ""), "prefix-list"
    target, target_kind = "", "unknown"
    gateway = data.get("GatewayId")
    if gateway == "local":
        target, target_kind = "local", "local"
    elif isinstance(gateway, str) and gateway:
        target = gateway
        target_kind = next((k for prefix, k in _GATEWAY_PREFIXES if gateway.startswith(prefix)), "unknown")
    elif data.get("VpcEndpointId"):  # a Gateway Load Balancer (firewall) endpoint
        target, target_kind = str(data["VpcEndpointId"]), "vpc-endpoint"
    else:
        for key, kind_name in _ROUTE_FIELDS:
            if data.get(key):
                target, target_kind = str(data[key]), kind_name
                break
    return Route(destination, kind, target, target_kind, str(data.get("State") or "active"))


def parse_route_table(data: Mapping[str, Any], *, main: bool) -> RouteTable:
    return RouteTable(
        id=str(data.get("RouteTableId") or ""),
        main=main,
        routes=tuple(parse_route(r) for r in data.get("Routes") or [] if isinstance(r, Mapping)),
    )


def parse_endpoint(data: Mapping[str, Any]) -> VpcEndpoint:
    return VpcEndpoint(
        id=str(data.get("VpcEndpointId") or ""),
        service_name=str(data.get("ServiceName") or ""),
        type=str(data.get("VpcEndpointType") or ""),
        state=str(data.get("State") or "").lower(),
        subnet_ids=tuple(data.get("SubnetIds") or ()),
        route_table_ids=tuple(data.get("RouteTableIds") or ()),
        private_dns=bool(data.get("PrivateDnsEnabled")),
        security_groups=tuple(str(g.get("GroupId")) for g in data.get("Groups") or [] if g.get("GroupId")),
    )


def _rule(data: Mapping[str, Any]) -> SecurityGroupRule:
    return SecurityGroupRule(
        protocol=str(data.get("IpProtocol") or "-1"),
        from_port=data.get("FromPort"),
        to_port=data.get("ToPort"),
        cidrs=tuple(r["CidrIp"] for r in data.get("IpRanges") or [] if r.get("CidrIp")),
        ipv6_cidrs=tuple(r["CidrIpv6"] for r in data.get("Ipv6Ranges") or [] if r.get("CidrIpv6")),
        prefix_lists=tuple(p["PrefixListId"] for p in data.get("PrefixListIds") or [] if p.get("PrefixListId")),
        groups=tuple(g["GroupId"] for g in data.get("UserIdGroupPairs") or [] if g.get("GroupId")),
    )


def parse_security_group(data: Mapping[str, Any]) -> SecurityGroup:
    return SecurityGroup(
        id=str(data.get("GroupId") or ""),
        vpc_id=data.get("VpcId"),
        name=data.get("GroupName"),
        ingress=tuple(_rule(p) for p in data.get("IpPermissions") or []),
        egress=tuple(_rule(p) for p in data.get("IpPermissionsEgress") or []),
    )


class NetworkFacts:
    """Mixin of :class:`~ecsguard.aws.facts.AwsFacts`: needs ``self._clients`` (a :class:`~ecsguard.aws.Clients`)."""

    _clients: Any

    @staticmethod
    def _all(paginator: Any, key: str, **request: Any) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        for page in paginator.paginate(**request):
            found.extend(page.get(key) or [])
        return found

    def subnet_network(self, region: str, subnet_id: str) -> SubnetNetwork | Unknown:
        return self.subnet_networks(region, [subnet_id])[subnet_id]

    def subnet_networks(self, region: str, subnet_ids: Iterable[str]) -> Mapping[str, SubnetNetwork | Unknown]:
        wanted = list(dict.fromkeys(subnet_ids))
        answers: dict[str, SubnetNetwork | Unknown] = {}
        todo = []
        for subnet in wanted:
            cached = _CACHE.get(self, ("subnet", region, subnet))
            if cached is None:
                todo.append(subnet)
            else:
                answers[subnet] = cached
        if todo:
            for subnet, answer in self._read_subnets(region, todo).items():
                _CACHE.put(self, ("subnet", region, subnet), answer, INVOCATION_TTL_S)
                answers[subnet] = answer
        return {s: answers[s] for s in wanted}

    def _read_subnets(self, region: str, subnet_ids: list[str]) -> dict[str, SubnetNetwork | Unknown]:
        try:
            subnets = self._all(
                self._clients("ec2", region).get_paginator("describe_subnets"), "Subnets", SubnetIds=subnet_ids
            )
        except _FAILURES as exc:
            unknown = _failure(exc, "ec2:DescribeSubnets")
            return dict.fromkeys(subnet_ids, unknown)
        by_id = {s.get("SubnetId"): s for s in subnets}
        answers: dict[str, SubnetNetwork | Unknown] = {
            s: Unknown(f"ec2:DescribeSubnets: {s} not returned") for s in subnet_ids if s not in by_id
        }
        present = [s for s in subnet_ids if s in by_id]
        if not present:
            return answers
        try:
            tables = self._all(
                self._clients("ec2", region).get_paginator("describe_route_tables"),
                "RouteTables",
                Filters=[{"Name": "association.subnet-id", "Values": present}],
            )
        except _FAILURES as exc:
            answers.update(dict.fromkeys(present, _failure(exc, "ec2:DescribeRouteTables")))
            return answers
        explicit: dict[str, RouteTable] = {}
        for table in tables:
            for association in table.get("Associations") or []:
                subnet = association.get("SubnetId")
                if subnet in by_id:
                    explicit[subnet] = parse_route_table(table, main=False)
        for subnet in present:
            vpc = str(by_id[subnet].get("VpcId") or "")
            table = explicit.get(subnet)
            if table is None:
                main = self._main_route_table(region, vpc)
                if isinstance(main, Unknown):
                    answers[subnet] = main
                    continue
                table = main
            endpoints = self._vpc_endpoints(region, vpc)
            if isinstance(endpoints, Unknown):
                answers[subnet] = endpoints
                continue
            data = by_id[subnet]
            answers[subnet] = SubnetNetwork(
                subnet_id=subnet,
                vpc_id=vpc,
                availability_zone=data.get("AvailabilityZone"),
                cidr=data.get("CidrBlock"),
                route_table=table,
                endpoints=endpoints,
            )
        return answers

    def _main_route_table(self, region: str, vpc_id: str) -> RouteTable | Unknown:
        key = ("main-route-table", region, vpc_id)
        cached = _CACHE.get(self, key)
        if cached is not None:
            return cached
        try:
            tables = self._all(
                self._clients("ec2", region).get_paginator("describe_route_tables"),
                "RouteTables",
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}],
            )
        except _FAILURES as exc:
            answer: RouteTable | Unknown = _failure(exc, "ec2:DescribeRouteTables")
        else:
            answer = (
                parse_route_table(tables[0], main=True)
                if tables
                else Unknown(f"ec2:DescribeRouteTables: no main route table for {vpc_id}")
            )
        _CACHE.put(self, key, answer, INVOCATION_TTL_S)
        return answer

    def _vpc_endpoints(self, region: str, vpc_id: str) -> tuple[VpcEndpoint, ...] | Unknown:
        key = ("endpoints", region, vpc_id)
        cached = _CACHE.get(self, key)
        if cached is not None:
            return cached
        try:
            found = self._all(
                self._clients("ec2", region).get_paginator("describe_vpc_endpoints"),
                "VpcEndpoints",
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
            )
        except _FAILURES as exc:
            answer: tuple[VpcEndpoint, ...] | Unknown = _failure(exc, "ec2:DescribeVpcEndpoints")
        else:
            answer = tuple(parse_endpoint(e) for e in found)
        _CACHE.put(self, key, answer, INVOCATION_TTL_S)
        return answer

    def security_groups(
        self, region: str, group_ids: Iterable[str], *, vpc_id: str | None = None
    ) -> Mapping[str, SecurityGroup] | Unknown:
        wanted = list(dict.fromkeys(group_ids))
        if not wanted and vpc_id is None:
            return {}
        if not wanted:
            key: tuple[str, ...] = ("default-group", region, vpc_id or "")
            request: dict[str, Any] = {
                "Filters": [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
            }
        else:
            key = ("groups", region, *sorted(wanted))
            request = {"GroupIds": wanted}
        cached = _CACHE.get(self, key)
        if cached is not None:
            return cached
        known = {g: _CACHE.get(self, ("group", region, g)) for g in wanted}
        if wanted and all(known.values()):
            return {g: known[g] for g in wanted}  # type: ignore[misc]
        try:
            groups = self._all(
                self._clients("ec2", region).get_paginator("describe_security_groups"), "SecurityGroups", **request
            )
        except _FAILURES as exc:
            answer: Mapping[str, SecurityGroup] | Unknown = _failure(exc, "ec2:DescribeSecurityGroups")
        else:
            parsed = {g.id: g for g in map(parse_security_group, groups)}
            missing = [g for g in wanted if g not in parsed]
            if missing:
                answer = Unknown(f"ec2:DescribeSecurityGroups: {missing[0]} not returned")
            elif not parsed:
                answer = Unknown(f"ec2:DescribeSecurityGroups: no default security group in {vpc_id}")
            else:
                answer = parsed
                for group in parsed.values():
                    _CACHE.put(self, ("group", region, group.id), group, INVOCATION_TTL_S)
        _CACHE.put(self, key, answer, INVOCATION_TTL_S)
        return answer
