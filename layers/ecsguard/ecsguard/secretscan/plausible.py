"""Could a value be the credential a secret-named entry asks for? ``_plausible_secret`` rules out references,
placeholders, configuration words, identifiers, numbers, addresses, hashes, file names and prose. Shared by the
name + value rules (``values``), URL query strings (``urls``) and flag values (``arguments``), and kept apart from
them so that none of those has to import another in a circle."""

from __future__ import annotations

import re

from .core import _IDENTIFIER, _classes, _Lazy, _looks_random
from .placeholders import _BOOLEAN_LIKE, _CONFIG_VALUES, _PASSWORD_HASH, _PUBLIC_VALUE, is_reference_or_placeholder

# --------------------------------------------------------------------------------------------
# Is a value plausible as a credential?
# --------------------------------------------------------------------------------------------

_MNEMONIC = _Lazy(r"^(?:[a-z]{3,8} ){11}(?:(?:[a-z]{3,8} ){3}){0,4}[a-z]{3,8}$")
_NUMBER = _Lazy(r"^[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[a-zA-Z%]{0,3}$")
_EMAIL = _Lazy(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_HOSTNAME = _Lazy(
    r"^(?:[a-z0-9-]+\.)+(?:com|net|org|io|dev|local|internal|cloud|amazonaws\.com|svc|cluster\.local|[a-z]{2})(?::\d+)?$"
)


# Grammar words of a sentence (and length requirements), which random-word passphrases do not have.
_PROSE_WORDS = frozenset(
    "is are be been and or the a an of to in on for with without not should must this that it at least"
    " не и і та для ваш ваша ваше".split()
)


def _plausible_secret(value: str, *, strong: bool) -> bool:
    """Could this value be the credential a secret-named entry asks for?"""
    v = value.strip()
    if not v or is_reference_or_placeholder(v):
        return False
    low = v.lower()
    if low in _BOOLEAN_LIKE or low in _CONFIG_VALUES or _IDENTIFIER.match(v) or _PUBLIC_VALUE.match(v):
        return False
    if _NUMBER.match(v):
        return strong and v.isdigit() and len(v) >= 6  # a numeric PIN/password, not a count or duration
    if re.match(r"^[a-z][a-z0-9+.-]*://", low) or _EMAIL.match(v) or _HOSTNAME.match(low) or _PASSWORD_HASH.match(v):
        return False  # URL without credentials (caught by the URL rule), address, hash
    if re.fullmatch(r"[\w.-]+\.(?:pem|key|crt|cer|p12|pfx|jks|json|txt|env|yaml|yml|conf|cfg|ini)", v, re.I):
        return False  # a file name
    if _MNEMONIC.match(v):
        return True  # a BIP39-style wallet mnemonic (12-24 lowercase words): the wallet's private key
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9.-]*:\d{2,5}(?:/[\w.-]*)?", v):
        return False  # host:port[/service], an address (ORACLE_DSN=oracle:1521/FREEPDB1)
    if not strong:
        return _looks_random(v) or _looks_random(v, 12) and _classes(v) >= 3
    if len(v) < 4:
        return False
    if " " in v.strip() and len(v.split()) >= 5 and not _looks_random(v.replace(" ", ""), 20):
        return False  # prose: a description, not a passphrase (passphrases are 3-4 words)
    words = re.split(r"[-_ ]+", v.lower())
    if (
        len(words) >= 5
        and all(re.fullmatch(r"[^\W\d_]{1,14}\d{0,4}|\d{1,4}", w) for w in words)
        and (
            sum(w in _PROSE_WORDS for w in words) >= 3
            or re.search(r"(?:^|[-_ ])\d{1,3}[-_ ](?:chars?|characters|символ\w*)(?:$|[-_ ])", v.lower())
        )
    ):
        return False  # the same prose joined by separators: this_password_is_insecure_and_should_be_updated
    #               (a passphrase is random words: correct-horse-battery-staple-42 has no grammar words)
    return True
