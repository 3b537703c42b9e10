"""The stopped-task diagnosis flow: ECS Task State Change (STOPPED) -> diagnosis checks -> one message per cause."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def process_stopped(event: Mapping[str, Any], *, settings: Any, clients: Any, once: Any = None) -> dict[str, Any]:
    raise NotImplementedError
