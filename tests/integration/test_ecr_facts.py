"""AwsFacts' ECR reads against moto: images (size, digest, the image's own USER), tag mutability, cache rules.

moto answers DescribeImages, BatchGetImage and DescribeRepositories; it does not implement
GetDownloadUrlForLayer (monkeypatched on the client: it returns a URL of a local HTTP server that
serves the config blobs) nor DescribePullThroughCacheRules (botocore's Stubber). Every ECR call is
counted through botocore's ``before-call`` event, so the call budget per image is asserted too.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from ecsguard.aws import Clients
from ecsguard.aws.ecr import clear_caches
from ecsguard.aws.facts import AwsFacts
from ecsguard.checks import CheckContext, load_all
from ecsguard.facts import EcrImage, Unknown
from ecsguard.model import parse_document

from conftest import ACCOUNT

REGION = "eu-west-1"  # the images' region, not the clients' default one: each image is read in its own region
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MIB = 1024 * 1024


class Blobs:
    """A local HTTP server standing in for S3's presigned layer URLs: path /<digest> -> bytes."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.requests: list[str] = []
        blobs = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's method name
                blobs.requests.append(self.path)
                body = blobs.blobs.get(self.path.lstrip("/"))
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def url(self, digest: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/{digest}"

    def add(self, body: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.blobs[digest] = body
        return digest

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def blobs() -> Iterator[Blobs]:
    server = Blobs()
    yield server
    server.close()


@pytest.fixture
def ecr() -> Iterator[object]:
    clear_caches()
    with mock_aws():
        yield boto3.client("ecr", region_name=REGION)
    clear_caches()


class Calls(Counter):
    """ECR operations the facts made, by name (GetDownloadUrlForLayer included, though it is patched)."""


@pytest.fixture
def clients(ecr, blobs, monkeypatch) -> Clients:
    clients = Clients()
    client = clients("ecr", REGION)
    calls = Calls()
    client.meta.events.register("before-call.ecr", lambda model, **_: calls.update([model.name]))

    def get_download_url_for_layer(*, registryId, repositoryName, layerDigest):
        calls.update(["GetDownloadUrlForLayer"])
        assert registryId == ACCOUNT and repositoryName
        return {"downloadUrl": blobs.url(layerDigest), "layerDigest": layerDigest}

    monkeypatch.setattr(client, "get_download_url_for_layer", get_download_url_for_layer)
    clients.calls = calls  # type: ignore[attr-defined]
    return clients


def config_blob(blobs: Blobs, user: str | None) -> tuple[str, int]:
    config: dict = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    config["config"] = {"Env": ["PATH=/usr/bin"]} if user is None else {"User": user, "Env": ["PATH=/usr/bin"]}
    body = json.dumps(config).encode()
    return blobs.add(body), len(body)


def manifest(blobs: Blobs, user: str | None, *, media_type: str = DOCKER_V2, layers=(40 * MIB, 60 * MIB)) -> str:
    digest, size = config_blob(blobs, user)
    config_type = (
        "application/vnd.docker.container.image.v1+json"
        if media_type == DOCKER_V2
        else "application/vnd.oci.image.config.v1+json"
    )
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": config_type, "size": size, "digest": digest},
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": s,
                    "digest": f"sha256:{i:064x}",
                }
                for i, s in enumerate(layers, start=1)
            ],
        }
    )


def push(ecr, repository: str, body: str, media_type: str, tag: str | None = None, **repo) -> str:
    try:
        ecr.create_repository(repositoryName=repository, **repo)
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    request = {"repositoryName": repository, "imageManifest": body, "imageManifestMediaType": media_type}
    if tag:
        request["imageTag"] = tag
    return ecr.put_image(**request)["image"]["imageId"]["imageDigest"]


# ------------------------------------------------------------------------------------ images


def test_single_manifest_user_size_digest_and_the_call_budget(ecr, clients, blobs):
    digest = push(ecr, "api", manifest(blobs, "app"), DOCKER_V2, tag="1.4.2")
    size = ecr.describe_images(repositoryName="api", imageIds=[{"imageTag": "1.4.2"}])["imageDetails"][0][
        "imageSizeInBytes"
    ]
    facts = AwsFacts(clients)

    answer = facts.ecr_image(f"{HOST}/api:1.4.2")

    assert isinstance(answer, EcrImage) and answer.found
    assert (answer.repository, answer.region, answer.registry_id, answer.tag) == ("api", REGION, ACCOUNT, "1.4.2")
    assert (answer.digest, answer.size_bytes, answer.media_type) == (digest, size, DOCKER_V2)
    assert (answer.user, answer.user_source, answer.user_reason, answer.platform) == ("app", "image config", None, None)
    assert (answer.tag_mutability, answer.tag_immutable) == (None, None)  # a version tag: mutability not read
    assert clients.calls == {"DescribeImages": 1, "BatchGetImage": 1, "GetDownloadUrlForLayer": 1}
    assert len(blobs.requests) == 1

    assert facts.ecr_image(f"{HOST}/api:1.4.2") is answer  # the same invocation: no call at all
    assert sum(clients.calls.values()) == 3

    # A new invocation resolves the tag again (one call); the digest's config is cached for the container.
    again = AwsFacts(clients).ecr_image(f"{HOST}/api:1.4.2")
    assert again.user == "app" and clients.calls["DescribeImages"] == 2 and sum(clients.calls.values()) == 4
    # A digest reference seen before costs nothing.
    pinned = AwsFacts(clients).ecr_image(f"{HOST}/api@{digest}")
    assert (pinned.user, pinned.digest, pinned.tag) == ("app", digest, None)
    assert sum(clients.calls.values()) == 4 and len(blobs.requests) == 1


def test_an_image_without_user_runs_as_root_and_oci_manifests_are_read(ecr, clients, blobs):
    push(ecr, "plain", manifest(blobs, None, media_type=OCI_MANIFEST), OCI_MANIFEST, tag="2")
    answer = AwsFacts(clients).ecr_image(f"{HOST}/plain:2")
    assert (answer.user, answer.user_source, answer.media_type) == ("", "image config", OCI_MANIFEST)


@pytest.mark.parametrize("index_type", [OCI_INDEX, DOCKER_LIST])
def test_multi_platform_images_pick_the_task_platform(ecr, clients, blobs, index_type):
    entry_type = OCI_MANIFEST if index_type == OCI_INDEX else DOCKER_V2
    amd = manifest(blobs, "amd-user", media_type=entry_type, layers=(100 * MIB,))
    arm = manifest(blobs, "arm-user", media_type=entry_type, layers=(700 * MIB, 20 * MIB))
    amd_digest = push(ecr, "multi", amd, entry_type)
    arm_digest = push(ecr, "multi", arm, entry_type)
    assert amd_digest != arm_digest
    index = {
        "schemaVersion": 2,
        "mediaType": index_type,
        "manifests": [
            {
                "mediaType": entry_type,
                "digest": amd_digest,
                "size": len(amd),
                "platform": {"os": "linux", "architecture": "amd64"},
            },
            {
                "mediaType": entry_type,
                "digest": "sha256:" + "d" * 64,
                "size": 500,
                "platform": {"os": "unknown", "architecture": "unknown"},  # a build attestation: never picked
                "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
            },
            {
                "mediaType": entry_type,
                "digest": arm_digest,
                "size": len(arm),
                "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
            },
        ],
    }
    push(ecr, "multi", json.dumps(index), index_type, tag="latest")

    arm_answer = AwsFacts(clients).ecr_image(f"{HOST}/multi:latest", platform="linux/arm64")
    assert arm_answer.user == "arm-user" and arm_answer.media_type == index_type
    assert arm_answer.platform == "linux/arm64 entry of a multi-platform image"
    assert arm_answer.size_bytes == 720 * MIB  # the arm64 entry's layers, not ECR's figure for the index
    budget = {"DescribeImages": 1, "BatchGetImage": 2, "GetDownloadUrlForLayer": 1, "DescribeRepositories": 1}
    assert clients.calls == budget  # DescribeRepositories: 'latest' is a moving tag (cached per repository)

    default = AwsFacts(clients).ecr_image(f"{HOST}/multi:latest")
    assert (default.user, default.size_bytes) == ("amd-user", 100 * MIB)
    assert default.platform == "linux/amd64 entry of a multi-platform image"

    windows = AwsFacts(clients).ecr_image(f"{HOST}/multi:latest", platform="windows/amd64")
    assert (
        windows.found
        and windows.user is None
        and windows.user_reason == "the multi-platform image has no windows entry"
    )


def test_an_index_without_the_task_architecture_falls_back_to_its_first_linux_entry(ecr, clients, blobs):
    amd = manifest(blobs, "amd-only", media_type=OCI_MANIFEST)
    amd_digest = push(ecr, "amdonly", amd, OCI_MANIFEST)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": amd_digest,
                "size": len(amd),
                "platform": {"os": "linux", "architecture": "amd64"},
            }
        ],
    }
    push(ecr, "amdonly", json.dumps(index), OCI_INDEX, tag="3.1")
    answer = AwsFacts(clients).ecr_image(f"{HOST}/amdonly:3.1", platform="linux/arm64")
    assert answer.user == "amd-only"
    assert answer.platform == "linux/amd64 entry of a multi-platform image (it has no linux/arm64 entry)"


def test_schema_1_manifests_carry_the_config_inline(ecr, clients, blobs):
    history = [{"v1Compatibility": json.dumps({"id": "x", "config": {"User": "nobody"}})}]
    body = json.dumps({"schemaVersion": 1, "name": "old", "tag": "1", "architecture": "amd64", "history": history})
    push(ecr, "old", body, "application/vnd.docker.distribution.manifest.v1+prettyjws", tag="1")
    answer = AwsFacts(clients).ecr_image(f"{HOST}/old:1")
    assert answer.user == "nobody"
    assert "GetDownloadUrlForLayer" not in clients.calls and blobs.requests == []


def test_missing_images_and_repositories_are_found_false(ecr, clients, blobs):
    push(ecr, "api", manifest(blobs, "app"), DOCKER_V2, tag="1")
    facts = AwsFacts(clients)
    missing_tag = facts.ecr_image(f"{HOST}/api:2")
    assert (missing_tag.found, missing_tag.not_found_reason, missing_tag.tag) == (False, "ImageNotFoundException", "2")
    missing_repo = facts.ecr_image(f"{HOST}/nope:1")
    assert (missing_repo.found, missing_repo.not_found_reason) == (False, "RepositoryNotFoundException")


def test_what_is_not_an_ecr_private_image_costs_nothing(ecr, clients):
    facts = AwsFacts(clients)
    for image in ("nginx:1.27", "public.ecr.aws/nginx/nginx:1", "ghcr.io/a/b:1", "${IMAGE}", "", "<image>"):
        assert facts.ecr_image(image) is None
    assert sum(clients.calls.values()) == 0


def fail(clients: Clients, operation: str, code: str, status: int = 400) -> None:
    def raise_error(**_):
        raise ClientError(
            {"Error": {"Code": code, "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
        )

    clients("ecr", REGION).meta.events.register(f"before-call.ecr.{operation}", raise_error)


def test_denied_describe_images_is_unknown(ecr, clients, blobs):
    push(ecr, "api", manifest(blobs, "app"), DOCKER_V2, tag="1")
    fail(clients, "DescribeImages", "AccessDeniedException")
    answer = AwsFacts(clients).ecr_image(f"{HOST}/api:1")
    assert answer == Unknown("ecr:DescribeImages: AccessDeniedException") and not answer


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("ServerException", 500)])
def test_throttling_and_server_errors_propagate(ecr, clients, blobs, code, status):
    push(ecr, "api", manifest(blobs, "app"), DOCKER_V2, tag="1")
    fail(clients, "DescribeImages", code, status)
    with pytest.raises(ClientError):
        AwsFacts(clients).ecr_image(f"{HOST}/api:1")


def test_throttled_manifest_read_propagates_too(ecr, clients, blobs):
    push(ecr, "api", manifest(blobs, "app"), DOCKER_V2, tag="1")
    fail(clients, "BatchGetImage", "ThrottlingException")
    with pytest.raises(ClientError):
        AwsFacts(clients).ecr_image(f"{HOST}/api:1")


def test_a_denied_manifest_leaves_the_user_unknown_and_is_asked_again_later(ecr, clients, blobs):
    push(ecr, "api", manifest(blobs, "app"), DOCKER_V2, tag="1")
    denied = {"on": True}

    def maybe_deny(**_):
        if denied["on"]:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "BatchGetImage")

    clients("ecr", REGION).meta.events.register("before-call.ecr.BatchGetImage", maybe_deny)
    answer = AwsFacts(clients).ecr_image(f"{HOST}/api:1")
    assert answer.found and answer.size_bytes is not None and answer.digest
    assert (answer.user, answer.user_source) == (None, None)
    assert answer.user_reason == "ecr:BatchGetImage: AccessDeniedException (access denied)"
    denied["on"] = False  # the role was fixed: the next invocation reads it (a denial is not cached for good)
    assert AwsFacts(clients).ecr_image(f"{HOST}/api:1").user == "app"


def test_download_failures_never_guess(ecr, clients, blobs, monkeypatch):
    body = manifest(blobs, "app")
    config_digest = json.loads(body)["config"]["digest"]
    push(ecr, "api", body, DOCKER_V2, tag="1")

    del blobs.blobs[config_digest]  # the URL answers 404
    gone = AwsFacts(clients).ecr_image(f"{HOST}/api:1")
    assert (gone.user, gone.user_reason) == (None, "downloading the image config failed: HTTP 404")

    blobs.blobs[config_digest] = b'{"config": {"User": "intruder"}}'  # not the blob the digest names
    tampered = AwsFacts(clients).ecr_image(f"{HOST}/api:1")
    assert (tampered.user, tampered.user_reason) == (None, "the downloaded image config does not match its digest")

    client = clients("ecr", REGION)
    monkeypatch.setattr(
        client,
        "get_download_url_for_layer",
        lambda **kw: {"downloadUrl": "http://example.com/blob", "layerDigest": "x"},
    )
    plain_http = AwsFacts(clients).ecr_image(f"{HOST}/api:1")
    assert plain_http.user_reason == "the layer download URL is not HTTPS"


def test_an_oversized_config_is_not_downloaded(ecr, clients, blobs):
    body = json.loads(manifest(blobs, "app"))
    body["config"]["size"] = 64 * MIB
    push(ecr, "huge", json.dumps(body), DOCKER_V2, tag="1")
    answer = AwsFacts(clients).ecr_image(f"{HOST}/huge:1")
    assert answer.user is None and answer.user_reason == "the image config is larger than 4194304 bytes"
    assert "GetDownloadUrlForLayer" not in clients.calls and blobs.requests == []


@pytest.mark.parametrize(
    ("mutability", "filters", "tag", "immutable"),
    [
        ("MUTABLE", [], "latest", False),
        ("IMMUTABLE", [], "latest", True),
        ("IMMUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "lat*"}], "latest", False),
        ("IMMUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "dev-*"}], "latest", True),
        ("MUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "stable"}], "stable", True),
    ],
)
def test_tag_mutability_is_read_for_moving_tags(ecr, clients, blobs, mutability, filters, tag, immutable):
    ecr.create_repository(repositoryName="web")
    request = {"repositoryName": "web", "imageTagMutability": mutability}
    if filters:
        request["imageTagMutabilityExclusionFilters"] = filters
    ecr.put_image_tag_mutability(**request)
    push(ecr, "web", manifest(blobs, "app"), DOCKER_V2, tag=tag)
    answer = AwsFacts(clients).ecr_image(f"{HOST}/web:{tag}")
    assert (answer.tag_mutability, answer.tag_immutable) == (mutability, immutable)
    AwsFacts(clients).ecr_image(f"{HOST}/web:{tag}")
    assert clients.calls["DescribeRepositories"] == 1  # cached per repository across invocations


# ------------------------------------------------------------------------------------ pull-through cache


def test_pull_through_cache_rules_paginated_cached_and_denied():
    clear_caches()
    clients = Clients(session=boto3.Session(region_name="us-east-1"))
    client = clients("ecr", "us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "describe_pull_through_cache_rules",
            {
                "pullThroughCacheRules": [
                    {"ecrRepositoryPrefix": "docker-hub", "upstreamRegistryUrl": "registry-1.docker.io"}
                ],
                "nextToken": "page-2",
            },
            {},
        )
        stub.add_response(
            "describe_pull_through_cache_rules",
            {"pullThroughCacheRules": [{"ecrRepositoryPrefix": "quay", "upstreamRegistryUrl": "quay.io"}]},
            {"nextToken": "page-2"},
        )
        facts = AwsFacts(clients)
        assert dict(facts.pull_through_cache_prefixes("us-east-1")) == {
            "docker-hub": "registry-1.docker.io",
            "quay": "quay.io",
        }
        assert dict(AwsFacts(clients).pull_through_cache_prefixes("us-east-1"))["quay"] == "quay.io"  # cached
        stub.assert_no_pending_responses()

    denied = Clients(session=boto3.Session(region_name="us-east-1"))
    with Stubber(denied("ecr", "eu-west-1")) as stub:
        stub.add_client_error("describe_pull_through_cache_rules", service_error_code="AccessDeniedException")
        answer = AwsFacts(denied).pull_through_cache_prefixes("eu-west-1")
    assert answer == Unknown("ecr:DescribePullThroughCacheRules: AccessDeniedException")

    throttled = Clients(session=boto3.Session(region_name="us-east-1"))
    with Stubber(throttled("ecr", "eu-west-1")) as stub:
        stub.add_client_error("describe_pull_through_cache_rules", service_error_code="ThrottlingException")
        with pytest.raises(ClientError):
            AwsFacts(throttled).pull_through_cache_prefixes("eu-west-1")
    clear_caches()


# ------------------------------------------------------------------------------------ checks end to end


def test_image_checks_with_aws_facts(ecr, clients, blobs):
    """A large image in an IMMUTABLE repository: image-too-large fires, image-mutable-tag does not."""
    ecr.create_repository(repositoryName="big", imageTagMutability="IMMUTABLE")
    push(ecr, "big", manifest(blobs, "app"), DOCKER_V2, tag="latest")

    def real_size(parsed, **_):  # moto's imageSizeInBytes is not a real size: give it one
        for detail in parsed.get("imageDetails", []):
            detail["imageSizeInBytes"] = 2048 * MIB

    clients("ecr", REGION).meta.events.register("after-call.ecr.DescribeImages", real_size)
    definition = parse_document(
        {
            "family": "big",
            "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/big:1",
            "requiresCompatibilities": ["FARGATE"],
            "containerDefinitions": [{"name": "app", "image": f"{HOST}/big:latest"}],
        }
    )
    context = CheckContext(
        target="big:1", facts=AwsFacts(clients), region=REGION, options={"image_size_limit_mib": 500}
    )
    checks = load_all()
    findings = {
        check_id: checks[check_id].run(definition, context)
        for check_id in ("image-cross-region", "image-public-registry", "image-too-large", "image-mutable-tag")
    }
    [large] = findings["image-too-large"]
    assert large.severity == "medium" and "2.0 GiB compressed in ECR" in large.message
    assert findings["image-mutable-tag"] == []  # latest cannot be overwritten in an IMMUTABLE repository
    assert findings["image-cross-region"] == findings["image-public-registry"] == []
    assert clients.calls == {
        "DescribeImages": 1,
        "BatchGetImage": 1,
        "GetDownloadUrlForLayer": 1,
        "DescribeRepositories": 1,
    }


def test_a_stand_in_without_the_calls_gives_unknowns_not_crashes(ecr, blobs):
    """moto in-process raises NotImplementedError for the two calls it lacks; botocore never does against AWS."""
    clients = Clients()  # no patched GetDownloadUrlForLayer here
    push(ecr, "api", manifest(blobs, "app"), DOCKER_V2, tag="1")
    facts = AwsFacts(clients)
    answer = facts.ecr_image(f"{HOST}/api:1")
    assert answer.found and answer.user is None
    assert answer.user_reason == "ecr:GetDownloadUrlForLayer: not implemented by this endpoint"
    rules = facts.pull_through_cache_prefixes(REGION)
    assert rules == Unknown("ecr:DescribePullThroughCacheRules: not implemented by this endpoint")
