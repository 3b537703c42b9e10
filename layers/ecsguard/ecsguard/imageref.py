"""Container image references: registry, repository, tag and digest, and which registry that is.

Pure and standard library only, so checks, facts and renderers can all use it. The grammar is the one
Docker and containerd follow (``distribution/reference``): an optional registry host (a first path
component with a dot or a port, or ``localhost``), lowercase path components, a tag of at most 128 word
characters, dots and dashes, and an ``@algorithm:hex`` digest. On top of that it recognises:

* Amazon ECR private registries: ``<account>.dkr.ecr.<region>.amazonaws.com`` (``.com.cn`` in China,
  ``c2s.ic.gov``/``sc2s.sgov.gov`` in the ISO partitions), the FIPS hosts ``<account>.dkr.ecr-fips.<region>``
  and the dual-stack hosts ``<account>.dkr-ecr[-fips].<region>.on.aws``;
* ECR Public (``public.ecr.aws``);
* Docker Hub: no registry, ``docker.io``, ``index.docker.io``, ``registry-1.docker.io`` or
  ``registry.hub.docker.com``, with the implicit ``library/`` of official images;
* other registries (ghcr.io, quay.io, gcr.io, mcr.microsoft.com, registry.gitlab.com, a private host...).

:func:`parse_image` returns None for what it cannot judge: an empty value, a template placeholder
(``${IMAGE}``, ``{{ image }}``, ``<image>``, ``%BUILD%``, ``ACCOUNT_ID.dkr.ecr.REGION...``), a host that looks
like ECR but has no real account or region, or anything that is not a valid reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DOCKER_HUB",
    "DOCKER_HUB_UPSTREAM",
    "PUBLIC_ECR",
    "ImageRef",
    "cache_repository",
    "is_known_public_registry",
    "is_moving_tag",
    "parse_image",
    "pull_through_upstream",
    "same_upstream",
    "task_platform",
]

DOCKER_HUB = "docker.io"
# What a pull-through cache rule names as Docker Hub's upstreamRegistryUrl.
DOCKER_HUB_UPSTREAM = "registry-1.docker.io"
_DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
PUBLIC_ECR = "public.ecr.aws"

# distribution/reference, written out (the grammar docker and containerd accept).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_HOST = re.compile(rf"^{_DOMAIN}$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")

_REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+"
_ECR_HOST = re.compile(
    rf"^(?P<account>\d{{12}})\."
    rf"(?:dkr\.ecr(?P<fips>-fips)?\.(?P<region>{_REGION})\.(?:amazonaws\.com(?:\.cn)?|c2s\.ic\.gov|sc2s\.sgov\.gov)"
    rf"|dkr-ecr(?P<fips6>-fips)?\.(?P<region6>{_REGION})\.(?:on\.aws|on\.amazonwebservices\.com\.cn))"
    rf"(?::443)?$"
)
# Looks like an ECR host but is not a real one (xxxxxxxxxxxx, ACCOUNT.dkr.ecr.REGION...): a placeholder.
_ECR_LOOKALIKE = re.compile(r"\.dkr[.-]ecr(?:-fips)?\.|^dkr\.ecr\.", re.IGNORECASE)

# Template syntax no real reference contains. A reference with any of it is not judged.
_PLACEHOLDER = re.compile(
    r"\$\{|\$\(|\$[A-Za-z_]|\{\{|\}\}|<[^>]*>|%[A-Za-z_][A-Za-z0-9_]*%|[%#]\{|__[A-Za-z0-9_]+__|\[|\]|\s"
)
# Words people write where an image should go.
_PLACEHOLDER_WORDS = re.compile(r"(?:^|/)(?:your|my)[-_](?:app[-_])?(?:image|repo|repository|registry)\b|placeholder")

# Tags that name a channel or a branch, moved on every push (the check image-mutable-tag reports them).
_CHANNEL_TAGS = frozenset(
    {
        "latest",
        "stable",
        "edge",
        "nightly",
        "main",
        "master",
        "dev",
        "develop",
        "development",
        "staging",
        "stage",
        "prod",
        "production",
        "current",
        "canary",
        "mainline",
        "lts",
        "head",
        "trunk",
        "snapshot",
        "unstable",
        "rolling",
    }
)


@dataclass(frozen=True, slots=True)
class ImageRef:
    """One parsed image reference. ``registry`` is normalised (``docker.io`` for Docker Hub, hosts lowercase)."""

    original: str
    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None
    is_ecr: bool = False  # an ECR private registry
    ecr_region: str | None = None
    ecr_account: str | None = None
    is_public_ecr: bool = False
    is_docker_hub: bool = False
    ecr_fips: bool = False
    ecr_dual_stack: bool = False

    @property
    def name(self) -> str:
        """``registry/repository`` (Docker Hub written the way people write it: ``nginx``, ``datadog/agent``)."""
        if self.is_docker_hub:
            return self.repository.removeprefix("library/")
        return f"{self.registry}/{self.repository}"

    @property
    def pulled_tag(self) -> str | None:
        """The tag a pull uses: the tag, ``latest`` when neither tag nor digest is given, None for a digest."""
        if self.tag:
            return self.tag
        return None if self.digest else "latest"

    @property
    def is_aws(self) -> bool:
        """ECR private or ECR Public: pulled from AWS's own registries."""
        return self.is_ecr or self.is_public_ecr

    def reference(self) -> str:
        """The reference as it should be written (``nginx:1.27``, ``ghcr.io/o/r@sha256:...``)."""
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _placeholder(image: str) -> bool:
    return bool(_PLACEHOLDER.search(image) or _PLACEHOLDER_WORDS.search(image.lower()))


def parse_image(image: str | None) -> ImageRef | None:
    """Parse an image reference; None for an empty value, a placeholder or anything that is not a reference."""
    if not isinstance(image, str):
        return None
    text = image.strip()
    if not text or len(text) > 1024 or _placeholder(text):
        return None
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", text):  # a bare ALL_CAPS word (IMAGE_PHP) is a variable, not an image
        return None
    remainder, _, digest = text.partition("@")
    if digest and not _DIGEST.match(digest):
        return None
    # The tag is after the last colon that comes after the last slash (a colon before it is a port).
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    tag = None
    if colon > slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.match(tag):
            return None
    first, _, rest = remainder.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        host, path = first, rest
        if not _HOST.match(host):
            return None
        host = host.lower()
    else:
        host, path = DOCKER_HUB, remainder
    if not _PATH.match(path) or len(path) > 255:
        return None
    if host in _DOCKER_HUB_HOSTS:
        if "/" not in path:
            path = f"library/{path}"
        return ImageRef(text, DOCKER_HUB, path, tag or None, digest or None, is_docker_hub=True)
    if host == PUBLIC_ECR:
        return ImageRef(text, host, path, tag or None, digest or None, is_public_ecr=True)
    ecr = _ECR_HOST.match(host)
    if ecr:
        return ImageRef(
            text,
            host.removesuffix(":443"),
            path,
            tag or None,
            digest or None,
            is_ecr=True,
            ecr_account=ecr.group("account"),
            ecr_region=ecr.group("region") or ecr.group("region6"),
            ecr_fips=bool(ecr.group("fips") or ecr.group("fips6")),
            ecr_dual_stack=bool(ecr.group("region6")),
        )
    if _ECR_LOOKALIKE.search(host):
        return None  # xxxxxxxxxxxx.dkr.ecr.us-west-1.amazonaws.com: a placeholder account
    return ImageRef(text, host, path, tag or None, digest or None)


def is_moving_tag(ref: ImageRef) -> bool:
    """Whether the reference names a tag that is moved on purpose: ``latest`` (also implied), a channel or branch.

    A digest never moves. A version tag (``1.2.3``, ``v2``, ``2024-05-01``, a git sha, ``dev-0.1.0``) is not
    counted: it can be overwritten in a mutable repository, but nobody does so on purpose.
    """
    if ref.digest:
        return False
    tag = (ref.tag or "latest").lower()
    if tag in _CHANNEL_TAGS:
        return True
    return "latest" in re.split(r"[-_.]", tag)


# Registries people pull public images from, whose limits and outages a task inherits.
_KNOWN_PUBLIC = (
    re.compile(
        r"^(?:ghcr\.io|quay\.io|gcr\.io|[a-z]+\.gcr\.io|mcr\.microsoft\.com|registry\.gitlab\.com|registry\.k8s\.io"
        r"|docker\.elastic\.co|nvcr\.io|cgr\.dev|registry\.access\.redhat\.com|registry\.redhat\.io"
        r"|[a-z0-9-]+-docker\.pkg\.dev)$"
    ),
)


def is_known_public_registry(ref: ImageRef) -> bool:
    """Docker Hub or another well-known public registry (not ECR, not ECR Public, not a private host)."""
    return ref.is_docker_hub or any(pattern.match(ref.registry) for pattern in _KNOWN_PUBLIC)


# upstreamRegistryUrl of the pull-through cache rules ECR supports (CreatePullThroughCacheRule).
_CACHEABLE = re.compile(
    r"^(?:ghcr\.io|quay\.io|registry\.gitlab\.com|registry\.k8s\.io|cgr\.dev|[a-z0-9-]+\.azurecr\.io)$"
)


def pull_through_upstream(ref: ImageRef) -> str | None:
    """The ``upstreamRegistryUrl`` an ECR pull-through cache rule for this registry has; None if ECR cannot cache it."""
    if ref.is_docker_hub:
        return DOCKER_HUB_UPSTREAM
    if ref.is_public_ecr or ref.is_ecr:
        return ref.registry
    return ref.registry if _CACHEABLE.match(ref.registry) else None


def same_upstream(rule_url: str, ref: ImageRef) -> bool:
    """Does a rule's ``upstreamRegistryUrl`` serve this reference's registry?"""
    upstream = pull_through_upstream(ref)
    if upstream is None:
        return False
    url = rule_url.strip().lower().removeprefix("https://").rstrip("/")
    if ref.is_docker_hub:
        return url in _DOCKER_HUB_HOSTS
    return url == upstream


def cache_repository(ref: ImageRef, prefix: str) -> str:
    """The ECR repository a pull-through cache rule with ``prefix`` stores this image in.

    Docker Hub official images keep their ``library/`` (``docker-hub/library/nginx``); a ``ROOT`` prefix
    adds nothing.
    """
    prefix = prefix.strip("/")
    return ref.repository if prefix in {"", "ROOT"} else f"{prefix}/{ref.repository}"


def task_platform(os_family: str | None, cpu_architecture: str | None) -> str:
    """The OCI platform a task runs on: ``linux/amd64`` unless runtimePlatform says ARM64 or Windows."""
    os_name = "windows" if (os_family or "").upper().startswith("WINDOWS") else "linux"
    arch = "arm64" if (cpu_architecture or "").upper() == "ARM64" else "amd64"
    return f"{os_name}/{arch}"
