"""What every rule shares: the :class:`SecretMatch` record, lazily compiled patterns, fingerprints, and the
measures of a value's shape that several rule modules use (character classes, entropy, "looks machine-generated",
UUIDs and cloud identifiers)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecretMatch:
    """Why a value is a credential, without the value.

    ``hint`` shows at most a known non-secret prefix (``ghp_``, ``AKIA``) and the length;
    ``fingerprint`` is ``sha256:<hex>`` of the exact credential (for allowlists and de-duplication).
    """

    rule: str
    kind: str
    hint: str
    fingerprint: str
    # A short or human-chosen value: its SHA-256 can be reversed by trying candidates (sha256 of
    # "123456" is on every search engine), so its fingerprint is used for allowlist matching but
    # never shown. See published_fingerprint.
    guessable: bool = False

    @property
    def published_fingerprint(self) -> str | None:
        """The fingerprint to show in findings and messages, or None when showing it would reveal the value."""
        return None if self.guessable else self.fingerprint

    def __repr__(self) -> str:  # the default repr is already safe; keep it explicit and stable
        return (
            f"SecretMatch(rule={self.rule!r}, kind={self.kind!r}, hint={self.hint!r}, "
            f"fingerprint={self.published_fingerprint!r})"
        )


class _Lazy:
    """A regular expression compiled on first use: importing ecsguard.secretscan must stay cheap (cold start)."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern, self._flags, self._compiled = pattern, flags, None

    def __getattr__(self, name: str):
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return getattr(self._compiled, name)


def fingerprint(value: str) -> str:
    """``sha256:<hex>`` of the UTF-8 value: what an allowlist stores instead of the value."""
    import hashlib

    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def _match(rule: str, kind: str, secret: str, prefix: str = "") -> SecretMatch:
    shown = prefix if prefix and secret.startswith(prefix) and len(prefix) < len(secret) else ""
    return SecretMatch(
        rule=rule,
        kind=kind,
        hint=f"{shown}… ({len(secret)} chars)",
        fingerprint=fingerprint(secret),
        guessable=_guessable(secret),
    )


def _guessable(secret: str) -> bool:
    """Could the value be recovered from its SHA-256 by guessing? Anything short or human-chosen could."""
    v = secret.strip()
    return not (len(v) >= 32 or _UUID.match(v) or _looks_random(v, 12))


# --------------------------------------------------------------------------------------------
# Shared value measures: UUIDs, cloud identifiers, character classes, entropy, randomness
# --------------------------------------------------------------------------------------------

_UUID = _Lazy(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IDENTIFIER = _Lazy(
    r"^(?:sha(?:256|384|512):[0-9a-f]{32,128}"  # image digests
    r"|(?:vpc|sg|subnet|i|ami|eni|rtb|igw|nat|vpce|acl|snap|vol|lt|tgw|pcx|eipalloc|fs|fsap|cluster)-[0-9a-f]{8,17}"
    r"|\d{12}"  # AWS account id
    r"|[a-z]{2}(?:-gov)?-[a-z]+-\d"  # region
    r")$"
)


def _classes(text: str) -> int:
    return (
        bool(re.search(r"[a-z]", text))
        + bool(re.search(r"[A-Z]", text))
        + bool(re.search(r"[0-9]", text))
        + bool(re.search(r"[^A-Za-z0-9]", text))
    )


def _entropy(text: str) -> float:
    if not text:
        return 0.0
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _wordy(value: str) -> bool:
    """Words joined by separators (``v2-user-profile``, ``orders:cache``, ``CreatedAt``): a name, not a key."""
    parts = [p for p in re.split(r"[-_.:/ ]+", value) if p]
    if not parts:
        return False
    pieces = [q for p in parts for q in re.split(r"(?<=[a-z])(?=[A-Z])", p)]
    return all(re.fullmatch(r"(?:[a-z]{2,14}|[A-Z][a-z]{1,13}|[A-Z]{2,6})\d{0,3}|v?\d{1,4}", q) for q in pieces)


def _looks_random(value: str, min_length: int = 16) -> bool:
    """A machine-generated key: long, no spaces, not a word or a sentence."""
    v = value.strip()
    if len(v) < min_length or re.search(r"\s", v) or _UUID.match(v) or _IDENTIFIER.match(v):
        return False
    if re.fullmatch(r"[0-9a-fA-F]+", v):
        return len(v) >= 16 and len(set(v.lower())) >= 8
    if not re.fullmatch(r"[A-Za-z0-9+/=_.~:@!#$%^&*-]+", v):
        return False
    if _wordy(v):
        return False  # kebab/snake words: my-cache-key, created_at, v2-user-profile
    return _classes(v) >= 2 and _entropy(v) >= 3.3
