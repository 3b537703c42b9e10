"""Pure reasoning about a Fargate task's network path: routes, VPC endpoints, security-group rules.

No AWS here: :func:`evaluate_subnet` takes the facts (:class:`~ecsguard.facts.SubnetNetwork`, the task's
:class:`~ecsguard.facts.SecurityGroup` objects) and what the task needs (:class:`Needs`, from the task
definition) and says, for one subnet, what cannot be reached, what could not be judged, and how the task
gets out. ``checks/network.py`` turns that into findings.

What ecsguard decides, and why (AWS documentation):

* A subnet uses the route table explicitly associated with it, else its VPC's main route table.
* The internet is reached through the IPv4 default route (``0.0.0.0/0``): to an internet gateway only with a
  public IP on the task's interface (``assignPublicIp=ENABLED``: Fargate tasks get no public IP otherwise),
  or to a NAT gateway or NAT instance (whose own path to the internet is not judged). A blackhole default
  route reaches nothing. A default route to a transit gateway, a peering connection, a virtual private
  gateway, a Gateway Load Balancer / firewall endpoint or an appliance's network interface may lead
  anywhere: ecsguard says it cannot judge it (``info``), never that it fails.
* Without the internet, an ECR image of the task's own region is pulled through the interface endpoints
  ``com.amazonaws.<region>.ecr.api`` and ``.ecr.dkr`` and the layers through the S3 gateway endpoint
  ``com.amazonaws.<region>.s3`` associated with the subnet's route table. An interface endpoint with private
  DNS on serves every subnet of its VPC: its private hosted zone resolves the service's default name to the
  endpoint's network interfaces in the VPC (EC2 CreateVpcEndpoint, PrivateDnsEnabled), reached over the
  ``local`` route, also from an availability zone where the endpoint has no interface (cross-zone, at a
  cross-zone data charge: ecsguard does not flag it). Private DNS off: the default name resolves to the
  public service address, so the endpoint is not used. An endpoint must be ``available``.
* Interface endpoints only serve their own region: images in ECR of another region, ECR Public, Docker Hub
  and every other registry need the internet; so do awslogs and secrets of another region.
* Security groups: the task's groups must allow outbound TCP 443 to where it goes (0.0.0.0/0 for the internet;
  the endpoints' groups, or a CIDR holding the VPC, for interface endpoints; the S3 prefix list for the gateway
  endpoint); an interface endpoint's groups must allow inbound TCP 443 from the task. A rule to a narrower
  public CIDR or a customer prefix list could hold the destination or not: cannot judge (``info``).
  Network ACLs, endpoint policies and DNS attributes of the VPC are not read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..facts import Route, SecurityGroup, SubnetNetwork, Unknown, VpcEndpoint
from ..imageref import ImageRef

HTTPS = 443
ALLOWED, MAYBE, BLOCKED = "allowed", "maybe", "blocked"
# Targets a default route may have whose path ecsguard cannot follow.
_OPAQUE_TARGETS = {
    "transit-gateway": "a transit gateway",
    "peering": "a VPC peering connection",
    "virtual-private-gateway": "a virtual private gateway (VPN or Direct Connect)",
    "vpc-endpoint": "a Gateway Load Balancer (firewall) endpoint",
    "network-interface": "an appliance's network interface",
    "core-network": "a Cloud WAN core network",
    "local-gateway": "an Outposts local gateway",
    "carrier-gateway": "a Wavelength carrier gateway",
    "unknown": "a target ecsguard does not know",
}


@dataclass(frozen=True, slots=True)
class Image:
    container: str
    ref: ImageRef
    # An ECR image of the task's own region on a standard host: the endpoint path can serve it.
    endpoint_capable: bool
    where: str  # "ECR in us-east-1", "Docker Hub", "ghcr.io", ...

    @property
    def label(self) -> str:
        return f"'{self.ref.original}' (container '{self.container}', {self.where})"


@dataclass(frozen=True, slots=True)
class Need:
    """Something besides the images the task reaches at start: a service ("logs", "secretsmanager", "ssm",
    "s3") in a region, for a reason ("awslogs of container 'app'")."""

    service: str
    region: str
    reason: str


@dataclass(frozen=True, slots=True)
class Needs:
    region: str
    images: tuple[Image, ...] = ()
    services: tuple[Need, ...] = ()


@dataclass
class Verdict:
    """One subnet's answer. ``problems`` make the task unreachable; ``unverifiable`` could not be judged."""

    subnet: str
    problems: list[str] = field(default_factory=list)
    unverifiable: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    internet: str = "no"  # "yes" | "no" | "unknown"
    internet_detail: str = ""
    via_igw: bool = False  # the default route goes to an internet gateway
    endpoints_cover: bool = False  # every need is served by endpoints in this subnet (routes and groups aside)
    missing_endpoints: list[str] = field(default_factory=list)
    reachable: bool = False  # the task can start (nothing unreachable, nothing unverifiable)
    public_ip_useless: bool = False
    pull_fails: bool = False  # CannotPullContainerError
    init_fails: bool = False  # ResourceInitializationError (logs, secrets, environment files)
    endpoint_fixes: list[str] = field(default_factory=list)  # the exact commands that add what is missing


def service_name(region: str, service: str) -> str:
    return f"com.amazonaws.{region}.{service}"


def default_route(routes: Iterable[Route]) -> Route | None:
    return next((r for r in routes if r.destination_kind == "ipv4" and _is_default(r.destination)), None)


def _is_default(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


def internet_path(subnet: SubnetNetwork, public_ip: bool) -> tuple[str, str, bool]:
    """("yes" | "no" | "unknown", why, whether the default route goes to an internet gateway)."""
    table = subnet.route_table
    where = f"route table {table.id}" + (" (the VPC's main table)" if table.main else "")
    route = default_route(table.routes)
    if route is None:
        gateway_endpoints = {e.id for e in subnet.endpoints if e.type.lower() == "gateway"}
        opaque = [
            r
            for r in table.routes
            if r.target_kind not in {"local"}
            and r.state == "active"
            and r.target not in gateway_endpoints
            and (r.destination_kind == "prefix-list" or _public(r.destination))
        ]
        if opaque:
            r = opaque[0]
            return (
                "unknown",
                f"{where} has no default route (0.0.0.0/0) but routes {r.destination} to "
                f"{_OPAQUE_TARGETS.get(r.target_kind, r.target_kind)} {r.target}",
                False,
            )
        return "no", f"{where} has no default route (0.0.0.0/0): nothing in this subnet reaches the internet", False
    if route.state != "active":
        return "no", f"the default route of {where} points to {route.target}, which is a blackhole (deleted)", False
    if route.target_kind == "internet-gateway":
        if public_ip:
            return "yes", f"{where} routes 0.0.0.0/0 to internet gateway {route.target}", True
        return (
            "no",
            f"{where} routes 0.0.0.0/0 to internet gateway {route.target}, but the task gets no public IP "
            "(assignPublicIp is DISABLED), so its traffic cannot leave through the gateway",
            True,
        )
    if route.target_kind in {"nat-gateway", "instance"}:
        kind = "NAT gateway" if route.target_kind == "nat-gateway" else "instance (NAT instance)"
        return "yes", f"{where} routes 0.0.0.0/0 to {kind} {route.target}", False
    if route.target_kind == "egress-only-internet-gateway":
        return "no", f"the default route of {where} goes to an egress-only (IPv6) gateway {route.target}", False
    return (
        "unknown",
        f"{where} routes 0.0.0.0/0 to {_OPAQUE_TARGETS.get(route.target_kind, route.target_kind)} {route.target}, "
        "which ecsguard cannot follow",
        False,
    )


def _public(cidr: str) -> bool:
    network = _network(cidr)
    return network is not None and network.version == 4 and not network.is_private


def vpc_cidrs(subnet: SubnetNetwork) -> list[ipaddress.IPv4Network]:
    """The VPC's IPv4 CIDRs: the destinations of the route table's ``local`` routes."""
    found = []
    for route in subnet.route_table.routes:
        if route.target_kind == "local" and route.destination_kind == "ipv4":
            network = _network(route.destination)
            if isinstance(network, ipaddress.IPv4Network):
                found.append(network)
    return found


def interface_endpoint(subnet: SubnetNetwork, name: str) -> tuple[VpcEndpoint | None, str]:
    """(the usable interface endpoint, "") or (None, why not)."""
    candidates = [e for e in subnet.endpoints if e.service_name == name and e.type.lower() == "interface"]
    for endpoint in candidates:
        if endpoint.state == "available" and endpoint.private_dns:
            return endpoint, ""
    if not candidates:
        return None, "missing"
    endpoint = candidates[0]
    if endpoint.state != "available":
        return None, f"{endpoint.id} is {endpoint.state or 'not available'}"
    return None, f"{endpoint.id} has private DNS off, so the service's name does not resolve to it"


def s3_gateway(subnet: SubnetNetwork, region: str) -> tuple[VpcEndpoint | None, str, str | None]:
    """(the usable S3 gateway endpoint, why not, its prefix list id from the route table)."""
    name = service_name(region, "s3")
    table = subnet.route_table
    gateways = [e for e in subnet.endpoints if e.service_name == name and e.type.lower() == "gateway"]
    for endpoint in gateways:
        routed = next((r for r in table.routes if r.target == endpoint.id), None)
        if endpoint.state == "available" and (table.id in endpoint.route_table_ids or routed is not None):
            return endpoint, "", routed.destination if routed and routed.destination_kind == "prefix-list" else None
    if gateways:
        endpoint = gateways[0]
        if endpoint.state != "available":
            return None, f"{endpoint.id} is {endpoint.state or 'not available'}", None
        return None, f"{endpoint.id} is not associated with route table {table.id}", None
    return None, "missing", None


# --------------------------------------------------------------------------------------------- security groups


def egress_verdict(
    groups: Iterable[SecurityGroup],
    *,
    destination: str,
    endpoint_groups: frozenset[str] = frozenset(),
    vpc: Iterable[ipaddress.IPv4Network] = (),
    prefix_list: str | None = None,
) -> tuple[str, str]:
    """(ALLOWED | MAYBE | BLOCKED, what decided it) for outbound TCP 443 to ``destination``:
    "internet", "endpoints" (interface endpoints with ``endpoint_groups`` inside ``vpc``) or "s3"."""
    vpc = list(vpc)
    maybe = ""
    for group in groups:
        for rule in group.egress:
            if not rule.covers_tcp(HTTPS):
                continue
            for cidr in rule.cidrs:
                network = _network(cidr)
                if network is None:
                    continue
                if network.prefixlen == 0:
                    return ALLOWED, f"{group.id} allows {cidr}"
                if destination == "endpoints":
                    if any(v.subnet_of(network) for v in vpc if v.version == network.version):  # type: ignore[arg-type]
                        return ALLOWED, f"{group.id} allows {cidr}"
                    if any(v.overlaps(network) for v in vpc if v.version == network.version):  # type: ignore[arg-type]
                        maybe = maybe or f"{group.id} allows TCP 443 only to {cidr}, part of the VPC"
                elif not network.is_private:
                    maybe = maybe or f"{group.id} allows TCP 443 only to {cidr}"
            for pl in rule.prefix_lists:
                if destination == "s3" and pl == prefix_list:
                    return ALLOWED, f"{group.id} allows the S3 prefix list {pl}"
                maybe = maybe or f"{group.id} allows TCP 443 only to prefix list {pl}, which ecsguard does not read"
            if destination == "endpoints" and endpoint_groups.intersection(rule.groups):
                return ALLOWED, f"{group.id} allows the endpoints' security group"
    return (MAYBE, maybe) if maybe else (BLOCKED, "")


def ingress_verdict(
    endpoint_groups: Iterable[SecurityGroup], task_groups: frozenset[str], subnet_cidr: str | None
) -> tuple[str, str]:
    """Do an interface endpoint's groups let the task in on TCP 443?"""
    source = _network(subnet_cidr) if subnet_cidr else None
    maybe = ""
    for group in endpoint_groups:
        for rule in group.ingress:
            if not rule.covers_tcp(HTTPS):
                continue
            if task_groups.intersection(rule.groups):
                return ALLOWED, ""
            for cidr in rule.cidrs:
                network = _network(cidr)
                if network is None:
                    continue
                if network.prefixlen == 0 or (
                    source is not None and source.version == network.version and source.subnet_of(network)  # type: ignore[arg-type]
                ):
                    return ALLOWED, ""
                if source is None or (source.version == network.version and source.overlaps(network)):  # type: ignore[arg-type]
                    maybe = maybe or f"{group.id} allows TCP 443 from {cidr}, part of the subnet"
            for pl in rule.prefix_lists:
                maybe = maybe or f"{group.id} allows TCP 443 from prefix list {pl}, which ecsguard does not read"
    return (MAYBE, maybe) if maybe else (BLOCKED, "")


def internet_ingress(groups: Iterable[SecurityGroup]) -> list[str]:
    """The ingress rules open to the whole internet (0.0.0.0/0 or ::/0), as "sg-1: TCP 80 from 0.0.0.0/0"."""
    found = []
    for group in groups:
        for rule in group.ingress:
            opens = [c for c in (*rule.cidrs, *rule.ipv6_cidrs) if _is_default(c)]
            for cidr in opens:
                found.append(f"{group.id}: {_ports(rule.protocol, rule.from_port, rule.to_port)} from {cidr}")
    return found


def _ports(protocol: str, low: int | None, high: int | None) -> str:
    if protocol == "-1":
        return "all traffic"
    name = {"6": "tcp", "17": "udp", "1": "icmp"}.get(protocol, protocol).upper()
    if low is None or low == -1 or (low == 0 and high == 65535):
        return f"{name} all ports"
    return f"{name} {low}" if low == high else f"{name} {low}-{high}"


# --------------------------------------------------------------------------------------------- one subnet


def evaluate_subnet(
    subnet: SubnetNetwork,
    needs: Needs,
    *,
    public_ip: bool,
    task_groups: Mapping[str, SecurityGroup] | Unknown,
    endpoint_groups: Mapping[str, SecurityGroup] | Unknown,
) -> Verdict:
    verdict = Verdict(subnet.subnet_id)
    region = needs.region
    state, detail, via_igw = internet_path(subnet, public_ip)
    verdict.internet, verdict.internet_detail, verdict.via_igw = state, detail, via_igw
    verdict.public_ip_useless = public_ip and not via_igw
    groups = list(task_groups.values()) if not isinstance(task_groups, Unknown) else []
    group_names = ", ".join(sorted(task_groups)) if not isinstance(task_groups, Unknown) else ""

    # What the endpoints of this subnet serve, and what they lack.
    endpoint_images = [i for i in needs.images if i.endpoint_capable]
    internet_images = [i for i in needs.images if not i.endpoint_capable]
    internet_services = [n for n in needs.services if n.region != region]
    local_services = [n for n in needs.services if n.region == region]
    interfaces: list[tuple[str, str]] = []  # (service, why) of what is required
    if endpoint_images:
        interfaces += [("ecr.api", "ECR image pulls (authentication)"), ("ecr.dkr", "ECR image pulls")]
    needs_s3 = bool(endpoint_images) or any(n.service == "s3" for n in local_services)
    for service in ("logs", "secretsmanager", "ssm"):
        reasons = [n.reason for n in local_services if n.service == service]
        if reasons:
            interfaces.append((service, "; ".join(dict.fromkeys(reasons))))
    used: list[VpcEndpoint] = []
    missing: list[tuple[str, str, str]] = []  # (endpoint name, why needed, why unusable)
    for service, why in interfaces:
        endpoint, problem = interface_endpoint(subnet, service_name(region, service))
        if endpoint is None:
            missing.append((service_name(region, service), why, problem))
            verdict.endpoint_fixes.append(_interface_fix(subnet, region, service))
        else:
            used.append(endpoint)
    s3_endpoint, s3_problem, s3_prefix_list = (None, "", None)
    s3_interface = False
    if needs_s3:
        s3_endpoint, s3_problem, s3_prefix_list = s3_gateway(subnet, region)
        if s3_endpoint is None:
            s3_interface = any(
                e.service_name == service_name(region, "s3")
                and e.type.lower() == "interface"
                and e.state == "available"
                and e.private_dns
                for e in subnet.endpoints
            )
            if not s3_interface:
                missing.append((f"{service_name(region, 's3')} (Gateway)", "image layers and S3 files", s3_problem))
                verdict.endpoint_fixes.append(_gateway_fix(subnet, region))
    verdict.missing_endpoints = [name for name, _, _ in missing]
    endpoints_cover = not internet_images and not internet_services and not missing and not s3_interface
    verdict.endpoints_cover = endpoints_cover

    if state == "yes":
        if isinstance(task_groups, Unknown):
            egress, why = MAYBE, f"the groups could not be read ({task_groups.reason})"
        else:
            egress, why = egress_verdict(groups, destination="internet")
        if egress == ALLOWED:
            verdict.reachable = True
            return verdict
        if not endpoints_cover:
            if egress == BLOCKED:
                verdict.problems.append(
                    f"its security groups ({group_names}) allow no outbound TCP 443 to 0.0.0.0/0, so no image can "
                    f"be pulled although {detail}"
                )
                verdict.fixes.append(_egress_fix(sorted(task_groups)[0], "0.0.0.0/0"))
                verdict.pull_fails = True
            else:
                verdict.unverifiable.append(f"whether the task's security groups let it reach its registries: {why}")
            return verdict
        # The groups block the internet (or cannot be judged), but the endpoints serve everything: judged below.

    # No internet (or not judged): what needs it fails, or cannot be judged.
    internet_needers = [i.label for i in internet_images] + [
        f"{n.reason} (in {n.region}, which this VPC's endpoints do not serve)" for n in internet_services
    ]
    endpoint_needers = [
        f"the endpoint {name} for {why}, " + ("which is missing" if problem == "missing" else f"but {problem}")
        for name, why, problem in missing
    ]
    if state == "unknown":
        if internet_needers or endpoint_needers:
            parts = [f"{_join(internet_needers)} would be unreachable"] if internet_needers else []
            parts += [f"the task would need {e}" for e in endpoint_needers]
            verdict.unverifiable.append(
                f"whether subnet {subnet.subnet_id} reaches the internet: {detail}. Without it {'; '.join(parts)}"
            )
    elif state == "no":
        for name, _, _ in missing:
            pulls = ".ecr." in name or (".s3" in name and bool(endpoint_images))
            verdict.pull_fails = verdict.pull_fails or pulls
            verdict.init_fails = verdict.init_fails or not pulls
        verdict.pull_fails = verdict.pull_fails or bool(internet_images)
        verdict.init_fails = verdict.init_fails or bool(internet_services)
        if internet_needers:
            verdict.problems.append(
                f"{_join(internet_needers)} need{'s' if len(internet_needers) == 1 else ''} the internet, and {detail}"
            )
        if endpoint_needers:
            lead = "" if internet_needers else f"{detail}; "
            verdict.problems.append(f"{lead}without the internet it needs {_join(endpoint_needers)}")
    if s3_interface and needs_s3:
        verdict.unverifiable.append(
            "whether image layers reach S3 through the S3 interface endpoint: ECR documents the S3 gateway "
            f"endpoint, and route table {subnet.route_table.id} has none"
        )

    # The endpoints used: can the task's groups reach them, and do the endpoints' groups let it in?
    if used or s3_endpoint is not None:
        if isinstance(task_groups, Unknown):
            verdict.unverifiable.append(
                f"whether the task's security groups allow TCP 443 to the endpoints ({task_groups.reason})"
            )
        else:
            endpoint_sg_ids = frozenset(g for e in used for g in e.security_groups)
            if used:
                egress, why = egress_verdict(
                    groups, destination="endpoints", endpoint_groups=endpoint_sg_ids, vpc=vpc_cidrs(subnet)
                )
                if egress == BLOCKED:
                    verdict.problems.append(
                        f"its security groups ({group_names}) allow no outbound TCP 443 to the VPC endpoints "
                        f"({', '.join(e.id for e in used)})"
                    )
                    verdict.fixes.append(_egress_fix(sorted(task_groups)[0], _vpc_text(subnet)))
                    verdict.pull_fails = verdict.pull_fails or bool(endpoint_images)
                    verdict.init_fails = verdict.init_fails or bool(local_services)
                elif egress == MAYBE:
                    verdict.unverifiable.append(f"whether the task reaches the VPC endpoints: {why}")
            if s3_endpoint is not None:
                egress, why = egress_verdict(groups, destination="s3", prefix_list=s3_prefix_list)
                if egress == BLOCKED:
                    verdict.problems.append(
                        f"its security groups ({group_names}) allow no outbound TCP 443 to S3 (prefix list "
                        f"{s3_prefix_list or 'of ' + s3_endpoint.id}), so image layers cannot be downloaded"
                    )
                    verdict.fixes.append(
                        f"aws ec2 authorize-security-group-egress --group-id {sorted(task_groups)[0]} "
                        f"--ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,"
                        f"PrefixListIds=[{{PrefixListId={s3_prefix_list or '<the S3 prefix list>'}}}]'"
                    )
                    verdict.pull_fails = verdict.pull_fails or bool(endpoint_images)
                elif egress == MAYBE:
                    verdict.unverifiable.append(f"whether the task reaches S3: {why}")
        for endpoint in used:
            if not endpoint.security_groups:
                continue
            if isinstance(endpoint_groups, Unknown):
                verdict.unverifiable.append(
                    f"whether endpoint {endpoint.id}'s security groups let the task in ({endpoint_groups.reason})"
                )
                break
            mine = [endpoint_groups[g] for g in endpoint.security_groups if g in endpoint_groups]
            if len(mine) != len(endpoint.security_groups):
                verdict.unverifiable.append(f"whether endpoint {endpoint.id}'s security groups let the task in")
                continue
            ingress, why = ingress_verdict(
                mine, frozenset() if isinstance(task_groups, Unknown) else frozenset(task_groups), subnet.cidr
            )
            if ingress == BLOCKED:
                verdict.problems.append(
                    f"endpoint {endpoint.id} ({endpoint.service_name}) has security groups "
                    f"({', '.join(endpoint.security_groups)}) that allow no inbound TCP 443 from the task"
                )
                verdict.fixes.append(
                    f"aws ec2 authorize-security-group-ingress --group-id {endpoint.security_groups[0]} "
                    f"--protocol tcp --port 443 --cidr {subnet.cidr or _vpc_text(subnet)}"
                )
                if ".ecr." in endpoint.service_name:
                    verdict.pull_fails = True
                else:
                    verdict.init_fails = True
            elif ingress == MAYBE:
                verdict.unverifiable.append(f"whether endpoint {endpoint.id} lets the task in: {why}")
    verdict.fixes = list(dict.fromkeys(verdict.fixes))
    verdict.unverifiable = list(dict.fromkeys(verdict.unverifiable))
    verdict.reachable = not verdict.problems and not verdict.unverifiable
    return verdict


def _vpc_text(subnet: SubnetNetwork) -> str:
    cidrs = vpc_cidrs(subnet)
    return str(cidrs[0]) if cidrs else "<the VPC's CIDR>"


def _egress_fix(group: str, cidr: str) -> str:
    return (
        f"aws ec2 authorize-security-group-egress --group-id {group} "
        f"--ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{{CidrIp={cidr}}}]'"
    )


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _interface_fix(subnet: SubnetNetwork, region: str, service: str) -> str:
    name = service_name(region, service)
    existing = [e for e in subnet.endpoints if e.service_name == name and e.type.lower() == "interface"]
    if existing and existing[0].state == "available" and not existing[0].private_dns:
        return f"aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id {existing[0].id} --private-dns-enabled"
    return (
        f"aws ec2 create-vpc-endpoint --region {region} --vpc-id {subnet.vpc_id} --vpc-endpoint-type Interface "
        f"--service-name {name} --subnet-ids {subnet.subnet_id} --private-dns-enabled "
        "--security-group-ids <a group allowing inbound TCP 443 from the task>"
    )


def _gateway_fix(subnet: SubnetNetwork, region: str) -> str:
    name = service_name(region, "s3")
    table = subnet.route_table.id
    existing = [e for e in subnet.endpoints if e.service_name == name and e.type.lower() == "gateway"]
    if existing and existing[0].state == "available":
        return f"aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id {existing[0].id} --add-route-table-ids {table}"
    return (
        f"aws ec2 create-vpc-endpoint --region {region} --vpc-id {subnet.vpc_id} --vpc-endpoint-type Gateway "
        f"--service-name {name} --route-table-ids {table}"
    )
