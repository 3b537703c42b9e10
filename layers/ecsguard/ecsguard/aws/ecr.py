"""ECR facts: images (size, digest, the image's own USER, tag mutability) and pull-through cache rules. Reads only.

Per new image, at most four ECR calls and one download, all in the image's own region:

1. ``DescribeImages`` (by tag, or by digest) for the digest, the compressed size and the manifest media type;
2. ``BatchGetImage`` for the manifest, and a second one for the platform entry when the image is a
   manifest list / OCI index (the entry that matches the task's platform, else the first one of its OS);
3. ``GetDownloadUrlForLayer`` for the image config blob, then one HTTPS GET of that presigned URL
   (timeout, size cap, sha256 checked against the digest) to read ``config.User``.

What a digest names never changes, so the config (USER, platform entry, size) is cached per digest for
the life of the container and a digest reference seen before costs no call at all; a tag is resolved
again in each invocation (``DescribeImages``: one call). For moving tags only (``latest``...), the
repository's tag mutability is read with ``DescribeRepositories``, cached per repository for five minutes.
Pull-through cache rules are cached per region for five minutes.

Errors: a definite "you may not look there" (AccessDenied...) becomes :class:`Unknown`; a missing
repository or image is ``EcrImage(found=False)``; throttling and server errors propagate, so the
invocation fails and is retried. Anything that stops ecsguard from reading the USER (a denied
``BatchGetImage``, an unreachable download, an unknown manifest) leaves ``user=None`` with
``user_reason``: never a guess. Presigned URLs are never logged.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from ..facts import EcrImage, Unknown
from ..imageref import ImageRef, is_moving_tag, parse_image
from .errors import UNKNOWABLE as _UNKNOWABLE
from .errors import TimedCache, error_code, region_known, unknown_from

logger = logging.getLogger(__name__)

# The same set as ecsguard.aws.facts.UNKNOWABLE, copied: aws/facts.py imports this module, so importing it
# back would close an import circle (the shared helper belongs in aws/clients.py).
_NOT_FOUND = frozenset({"ImageNotFoundException", "RepositoryNotFoundException"})

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPTED_MEDIA_TYPES = [DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX, *DOCKER_SCHEMA1]
_INDEXES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})

CONFIG_MAX_BYTES = 4 * 1024 * 1024  # image configs are kilobytes; anything this large is not one
DOWNLOAD_TIMEOUT_S = 5.0
RULES_TTL_S = 300.0
MUTABILITY_TTL_S = 300.0
DIGEST_CACHE_SIZE = 512
DEFAULT_PLATFORM = "linux/amd64"  # what ECS runs when runtimePlatform is not set


@dataclass(frozen=True, slots=True)
class _Config:
    """What a digest says, cached for the container's life: immutable by construction."""

    user: str | None
    user_reason: str | None
    platform: str | None
    size_bytes: int | None  # the platform entry's layers (index) or DescribeImages' figure
    media_type: str | None
    permanent: bool = True  # False: do not keep it for the container's life (see _UserUnreadable)


class _UserUnreadable(Exception):
    """The USER could not be read; ``str()`` is the reason (an error code or a short description).

    ``permanent``: the reason lies in the image itself (its manifest, its config), so it holds for the digest
    for good; otherwise (a denial, a failed download) it is asked again next time.
    """

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


# Per process (one Lambda container): configs by digest (LRU), and per Clients object the rule and
# mutability answers with their expiry. Weak keys: a Clients that is gone takes its answers with it.
_BY_DIGEST: OrderedDict[tuple[str, str, str, str, str], _Config] = OrderedDict()
_TIMED = TimedCache()


def clear_caches() -> None:
    """Forget everything cached for the container's life (tests)."""
    _BY_DIGEST.clear()
    _TIMED.clear()


def _wildcard(pattern: str) -> re.Pattern[str]:
    """ECR's tag filters: ``*`` matches any run of characters, everything else is literal."""
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


def _layers_size(manifest: Mapping[str, Any]) -> int | None:
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        return None
    sizes = [layer.get("size") for layer in layers if isinstance(layer, Mapping)]
    return sum(s for s in sizes if isinstance(s, int)) if sizes else None


def _pick_platform(manifests: Any, platform: str) -> tuple[str, str] | None:
    """(digest, description) of the index entry for ``platform`` (``os/arch``), else the first of that OS."""
    want_os, _, want_arch = platform.partition("/")
    entries = []
    for entry in manifests if isinstance(manifests, list) else []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("digest"), str):
            continue
        spec = entry.get("platform") if isinstance(entry.get("platform"), Mapping) else {}
        entries.append((entry["digest"], str(spec.get("os", "")), str(spec.get("architecture", ""))))
    for digest, os_name, arch in entries:
        if os_name == want_os and arch == want_arch:
            return digest, f"{os_name}/{arch} entry of a multi-platform image"
    for digest, os_name, arch in entries:
        if os_name == want_os:  # attestation entries say unknown/unknown and are never picked
            return digest, f"{os_name}/{arch} entry of a multi-platform image (it has no {platform} entry)"
    return None


def _allowed_url(url: str) -> bool:
    """HTTPS only (a presigned S3 URL); plain HTTP only to a loopback address (the tests' local server)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme == "http" and parts.hostname:
        try:
            return ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            return parts.hostname == "localhost"
    return False


def _download(url: str, expected_digest: str, max_bytes: int) -> bytes:
    """GET a blob by its presigned URL; at most ``max_bytes``; its sha256 must be ``expected_digest``."""
    if not _allowed_url(url):
        raise _UserUnreadable("the layer download URL is not HTTPS")
    request = urllib.request.Request(url, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:  # the scheme was checked above
            body = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise _UserUnreadable(f"downloading the image config failed: HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise _UserUnreadable(f"downloading the image config failed: {type(exc).__name__}") from None
    if len(body) > max_bytes:
        raise _UserUnreadable(f"the image config is larger than {max_bytes} bytes")
    algorithm, _, expected = expected_digest.partition(":")
    if algorithm != "sha256" or hashlib.sha256(body).hexdigest() != expected.lower():
        raise _UserUnreadable("the downloaded image config does not match its digest")
    return body


def _user_of(config: Any) -> str:
    """``config.User`` of an image config ("" when the image sets none: it then runs as root)."""
    if not isinstance(config, Mapping):
        raise _UserUnreadable("the image config is not a JSON object", permanent=True)
    inner = config.get("config")
    if inner is None:
        return ""
    if not isinstance(inner, Mapping):
        raise _UserUnreadable("the image config has no config object", permanent=True)
    user = inner.get("User")
    return user if isinstance(user, str) else ""


class EcrFacts:
    """Mixin of :class:`ecsguard.aws.facts.AwsFacts`; uses ``self._clients``. The pull-through cache rules
    are :class:`PullThroughCacheFacts`, composed next to it."""

    _clients: Any

    def _ecr_invocation(self) -> dict[tuple[str, str], EcrImage | Unknown | None]:
        cache = self.__dict__.get("_ecr_references")
        if cache is None:
            cache = self.__dict__["_ecr_references"] = {}
        return cache

    # ------------------------------------------------------------------ images

    def ecr_image(self, image: str, *, platform: str | None = None) -> EcrImage | Unknown | None:
        """The ECR image ``image`` names, read in the image's region; None when it is not an ECR private image.

        ``platform`` (``linux/arm64``...: :func:`ecsguard.imageref.task_platform`) chooses the entry of a
        multi-platform image whose USER and size are read; default ``linux/amd64``, what ECS runs by default.
        """
        ref = parse_image(image)
        if ref is None or not ref.is_ecr or not ref.ecr_region or not ref.ecr_account:
            return None
        platform = platform or DEFAULT_PLATFORM
        cache = self._ecr_invocation()
        key = (image, platform)
        if key not in cache:
            cache[key] = self._read_image(ref, platform)
        return cache[key]

    def _read_image(self, ref: ImageRef, platform: str) -> EcrImage | Unknown:
        assert ref.ecr_region and ref.ecr_account
        client = self._clients("ecr", ref.ecr_region)
        base: dict[str, Any] = {
            "repository": ref.repository,
            "region": ref.ecr_region,
            "registry_id": ref.ecr_account,
            "tag": None if ref.digest else ref.pulled_tag,
        }
        digest = ref.digest
        cached = _BY_DIGEST.get((ref.ecr_account, ref.ecr_region, ref.repository, digest, platform)) if digest else None
        if cached is not None:
            _BY_DIGEST.move_to_end((ref.ecr_account, ref.ecr_region, ref.repository, digest, platform))
            return self._image(ref, base, digest, cached)
        # A reference with a digest is pulled by digest (a tag next to it is ignored), so ask by digest.
        image_id = {"imageDigest": digest} if digest else {"imageTag": ref.pulled_tag}
        try:
            response = client.describe_images(
                registryId=ref.ecr_account, repositoryName=ref.repository, imageIds=[image_id]
            )
        except ClientError as exc:
            if error_code(exc) in _NOT_FOUND:
                return EcrImage(**base, digest=digest, found=False, not_found_reason=error_code(exc))
            unknown = unknown_from(exc, call="ecr:DescribeImages")
            if unknown is None:
                raise  # throttling, server errors: the invocation fails and is retried
            logger.warning("cannot describe ECR image", extra={"region": ref.ecr_region, "error": unknown.reason})
            return unknown
        except EndpointConnectionError:
            if region_known(self._clients, "ecr", ref.ecr_region):
                raise  # a real region that did not answer: transient, the invocation is retried
            return Unknown(f"ecr:DescribeImages: no ECR endpoint known in {ref.ecr_region}")
        details = response.get("imageDetails") or []
        if not details:
            return EcrImage(**base, digest=digest, found=False, not_found_reason="ImageNotFoundException")
        detail = details[0]
        digest = detail.get("imageDigest") or digest
        media_type = detail.get("imageManifestMediaType")
        size = detail.get("imageSizeInBytes")
        if not digest:
            config = _Config(None, "ECR returned no image digest", None, size, media_type)
        else:
            key = (ref.ecr_account, ref.ecr_region, ref.repository, digest, platform)
            config = _BY_DIGEST.get(key) or self._read_config(client, ref, digest, media_type, size, platform)
            if config.permanent:
                _BY_DIGEST[key] = config  # a denial may be lifted: only what the digest itself says is kept
                while len(_BY_DIGEST) > DIGEST_CACHE_SIZE:
                    _BY_DIGEST.popitem(last=False)
        return self._image(ref, base, digest, config)

    def _image(self, ref: ImageRef, base: dict[str, Any], digest: str | None, config: _Config) -> EcrImage:
        mutability, immutable = self._tag_mutability(ref) if is_moving_tag(ref) else (None, None)
        return EcrImage(
            **base,
            digest=digest,
            size_bytes=config.size_bytes,
            user=config.user,
            user_source="image config" if config.user is not None else None,
            user_reason=config.user_reason,
            media_type=config.media_type,
            platform=config.platform,
            tag_mutability=mutability,
            tag_immutable=immutable,
        )

    def _read_config(
        self, client: Any, ref: ImageRef, digest: str, media_type: str | None, size: int | None, platform: str
    ) -> _Config:
        """The USER (and, for an index, the platform entry and its size) of the image ``digest`` names."""
        chosen: str | None = None
        try:
            manifest, media_type = self._manifest(client, ref, digest, media_type)
            if media_type in _INDEXES:
                picked = _pick_platform(manifest.get("manifests"), platform)
                if picked is None:
                    raise _UserUnreadable(
                        f"the multi-platform image has no {platform.partition('/')[0]} entry", permanent=True
                    )
                child, chosen = picked
                manifest, child_type = self._manifest(client, ref, child, None)
                if child_type in _INDEXES:
                    raise _UserUnreadable("the image index points to another index", permanent=True)
                size = _layers_size(manifest) or size
                media_type_read = child_type
            else:
                media_type_read = media_type
            user = self._user_from_manifest(client, ref, manifest, media_type_read)
        except _UserUnreadable as exc:
            return _Config(None, str(exc), chosen, size, media_type, permanent=exc.permanent)
        return _Config(user, None, chosen, size, media_type)

    def _manifest(
        self, client: Any, ref: ImageRef, digest: str, media_type: str | None
    ) -> tuple[Mapping[str, Any], str | None]:
        try:
            response = client.batch_get_image(
                registryId=ref.ecr_account,
                repositoryName=ref.repository,
                imageIds=[{"imageDigest": digest}],
                acceptedMediaTypes=ACCEPTED_MEDIA_TYPES,
            )
        except ClientError as exc:
            unknown = unknown_from(exc, call="ecr:BatchGetImage")
            if unknown is not None:
                raise _UserUnreadable(f"{unknown.reason} (access denied)") from None
            if error_code(exc) in _NOT_FOUND:
                raise _UserUnreadable(f"ecr:BatchGetImage: {error_code(exc)}") from None
            raise
        images = response.get("images") or []
        if not images:
            failures = response.get("failures") or [{}]
            raise _UserUnreadable(f"ecr:BatchGetImage: {failures[0].get('failureCode', 'no manifest returned')}")
        try:
            manifest = json.loads(images[0].get("imageManifest") or "")
        except (TypeError, ValueError):
            raise _UserUnreadable("the image manifest is not JSON", permanent=True) from None
        if not isinstance(manifest, Mapping):
            raise _UserUnreadable("the image manifest is not a JSON object", permanent=True)
        kind = images[0].get("imageManifestMediaType") or manifest.get("mediaType") or media_type
        if kind is None and "manifests" in manifest:
            kind = OCI_INDEX  # an OCI index may omit its mediaType
        if kind is None and manifest.get("schemaVersion") == 1:
            kind = DOCKER_SCHEMA1[0]
        return manifest, kind

    def _user_from_manifest(
        self, client: Any, ref: ImageRef, manifest: Mapping[str, Any], media_type: str | None
    ) -> str:
        if media_type in DOCKER_SCHEMA1 or manifest.get("schemaVersion") == 1:
            # Schema 1 carries the config inline: the newest history entry's v1Compatibility.
            history = manifest.get("history")
            try:
                first = json.loads(history[0]["v1Compatibility"])  # type: ignore[index]
            except (TypeError, KeyError, IndexError, ValueError):
                raise _UserUnreadable("the schema 1 manifest has no readable v1Compatibility", permanent=True) from None
            return _user_of(first)
        config = manifest.get("config")
        if not isinstance(config, Mapping) or not isinstance(config.get("digest"), str):
            raise _UserUnreadable(
                f"the manifest ({media_type or 'unknown type'}) names no image config", permanent=True
            )
        size = config.get("size")
        if isinstance(size, int) and size > CONFIG_MAX_BYTES:
            raise _UserUnreadable(f"the image config is larger than {CONFIG_MAX_BYTES} bytes", permanent=True)
        try:
            response = client.get_download_url_for_layer(
                registryId=ref.ecr_account, repositoryName=ref.repository, layerDigest=config["digest"]
            )
        except NotImplementedError:  # a local stand-in for AWS (moto) without this call; botocore never raises it
            raise _UserUnreadable("ecr:GetDownloadUrlForLayer: not implemented by this endpoint") from None
        except ClientError as exc:
            unknown = unknown_from(exc, call="ecr:GetDownloadUrlForLayer")
            if unknown is not None:
                raise _UserUnreadable(f"{unknown.reason} (access denied)") from None
            if error_code(exc) in {"LayerInaccessibleException", "LayersNotFoundException", *_NOT_FOUND}:
                raise _UserUnreadable(f"ecr:GetDownloadUrlForLayer: {error_code(exc)}") from None
            raise
        url = response.get("downloadUrl")
        if not isinstance(url, str):
            raise _UserUnreadable("ecr:GetDownloadUrlForLayer returned no URL")
        body = _download(url, config["digest"], CONFIG_MAX_BYTES)
        try:
            document = json.loads(body)
        except ValueError:
            raise _UserUnreadable("the image config is not JSON", permanent=True) from None
        return _user_of(document)

    def _tag_mutability(self, ref: ImageRef) -> tuple[str | None, bool | None]:
        """(imageTagMutability, whether this tag can no longer be overwritten); (None, None) when unknown."""
        assert ref.ecr_region and ref.ecr_account
        key = ("mutability", ref.ecr_account, ref.ecr_region, ref.repository)
        settings = _TIMED.get(self._clients, key)
        if settings is None:
            try:
                response = self._clients("ecr", ref.ecr_region).describe_repositories(
                    registryId=ref.ecr_account, repositoryNames=[ref.repository]
                )
            except ClientError as exc:
                if error_code(exc) in _NOT_FOUND or error_code(exc) in _UNKNOWABLE:
                    return None, None
                raise
            except EndpointConnectionError:
                return None, None
            repositories = response.get("repositories") or [{}]
            repository = repositories[0]
            filters = tuple(
                str(f.get("filter"))
                for f in repository.get("imageTagMutabilityExclusionFilters") or []
                if isinstance(f, Mapping) and f.get("filter") and f.get("filterType", "WILDCARD") == "WILDCARD"
            )
            settings = (str(repository.get("imageTagMutability") or "MUTABLE"), filters)
            _TIMED.put(self._clients, key, settings, MUTABILITY_TTL_S)
        mutability, filters = settings
        tag = ref.pulled_tag or ""
        excluded = any(_wildcard(f).match(tag) for f in filters)
        immutable = {
            "MUTABLE": False,
            "IMMUTABLE": True,
            "IMMUTABLE_WITH_EXCLUSION": not excluded,
            "MUTABLE_WITH_EXCLUSION": excluded,
        }.get(mutability)
        return mutability, immutable


class PullThroughCacheFacts:
    """The account's ECR pull-through cache rules (a mixin; uses ``self._clients``). Its own class so a
    function that needs only the rules (the launch checks) does not carry the image reads and their permissions."""

    _clients: Any

    def pull_through_cache_prefixes(self, region: str) -> Mapping[str, str] | Unknown:
        """Pull-through cache rules of this account's registry in ``region``: ecrRepositoryPrefix -> upstream URL."""
        key = ("rules", region)
        rules = _TIMED.get(self._clients, key)
        if rules is not None:
            return rules
        found: dict[str, str] = {}
        try:
            paginator = self._clients("ecr", region).get_paginator("describe_pull_through_cache_rules")
            for page in paginator.paginate():
                for rule in page.get("pullThroughCacheRules") or []:
                    prefix, upstream = rule.get("ecrRepositoryPrefix"), rule.get("upstreamRegistryUrl")
                    if isinstance(prefix, str) and isinstance(upstream, str):
                        found[prefix] = upstream
        except ClientError as exc:
            unknown = unknown_from(exc, call="ecr:DescribePullThroughCacheRules")
            if unknown is None:
                raise
            logger.warning("cannot read pull-through cache rules", extra={"region": region, "error": unknown.reason})
            return unknown
        except EndpointConnectionError:
            if region_known(self._clients, "ecr", region):
                raise  # transient: retried
            return Unknown(f"ecr:DescribePullThroughCacheRules: no ECR endpoint known in {region}")
        except NotImplementedError:  # a local stand-in for AWS (moto) without this call; botocore never raises it
            return Unknown("ecr:DescribePullThroughCacheRules: not implemented by this endpoint")
        answer = MappingProxyType(found)
        _TIMED.put(self._clients, key, answer, RULES_TTL_S)
        return answer
