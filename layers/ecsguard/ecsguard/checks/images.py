"""Images (mistakes 5 and 6): where images come from, how big they are, and whether their name pins a build.

* ``image-cross-region``: an ECR image in another region than the task (pure);
* ``image-public-registry``: Docker Hub or another public registry instead of ECR (pure; with facts, the
  account's pull-through cache rules give the exact ECR URI to use instead);
* ``image-too-large``: an ECR image above the size limit (needs facts: ``ecr:DescribeImages``);
* ``image-mutable-tag``: ``latest`` (also implied by no tag), a channel or branch tag (pure; with facts, a tag
  ECR will not let anyone overwrite passes).

Image references are parsed by :mod:`ecsguard.imageref`; placeholders (``${IMAGE}``, ``<image>``...) are never
judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..facts import EcrImage, Unknown
from ..imageref import (
    ImageRef,
    cache_repository,
    is_known_public_registry,
    is_moving_tag,
    parse_image,
    pull_through_upstream,
    same_upstream,
    task_platform,
)
from ..model import Container, Finding, TaskDefinition
from .logging import templated
from .registry import CheckContext, check

DOCS_REPLICATION = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html"
DOCS_PULL_THROUGH = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html"
DOCS_FARGATE_PULL = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html"
DOCS_TAG_MUTABILITY = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html"

MIB = 1024 * 1024
DEFAULT_LIMIT_MIB = 500
# An assumed Fargate pull rate (download and unpack together) for the time estimate in image-too-large.
DEFAULT_PULL_MIB_PER_S = 30

# The repository prefixes the ECR console proposes for each upstream registry.
_CACHE_PREFIXES = {
    "registry-1.docker.io": "docker-hub",
    "ghcr.io": "github",
    "quay.io": "quay",
    "registry.k8s.io": "kubernetes",
    "registry.gitlab.com": "gitlab",
    "cgr.dev": "chainguard",
}

# Docker Hub images AWS also publishes on ECR Public (same images, no Docker Hub rate limit).
_ECR_PUBLIC_COPIES = {
    "amazon/aws-xray-daemon": "public.ecr.aws/xray/aws-xray-daemon",
    "amazon/aws-for-fluent-bit": "public.ecr.aws/aws-observability/aws-for-fluent-bit",
    "amazon/aws-otel-collector": "public.ecr.aws/aws-observability/aws-otel-collector",
    "amazon/cloudwatch-agent": "public.ecr.aws/cloudwatch-agent/cloudwatch-agent",
}


# What one EcrImage answer may cost (see ecsguard.aws.ecr): the image, its manifest and config, and for moving
# tags the repository's tag mutability.
_ECR_IMAGE_CALLS = (
    "ecr:DescribeImages",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:DescribeRepositories",
)

# AWS accounts that publish the same image in every region (the copy in the task's region is the fix).
_AWS_PUBLISHERS = {
    "906394416424": "AWS for Fluent Bit",
    "840364872350": "The App Mesh Envoy image",
}


def _images(task_definition: TaskDefinition) -> Iterator[tuple[Container, ImageRef]]:
    """Each container with a concrete, parseable image reference (placeholders are skipped)."""
    for container in task_definition.containers:
        image = (container.image or "").strip()
        if not image or templated(image):
            continue
        ref = parse_image(image)
        if ref is not None:
            yield container, ref


def _task_region(task_definition: TaskDefinition, context: CheckContext) -> str | None:
    return task_definition.region or context.region


def _task_account(task_definition: TaskDefinition) -> str | None:
    parts = (task_definition.arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    if region.startswith("us-iso-"):
        return "aws-iso"
    return "aws"


def _ecr_host(account: str, region: str) -> str:
    suffix = {"aws-cn": "amazonaws.com.cn", "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov"}
    return f"{account}.dkr.ecr.{region}.{suffix.get(_partition(region), 'amazonaws.com')}"


def _suffix(ref: ImageRef) -> str:
    return (f":{ref.tag}" if ref.tag else "") + (f"@{ref.digest}" if ref.digest else "")


def _runs_on_fargate(task_definition: TaskDefinition) -> bool:
    compatibilities = task_definition.raw.get("compatibilities")
    return task_definition.is_fargate or (isinstance(compatibilities, list) and "FARGATE" in compatibilities)


# --------------------------------------------------------------------------------------------- region


@check(
    id="image-cross-region",
    title="ECR image in another region than the task",
    severity="medium",
    mistake=5,
    rationale=(
        "ECS pulls the image from the region its URI names. From another region every task start pays for it: a "
        "slower pull, inter-region data transfer charged per GB on every pull (on top of NAT gateway processing), "
        "and a dependency on that region: when ECR there is impaired, tasks here cannot start. In subnets that reach "
        "ECR only through VPC endpoints the pull fails outright, because endpoints serve their own region. Across "
        "partitions (aws, aws-cn, aws-us-gov) the pull cannot authenticate at all. Medium: it rarely breaks a "
        "task on the day it is registered, but it costs on every start and fails when the other region does."
    ),
    remediation=(
        "Replicate the repository into the task's region (an ECR replication rule) and use the local URI in the "
        "container's image; for an image you do not own, use its publisher's copy in the task's region."
    ),
    docs=DOCS_REPLICATION,
)
def image_cross_region(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    region = _task_region(task_definition, context)
    if not region or templated(region):
        return
    account = _task_account(task_definition)
    for container, ref in _images(task_definition):
        if not ref.is_ecr or not ref.ecr_region or ref.ecr_region == region:
            continue
        assert ref.ecr_account
        local = f"{_ecr_host(ref.ecr_account, region)}/{ref.repository}{_suffix(ref)}"
        if _partition(ref.ecr_region) != _partition(region):
            yield image_cross_region.finding(
                context,
                f"Container '{container.name}' pulls its image from ECR in {ref.ecr_region} "
                f"({_partition(ref.ecr_region)} partition), but the task runs in {region} "
                f"({_partition(region)} partition): credentials of one partition are not accepted in another, so "
                "the pull fails with CannotPullContainerError and the task never starts.",
                container=container.name,
                field="image",
                severity="high",
                remediation=(
                    f'Push the image to an ECR repository in {region} and set "image": '
                    f'"{_ecr_host(account or "<account-id>", region)}/{ref.repository}{_suffix(ref)}".'
                ),
                image_region=ref.ecr_region,
                task_region=region,
            )
            continue
        publisher = _AWS_PUBLISHERS.get(ref.ecr_account)
        owned = publisher is None and (account is None or account == ref.ecr_account)
        replication = (
            f"aws ecr put-replication-configuration --region {ref.ecr_region} --replication-configuration "
            f'\'{{"rules":[{{"destinations":[{{"region":"{region}","registryId":"{ref.ecr_account}"}}],'
            f'"repositoryFilters":[{{"filter":"{ref.repository}","filterType":"PREFIX_MATCH"}}]}}]}}\''
        )
        if owned:
            fix = (
                f"Replicate repository '{ref.repository}' from {ref.ecr_region} to {region}: {replication} (this "
                "command replaces the registry's whole replication configuration: merge the rule into what "
                "'aws ecr describe-registry' shows; ECR replicates images pushed after the rule exists, so push the "
                f'current tag again). Then set "image": "{local}".'
            )
        elif publisher is not None:
            fix = (
                f"{publisher} is published by AWS in each region: use the copy in {region}, "
                f'"image": "{local}" for most regions (some opt-in regions use another account: see the image\'s '
                "documentation)."
            )
        else:
            fix = (
                f"The repository belongs to account {ref.ecr_account}, not this one: if its publisher has a copy "
                f"in {region} (AWS publishes aws-for-fluent-bit and aws-appmesh-envoy in each region), use that "
                f"URI; otherwise copy the image into an ECR repository of your own in {region}, or ask the owner to "
                "replicate it there."
            )
        yield image_cross_region.finding(
            context,
            f"Container '{container.name}' pulls '{ref.original}' from ECR in {ref.ecr_region}, but the task runs in "
            f"{region}: every task start pulls the image across regions (slower starts, inter-region data transfer "
            f"charged on every pull), tasks here cannot start while ECR in {ref.ecr_region} is unavailable, and in a "
            "subnet that reaches ECR only through VPC endpoints the pull fails.",
            container=container.name,
            field="image",
            remediation=fix,
            image_region=ref.ecr_region,
            task_region=region,
        )


# --------------------------------------------------------------------------------------------- public


@check(
    id="image-public-registry",
    title="Image pulled from Docker Hub or another public registry",
    severity="medium",
    mistake=5,
    rationale=(
        "A public registry's limits and outages become the task's. Docker Hub allows anonymous clients 10 pulls "
        "per hour per IPv4 address (or IPv6 /64): tasks behind one NAT gateway share that address, so a "
        "scale-out or a deployment fails with CannotPullContainerError (toomanyrequests). ECS pulls exactly the "
        "registry the image names: an ECR pull-through cache rule helps only when the definition uses the cache's "
        "URI. Medium for anonymous Docker Hub pulls on Fargate, which has no image cache to fall back on (they break "
        "starts under scale); low on EC2 (with the default ECS_IMAGE_PULL_BEHAVIOR a failed pull falls back to the "
        "instance's cached copy, so mostly new instances are hit), with repositoryCredentials (authenticated "
        "limits are higher) and for other public registries (looser limits)."
    ),
    remediation=(
        "Pull through ECR: create a pull-through cache rule for the registry and use the cache's URI "
        "(<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<repository>:<tag>), or use the image's ECR Public "
        "copy (public.ecr.aws/docker/library/<name> for Docker official images)."
    ),
    docs=DOCS_PULL_THROUGH,
    aws_calls=("ecr:DescribePullThroughCacheRules",),
)
def image_public_registry(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    region = _task_region(task_definition, context)
    region = None if region and templated(region) else region
    account = _task_account(task_definition)
    fargate = _runs_on_fargate(task_definition)
    rules = None
    for container, ref in _images(task_definition):
        if ref.is_aws or not is_known_public_registry(ref):
            continue
        authenticated = bool(container.repository_credentials)
        anonymous_hub = ref.is_docker_hub and not authenticated
        severity = "medium" if anonymous_hub and fargate else "low"
        where = "Docker Hub" if ref.is_docker_hub else ref.registry
        if anonymous_hub and fargate:
            risk = (
                "Docker Hub allows anonymous pulls 10 times per hour per IP address; Fargate keeps no image cache and "
                "tasks behind one NAT gateway share that address, so a scale-out or deployment fails to start with "
                "CannotPullContainerError (toomanyrequests)"
            )
        elif anonymous_hub:
            risk = (
                "Docker Hub allows anonymous pulls 10 times per hour per IP address; an EC2 instance falls back to its "
                "cached copy when a pull is refused (the default ECS_IMAGE_PULL_BEHAVIOR), but new instances have "
                "none, so a scale-out fails to start with CannotPullContainerError (toomanyrequests)"
            )
        elif ref.is_docker_hub:
            risk = (
                "authenticated Docker Hub pulls are limited per account (100 per hour on a free account), and every "
                "start depends on Docker Hub being reachable"
            )
        else:
            risk = f"every task start depends on {where}'s limits and availability, and pulls cross the internet"
        upstream = pull_through_upstream(ref)
        cached_uri: str | None = None
        rule_note = ""
        if context.facts is not None and region and upstream:
            if rules is None:
                rules = context.facts.pull_through_cache_prefixes(region)
            if isinstance(rules, Unknown):
                rule_note = f" (ecsguard could not read the pull-through cache rules in {region}: {rules.reason})"
            else:
                prefixes = sorted(prefix for prefix, url in rules.items() if same_upstream(url, ref))
                if prefixes:
                    host = _ecr_host(account or "<account-id>", region)
                    cached_uri = f"{host}/{cache_repository(ref, prefixes[0])}{_suffix(ref)}"
                else:
                    rule_note = f" There is no pull-through cache rule for {where} in {region}."
        message = f"Container '{container.name}' pulls '{ref.original}' from {where}: {risk}."
        if cached_uri:
            message += (
                f" A pull-through cache rule for {where} exists in {region}, but ECS pulls exactly the registry "
                "the image names and does not redirect to the cache: this definition does not use it."
            )
        else:
            message += rule_note
        yield image_public_registry.finding(
            context,
            message,
            container=container.name,
            field="image",
            severity=severity,
            remediation=_public_fix(ref, region, account, cached_uri, upstream, task_definition),
            registry=where,
            authenticated=authenticated,
            cache_uri=cached_uri,
        )


def _public_fix(
    ref: ImageRef,
    region: str | None,
    account: str | None,
    cached_uri: str | None,
    upstream: str | None,
    task_definition: TaskDefinition,
) -> str:
    role = (
        " The execution role needs the ECR pull permissions (AmazonECSTaskExecutionRolePolicy) and, for the first "
        "pull of each image through the cache, ecr:BatchImportUpstreamImage and ecr:CreateRepository."
    )
    if not task_definition.execution_role_arn:
        role += " This definition has no executionRoleArn yet: add one."
    if cached_uri:
        return f'Set "image": "{cached_uri}" (the pull-through cache\'s URI for this image).' + role
    public_copy = _ECR_PUBLIC_COPIES.get(ref.repository)
    if public_copy:
        return f'Use the same image from ECR Public: "image": "{public_copy}{_suffix(ref)}".'
    where = region or "<region>"
    host = _ecr_host(account or "<account-id>", where)
    if upstream is None:
        return (
            f"ECR pull-through cache does not support {ref.registry}: copy the image into an ECR repository in "
            f'{where} (docker pull, docker tag, docker push) and set "image": "{host}/{ref.repository}{_suffix(ref)}".'
        )
    prefix = _CACHE_PREFIXES.get(upstream, "azure" if upstream.endswith(".azurecr.io") else "cache")
    needs_secret = upstream not in {"quay.io", "registry.k8s.io"}
    rule = (
        f"aws ecr create-pull-through-cache-rule --region {where} --ecr-repository-prefix {prefix} "
        f"--upstream-registry-url {upstream}" + (" --credential-arn <secret-arn>" if needs_secret else "")
    )
    secret = (
        " (the upstream credentials go in a Secrets Manager secret whose name starts with ecr-pullthroughcache/)"
        if needs_secret
        else ""
    )
    fix = (
        f'Create a pull-through cache rule: {rule}{secret}; then set "image": '
        f'"{host}/{cache_repository(ref, prefix)}{_suffix(ref)}".'
    )
    if ref.is_docker_hub and ref.repository.startswith("library/"):
        fix += (
            f' Without any setup, Docker official images are also on ECR Public: "image": '
            f'"public.ecr.aws/docker/{ref.repository}{_suffix(ref)}".'
        )
    return fix + role


# --------------------------------------------------------------------------------------------- size


@check(
    id="image-too-large",
    title="ECR image larger than the size limit",
    severity="medium",
    mistake=6,
    rationale=(
        "Fargate keeps no image cache: every task start downloads and unpacks the whole image before the "
        "container runs, so a large image delays every scale-out, deployment and replacement, and costs storage "
        "and transfer. The size is ECR's imageSizeInBytes (compressed layers); unpacked it is larger. Medium on "
        "Fargate; low when the task runs on EC2 only (instances keep pulled layers) and for Windows images (their "
        "base layers alone are gigabytes)."
    ),
    remediation=(
        "Make the image smaller: a multi-stage build that copies only the runtime artefacts, a slim or distroless "
        "base, no build tools, package caches or test data in the final image, a .dockerignore. On Fargate, a SOCI "
        "index lets a large Linux image start before it is fully pulled, and zstd-compressed layers unpack faster."
    ),
    docs=DOCS_FARGATE_PULL,
    needs_facts=True,
    aws_calls=_ECR_IMAGE_CALLS,
)
def image_too_large(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    assert context.facts is not None
    limit_mib = _positive(context.options.get("image_size_limit_mib"), DEFAULT_LIMIT_MIB)
    rate = _positive(context.options.get("image_pull_mib_per_s"), DEFAULT_PULL_MIB_PER_S)
    platform = task_platform(task_definition.os_family, task_definition.cpu_architecture)
    fargate = _runs_on_fargate(task_definition)
    for container, ref in _images(task_definition):
        if not ref.is_ecr:
            continue
        answer = context.facts.ecr_image(ref.original, platform=platform)
        what = f"the size of image '{ref.original}'"
        if answer is None:
            continue
        if isinstance(answer, Unknown):
            yield image_too_large.unverified(
                context, what, reason=answer.reason, container=container.name, field="image"
            )
            continue
        if not answer.found:
            missing = f"tag '{ref.tag or 'latest'}'" if not ref.digest else f"digest {ref.digest}"
            yield image_too_large.unverified(
                context,
                what,
                reason=(
                    f"{answer.not_found_reason or 'not found'}: ECR in {answer.region} has no {missing} in repository "
                    f"'{answer.repository}'; unless it is pushed before the task starts, the task fails with "
                    "CannotPullContainerError"
                ),
                container=container.name,
                field="image",
            )
            continue
        if answer.size_bytes is None:
            yield image_too_large.unverified(
                context, what, reason="ECR reported no size", container=container.name, field="image"
            )
            continue
        if answer.size_bytes <= limit_mib * MIB:
            continue
        yield _too_large(task_definition, context, container, ref, answer, limit_mib, rate, fargate)


def _positive(value: object, default: int) -> int:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _human(size: int) -> str:
    return f"{size / (1024 * MIB):.1f} GiB" if size >= 1024 * MIB else f"{size / MIB:.0f} MiB"


def _too_large(
    task_definition: TaskDefinition,
    context: CheckContext,
    container: Container,
    ref: ImageRef,
    image: EcrImage,
    limit_mib: int,
    rate: int,
    fargate: bool,
) -> Finding:
    size = image.size_bytes or 0
    seconds = size / MIB / rate
    platform = f", {image.platform}" if image.platform else ""
    estimate = (
        f"about {seconds:.0f} s at {rate} MiB/s (an estimate of download and unpack time; the real figure depends "
        "on task size, network path, layer count and compression)"
    )
    if fargate:
        consequence = (
            f"Fargate keeps no image cache, so every task start pulls the whole image first: {estimate}, before "
            "the container starts, on every scale-out, deployment and replacement."
        )
    else:
        consequence = (
            f"Each container instance pulls it once before the first task starts there ({estimate}); instances "
            "keep pulled layers, so later starts on the same instance are faster. On Fargate every start would pay it."
        )
    severity = "medium" if fargate and not task_definition.is_windows else "low"
    if task_definition.is_windows:
        consequence += " Windows base layers are large by nature: compare with the base image before trimming."
    return image_too_large.finding(
        context,
        f"Container '{container.name}' uses '{ref.original}': {_human(size)} compressed in ECR{platform}, above the "
        f"{limit_mib} MiB limit. {consequence}",
        container=container.name,
        field="image",
        severity=severity,
        size_bytes=size,
        limit_mib=limit_mib,
        pull_seconds_estimate=round(seconds),
    )


# --------------------------------------------------------------------------------------------- tags


@check(
    id="image-mutable-tag",
    title="Image named by a moving tag (latest, or no tag)",
    severity="low",
    mistake=6,
    rationale=(
        "A tag such as latest (what a reference without tag or digest pulls), stable or main is moved on every push, "
        "so the definition does not say which build runs. ECS pins the digest within one service deployment, but "
        "standalone tasks (RunTask, scheduled tasks) and every new deployment take whatever the tag points to then, "
        "and re-deploying an older revision does not bring its image back. A version tag (1.2.3, v2, a date, a git "
        "sha) and a digest pass. With AWS access, an ECR tag that tag immutability protects passes too: it cannot be "
        "overwritten. AWS Config ecr-private-tag-immutability-enabled, Security Hub ECR.2 and Prowler "
        "ecr_repositories_tag_immutability judge the repository instead (every MUTABLE repository fails, whatever "
        "tag is used); where both look at the same thing they agree (a moving tag in a MUTABLE repository fails, any "
        "tag in an IMMUTABLE one passes), and a version tag in a MUTABLE repository passes here on purpose. Low: "
        "nearly every real definition uses latest somewhere."
    ),
    remediation=(
        'Pin what runs: "image": "<repository>:<version>" with a tag pushed once per build (a version or git sha), '
        'or "<repository>@sha256:<digest>". In ECR, turn on tag immutability so a pushed tag can never be overwritten.'
    ),
    docs=DOCS_TAG_MUTABILITY,
    config_rules=("ecr-private-tag-immutability-enabled",),
    prowler=("ecr_repositories_tag_immutability",),
    aws_calls=_ECR_IMAGE_CALLS,
)
def image_mutable_tag(task_definition: TaskDefinition, context: CheckContext) -> Iterator[Finding]:
    platform = task_platform(task_definition.os_family, task_definition.cpu_architecture)
    for container, ref in _images(task_definition):
        if not is_moving_tag(ref):
            continue
        image: EcrImage | None = None
        if ref.is_ecr and context.facts is not None:
            answer = context.facts.ecr_image(ref.original, platform=platform)
            if isinstance(answer, EcrImage) and answer.found:
                if answer.tag_immutable:
                    continue  # ECR refuses to overwrite this tag: it names one build for good
                image = answer
        if ref.tag:
            named = (
                f"tag '{ref.tag}', which is moved on every push"
                if ref.tag.lower() == "latest"
                else (f"tag '{ref.tag}', a channel or branch tag that moves with each release")
            )
        else:
            named = "neither tag nor digest, so it pulls 'latest', which is moved on every push"
        consistency = (
            " versionConsistency is disabled for this container, so even the tasks of one deployment can run "
            "different builds."
            if str(container.raw.get("versionConsistency", "")).lower() == "disabled"
            else " ECS pins the digest within one service deployment only: standalone tasks and each new deployment "
            "take whatever the tag points to then, and re-deploying an older revision does not bring its image back."
        )
        yield image_mutable_tag.finding(
            context,
            f"Container '{container.name}' uses '{ref.original}' with {named}: the definition does not say which "
            f"build runs.{consistency}",
            container=container.name,
            field="image",
            remediation=_pin_fix(ref, image, _task_account(task_definition)),
            tag=ref.pulled_tag,
        )


def _pin_fix(ref: ImageRef, image: EcrImage | None, account: str | None) -> str:
    base = ref.name if not ref.is_docker_hub else ref.repository.removeprefix("library/")
    if image is not None and image.digest:
        fix = f'Pin the build that "{ref.pulled_tag}" names today: "image": "{base}@{image.digest}", or push a version tag.'
    else:
        fix = f'Pin a version or a digest: "image": "{base}:<version>" or "{base}@sha256:<digest>".'
    # Tag immutability is the repository owner's setting: advise it only for repositories this account may own.
    owned = ref.ecr_account not in _AWS_PUBLISHERS and (account is None or account == ref.ecr_account)
    if ref.is_ecr and owned:
        mutability = f" (the repository is {image.tag_mutability} today)" if image and image.tag_mutability else ""
        fix += (
            f" Push a unique tag per build and turn on tag immutability{mutability}: aws ecr put-image-tag-mutability "
            f"--region {ref.ecr_region} --repository-name {ref.repository} --image-tag-mutability IMMUTABLE."
        )
    return fix
