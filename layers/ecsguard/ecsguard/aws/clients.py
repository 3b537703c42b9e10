"""The one place that creates boto3 clients: once per (service, region) per process, standard retries."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

# Adaptive retry mode: standard retries (throttling, transient 5xx, connection errors, with backoff and
# a retry quota) plus client-side rate limiting once a service throttles, so a burst of registrations
# slows down instead of failing. What still fails after the attempts (3 by default) fails the
# invocation: Lambda retries it and the dead-letter queue keeps it. The number of attempts is left to
# AWS_MAX_ATTEMPTS (botocore reads it, and an explicit max_attempts here would override it), which the
# tests set to 1 against moto.
_CONFIG = Config(retries={"mode": "adaptive"}, connect_timeout=5, read_timeout=20)


class Clients:
    """A small cache of boto3 clients. ``endpoint_url`` points every client at one endpoint (moto)."""

    def __init__(self, session: boto3.Session | None = None, endpoint_url: str | None = None) -> None:
        self._session = session
        self._endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str | None], Any] = {}

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            self._session = boto3.Session()
        return self._session

    @property
    def default_region(self) -> str | None:
        return self.session.region_name or os.environ.get("AWS_REGION")

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region)
        client = self._clients.get(key)
        if client is None:
            kwargs: dict[str, Any] = {"config": _CONFIG}
            if region:
                kwargs["region_name"] = region
            if self._endpoint_url:
                kwargs["endpoint_url"] = self._endpoint_url
            client = self._clients[key] = self.session.client(service, **kwargs)
        return client
