"""Judging a value under its name: the generic rule (a secret-named entry holding a plausible credential),
provider keys without a prefix recognised by name and shape, settings embedded in larger values (``key=value``,
JSON, PHP ``define``, XML ``<add key=...>``, query strings), ``Authorization`` headers, header lines, ``.netrc``
entries, base64-encoded provider credentials, Bundler host credentials; and the entry points
:func:`scan_value` and :func:`classify_variable`, which run every rule module in order."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from .core import _UUID, SecretMatch, _classes, _Lazy, _looks_random, _match, _wordy
from .names import _name_kind, _name_tokens
from .placeholders import _PASSWORD_HASH, _PUBLIC_VALUE, _TEMPLATE, is_reference_or_placeholder
from .plausible import _plausible_secret
from .providers import _provider_matches
from .urls import _URL_PASSWORD_PLACEHOLDER, _unquote, _url_matches

# --------------------------------------------------------------------------------------------
# Name + value rules
# --------------------------------------------------------------------------------------------

_AUTH_SCHEME = _Lazy(
    r"^(?:Bearer|Basic|Token|Digest|Bot|ApiKey|Api-Key|SSWS|GenieKey|Splunk|OAuth|AWS4-HMAC-SHA256)\s+(?P<cred>\S.*)$",
    re.I,
)
_AUTH_HEADER = _Lazy(
    r"(?i:\b(?:proxy-)?authorization\s*[:=]\s*[\"']?|\b(?:bearer|basic|token)\s+)(?P<cred>(?:(?i:Bearer|Basic|Token)\s+)?[A-Za-z0-9._~+/=-]{12,})"
)


_ECHO_WORDS = frozenset(
    "id name key token cookie header value sid string text my the default dev test local demo prod staging".split()
)


def _echoes_name(value: str, tokens: list[str]) -> bool:
    """``SESSION_KEY=sessionid``, ``CSRF_TOKEN=csrftoken``: the value only repeats the name (a setting's label)."""
    if not re.fullmatch(r"[A-Za-z_.-]+", value):
        return False
    rest = value.lower()
    for word in sorted(set(tokens) | _ECHO_WORDS, key=len, reverse=True):
        rest = rest.replace(word, "")
    return not re.sub(r"[_.-]", "", rest)


_PASSWORD_NOUNS = frozenset(
    "password passwd pwd pw pass passphrase passcode passwort senha contrasena motdepasse kennwort parola wachtwoord"
    " salasana haslo heslo passord adgangskode losenord jelszo".split()
)


_ISSUED_NOUNS = frozenset("key keys token tokens apikey apitoken".split())
_CHOSEN_NOUNS = _PASSWORD_NOUNS | frozenset("secret secrets passphrase pin psk".split())


def _chosen_echo_is_live(value: str, tokens: list[str]) -> bool:
    """``JWT_SECRET=devsecret``, ``POSTGRES_PASSWORD=postgres``, ``COOKIE_SECRET=cookiesecret``: a password or
    secret people chose from the words around it is still the value the service runs with in a deployed
    definition (and a guessable one). Only a value made of the variable's own words, credential noun included, in
    any order (``DB_PASSWORD=db_password``, ``GERENCIANET_CLIENT_SECRET=Client_Secret_Gerencianet``) is a label,
    and a bare noun (``secret``) a placeholder."""
    nouns = set(tokens) & _CHOSEN_NOUNS
    if not nouns:
        return False
    squashed = re.sub(r"[^a-z0-9]", "", value.lower())
    if squashed in _CHOSEN_NOUNS:
        return False
    if not any(noun in squashed for noun in nouns):
        return True  # postgres, admin, root: a vendor default taken from the name
    rest = squashed
    for word in sorted(set(tokens), key=len, reverse=True):
        rest = rest.replace(word, "")
    return bool(rest)  # devsecret, mysecret, testpassword: words added to the name are a chosen value


def _labels_the_field(value: str, tokens: list[str]) -> bool:
    """Values that describe the field rather than fill it.

    ``DB_PASSWORD=database__user_password``: words ending in the password noun ("the user's password");
    ``TIDB_API_KEY=dify``: a single short word where an issued key or token goes (issued keys are never a word;
    a chosen secret or password can be one, so those names keep it); ``SESSION_KEY=_myapp_session``: the
    name of the session cookie."""
    present = set(tokens)
    if present & _PASSWORD_NOUNS and re.fullmatch(r"[a-z]+(?:[_-]+[a-z]+)*?[_-]+(?:password|passwd|pwd)", value):
        return True
    if present & _ISSUED_NOUNS and not present & _CHOSEN_NOUNS and re.fullmatch(r"[A-Za-z][a-z]{0,11}", value):
        return True
    words = re.split(r"[-_.]+", value.strip("_"))
    return (
        bool(present & {"session", "cookie"}) and _wordy(value) and words[-1].lower() in {"session", "sess", "cookie"}
    )


def _strip_auth_scheme(value: str) -> str:
    m = _AUTH_SCHEME.match(value.strip())
    return m.group("cred").strip() if m else value.strip()


def _named_match(name: str, value: str, *, rule: str = "secret-named-variable") -> SecretMatch | None:
    """The generic rule: a secret-named entry holding a plausible credential."""
    nk = _name_kind(name)
    if not nk or nk[0] == "public":
        return None
    strength, label = nk
    tokens = _name_tokens(name)
    credential = (
        _strip_auth_scheme(value)
        if tokens and tokens[-1] in {"authorization", "auth", "header"} or "authorization" in tokens
        else value.strip()
    )
    if "kms" in tokens and not _looks_random(credential, 32):
        return None  # a KMS key is addressed (id, alias), never held
    if strength == "weak" and _UUID.match(credential):
        return None
    if tokens[-1:] == ["auth"] or "auth" in tokens[-2:]:
        m = re.fullmatch(r"[^:\s]+:(?P<password>\S+)", credential)
        if m and not is_reference_or_placeholder(m.group("password")) and not _PASSWORD_HASH.match(credential):
            return _match(rule, f"{label} (user:password)", m.group("password"))
    if not _plausible_secret(credential, strong=strength == "strong"):
        return None
    if _echoes_name(credential, tokens) and not _chosen_echo_is_live(credential, tokens):
        return None
    if _labels_the_field(credential, tokens):
        return None
    special = _special_named(tokens, credential)
    if special:
        return special
    return _match(rule, label, credential)


def _special_named(tokens: list[str], value: str) -> SecretMatch | None:
    """Provider keys that have no prefix: recognised by name and exact shape."""
    t = set(tokens)
    if t & {"aws"} and "secret" in t and re.fullmatch(r"[A-Za-z0-9/+]{40}", value):
        return _match("aws-secret-access-key", "AWS secret access key", value)
    if t & {"session", "security"} and "token" in t and len(value) >= 100 and re.fullmatch(r"[A-Za-z0-9/+=]+", value):
        return _match("aws-session-token", "AWS session token", value)
    if t & {"dd", "datadog"} and "key" in t:
        if "app" in t or "application" in t:
            if re.fullmatch(r"[0-9a-f]{40}", value):
                return _match("datadog-app-key", "Datadog application key", value)
        elif re.fullmatch(r"[0-9a-f]{32}", value):
            return _match("datadog-api-key", "Datadog API key", value)
    if (
        t & {"newrelic", "relic", "nr"}
        and t & {"license", "licence"}
        and re.fullmatch(r"[0-9a-fA-F]{40}|[0-9a-f]{36}NRAL", value)
    ):
        return _match("new-relic-key", "New Relic license key", value)
    if "twilio" in t and "token" in t and re.fullmatch(r"[0-9a-f]{32}", value):
        return _match("twilio-auth-token", "Twilio auth token", value)
    if "heroku" in t and _UUID.match(value):
        return _match("heroku-api-key", "Heroku API key", value)
    return None


_ASSIGNMENT = _Lazy(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{1,80})(?:[\"']\s*\]|[\"'])?\s*(?P<op>=>|=|:)\s*"  # k=, "k":, x['k'] =, 'k' =>
    r"(?:\"(?P<dq>(?:[^\"\\]|\\.)*)\"|'(?P<sq>[^']*)'|(?P<bare>(?:\$\{[^}]*\}|\{\{.*?\}\}|\$\([^)]*\)|[^\s;,\"'}\])])+))"
)


_PHP_DEFINE = _Lazy(r"\bdefine\(\s*(['\"])([A-Za-z_][A-Za-z0-9_]*)\1\s*,")
_QUERY_STRING = _Lazy(r"\??[A-Za-z0-9_.%-]+=[^&\s]*(?:&[A-Za-z0-9_.%-]+=[^&\s]*)+")
_GOOGLE_API_KEY = _Lazy(r"AIza[0-9A-Za-z_-]{35}")
_CODE_REFERENCE = _Lazy(r"[A-Za-z_][\w.]*[(\[]|(?:process\.env|import\.meta\.env|os\.environ)\.")


_XML_ADD_KEY = _Lazy(r"""<add\s+key\s*=\s*["']([^"']+)["']\s+value\s*=\s*["']([^"']*)["']""", re.I)


def _embedded_matches(value: str, public_context: bool = False) -> Iterator[SecretMatch]:
    if "define(" in value:
        value = _PHP_DEFINE.sub(r"\2=", value)  # PHP define('DB_PASSWORD', '…') (WORDPRESS_CONFIG_EXTRA)
    if "<add" in value:
        value = _XML_ADD_KEY.sub(r' \1="\2" ', value)  # NuGet / .NET appSettings <add key="Password" value="…"/>
    if "=" not in value and ":" not in value:
        return
    if "&" in value and _QUERY_STRING.fullmatch(value.strip()):
        # a query string on its own (an Azure SAS token sv=…&sig=…): each pair separately, percent-decoded
        for part in value.strip().lstrip("?").split("&"):
            yield from _embedded_matches(_unquote(part), public_context)
        return
    for m in _ASSIGNMENT.finditer(value):
        key = m.group("key")
        if m.group("op") == ":" and m.group("bare") is not None and m.group("bare").startswith("//"):
            continue  # scheme://
        raw = (
            m.group("dq")
            if m.group("dq") is not None
            else m.group("sq")
            if m.group("sq") is not None
            else m.group("bare")
        )
        if raw is None:
            continue
        if m.group("bare") is not None and _CODE_REFERENCE.match(raw):
            continue  # password = getenv('X'), ENV['X'], process.env.X: code reading a variable, not a literal
        if m.group("bare") is not None and "&" in raw and "?" in value:
            raw = raw.split("&", 1)[0]  # URL query separator
        nk = _name_kind(key)
        if not nk or nk[0] == "public":
            continue
        if public_context and _GOOGLE_API_KEY.fullmatch(raw.strip()):
            continue  # "apiKey" of a Firebase web config: public by design
        if nk[1].endswith("authorization header") or key.lower().endswith("authorization"):
            rest = value[m.start("bare") if m.group("bare") is not None else m.start() :]
            auth = _AUTH_SCHEME.match(rest.strip().strip("\"'"))
            if auth:
                raw = re.split(r"[\s\"',;]", auth.group("cred").strip(), maxsplit=1)[0]
        found = _named_match(key, raw, rule="embedded-assignment")
        if found:
            yield SecretMatch(
                "embedded-assignment", f"{found.kind} in an embedded setting", found.hint, found.fingerprint
            )


def _auth_header_matches(value: str) -> Iterator[SecretMatch]:
    low = value.lower()
    if "bearer" not in low and "basic" not in low and "authorization" not in low and "token " not in low:
        return
    for m in _AUTH_HEADER.finditer(value):
        cred = _strip_auth_scheme(m.group("cred"))
        if not is_reference_or_placeholder(cred) and (
            _looks_random(cred, 12) or len(cred) >= 20 and _classes(cred) >= 2
        ):
            yield _match("authorization-header", "credential in an Authorization header", cred)


_FIREBASE_WEB_CONFIG = _Lazy(r"firebaseapp\.com|[\"']?messagingSenderId[\"']?\s*[:=]")
_HEADER_LINE = _Lazy(r"^\s*(?P<key>[A-Za-z][A-Za-z0-9_-]*)\s+(?P<value>\S.*?)\s*$")


def _header_line_matches(value: str) -> Iterator[SecretMatch]:
    """A header option written ``Name value`` (fluent-bit ``Header X-API-Key abc…``): judged as name=value."""
    for line in value.splitlines():
        m = _HEADER_LINE.match(line)
        if m:
            found = _named_match(m.group("key"), m.group("value"), rule="embedded-assignment")
            if found:
                yield SecretMatch(
                    "embedded-assignment", f"{found.kind} in an embedded setting", found.hint, found.fingerprint
                )


def _structured(value: str) -> bool:
    """JSON, key=value lists and templates: only the parts inside can be judged."""
    import json

    v = value.strip()
    if v[:1] in "{[" and v[-1:] in "}]":
        try:
            return isinstance(json.loads(v), dict | list)
        except ValueError:
            return True
    # "=" followed by "=", "," or the end is base64 padding (APP_KEYS=a1b2==,c3d4==), not an assignment
    return len(re.findall(r"(?:^|[;&\s,])[A-Za-z_][A-Za-z0-9_.]*\s*=(?![=,\s]|$)", v)) >= 2


_FLAG_IN_VALUE = _Lazy(r"(?:^|\s)--?[A-Za-z][A-Za-z0-9_.-]*\s+\S")
_NETRC = _Lazy(r"^[ \t]*(?:machine\s+\S+|default)(?:\s+(?:login|account)\s+\S+)*\s+password\s+(?P<password>\S+)", re.M)
_BASE64_BLOB = _Lazy(r"[A-Za-z0-9+/]{60,}={0,2}|[A-Za-z0-9_-]{60,}={0,2}")


def _netrc_matches(value: str) -> Iterator[SecretMatch]:
    """A ``.netrc`` entry kept in a value: ``machine host login user password pw``."""
    if "password" not in value or ("machine" not in value and "default" not in value):
        return
    for m in _NETRC.finditer(value):
        password = m.group("password")
        if not is_reference_or_placeholder(password) and not _URL_PASSWORD_PLACEHOLDER.match(password):
            yield _match("netrc-password", "password in a netrc entry", password)


def _encoded_matches(value: str) -> Iterator[SecretMatch]:
    """A whole value that is base64 of text holding a credential in a provider format (a service-account JSON or a
    PEM private key encoded to fit one line: ``GCP_SA_KEY_B64``). Certificates and key-less configs decode to nothing."""
    import base64
    import binascii

    v = value.strip()
    if not _BASE64_BLOB.fullmatch(v):
        return
    try:
        raw = (base64.urlsafe_b64decode if "-" in v or "_" in v else base64.b64decode)(v + "=" * (-len(v) % 4))
        text = raw.decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return
    if not all(c.isprintable() or c in "\r\n\t" for c in text):
        return  # binary: a random key, judged by the name rules
    for match in _provider_matches(text):
        yield SecretMatch(match.rule, f"{match.kind} (base64-encoded)", match.hint, match.fingerprint, match.guessable)


# Bundler host credentials: BUNDLE_GEMS__CONTRIBSYS__COM=user:password (the host with "." spelled "__"), as used for
# Sidekiq Enterprise and private gem servers. BUNDLE_PATH, BUNDLE_JOBS... have no "__" and are configuration.
_BUNDLER_HOST_NAME = _Lazy(r"^BUNDLE_[A-Z0-9_-]*[A-Z0-9]__[A-Z0-9][A-Z0-9_-]*$", re.I)


def _bundler_host_credentials(name: str, value: str) -> Iterator[SecretMatch]:
    if not _BUNDLER_HOST_NAME.match(name):
        return
    v = value.strip()
    secret = v.split(":", 1)[1] if ":" in v else v
    if secret and not is_reference_or_placeholder(secret) and _plausible_secret(secret, strong=":" in v):
        yield _match("bundler-credentials", "Bundler gem server credentials", secret)


def scan_value(
    value: str, name: str = "", *, command_lines: Callable[[str], Iterable[SecretMatch]] | None = None
) -> list[SecretMatch]:
    """Every credential in one value, most specific first (de-duplicated by fingerprint).

    ``command_lines`` scans a value that is a command line (rule 5); :mod:`.arguments` passes its
    scanner, which itself judges flag values with these rules. The public
    :func:`ecsguard.secretscan.scan_value` is this function with that scanner.
    """
    if not value or not value.strip():
        return []
    found: list[SecretMatch] = []
    seen: set[str] = set()

    def add(matches: Iterator[SecretMatch] | list[SecretMatch]) -> None:
        for match in matches:
            if match.fingerprint not in seen:
                seen.add(match.fingerprint)
                found.append(match)

    name_kind = _name_kind(name) if name else None
    public_name = (
        bool(name_kind and name_kind[0] == "public")
        or "firebase" in name.lower()
        or bool(_FIREBASE_WEB_CONFIG.search(value))
    )
    add(_provider_matches(value, public_name))
    add(_url_matches(value))
    add(_netrc_matches(value))
    if not found and name[:7].upper() == "BUNDLE_" and "__" in name:
        add(_bundler_host_credentials(name, value))
    if not found and len(value) >= 60:
        add(_encoded_matches(value))
    literal = _TEMPLATE.sub("${T}", value) if "$" in value or "{" in value or "%" in value else value
    add(_embedded_matches(literal, public_name))  # ${X:-default}, {{ x }}: template syntax is not an assignment
    add(_auth_header_matches(literal))
    if name and _name_tokens(name)[-1:] in (["header"], ["headers"]):
        add(_header_line_matches(literal))
    if name_kind and not found and not _structured(value) and not _TEMPLATE.search(value):
        named = _named_match(name, value)
        if named:
            add([named])
    if not found and command_lines is not None and _FLAG_IN_VALUE.search(value):
        # a command line kept in a variable (REDIS_ARGS=--requirepass x, EXTRA_ARGS=--db-password x)
        add(command_lines(value))
    if found and name_kind is None and _PUBLIC_VALUE.match(value.strip()):
        return []
    return found


def _compose_default(value: str) -> str:
    """``${VAR:-default}`` / ``${VAR-default}`` as the whole value: Compose (and the shell) put the default there
    when VAR is unset, so the default is what a rendered task definition carries. Anything else is returned as is."""
    m = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-(?P<default>[^{}]*)\}", value.strip())
    return m.group("default") if m else value


def classify_variable(
    name: str, value: str, *, command_lines: Callable[[str], Iterable[SecretMatch]] | None = None
) -> SecretMatch | None:
    """Judge one environment entry, log-driver option or label by its name and value together."""
    if value is None:
        return None
    matches = scan_value(_compose_default(str(value)), str(name or ""), command_lines=command_lines)
    return matches[0] if matches else None
