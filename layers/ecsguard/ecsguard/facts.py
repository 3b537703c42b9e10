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


class Facts(Protocol):
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
class StaticFacts:
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
