"""Image references: registry, repository, tag, digest; ECR, ECR Public, Docker Hub; placeholders never judged."""

from __future__ import annotations

import pytest

from ecsguard.imageref import (
    DOCKER_HUB,
    cache_repository,
    is_known_public_registry,
    is_moving_tag,
    parse_image,
    pull_through_upstream,
    same_upstream,
    task_platform,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("image", "repository", "tag"),
    [
        ("nginx", "library/nginx", None),
        ("nginx:1.27", "library/nginx", "1.27"),
        ("library/nginx:1.27", "library/nginx", "1.27"),
        ("docker.io/nginx", "library/nginx", None),
        ("index.docker.io/library/nginx:latest", "library/nginx", "latest"),
        ("registry-1.docker.io/datadog/agent:7", "datadog/agent", "7"),
        ("registry.hub.docker.com/amazon/aws-xray-daemon", "amazon/aws-xray-daemon", None),
        ("datadog/agent:latest", "datadog/agent", "latest"),
    ],
)
def test_docker_hub_in_every_spelling(image, repository, tag):
    ref = parse_image(image)
    assert ref is not None and ref.is_docker_hub and not ref.is_ecr and not ref.is_public_ecr
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (DOCKER_HUB, repository, tag, None)
    assert ref.name == repository.removeprefix("library/")


@pytest.mark.parametrize(
    ("host", "region", "fips", "dual_stack"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "us-east-1", False, False),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", False, False),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", True, False),
        ("123456789012.dkr-ecr.eu-west-1.on.aws", "eu-west-1", False, True),
        ("123456789012.dkr-ecr-fips.us-east-2.on.aws", "us-east-2", True, True),
        ("123456789012.dkr.ecr.ap-southeast-4.amazonaws.com", "ap-southeast-4", False, False),
        ("123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM", "us-east-1", False, False),
    ],
)
def test_ecr_private_hosts(host, region, fips, dual_stack):
    ref = parse_image(f"{host}/team/app:v1.2.3")
    assert ref is not None and ref.is_ecr and not ref.is_docker_hub
    assert (ref.ecr_account, ref.ecr_region, ref.ecr_fips, ref.ecr_dual_stack) == (
        "123456789012",
        region,
        fips,
        dual_stack,
    )
    assert (ref.registry, ref.repository, ref.tag) == (host.lower(), "team/app", "v1.2.3")


def test_ecr_public_and_other_registries():
    public = parse_image("public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0")
    assert public is not None and public.is_public_ecr and public.is_aws and not public.is_ecr
    for image, registry in [
        ("ghcr.io/owner/app:1.0", "ghcr.io"),
        ("quay.io/prometheus/node-exporter:v1.8.0", "quay.io"),
        ("gcr.io/distroless/static:nonroot", "gcr.io"),
        ("mcr.microsoft.com/windows/servercore:ltsc2022", "mcr.microsoft.com"),
        ("registry.gitlab.com/group/project/image:2", "registry.gitlab.com"),
        ("registry.example.com:5000/team/app:1", "registry.example.com:5000"),
        ("localhost/app", "localhost"),
        ("localhost:5000/app:dev-1", "localhost:5000"),
    ]:
        ref = parse_image(image)
        assert ref is not None and ref.registry == registry and not ref.is_aws and not ref.is_docker_hub, image
    assert is_known_public_registry(parse_image("ghcr.io/owner/app:1.0"))
    assert is_known_public_registry(parse_image("europe-docker.pkg.dev/p/r/i:1"))
    assert not is_known_public_registry(parse_image("registry.example.com:5000/team/app:1"))
    assert not is_known_public_registry(parse_image("localhost/app"))


def test_digest_with_and_without_tag():
    ref = parse_image(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0@{DIGEST}")
    assert (ref.tag, ref.digest) == ("1.0", DIGEST)
    bare = parse_image(f"nginx@{DIGEST}")
    assert (bare.tag, bare.digest, bare.pulled_tag) == (None, DIGEST, None)
    assert bare.reference() == f"nginx@{DIGEST}"
    assert parse_image("nginx").pulled_tag == "latest"


@pytest.mark.parametrize(
    "image",
    [
        "",
        "   ",
        None,
        "${container_image}",
        "${{ secrets.ECR_REGISTRY }}/${{ secrets.ECR_REPOSITORY }}:${{ secrets.IMAGE_TAG }}",
        "{{ECR_REGISTRY}}/{{APP_NAME}}:latest",
        "katsubushi/katsubushi:{{ env `TAG` `latest` }}",
        "nginx:${image_version}",
        "<IMAGE1_NAME>",
        "12345678.dkr.ecr.<region>.amazonaws.com/php-app:latest",
        "xxxxxxxxxxxx.dkr.ecr.us-west-1.amazonaws.com/flask-app:%BUILD_NUMBER%",
        "%AWS_ID%.dkr.ecr.us-east-1.amazonaws.com/%APP_NAME%:%COMMIT_HASH%",
        "ACCOUNT_ID.dkr.ecr.REGION.amazonaws.com/credit-cashflow-engine:latest",
        "xxxxxxxxxxxx.dkr.ecr.us-west-1.amazonaws.com/flask-app",
        "339713182600.dkr.ecr.eu-west-1.amazonaws.com/widget-$APP_ENV:$IMAGE_TAG",
        "REPOSITORY_URI:IMAGE_TAG",
        "IMAGE_PHP",
        "[your ECR image and tag]",
        "your-app-image",
        "Nginx",
        "nginx@sha256:abc",
        "nginx:" + "x" * 200,
    ],
)
def test_placeholders_and_invalid_references_are_not_judged(image):
    assert parse_image(image) is None


@pytest.mark.parametrize(
    ("image", "moving"),
    [
        ("nginx", True),
        ("nginx:latest", True),
        ("nginx:LATEST", True),
        ("app:init-latest", True),
        ("app:latest-prod", True),
        ("app:stable", True),
        ("app:staging", True),
        ("app:main", True),
        ("nginx:1.27.3", False),
        ("app:v2", False),
        ("app:2024-05-01", False),
        ("app:34693f517d889fba975cd583675d5460cdbf845b", False),
        ("app:dev-0.1.0", False),
        ("app:v1.16.1.0-prod", False),
        (f"nginx:latest@{DIGEST}", False),
        (f"nginx@{DIGEST}", False),
    ],
)
def test_moving_tags(image, moving):
    assert is_moving_tag(parse_image(image)) is moving


def test_pull_through_cache_names():
    hub = parse_image("nginx:1.27")
    assert pull_through_upstream(hub) == "registry-1.docker.io"
    assert cache_repository(hub, "docker-hub") == "docker-hub/library/nginx"  # official images keep library/
    assert cache_repository(parse_image("datadog/agent:7"), "docker-hub/") == "docker-hub/datadog/agent"
    assert cache_repository(hub, "ROOT") == "library/nginx"
    assert same_upstream("registry-1.docker.io", hub) and same_upstream("https://docker.io/", hub)
    assert not same_upstream("quay.io", hub)
    quay = parse_image("quay.io/prometheus/node-exporter:v1.8.0")
    assert pull_through_upstream(quay) == "quay.io" and same_upstream("quay.io", quay)
    assert pull_through_upstream(parse_image("gcr.io/distroless/static:nonroot")) is None  # ECR cannot cache it
    assert pull_through_upstream(parse_image("myreg.azurecr.io/app:1")) == "myreg.azurecr.io"


def test_task_platform():
    assert task_platform(None, None) == "linux/amd64"
    assert task_platform("LINUX", "ARM64") == "linux/arm64"
    assert task_platform("WINDOWS_SERVER_2022_CORE", "X86_64") == "windows/amd64"
