"""Image checks on models, with facts from memory, and over the real corpus."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ecsguard.checks import CheckContext, load_all, run_checks
from ecsguard.facts import EcrImage, StaticFacts, Unknown
from ecsguard.model import DocumentError, parse_document, task_definitions_in

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "taskdefs"
ACCOUNT = "123456789012"
ECR_EAST = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
ECR_WEST = f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com"
ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/app:3"
DIGEST = "sha256:" + "c" * 64
FARGATE = {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512"}
EC2 = {"requiresCompatibilities": ["EC2"]}
MIB = 1024 * 1024


def run(check_id, containers, facts=None, region="us-east-1", options=None, **td):
    document = {"family": "app", "containerDefinitions": containers, **td}
    context = CheckContext(target="app:3", facts=facts, region=region, options=options or {})
    return load_all()[check_id].run(parse_document(document), context)


def image(ref, **extra):
    return {"name": extra.pop("name", "app"), "image": ref, "essential": True, **extra}


# ------------------------------------------------------------------------------------ cross-region


def test_cross_region_image_is_found_with_the_replication_fix():
    [finding] = run("image-cross-region", [image(f"{ECR_WEST}/shop/api:1.4.2")], taskDefinitionArn=ARN)
    assert (finding.severity, finding.container, finding.field) == ("medium", "app", "image")
    assert "from ECR in us-west-2, but the task runs in us-east-1" in finding.message
    assert "VPC endpoints" in finding.message
    assert f'"image": "{ECR_EAST}/shop/api:1.4.2"' in finding.remediation
    assert "put-replication-configuration --region us-west-2" in finding.remediation
    assert '"region":"us-east-1","registryId":"123456789012"' in finding.remediation
    assert finding.data == {"image_region": "us-west-2", "task_region": "us-east-1"}


def test_same_region_and_the_arn_region_wins_over_the_event_region():
    assert run("image-cross-region", [image(f"{ECR_EAST}/api:1")]) == []
    # The definition's own ARN says us-east-1: a CLI --region of us-west-2 does not make it cross-region.
    assert run("image-cross-region", [image(f"{ECR_EAST}/api:1")], region="us-west-2", taskDefinitionArn=ARN) == []


def test_cross_region_is_silent_without_a_region_or_with_placeholders():
    assert run("image-cross-region", [image(f"{ECR_WEST}/api:1")], region=None) == []
    containers = [image(f"{ACCOUNT}.dkr.ecr.${{aws_region}}.amazonaws.com/api:1"), image("nginx:1.27", name="web")]
    assert run("image-cross-region", containers) == []


def test_cross_partition_cannot_pull_at_all():
    [finding] = run("image-cross-region", [image(f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/api:1")])
    assert finding.severity == "high"
    assert "CannotPullContainerError" in finding.message and "aws-cn partition" in finding.message


def test_cross_region_sidecars_published_by_aws_and_images_of_other_accounts():
    containers = [
        image("906394416424.dkr.ecr.us-east-2.amazonaws.com/aws-for-fluent-bit:stable", name="log_router"),
        image("840364872350.dkr.ecr.us-west-2.amazonaws.com/aws-appmesh-envoy:v1.27.3.0-prod", name="envoy"),
        image("533243300146.dkr.ecr.us-east-2.amazonaws.com/newrelic/logging-firelens-fluentbit", name="nr"),
    ]
    fluent, envoy, other = run("image-cross-region", containers, taskDefinitionArn=ARN)
    assert fluent.container == "log_router" and "published by AWS in each region" in fluent.remediation
    assert '"906394416424.dkr.ecr.us-east-1.amazonaws.com/aws-for-fluent-bit:stable"' in fluent.remediation
    assert envoy.container == "envoy" and "App Mesh Envoy" in envoy.remediation
    assert "belongs to account 533243300146, not this one" in other.remediation


# ------------------------------------------------------------------------------------ public registry


def test_anonymous_docker_hub_on_fargate_is_medium():
    [finding] = run("image-public-registry", [image("nginx:1.27")], executionRoleArn="arn:aws:iam::1:role/x", **FARGATE)
    assert finding.severity == "medium"
    assert "from Docker Hub" in finding.message and "10 times per hour per IP address" in finding.message
    assert "CannotPullContainerError (toomanyrequests)" in finding.message
    assert "create-pull-through-cache-rule --region us-east-1 --ecr-repository-prefix docker-hub" in finding.remediation
    assert '"<account-id>.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27"' in finding.remediation
    assert '"public.ecr.aws/docker/library/nginx:1.27"' in finding.remediation
    assert "no executionRoleArn" not in finding.remediation


def test_docker_hub_on_ec2_with_credentials_and_other_public_registries_are_low():
    [ec2] = run("image-public-registry", [image("nginx:1.27")], **EC2)
    assert ec2.severity == "low" and "falls back to its cached copy" in ec2.message
    credentials = {"repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:1:secret:hub"}}
    [authenticated] = run("image-public-registry", [image("acme/api:2", **credentials)], **FARGATE)
    assert authenticated.severity == "low" and "limited per account" in authenticated.message
    [ghcr] = run("image-public-registry", [image("ghcr.io/acme/web:1.0")], **FARGATE)
    assert ghcr.severity == "low" and "ghcr.io" in ghcr.message
    assert "--upstream-registry-url ghcr.io --credential-arn" in ghcr.remediation
    [gcr] = run("image-public-registry", [image("gcr.io/distroless/static:nonroot")], **FARGATE)
    assert "does not support gcr.io" in gcr.remediation


def test_ecr_ecr_public_and_private_registries_pass():
    containers = [
        image(f"{ECR_EAST}/api:1"),
        image("public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0", name="log_router"),
        image("registry.internal.example:5000/team/api:1", name="private"),
        image("${sidecar_image}", name="templated"),
    ]
    assert run("image-public-registry", containers, **FARGATE) == []


def test_sidecars_from_docker_hub_get_their_ecr_public_copy():
    containers = [
        image("amazon/aws-xray-daemon", name="xray-daemon"),
        image("amazon/aws-for-fluent-bit:stable", name="log_router"),
    ]
    xray, fluent = run("image-public-registry", containers, **FARGATE)
    assert xray.remediation == 'Use the same image from ECR Public: "image": "public.ecr.aws/xray/aws-xray-daemon".'
    assert '"public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"' in fluent.remediation


def test_an_existing_cache_rule_gives_the_exact_uri_because_ecs_does_not_redirect():
    facts = StaticFacts(cache_rules={"us-east-1": {"hub": "registry-1.docker.io", "ecr-public": "public.ecr.aws"}})
    [finding] = run("image-public-registry", [image("datadog/agent:7.52.0")], facts, taskDefinitionArn=ARN, **FARGATE)
    assert "A pull-through cache rule for Docker Hub exists in us-east-1" in finding.message
    assert "does not redirect to the cache" in finding.message
    assert finding.remediation.startswith(f'Set "image": "{ECR_EAST}/hub/datadog/agent:7.52.0"')
    assert finding.data["cache_uri"] == f"{ECR_EAST}/hub/datadog/agent:7.52.0"
    assert finding.severity == "medium"  # the definition still pulls from Docker Hub


def test_cache_rules_for_other_registries_or_unknown_rules():
    facts = StaticFacts(cache_rules={"us-east-1": {"quay": "quay.io"}})
    [finding] = run("image-public-registry", [image("nginx:1.27")], facts, **FARGATE)
    assert "There is no pull-through cache rule for Docker Hub in us-east-1." in finding.message
    [offline] = run("image-public-registry", [image("nginx:1.27")], StaticFacts(offline=True), **FARGATE)
    assert "could not read the pull-through cache rules in us-east-1" in offline.message


def test_windows_images_from_microsoft():
    platform = {"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE", "cpuArchitecture": "X86_64"}}
    [finding] = run(
        "image-public-registry", [image("mcr.microsoft.com/windows/servercore/iis:20240611")], **FARGATE, **platform
    )
    assert finding.severity == "low" and "mcr.microsoft.com" in finding.message


# ------------------------------------------------------------------------------------ size


class Recording(StaticFacts):
    """StaticFacts that records the platform each ECR image was asked for."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.asked: list[tuple[str, str | None]] = []

    def ecr_image(self, image, *, platform=None):
        self.asked.append((image, platform))
        return super().ecr_image(image, platform=platform)


def ecr(size_mib, **extra):
    return EcrImage(repository="api", region="us-east-1", digest=DIGEST, size_bytes=int(size_mib * MIB), **extra)


def test_large_image_on_fargate_with_the_pull_estimate():
    facts = StaticFacts(images={f"{ECR_EAST}/api:1": ecr(1536)})
    [finding] = run(
        "image-too-large", [image(f"{ECR_EAST}/api:1")], facts, options={"image_size_limit_mib": 500}, **FARGATE
    )
    assert finding.severity == "medium"
    assert "1.5 GiB compressed in ECR, above the 500 MiB limit" in finding.message
    assert "Fargate keeps no image cache" in finding.message
    assert "about 51 s at 30 MiB/s (an estimate" in finding.message
    assert finding.data == {"size_bytes": 1536 * MIB, "limit_mib": 500, "pull_seconds_estimate": 51}
    assert "SOCI" in finding.remediation


def test_small_image_passes_and_the_limit_is_an_option():
    facts = StaticFacts(images={f"{ECR_EAST}/api:1": ecr(300)})
    assert run("image-too-large", [image(f"{ECR_EAST}/api:1")], facts, **FARGATE) == []
    [finding] = run("image-too-large", [image(f"{ECR_EAST}/api:1")], facts, options={"image_size_limit_mib": 200})
    assert finding.severity == "low"  # no FARGATE in requiresCompatibilities: EC2, which keeps layers
    assert "instances keep pulled layers" in finding.message


def test_windows_and_arm64_images():
    windows = {"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2019_FULL", "cpuArchitecture": "X86_64"}}
    facts = Recording(images={f"{ECR_EAST}/win:1": ecr(3000)})
    [finding] = run("image-too-large", [image(f"{ECR_EAST}/win:1")], facts, **FARGATE, **windows)
    assert finding.severity == "low" and "Windows base layers" in finding.message
    assert facts.asked == [(f"{ECR_EAST}/win:1", "windows/amd64")]
    arm = Recording(images={f"{ECR_EAST}/api:1": ecr(800, platform="linux/arm64 entry of a multi-platform image")})
    [finding] = run(
        "image-too-large", [image(f"{ECR_EAST}/api:1")], arm, **FARGATE, runtimePlatform={"cpuArchitecture": "ARM64"}
    )
    assert arm.asked == [(f"{ECR_EAST}/api:1", "linux/arm64")]
    assert "800 MiB compressed in ECR, linux/arm64 entry of a multi-platform image" in finding.message


def test_unknown_size_or_missing_image_is_unverified_never_a_pass():
    facts = StaticFacts(
        images={
            f"{ECR_EAST}/denied:1": Unknown("ecr:DescribeImages: AccessDeniedException"),
            f"{ECR_EAST}/gone:1": EcrImage(
                repository="gone", region="us-east-1", found=False, not_found_reason="ImageNotFoundException"
            ),
        }
    )
    containers = [image(f"{ECR_EAST}/denied:1", name="a"), image(f"{ECR_EAST}/gone:1", name="b")]
    denied, gone = run("image-too-large", containers, facts, **FARGATE)
    assert denied.severity == gone.severity == "info" and denied.data["unverified"] and gone.data["unverified"]
    assert "AccessDeniedException" in denied.message
    assert "ECR in us-east-1 has no tag '1' in repository 'gone'" in gone.message
    assert "CannotPullContainerError" in gone.message


def test_size_needs_facts_and_ignores_what_is_not_ecr():
    context = CheckContext(target="app:3", facts=None, region="us-east-1")
    definition = parse_document({"family": "app", "containerDefinitions": [image(f"{ECR_EAST}/api:1")]})
    assert [f for f in run_checks(definition, context) if f.check == "image-too-large"] == []
    assert run("image-too-large", [image("nginx:1.27"), image("${image}", name="t")], StaticFacts()) == []


# ------------------------------------------------------------------------------------ tags


def test_latest_and_no_tag_are_moving():
    containers = [image("nginx:latest", name="web"), image("amazon/aws-xray-daemon", name="xray-daemon")]
    latest, untagged = run("image-mutable-tag", containers)
    assert latest.severity == "low" and "tag 'latest', which is moved on every push" in latest.message
    assert "neither tag nor digest, so it pulls 'latest'" in untagged.message
    assert "ECS pins the digest within one service deployment only" in latest.message
    assert '"image": "nginx:<version>"' in latest.remediation
    assert untagged.data == {"tag": "latest"}


def test_version_tags_and_digests_pass():
    containers = [
        image("nginx:1.27.3"),
        image(f"{ECR_EAST}/api:34693f517d889fba975cd583675d5460cdbf845b", name="b"),
        image(f"{ECR_EAST}/api@{DIGEST}", name="c"),
        image("840364872350.dkr.ecr.us-east-1.amazonaws.com/aws-appmesh-envoy:v1.27.3.0-prod", name="envoy"),
        image("<IMAGE1_NAME>", name="d"),
    ]
    assert run("image-mutable-tag", containers) == []


def test_channel_tags_of_sidecars_and_version_consistency_disabled():
    containers = [
        image("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", name="log_router"),
        image(f"{ECR_EAST}/api:latest", versionConsistency="disabled"),
    ]
    fluent, api = run("image-mutable-tag", containers)
    assert fluent.container == "log_router" and "a channel or branch tag" in fluent.message
    assert "versionConsistency is disabled for this container" in api.message
    assert "put-image-tag-mutability --region us-east-1 --repository-name api --image-tag-mutability IMMUTABLE" in (
        api.remediation
    )


def test_ecr_tag_immutability_decides_with_facts():
    immutable = ecr(10, tag="latest", tag_mutability="IMMUTABLE", tag_immutable=True)
    mutable = ecr(10, tag="latest", tag_mutability="MUTABLE", tag_immutable=False)
    facts = StaticFacts(images={f"{ECR_EAST}/fixed:latest": immutable, f"{ECR_EAST}/api:latest": mutable})
    containers = [image(f"{ECR_EAST}/fixed:latest", name="fixed"), image(f"{ECR_EAST}/api:latest")]
    [finding] = run("image-mutable-tag", containers, facts)
    assert finding.container == "app"
    assert f'"image": "{ECR_EAST}/api@{DIGEST}"' in finding.remediation  # the build latest names today
    assert "(the repository is MUTABLE today)" in finding.remediation
    # Without facts, or when ECR cannot be read, the moving tag is reported.
    assert len(run("image-mutable-tag", containers)) == 2
    assert len(run("image-mutable-tag", containers, StaticFacts(offline=True))) == 2


# ------------------------------------------------------------------------------------ corpus

IMAGE_CHECKS = ("image-cross-region", "image-public-registry", "image-too-large", "image-mutable-tag")


def corpus_definitions():
    for path in sorted(CORPUS.glob("*.json")):
        raw = path.read_bytes()
        text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig")
        try:
            found = task_definitions_in(json.loads(text))
        except (ValueError, DocumentError):
            continue
        for _label, definition in found:
            yield path.name, definition


def corpus_counts(region, facts):
    checks = load_all()
    definitions: Counter[str] = Counter()
    severities: Counter[tuple[str, str]] = Counter()
    total = 0
    for name, definition in corpus_definitions():
        total += 1
        context = CheckContext(target=name, facts=facts, region=region, options={"image_size_limit_mib": 500})
        for check_id in IMAGE_CHECKS:
            if checks[check_id].needs_facts and facts is None:
                continue
            findings = checks[check_id].run(definition, context)
            definitions[check_id] += bool(findings)
            severities.update((check_id, f.severity) for f in findings)
    return total, definitions, severities


def test_corpus_counts_as_the_cli_sees_it():
    """``ecsguard scan`` without AWS and without a region: the counts reported for the severities chosen."""
    total, definitions, severities = corpus_counts(None, None)
    assert total == 71
    assert definitions == {"image-cross-region": 0, "image-public-registry": 20, "image-mutable-tag": 33}
    assert severities == {
        ("image-public-registry", "medium"): 4,
        ("image-public-registry", "low"): 19,
        ("image-mutable-tag", "low"): 41,
    }


@pytest.mark.parametrize(("region", "expected"), [("us-east-1", 10), ("eu-west-1", 14)])
def test_corpus_cross_region_counts_for_a_region(region, expected):
    _total, definitions, severities = corpus_counts(region, None)
    assert definitions["image-cross-region"] == expected
    assert severities[("image-cross-region", "medium")] == sum(
        count for (check_id, _), count in severities.items() if check_id == "image-cross-region"
    )


def test_corpus_size_without_aws_is_unverified_only():
    _total, definitions, severities = corpus_counts("us-east-1", StaticFacts(offline=True))
    assert definitions["image-too-large"] == 25
    assert {s for (c, s) in severities if c == "image-too-large"} == {"info"}


def test_tag_immutability_is_advised_only_for_repositories_this_account_owns():
    containers = [
        image("906394416424.dkr.ecr.us-east-1.amazonaws.com/aws-for-fluent-bit:stable", name="log_router"),
        image(f"{ECR_EAST}/api:latest"),
        image("999999999999.dkr.ecr.us-east-1.amazonaws.com/shared/base:latest", name="other"),
    ]
    fluent, api, other = run("image-mutable-tag", containers, taskDefinitionArn=ARN)
    assert "put-image-tag-mutability" not in fluent.remediation
    assert "put-image-tag-mutability" in api.remediation
    assert "put-image-tag-mutability" not in other.remediation
