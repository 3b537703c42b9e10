"""Facts: what checks may ask about the AWS account, as one small interface with typed answers.

Checks import only this module (never boto3): :class:`Facts` is the interface, :class:`StaticFacts`
the in-memory twin used by tests and by ``ecsguard scan`` without ``--aws``, and
:class:`ecsguard.aws.facts.AwsFacts` the implementation that reads AWS (cached per invocation).

Every answer is either the fact or an :class:`Unknown` that says why it could not be known (an
error code, never a value). A check that gets an ``Unknown`` reports "could not verify" at ``info``
(:meth:`ecsguard.checks.registry.Check.unverified`): a failed read is never a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Unknown:
    """A fact that could not be read: ``reason`` names the call and the error code."""

    reason: str

    def __bool__(self) -> bool:  # an Unknown is never mistaken for a truthy fact
        return False


@dataclass(frozen=True, slots=True)
class EcrImage:
    """What ECR says about one image (by tag or digest)."""

    repository: str
    region: str
    digest: str | None = None
    # Compressed size of the layers a pull downloads: ECR's imageSizeInBytes, or for a multi-platform image
    # the layers of the platform entry that was read (see ``platform``); ECR's own figure is the largest entry.
    size_bytes: int | None = None
    # The image's configured USER ("" = not set, i.e. root), and where ecsguard read it: "image config".
    user: str | None = None
    user_source: str | None = None
    found: bool = True
    registry_id: str | None = None  # the account that owns the repository
    tag: str | None = None  # the tag the reference named (None for a digest reference)
    media_type: str | None = None  # imageManifestMediaType of what the reference names
    # For a multi-platform image (manifest list / OCI index): the entry read, e.g. "linux/arm64" and why.
    platform: str | None = None
    # Why ``user`` is None when the image exists (an error code or a reason, never a value).
    user_reason: str | None = None
    # The repository's imageTagMutability (MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION)
    # and whether this reference's tag can be overwritten; read only for moving tags (latest...), else None.
    tag_mutability: str | None = None
    tag_immutable: bool | None = None
    # Why the reference was not found (ImageNotFoundException, RepositoryNotFoundException) when found=False.
    not_found_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """One IAM policy attached to or inline in a role, as a parsed document."""

    name: str
    document: Mapping[str, Any]
    arn: str | None = None  # managed policies only
    aws_managed: bool = False


@dataclass(frozen=True, slots=True)
class RoleFacts:
    """An IAM role's policies (inline and attached, default versions)."""

    arn: str
    exists: bool = True
    policies: tuple[PolicyDocument, ...] = ()
    # The managed policy set as the role's permissions boundary (it caps what the policies grant), if any.
    permissions_boundary: str | None = None


# ------------------------------------------------------------------------------------------------- network
# What the launch checks (checks/network.py) need to know about a task's subnets and security groups:
# read by ecsguard.aws.network.NetworkFacts (DescribeSubnets, DescribeRouteTables, DescribeVpcEndpoints,
# DescribeSecurityGroups), given by hand to StaticFacts in tests.

# Route target kinds, from the field of the EC2 Route that is set (GatewayId is split by its prefix).
ROUTE_TARGETS = (
    "local",  # GatewayId "local": the VPC itself
    "internet-gateway",  # igw-
    "nat-gateway",  # NatGatewayId
    "instance",  # InstanceId (a NAT instance, or any appliance on an instance)
    "network-interface",  # NetworkInterfaceId without InstanceId (an appliance's ENI)
    "transit-gateway",  # TransitGatewayId
    "peering",  # VpcPeeringConnectionId
    "vpc-endpoint",  # GatewayId vpce- (a gateway endpoint's prefix-list route) or VpcEndpointId (GWLB/firewall)
    "virtual-private-gateway",  # vgw- (VPN, Direct Connect)
    "egress-only-internet-gateway",  # IPv6 only
    "carrier-gateway",
    "local-gateway",
    "core-network",
    "unknown",
)


@dataclass(frozen=True, slots=True)
class Route:
    """One route of a route table. ``destination`` is an IPv4 CIDR, an IPv6 CIDR or a prefix-list id."""

    destination: str
    destination_kind: str  # "ipv4" | "ipv6" | "prefix-list"
    target: str  # the target's id ("local", "igw-...", "nat-...", "i-...", "tgw-...", "pcx-...", "vpce-...")
    target_kind: str  # one of ROUTE_TARGETS
    state: str = "active"  # "active" | "blackhole"


@dataclass(frozen=True, slots=True)
class RouteTable:
    id: str
    # True when the subnet has no explicit association and uses its VPC's main route table.
    main: bool = False
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, slots=True)
class VpcEndpoint:
    """One VPC endpoint of the subnet's VPC (DescribeVpcEndpoints)."""

    id: str
    service_name: str  # com.amazonaws.<region>.ecr.dkr ...
    type: str  # "Interface" | "Gateway" | "GatewayLoadBalancer"
    state: str  # "available", "pending", "deleting", "rejected", "failed", ... (lower case, as EC2 answers)
    subnet_ids: tuple[str, ...] = ()  # Interface: where its network interfaces are
    route_table_ids: tuple[str, ...] = ()  # Gateway: the route tables it is associated with
    private_dns: bool = False
    security_groups: tuple[str, ...] = ()  # Interface: the groups on its network interfaces


@dataclass(frozen=True, slots=True)
class SubnetNetwork:
    """A subnet with what decides where its traffic can go: its route table and its VPC's endpoints."""

    subnet_id: str
    vpc_id: str
    availability_zone: str | None
    cidr: str | None  # the subnet's IPv4 CIDR
    route_table: RouteTable
    endpoints: tuple[VpcEndpoint, ...] = ()


@dataclass(frozen=True, slots=True)
class SecurityGroupRule:
    """One IpPermission of a security group (ingress or egress), as EC2 describes it."""

    protocol: str  # "-1" (all), "tcp", "udp", "icmp", or a protocol number as a string
    from_port: int | None = None
    to_port: int | None = None
    cidrs: tuple[str, ...] = ()  # IPv4
    ipv6_cidrs: tuple[str, ...] = ()
    prefix_lists: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # referenced security-group ids

    def covers_tcp(self, port: int) -> bool:
        """Does this rule let TCP ``port`` through (all traffic, TCP by name or number 6, a port range)?"""
        if self.protocol == "-1":
            return True
        if self.protocol.lower() not in {"tcp", "6"}:
            return False
        if self.from_port is None or self.to_port is None:
            return True  # EC2 reports TCP with no ports only for "all ports"
        if self.from_port == -1 and self.to_port == -1:
            return True
        return self.from_port <= port <= self.to_port


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    id: str
    vpc_id: str | None = None
    name: str | None = None
    ingress: tuple[SecurityGroupRule, ...] = ()
    egress: tuple[SecurityGroupRule, ...] = ()


class NetworkFactsProtocol(Protocol):
    """The network part of :class:`Facts` (launch checks). Every answer is cached for one invocation."""

    def subnet_networks(self, region: str, subnet_ids: Iterable[str]) -> Mapping[str, SubnetNetwork | Unknown]:
        """Each subnet with its route table (explicit association, else the VPC's main table) and the VPC's
        endpoints; a subnet that could not be read (or does not exist) is an :class:`Unknown`."""
        ...

    def subnet_network(self, region: str, subnet_id: str) -> SubnetNetwork | Unknown:
        """One subnet of :meth:`subnet_networks`."""
        ...

    def security_groups(
        self, region: str, group_ids: Iterable[str], *, vpc_id: str | None = None
    ) -> Mapping[str, SecurityGroup] | Unknown:
        """Security groups by id. With no ids and a ``vpc_id``: that VPC's ``default`` group (what ECS puts on a
        task whose network configuration names none), keyed by its id. Unknown if any of them cannot be read."""
        ...


def _network_unknown(what: str) -> Unknown:
    return Unknown(f"{what} not known offline")


@dataclass(kw_only=True)
class StaticNetworkFacts:
    """The in-memory twin of :class:`~ecsguard.aws.network.NetworkFacts`: subnets and groups given by hand.

    Mixed into :class:`StaticFacts`: a subnet or group not given is :class:`Unknown`.
    """

    subnets: Mapping[str, SubnetNetwork | Unknown] = field(default_factory=dict)
    groups: Mapping[str, SecurityGroup] = field(default_factory=dict)
    # vpc id -> id of its default security group (in ``groups``)
    default_groups: Mapping[str, str] = field(default_factory=dict)

    def subnet_networks(self, region: str, subnet_ids: Iterable[str]) -> Mapping[str, SubnetNetwork | Unknown]:
        return {s: self.subnet_network(region, s) for s in dict.fromkeys(subnet_ids)}

    def subnet_network(self, region: str, subnet_id: str) -> SubnetNetwork | Unknown:
        if getattr(self, "offline", False):
            return _network_unknown(f"subnet {subnet_id}")
        if subnet_id in self.subnets:
            return self.subnets[subnet_id]  # an Unknown given on purpose is falsy: never ``or`` it away
        return _network_unknown(f"subnet {subnet_id}")

    def security_groups(
        self, region: str, group_ids: Iterable[str], *, vpc_id: str | None = None
    ) -> Mapping[str, SecurityGroup] | Unknown:
        ids = list(dict.fromkeys(group_ids))
        if getattr(self, "offline", False):
            return _network_unknown("security groups")
        if not ids and vpc_id is not None:
            default = self.default_groups.get(vpc_id)
            if default is None or default not in self.groups:
                return _network_unknown(f"the default security group of {vpc_id}")
            ids = [default]
        missing = [g for g in ids if g not in self.groups]
        if missing:
            return _network_unknown(f"security group {missing[0]}")
        return {g: self.groups[g] for g in ids}


class Facts(NetworkFactsProtocol, Protocol):
    """What a check may ask. Every method is a read; answers are cached for one invocation."""

    def log_group_exists(self, region: str, name: str) -> bool | None:
        """True/False, or None when it cannot be known (region denied by an SCP, no endpoint...)."""
        ...

    def ecr_image(self, image: str, *, platform: str | None = None) -> EcrImage | Unknown | None:
        """The ECR image an image reference names (None: not an ECR image reference).

        ``platform`` (``linux/arm64``...) picks the entry of a multi-platform image for its USER.
        """
        ...

    def pull_through_cache_prefixes(self, region: str) -> Mapping[str, str] | Unknown:
        """ECR pull-through cache rules in a region: repository prefix -> upstream registry URL."""
        ...

    def role(self, role_arn: str) -> RoleFacts | Unknown:
        """The role's inline and attached policy documents (``exists=False`` when there is no such role)."""
        ...

    def simulate(self, role_arn: str, actions: Iterable[str], resources: Iterable[str]) -> Mapping[str, str] | Unknown:
        """IAM policy simulation: ``"<action> <resource>"`` -> ``allowed`` | ``implicitDeny`` | ``explicitDeny``."""
        ...

    def secret_exists(self, value_from: str, region: str) -> bool | Unknown:
        """Whether a ``valueFrom`` (Secrets Manager or SSM parameter ARN or name) exists, by metadata only."""
        ...

    def families_using_role(self, role_arn: str) -> frozenset[str] | Unknown:
        """Task-definition families ecsguard has seen using this task role (the state table's inventory)."""
        ...


def _key(action: str, resource: str) -> str:
    return f"{action} {resource}"


@dataclass
class StaticFacts(StaticNetworkFacts):
    """The in-memory twin of :class:`~ecsguard.aws.facts.AwsFacts` (tests, ``ecsguard scan`` without AWS).

    Anything not given is :class:`Unknown` ("not known offline"), except log groups, which are
    absent unless listed (the behaviour the logging tests were written against).
    """

    log_groups: Iterable[tuple[str, str]] = ()
    images: Mapping[str, EcrImage | Unknown] = field(default_factory=dict)
    cache_rules: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    roles: Mapping[str, RoleFacts] = field(default_factory=dict)
    # "<action> <resource>" -> decision, per role ARN
    decisions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    secrets: Iterable[str] = ()
    role_families: Mapping[str, Iterable[str]] = field(default_factory=dict)
    offline: bool = False  # True: every AWS fact is Unknown (ecsguard scan without --aws)

    def __post_init__(self) -> None:
        self.log_groups = set(self.log_groups)
        self.secrets = set(self.secrets)

    def _unknown(self, what: str) -> Unknown:
        return Unknown(f"{what} not known offline")

    def log_group_exists(self, region: str, name: str) -> bool | None:
        if self.offline:
            return None
        return (region, name) in self.log_groups

    def ecr_image(self, image: str, *, platform: str | None = None) -> EcrImage | Unknown | None:
        # None for what is not an ECR private reference, as AwsFacts answers (placeholders included).
        from .imageref import parse_image

        ref = parse_image(image)
        if ref is None or not ref.is_ecr:
            return None
        if not self.offline and image in self.images:
            return self.images[image]
        return self._unknown(f"image {image}")

    def pull_through_cache_prefixes(self, region: str) -> Mapping[str, str] | Unknown:
        if self.offline:
            return self._unknown("pull-through cache rules")
        if region in self.cache_rules:
            return self.cache_rules[region]
        # Rules given for other regions only: this region has none. No rules given at all: none anywhere.
        return {}

    def role(self, role_arn: str) -> RoleFacts | Unknown:
        if role_arn in self.roles:
            return self.roles[role_arn]
        return self._unknown(f"role {role_arn}")

    def simulate(
        self,
        role_arn: str,
        actions: Iterable[str],
        resources: Iterable[str],
        *,
        context: Mapping[str, str] | None = None,  # condition keys (kms:ViaService...): ignored here
    ) -> Mapping[str, str] | Unknown:
        if role_arn not in self.decisions:
            return self._unknown(f"policy simulation for {role_arn}")
        known = self.decisions[role_arn]
        return {
            _key(a, r): known.get(_key(a, r), known.get(_key(a, "*"), "implicitDeny"))
            for a in actions
            for r in resources
        }

    def secret_exists(self, value_from: str, region: str) -> bool | Unknown:
        if self.offline:
            return self._unknown(f"secret {value_from}")
        # A Secrets Manager ARN may carry :json-key:version-stage:version-id after the secret's own ARN.
        parts = value_from.split(":")
        base = ":".join(parts[:7]) if value_from.startswith("arn:") and parts[2:3] == ["secretsmanager"] else value_from
        return value_from in self.secrets or base in self.secrets

    def families_using_role(self, role_arn: str) -> frozenset[str] | Unknown:
        if role_arn in self.role_families:
            return frozenset(self.role_families[role_arn])
        return frozenset() if not self.offline else self._unknown("role inventory")
