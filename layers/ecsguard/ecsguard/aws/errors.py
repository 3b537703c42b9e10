"""What an AWS error means for a fact, and the container-lifetime cache the facts share.

* :data:`UNKNOWABLE`: answers that mean "this account may not look there" (an SCP, a denied
  region, an opt-in region not enabled). The fact becomes :class:`~ecsguard.facts.Unknown` and
  the check says "could not verify"; throttling and server errors are not here: they propagate,
  so the invocation fails and is retried (a failed read is never a pass).
* :class:`TimedCache`: answers kept per :class:`~ecsguard.aws.clients.Clients` (one per Lambda
  container, one per test) until they expire.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from botocore.exceptions import ClientError

from ..facts import Unknown

UNKNOWABLE = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure"}
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def unknown_from(exc: ClientError, call: str, *, also: frozenset[str] = frozenset()) -> Unknown | None:
    """An :class:`Unknown` naming the call and the code for a definite "you may not look there" (or a code in
    ``also``); None for errors that must be retried."""
    code = error_code(exc)
    return Unknown(f"{call}: {code}") if code in UNKNOWABLE or code in also else None


class TimedCache:
    """Answers per owner (weakly: an owner that is gone takes its answers with it), each until it expires."""

    def __init__(self) -> None:
        self._entries: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], tuple[float, Any]]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, owner: Any, key: tuple[str, ...]) -> Any | None:
        entry = self._entries.get(owner, {}).get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, owner: Any, key: tuple[str, ...], value: Any, ttl: float) -> None:
        self._entries.setdefault(owner, {})[key] = (time.monotonic() + ttl, value)

    def clear(self) -> None:
        self._entries.clear()


def region_known(clients: Any, service: str, region: str | None) -> bool:
    """Is ``region`` one botocore knows for ``service`` in any partition?

    An endpoint that does not answer in a real region is transient (raise: the invocation is retried);
    only a region the SDK does not know at all (a typo, a region newer than the SDK) is unknowable.
    """
    if not region:
        return True
    session = clients.session
    return any(
        region in session.get_available_regions(service, partition_name=partition)
        for partition in session.get_available_partitions()
    )
