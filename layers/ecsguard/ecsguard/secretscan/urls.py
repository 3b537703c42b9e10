"""Credentials in URLs, DSNs and connection strings of any scheme (only the password part), Go and Oracle DSNs,
``user:password@host`` without a scheme, and secret-named parameters of a URL query string."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .core import SecretMatch, _Lazy, _match
from .names import _name_kind
from .placeholders import is_reference_or_placeholder
from .plausible import _plausible_secret

# --------------------------------------------------------------------------------------------
# Credentials in URLs, DSNs and connection strings
# --------------------------------------------------------------------------------------------

_URL_USERINFO = _Lazy(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z][A-Za-z0-9+.-]*:)*)//"  # jdbc:postgresql://, mongodb+srv://
    r"(?:(?P<user>[^:@/\s?#'\"]*):(?P<password>[^@\s'\"]*)"
    # an unencoded e-mail as user name (smtp://postmaster@mg.example.com:pw@smtp.mailgun.org): no / ? # in the password
    r"|[^:@/\s?#'\"]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+:(?P<epassword>[^@\s'\"/?#]*))"
    r"@(?P<host>[^\s/?#'\"]*)"
)
_URL_QUERY_SECRET = _Lazy(
    r"[?&;](?P<key>[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth|sig|signature|"
    r"private[_-]?key|client[_-]?secret|credential)[A-Za-z0-9_.-]*)=(?P<value>[^&;#\s'\"]+)",
    re.I,
)
_GO_DSN = _Lazy(r"^(?P<user>[^:@/\s()]+):(?P<password>[^@\s]+)@(?:tcp|unix|udp)\(")
_ORACLE_DSN = _Lazy(
    r"^(?P<user>[A-Za-z0-9_$#]+)/(?P<password>[^@\s/]+)@(?://)?[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9_.]+)?$"
)
_BARE_USERINFO = _Lazy(
    r"^(?P<user>[A-Za-z0-9._%+-]+):(?P<password>[^@\s/]+)@(?P<host>[A-Za-z0-9.-]+\.[A-Za-z]{2,}|localhost|[A-Za-z0-9-]+:\d+)(?::\d+)?(?:/\S*)?$"
)


def _url_matches(value: str) -> Iterator[SecretMatch]:
    if "@" in value:
        for m in _URL_USERINFO.finditer(value):
            password = _unquote(m.group("password") if m.group("password") is not None else m.group("epassword"))
            if m.group("host").lower().startswith(("sha256:", "sha512:")):
                continue
            if password and not is_reference_or_placeholder(password) and not _URL_PASSWORD_PLACEHOLDER.match(password):
                scheme = m.group("scheme").rstrip(":").lower()
                yield _match("url-credentials", f"password in a {scheme} URL", password)
        bare = value.strip()
        if bare[:11].lower() == "jdbc:oracle":
            bare = re.sub(r"^jdbc:oracle:[A-Za-z0-9]+:", "", bare, flags=re.I)  # jdbc:oracle:thin:user/pw@host
        for pattern in (_GO_DSN, _ORACLE_DSN, _BARE_USERINFO):
            m = pattern.match(bare)
            if m:
                password = _unquote(m.group("password"))
                if not is_reference_or_placeholder(password) and not _URL_PASSWORD_PLACEHOLDER.match(password):
                    yield _match("url-credentials", "password in a connection string", password)
    if "?" in value:  # ;key=value forms (jdbc:sqlserver, ADO.NET) are left to the embedded-assignment rule
        if "://" in value or value.lower().startswith("jdbc:"):
            for m in _URL_QUERY_SECRET.finditer(value):
                secret = _unquote(m.group("value"))
                key_kind = _name_kind(m.group("key"))
                if not key_kind or key_kind[0] == "public":
                    continue  # authSource=admin, auth_mechanism=SCRAM: about the credential, not one
                if not is_reference_or_placeholder(secret) and _plausible_secret(
                    secret, strong=key_kind[0] == "strong"
                ):
                    yield _match("url-credentials", "credential in a URL query string", secret)


_URL_PASSWORD_PLACEHOLDER = _Lazy(
    r"^(?:\*+|x+|pass(?:word)?|secret|pwd|passwd|changeme|<[^>]*>|\[[^\]]*\]|\{[^}]*\}|:)$", re.I
)


def _unquote(text: str) -> str:
    if "%" not in text:
        return text
    from urllib.parse import unquote

    return unquote(text)
