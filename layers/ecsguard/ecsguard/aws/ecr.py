"""ECR facts: images (size, digest, the image's own USER) and pull-through cache rules. Reads only."""

from __future__ import annotations

from collections.abc import Mapping

from ..facts import EcrImage, Unknown


class EcrFacts:
    """Mixin of :class:`ecsguard.aws.facts.AwsFacts`; uses ``self._clients``."""

    def ecr_image(self, image: str) -> EcrImage | Unknown | None:
        return Unknown("ECR image facts not implemented yet")

    def pull_through_cache_prefixes(self, region: str) -> Mapping[str, str] | Unknown:
        return Unknown("pull-through cache facts not implemented yet")
