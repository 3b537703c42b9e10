"""Plaintext credential detection for task definitions.

Every entry is judged by its name *and* its value together (see ``docs/secrets.md`` for the
conventions and the benchmark behind them):

1. provider formats anywhere in the value (``ghp_``, ``AKIA``, ``sk_live_``, ``xoxb-``, PEM private
   keys, JWTs, ...), unless the token is an obvious placeholder (``ghp_xxxx...``, ``...EXAMPLE``);
2. credentials inside URLs, DSNs and connection strings of any scheme (only the password part);
3. ``key=value`` / ``"key": "value"`` / ``Authorization: Bearer ...`` embedded in larger values
   (``JAVA_OPTS``, JSON settings, header lists), where the key is secret-named;
4. a secret-named variable (``DB_PASSWORD``, ``JWT_SECRET``, ``DD_API_KEY``...) holding a real
   value: not a reference (ARN, SSM path, ``${...}``), not a placeholder (``changeme``,
   ``<password>``), not configuration (``PASSWORD_MIN_LENGTH``, ``TOKEN_TTL``, ``*_FILE``), not a
   key that is public by design (``pk_live_``, ``RECAPTCHA_SITE_KEY``);
5. a command line kept in a variable (``REDIS_ARGS=--requirepass …``), scanned like ``command``.

Pure standard library, no I/O, cheap to import: it runs in every Lambda cold start. Nothing here
ever logs or raises with a value; a :class:`SecretMatch` carries only a redacted hint and a
SHA-256 fingerprint.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "SecretMatch",
    "classify_variable",
    "fingerprint",
    "is_reference_or_placeholder",
    "scan_arguments",
    "scan_value",
]


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
    """A regular expression compiled on first use: importing this module must stay cheap (cold start)."""

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
# Value shapes: references, placeholders, identifiers, public keys
# --------------------------------------------------------------------------------------------

_TEMPLATE = _Lazy(
    r"\$\{[^}]*\}"  # ${var}, ${{ secrets.X }}
    r"|\$\([^)]*\)"  # $(var) / $(command)
    r"|\{\{.*?\}\}"  # {{ must_env `X` }}, {{resolve:ssm:...}}, {{AWS_REGION}}
    r"|%\([A-Za-z0-9_.-]+\)[sdr]"  # %(name)s
    r"|#\{[^}]*\}"  # #{Octopus.Var}
    r"|@@[A-Za-z0-9_]+@@"
    r"|<%=?.*?%>"  # ERB
    r"|<<\s*[A-Za-z0-9_.-]+\s*>>",
    re.S,
)
_WHOLE_TEMPLATE = _Lazy(
    r"^(?:\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|__[A-Za-z0-9_]+__|\{[A-Za-z_][A-Za-z0-9_.-]*\}"
    r"|<[^<>]{1,80}>|\[[A-Za-z _-]{2,60}\])$"
)
_REFERENCE = _Lazy(
    r"^(?:arn:aws[a-z-]*:"  # any ARN (Secrets Manager, SSM, KMS, ...): an address, never a value
    r"|(?:ssm|secretsmanager|secrets-manager|awssm|aws-sm|sm|vault|kms|op|doppler|gcpsm|gcp|azkv|akv|keyvault|"
    r"ref\+[a-z]+|sops|k8s|secret|secretref|env|file|parameter-store|parameterstore|resolve)(?:://|:)"
    r"|alias/[A-Za-z0-9/_-]+$"  # KMS alias
    r"|projects/[^/\s]+/secrets/"  # GCP Secret Manager
    r"|/run/secrets/|/var/run/secrets/|/aws/reference/secretsmanager/"
    r")",
    re.I,
)
# Encrypted values: SOPS ``ENC[AES256_GCM,data:…]``, jasypt ``ENC(…)``, a KMS ciphertext blob (``AQICAH…``,
# the base64 of its 0x01 0x02 0x02 0x00 0x78 header), Ansible Vault, Spring Cloud Config ``{cipher}…``. Useless
# without the decryption key.
_CIPHERTEXT = _Lazy(
    r"^(?:ENC\[[A-Z0-9_]+,data:[\s\S]*\]|ENC\([A-Za-z0-9+/=]{8,}\)|AQICAH[A-Za-z0-9+/]{100,}={0,2}|\$ANSIBLE_VAULT;\d"
    r"|\{cipher\}(?:\{[A-Za-z]+:[^}]*\})*[A-Za-z0-9+/=]{16,}$)"  # Spring Cloud Config {cipher}<hex|base64>
)
_PATH = _Lazy(r"^(?:~|\.{1,2})?/[A-Za-z0-9_.@+:=,-]+(?:/[A-Za-z0-9_.@+:=,-]*)*$")
_PLACEHOLDER_WORDS = frozenset(
    """
    changeme change_me change-me changeit change_it changethis change-this replaceme replace_me replace-me
    placeholder todo tbd fixme dummy example sample fake redacted removed hidden masked obfuscated
    password passwd pass pwd secret secrets token key apikey api_key api-key value string str none null nil
    undefined empty na n/a notset not_set not-set unset default required optional tobeset to_be_set
    secure sensitive confidential private credential credentials mytoken myapikey mykey yourpassword
    yoursecret yourtoken your_password your_secret your_token your-password your-secret your-token
    generated random auto test123changeme test testing foo bar baz qux foobar
    senha suasenha minhasenha asenha contrasena tucontrasena contraseña tucontraseña motdepasse votremotdepasse
    passwort deinpasswort ihrpasswort
    deadbeef cafebabe feedface deadc0de baadf00d decafbad c0ffee
    """.split()
)
_PLACEHOLDER_HINT_WORDS = frozenset(
    "your my insert enter put fill replace here goes placeholder changeme redacted example dummy fake sample"
    " todo tbd fixme real actual xxx".split()
)
# First words of a phrase that asks for a value: your-api-key, insert-token-here, please-change-this.
_PLACEHOLDER_LEADS = frozenset(
    "your my insert enter put fill replace add set change paste please"
    " sua seu suas seus tu votre dein deine ihr ihre coloque insira inserte ingrese".split()
)
# More first words of a request, trusted only when a request word follows (generate_a_new_key, tua_chiave).
_REQUEST_LEADS = _PLACEHOLDER_LEADS | frozenset("generate get obtain create some optional required tua tuo".split())
# Last words of a short phrase that says where the value comes from instead of giving it: user_provided.
_SOURCE_WORDS = frozenset("provided supplied injected generated managed".split())
# A phrase describing the value to put there: SomeRandomString, random-32-char-key.
_SHAPE_WORDS = frozenset("string key chars characters value secret text bytes hex token".split())
# Words a request for a value uses after its lead word (a random key split into pieces has none of them).
_REQUEST_WORDS = _SHAPE_WORDS | frozenset(
    "a an the of from for new real own valid here random strong long password pass api access id"
    " chiave cle clave chave schluessel".split()
)
# Last words of a phrase that only names the credential the author chose (my-db-password, my_jwt_secret): after "my"
# the phrase is the live value, not a request to fill one in (a key or token is issued, never chosen: my-api-key).
_CHOSEN_SECRET_WORDS = frozenset("password passwd pass pwd passphrase secret".split())
# Strong placeholder words inside a value made of a few words (whsec_dummy, sk_test_fake, token-sample-1).
_PLACEHOLDER_MARKERS = frozenset("dummy fake sample placeholder changeme redacted notreal fakekey".split())
_INSTRUCTION_WORDS = frozenset(
    "set see use stored managed provided injected replace insert fill configured configure generated loaded"
    " fetched read retrieved passed supplied from via in at runtime deploy deployment".split()
)
_BOOLEAN_LIKE = frozenset("true false yes no on off enabled disabled enable disable y n t f 0 1 -1".split())
# Words that are configuration values, not credentials, even under a secret-sounding name.
_CONFIG_VALUES = frozenset(
    """
    basic bearer digest jwt jwe jws oauth oauth2 oidc saml ldap header headers cookie cookies query body
    hs256 hs384 hs512 rs256 rs384 rs512 es256 es384 es512 ps256 eddsa none aes aes128 aes256 aes-256-gcm
    aes-256-cbc chacha20 md5 sha1 sha256 sha512 bcrypt scrypt argon2 argon2id pbkdf2 plain plaintext
    file env environment vault aws ssm kms secretsmanager parameterstore memory redis database db local
    internal external static dynamic session stateless stateful strict lax required optional
    trust md5 scram-sha-256 peer ident password_authentication
    """.split()
)
_UUID = _Lazy(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IDENTIFIER = _Lazy(
    r"^(?:sha(?:256|384|512):[0-9a-f]{32,128}"  # image digests
    r"|(?:vpc|sg|subnet|i|ami|eni|rtb|igw|nat|vpce|acl|snap|vol|lt|tgw|pcx|eipalloc|fs|fsap|cluster)-[0-9a-f]{8,17}"
    r"|\d{12}"  # AWS account id
    r"|[a-z]{2}(?:-gov)?-[a-z]+-\d"  # region
    r")$"
)
_PUBLIC_VALUE = _Lazy(
    r"^(?:pk_(?:live|test)_[A-Za-z0-9]+"  # Stripe publishable
    r"|pk\.eyJ[A-Za-z0-9_.-]+"  # Mapbox public token
    r"|UA-\d{4,10}-\d{1,4}|G-[A-Z0-9]{6,12}|GTM-[A-Z0-9]{4,9}|AW-\d{6,12}"  # Google Analytics / Tag Manager / Ads
    r"|NRJS-[a-f0-9]{19}"  # New Relic browser key
    r"|phc_[A-Za-z0-9]{32,}"  # PostHog project API key (ships to browsers)
    r"|(?:test|live)_g?ck_[A-Za-z0-9]{16,}"  # Toss Payments client key (browser SDK; the secret key is test_sk_/live_sk_)
    r"|(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com) AAAA[A-Za-z0-9+/=]+(?: \S+)?"
    r"|-----BEGIN (?:PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE|PGP PUBLIC KEY BLOCK|X509 CRL)-----.*"
    r")$",
    re.S,
)
_PASSWORD_HASH = _Lazy(
    r"^(?:[^:\s]+:)?(?:\$(?:2[abxy]?|apr1|1|5|6|argon2(?:id|i|d)|scrypt|pbkdf2[-a-z0-9]*)\$|\{(?:SSHA|SHA|SSHA512|CRYPT)\})"
)


def _placeholder_token(token: str) -> bool:
    """A token (the body of a key, a password) that is a stand-in rather than a value."""
    t = token.strip().strip("'\"")
    if not t:
        return True
    low = t.lower()
    if low in _PLACEHOLDER_WORDS or low in _BOOLEAN_LIKE and len(low) > 1:
        return True
    if _TEMPLATE.search(t) or _WHOLE_TEMPLATE.match(t):
        return True
    if re.fullmatch(r"[xX*•.#?_\-]{3,}", t) or re.fullmatch(r"(?:xxxx|XXXX|\*\*\*\*)[-xX*]*", t):
        return True
    if "example" in low or "xxxxx" in low or "*****" in t or "placeholder" in low or "redacted" in low:
        return True
    if "your" in low and re.search(
        r"your[-_ ]?(?:own[-_ ]?)?(?:[a-z]+[-_ ]?){0,3}(?:key|token|secret|password|pass|here|id)", low
    ):
        return True
    if len(t) >= 3 and len(set(low)) <= 2:
        return True  # aaaa, 0000, abab
    if len(t) >= 16 and _ascending_run(low) >= 10:
        return True  # ghp_1234567890abcdef..., abcdefghijklmnop
    words = [w for w in re.split(r"[^a-z0-9]+", low) if w]
    if (
        2 <= len(words) <= 4
        and any(w in _PLACEHOLDER_MARKERS for w in words)
        and not any(_looks_random(w, 12) for w in words)
    ):
        return True  # whsec_dummy, sk_test_fake, token-sample-1: a prefix around a stand-in word
    if len(words) >= 2 and all(w.isalpha() for w in words):
        if words[0] in _PLACEHOLDER_LEADS and not (words[0] == "my" and words[-1] in _CHOSEN_SECRET_WORDS):
            return True
        if re.search(r"change[-_ ]?(?:me|this|it)\b", low):
            return True  # please-change-this, must-change-me
        if words[-1] in {"here", "goes", "placeholder", "changeme", "aqui", "ici", "hier"} or any(
            w in {"changeme", "placeholder", "redacted", "replace"} for w in words
        ):
            return True
    if (
        len(words) >= 3
        and any(w in _INSTRUCTION_WORDS for w in words)
        and re.search(
            r"secrets?[ _-]?manager|parameter[ _-]?store|\bssm\b|\bvault\b|\bkms\b|runtime|pipeline|\bci\b|1password|env(?:ironment)?\b",
            low,
        )
    ):
        return True
    if "..." in t or "\u2026" in t:
        return True  # elided in documentation: sk_test_..., eyJhbGciOi...
    if _instruction_phrase(t) or _prefixed_placeholder(t):
        return True
    # An environment-variable name standing for itself: REPLACE_ME, YOUR_API_KEY, DB_PASSWORD, ВАШ_ПАРОЛЬ (any script).
    if (
        re.fullmatch(r"[^\W\d_][^\W_]*(?:_[^\W_]+)+", t)
        and t == t.upper()
        and re.search(r"[^\W\d_]{3}", t)
        and not re.search(r"\d{3}", t)
    ):
        return True
    return False


def _phrase_words(text: str) -> list[str]:
    """The words of a value written as a phrase, camelCase included (youReallyNeedToChangeThis), else []."""
    words = [w.lower() for w in re.findall(r"[A-Z]?[a-z]+\d*|[A-Z]+\d*(?![a-z])|\d+", text)]
    if len(words) < 2 or not re.fullmatch(r"[A-Za-z0-9_ .,:-]+", text):
        return []
    # random keys split into consonant clusters (Kx, Pq, Drh), single letters or many digit-bearing pieces
    # (add3f9a1c2); words have vowels and a plausible length
    if sum(not w.isalpha() for w in words) > 2:
        return []
    if re.search(r"[A-Z]{2}", text) and not re.search(r"[_ .,:-]", text):
        return []  # camelCase words do not run capitals together (QSARJ, XXJz): a random key
    for w in words:
        letters = w.rstrip("0123456789")
        if len(letters) > 14 or len(letters) >= 2 and not re.search(r"[aeiouy]", letters):
            return []
        if w.isalpha() and len(w) == 1 and w not in "ai":
            return []
    return words


def _instruction_phrase(token: str) -> bool:
    """A value that asks for a value: generate_a_new_key, youReallyNeedToChangeThis, toBeModified1,
    SomeRandomStringOf32CharsExactly, user_provided, local-dev-key-change-in-production."""
    words = _phrase_words(token)
    if not words:
        return False
    alpha = [w for w in words if w.isalpha()]
    if (
        words[0] in _REQUEST_LEADS
        and words[0] != "my"
        and all(w.isalpha() or len(w) <= 3 for w in words)
        and set(words[1:]) & _REQUEST_WORDS
    ):
        return True  # get_a_key_from_aws, generate_a_new_key, votre_secret_access_key_r2, Optional-valid
    if len(words) <= 3 and all(w.isalpha() for w in words) and words[-1] in _SOURCE_WORDS:
        return True
    if "random" in alpha and set(alpha) & _SHAPE_WORDS:
        return True
    joined = "".join(words)
    return bool(
        re.search(
            r"change(?:me|this|it)$|changein(?:prod|production)|(?:should|must|needs?)(?:to)?be(?:changed|updated|replaced"
            r"|rotated)|tobe(?:changed|modified|replaced|updated|set|filled|generated|defined)|(?:donot|dont|never)use",
            joined,
        )
    )


def _prefixed_placeholder(token: str) -> bool:
    """A credential prefix around a stand-in: sk_test_xxx, re_xxx, whsec_xxx, base64:your-app-key, re_123456789."""
    for m in re.finditer(r"(?<=[_:-])", token):
        head, body = token[: m.start()], token[m.start() :]
        if not re.fullmatch(r"(?:[A-Za-z][A-Za-z0-9]{0,5}[_:-]){1,2}", head) or not body or body[:2].lower() == "my":
            continue  # sk_test_, whsec_, base64: (not the first words of a phrase: this-is-my-…)
        low = body.lower()
        if low in _PLACEHOLDER_WORDS or low in _BOOLEAN_LIKE:
            continue  # admin_pass, root_secret: a chosen password, not a prefix around a stand-in
        if len(body) >= 6 and body.isalnum() and _ascending_run(low) == len(body):
            return True  # 123456789, abcdefgh after a prefix
        if _placeholder_token(body):
            return True
    return False


def _ascending_run(text: str) -> int:
    best = run = 1
    for a, b in zip(text, text[1:], strict=False):
        run = run + 1 if ord(b) - ord(a) == 1 else 1
        best = max(best, run)
    return best


def is_reference_or_placeholder(value: str) -> bool:
    """True for values that point at a secret or stand in for one, rather than being one.

    ARNs (Secrets Manager, SSM, KMS, any other), SSM parameter and file paths, ``valueFrom``-style
    URIs (``ssm://``, ``vault:``, ``op://``), encrypted values (SOPS ``ENC[…]``, jasypt ``ENC(…)``, KMS
    ciphertext blobs ``AQICAH…``, ``$ANSIBLE_VAULT``), templates (``${X}``, ``$X``, ``{{resolve:...}}``,
    ``{{ must_env ... }}``, ``$(X)``, ``%(x)s``, ``<IMAGE1_NAME>``) and placeholders (empty,
    ``changeme``, ``<password>``, ``xxx``, ``REPLACE_ME``, ``your-api-key-here``, ``none``).
    """
    if value is None:
        return True
    v = value.strip()
    if not v:
        return True
    if _REFERENCE.match(v) or _is_path(v) or _CIPHERTEXT.match(v):
        return True
    if _TEMPLATE.search(v):
        # a value *built* from references: only literal parts left may still hold a credential
        rest = _TEMPLATE.sub("", v)
        return not re.search(r"[A-Za-z0-9]{6,}", rest) or _placeholder_token(rest)
    return _placeholder_token(v)


def _is_path(v: str) -> bool:
    if not _PATH.match(v):
        return False
    for segment in v.split("/"):
        # a long mixed-case/digit run with no separators is base64 that happens to start with "/"
        if len(segment) >= 12 and _classes(segment) >= 3 and not re.search(r"[._-]", segment):
            return False
    return True


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


# --------------------------------------------------------------------------------------------
# Provider formats (value alone decides)
# --------------------------------------------------------------------------------------------

_B = r"(?<![A-Za-z0-9_])"  # left boundary
_E = r"(?![A-Za-z0-9_])"  # right boundary
# Boundaries for bodies that are base64 themselves: a run inside a longer base64 blob is not a token.
_B64 = r"(?<![A-Za-z0-9_+/])"
_E64 = r"(?![A-Za-z0-9_+/=])"

# (rule, kind, regex with an optional named group "p" = the non-secret prefix shown in hints)
_PROVIDERS_SPEC: tuple[tuple[str, str, str], ...] = (
    (
        "private-key",
        "private key",
        r"(?P<p>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)[\s\S]{16,}?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|$)",
    ),
    ("private-key", "private key", r"(?P<p>PuTTY-User-Key-File-\d): [\s\S]{40,}"),
    ("age-secret-key", "age secret key", _B + r"(?P<p>AGE-SECRET-KEY-1)[0-9A-Z]{58}" + _E),
    (
        "aws-access-key-id",
        "AWS access key ID",
        _B + r"(?P<p>A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|AGPA)[A-Z2-7]{16}" + _E,
    ),
    (
        "aws-session-token",
        "AWS session token",
        _B + r"(?P<p>IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE|FQoGZXIvYXdzE|AgoJb3JpZ2luX2Vj)[A-Za-z0-9/+=]{80,}",
    ),
    ("github-token", "GitHub token", _B + r"(?P<p>gh[pousr]_)[A-Za-z0-9]{36,255}" + _E),
    ("github-token", "GitHub fine-grained personal access token", _B + r"(?P<p>github_pat_)[A-Za-z0-9_]{50,255}" + _E),
    (
        "gitlab-token",
        "GitLab token",
        _B
        + r"(?P<p>glpat-|gldt-|glrt-|glcbt-|glptt-|glft-|glffct-|glsoat-|glimt-|glagent-|gloas-|GR1348941)[A-Za-z0-9_-]{20,}"
        + r"(?:\.[0-9a-z]{9})?"  # routable tokens end in .<base36 CRC>
        + _E,
    ),
    (
        "slack-webhook",
        "Slack incoming webhook URL",
        r"(?P<p>https://hooks\.slack(?:-gov)?\.com/)(?:services|workflows|triggers)/[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]{8,}",
    ),
    (
        "slack-webhook",
        "Slack incoming webhook URL",
        r"(?<![/A-Za-z0-9.])(?P<p>hooks\.slack\.com/)(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}",
    ),
    ("slack-token", "Slack token", _B + r"(?P<p>xox[abpeorsc]-|xapp-)[A-Za-z0-9-]{10,}" + _E),
    (
        "discord-webhook",
        "Discord webhook URL",
        r"(?P<p>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/)\d+/[A-Za-z0-9_-]{30,}",
    ),
    (
        "teams-webhook",
        "Microsoft Teams webhook URL",
        r"(?P<p>https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/)[A-Za-z0-9@/_-]{40,}",
    ),
    (
        "stripe-secret-key",
        "Stripe secret or restricted key",
        _B + r"(?P<p>(?:sk|rk)_(?:live|test|prod)_)[A-Za-z0-9]{16,247}" + _E,
    ),
    ("stripe-webhook-secret", "Stripe webhook signing secret", _B + r"(?P<p>whsec_)[A-Za-z0-9+/=]{24,}" + _E),
    ("sendgrid-api-key", "SendGrid API key", _B + r"(?P<p>SG\.)[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,64}" + _E),
    ("sendgrid-api-key", "SendGrid API key", _B + r"(?P<p>SG\.)[A-Za-z0-9_.=-]{66}" + _E),
    ("twilio-api-key", "Twilio API key SID", _B + r"(?P<p>SK)[0-9a-fA-F]{32}" + _E),
    ("google-api-key", "Google API key", _B + r"(?P<p>AIza)[0-9A-Za-z_-]{35}" + _E),
    ("google-oauth-secret", "Google OAuth client secret", _B + r"(?P<p>GOCSPX-)[A-Za-z0-9_-]{28}" + _E),
    ("npm-token", "npm access token", _B + r"(?P<p>npm_)[A-Za-z0-9]{36}" + _E),
    ("pypi-token", "PyPI API token", _B + r"(?P<p>pypi-)AgE[A-Za-z0-9_-]{50,}" + _E),
    ("rubygems-token", "RubyGems API key", _B + r"(?P<p>rubygems_)[a-f0-9]{48}" + _E),
    ("docker-hub-token", "Docker Hub access token", _B + r"(?P<p>dckr_(?:pat|oat)_)[A-Za-z0-9_-]{20,}" + _E),
    ("new-relic-key", "New Relic API key", _B + r"(?P<p>NRAK-|NRAA-|NRSP-)[A-Za-z0-9]{27}" + _E),
    ("new-relic-key", "New Relic insert key", _B + r"(?P<p>NRII-)(?:[A-Za-z0-9_-]{32}|[A-Z0-9]{27})" + _E),
    ("new-relic-key", "New Relic license key", _B + r"[a-f0-9]{36}(?P<p>NRAL)" + _E),
    (
        "azure-storage-key",
        "Azure storage or Service Bus key",
        r"(?i:(?P<p>AccountKey|SharedAccessKey|SharedAccessSignature)=)(?P<s>[A-Za-z0-9+/]{30,}={0,2})",
    ),
    ("azure-client-secret", "Azure AD client secret", _B + r"[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}" + _E),
    ("openai-api-key", "OpenAI API key", _B + r"(?P<p>sk-(?:proj|svcacct|admin|None)-)[A-Za-z0-9_-]{40,}" + _E),
    ("openai-api-key", "OpenAI API key", _B + r"(?P<p>sk-)[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}" + _E),
    ("anthropic-api-key", "Anthropic API key", _B + r"(?P<p>sk-ant-(?:api|admin|sid)\d\d-)[A-Za-z0-9_-]{32,}" + _E),
    ("openai-api-key", "OpenAI-style API key", _B + r"(?P<p>sk-)[A-Za-z0-9]{48}" + _E),
    ("heroku-api-key", "Heroku API key", _B + r"(?P<p>HRKU-)[A-Za-z0-9_-]{20,}" + _E),
    ("mailgun-api-key", "Mailgun API key", _B + r"(?P<p>key-)[0-9a-f]{32}" + _E),
    ("mailchimp-api-key", "Mailchimp API key", _B + r"[0-9a-f]{32}(?P<p>-us\d{1,2})" + _E),
    ("brevo-api-key", "Brevo (Sendinblue) API key", _B + r"(?P<p>xkeysib-|xsmtpsib-)[a-f0-9]{64}-[A-Za-z0-9]{16}" + _E),
    ("shopify-token", "Shopify access token", _B + r"(?P<p>shp(?:at|ca|pa|ss)_)[a-fA-F0-9]{32}" + _E),
    ("digitalocean-token", "DigitalOcean token", _B + r"(?P<p>do[opr]_v1_)[a-f0-9]{64}" + _E),
    ("vault-token", "HashiCorp Vault token", _B + r"(?P<p>hv[sbr]\.)[A-Za-z0-9_-]{24,}" + _E),
    (
        "terraform-cloud-token",
        "Terraform Cloud token",
        _B + r"[A-Za-z0-9]{14}(?P<p>\.atlasv1\.)[A-Za-z0-9_=-]{60,}" + _E,
    ),
    ("doppler-token", "Doppler token", _B + r"(?P<p>dp\.(?:st|ct|pt|sa|scim|audit)\.)[A-Za-z0-9_.-]{20,}" + _E),
    ("linear-api-key", "Linear API key", _B + r"(?P<p>lin_(?:api|oauth)_)[A-Za-z0-9]{40}" + _E),
    ("atlassian-api-token", "Atlassian API token", _B + r"(?P<p>ATATT3|ATCTT3)[A-Za-z0-9_=-]{40,}" + _E),
    ("huggingface-token", "Hugging Face token", _B + r"(?P<p>hf_)[A-Za-z0-9]{34,}" + _E),
    ("databricks-token", "Databricks token", _B + r"(?P<p>dapi)[a-f0-9]{32}(?:-\d)?" + _E),
    ("postman-api-key", "Postman API key", _B + r"(?P<p>PMAK-)[a-f0-9]{24}-[a-f0-9]{34}" + _E),
    ("pulumi-token", "Pulumi access token", _B + r"(?P<p>pul-)[a-f0-9]{40}" + _E),
    ("sentry-auth-token", "Sentry auth token", _B + r"(?P<p>sntry[su]_)[A-Za-z0-9+/=_]{40,}" + _E),
    ("grafana-token", "Grafana token", _B + r"(?P<p>glc_|glsa_)[A-Za-z0-9+/=_]{32,}" + _E),
    ("telegram-bot-token", "Telegram bot token", _B + r"\d{8,10}:(?P<p>AA)[A-Za-z0-9_-]{33}" + _E),
    (
        "tailscale-key",
        "Tailscale key",
        _B + r"(?P<p>tskey-(?:auth|api|client|webhook)-)[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}" + _E,
    ),
    ("planetscale-token", "PlanetScale token", _B + r"(?P<p>pscale_(?:tkn|pw|oauth)_)[A-Za-z0-9_.-]{32,}" + _E),
    ("supabase-token", "Supabase access token", _B + r"(?P<p>sbp_)[a-f0-9]{40}" + _E),
    ("supabase-token", "Supabase secret key", _B + r"(?P<p>sb_secret_)[A-Za-z0-9_-]{20,}" + _E),
    ("buildkite-token", "Buildkite token", _B + r"(?P<p>bkua_)[a-f0-9]{40}" + _E),
    ("square-token", "Square access token", _B + r"(?P<p>sq0atp-|sq0csp-|EAAA)[A-Za-z0-9_-]{22,60}" + _E),
    (
        "paypal-braintree-token",
        "PayPal Braintree access token",
        r"(?P<p>access_token\$production\$)[a-z0-9]{16}\$[a-f0-9]{32}",
    ),
    ("dynatrace-token", "Dynatrace token", _B + r"(?P<p>dt0[a-z]\d{2}\.)[A-Z0-9]{24}\.[A-Z0-9]{64}" + _E),
    ("mapbox-secret-token", "Mapbox secret token", _B + r"(?P<p>sk\.eyJ)[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}" + _E),
    ("notion-token", "Notion integration token", _B + r"(?P<p>secret_|ntn_)[A-Za-z0-9]{43,46}" + _E),
    ("airtable-token", "Airtable personal access token", _B + r"(?P<p>pat)[A-Za-z0-9]{14}\.[a-f0-9]{64}" + _E),
    ("replicate-token", "Replicate API token", _B + r"(?P<p>r8_)[A-Za-z0-9]{37}" + _E),
    ("groq-api-key", "Groq API key", _B + r"(?P<p>gsk_)[A-Za-z0-9]{52}" + _E),
    ("xai-api-key", "xAI API key", _B + r"(?P<p>xai-)[A-Za-z0-9]{70,}" + _E),
    ("perplexity-api-key", "Perplexity API key", _B + r"(?P<p>pplx-)[A-Za-z0-9]{40,}" + _E),
    ("contentful-token", "Contentful personal access token", _B + r"(?P<p>CFPAT-)[A-Za-z0-9_-]{43}" + _E),
    ("alibaba-access-key-id", "Alibaba Cloud AccessKey ID", _B + r"(?P<p>LTAI)[A-Za-z0-9]{12,20}" + _E),
    ("facebook-access-token", "Facebook access token", _B + r"(?P<p>EAA[A-Z][a-z]?)[A-Za-z0-9]{90,}" + _E),
    (
        "sumologic-collector-url",
        "Sumo Logic HTTP source URL",
        r"(?P<p>/receiver/v1/(?:http|otlp|logs|metrics|traces)/)[A-Za-z0-9_=+-]{40,}",
    ),
    ("loggly-token", "Loggly customer token", r"(?P<p>loggly\.com/(?:inputs|bulk)/)[0-9a-fA-F-]{32,36}"),
    (
        # the path alone, as in a fluent-bit http output whose Host is a separate option: Loggly's own grammar
        # /inputs|bulk/<customer token>/tag/<tags>/ names it without the host
        "loggly-token",
        "Loggly customer token",
        r"(?<![A-Za-z0-9_-])(?P<p>/(?:inputs|bulk)/)[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?=/tag/)",
    ),
    ("posthog-personal-api-key", "PostHog personal API key", _B + r"(?P<p>phx_)[A-Za-z0-9]{40,}" + _E),
    ("toss-payments-secret-key", "Toss Payments secret key", _B + r"(?P<p>(?:test|live)_g?sk_)[A-Za-z0-9]{16,}" + _E),
    # Added from a review of the gitleaks rule set (and Kingfisher/TruffleHog prefixes): self-identifying formats only.
    (
        "1password-secret-key",
        "1Password secret key",
        _B + r"(?P<p>A3-)[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}" + _E,
    ),
    (
        "1password-service-account-token",
        "1Password service account token",
        _B + r"(?P<p>ops_eyJ)[A-Za-z0-9+/]{250,}={0,3}",
    ),
    ("adobe-client-secret", "Adobe client secret", _B + r"(?P<p>p8e-)[A-Za-z0-9]{32}" + _E),
    ("artifactory-api-key", "JFrog Artifactory API key", _B64 + r"(?P<p>AKCp)[A-Za-z0-9]{69}" + _E64),
    ("artifactory-reference-token", "JFrog Artifactory reference token", _B64 + r"(?P<p>cmVmd)[A-Za-z0-9]{59}" + _E64),
    (
        "authress-access-key",
        "Authress service client access key",
        _B
        + r"(?P<p>(?:sc|ext|scauth|authress)_)[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-][A-Za-z0-9-]{10,32}"
        + r"\.[A-Za-z0-9+/_=-]{30,120}",
    ),
    ("clickhouse-api-secret", "ClickHouse Cloud API secret key", _B64 + r"(?P<p>4b1d)[A-Za-z0-9]{38}" + _E64),
    ("clojars-token", "Clojars deploy token", _B + r"(?P<p>CLOJARS_)[A-Za-z0-9]{60}" + _E),
    ("cloudflare-origin-ca-key", "Cloudflare Origin CA key", _B + r"(?P<p>v1\.0-)[a-f0-9]{24}-[a-f0-9]{146}" + _E),
    (
        "defined-networking-token",
        "Defined Networking API token",
        _B + r"(?P<p>dnkey-)[A-Za-z0-9_=-]{26}-[A-Za-z0-9_=-]{52}" + _E,
    ),
    ("dropbox-token", "Dropbox short-lived access token", _B + r"(?P<p>sl\.(?:u\.)?)[A-Za-z0-9_=-]{130,}" + _E),
    ("duffel-token", "Duffel API token", _B + r"(?P<p>duffel_(?:test|live)_)[A-Za-z0-9_=-]{43}" + _E),
    ("easypost-api-key", "EasyPost API key", _B64 + r"(?P<p>EZ[AT]K)[A-Za-z0-9]{54}" + _E64),
    (
        "flutterwave-secret-key",
        "Flutterwave secret or encryption key",
        _B + r"(?P<p>FLWSECK(?:_TEST)?-?)[a-hA-H0-9]{12}(?:[a-hA-H0-9]{20}-X)?" + _E,
    ),
    ("flyio-token", "Fly.io access token", _B + r"(?P<p>fo1_)[A-Za-z0-9_-]{43}" + _E),
    ("flyio-token", "Fly.io macaroon token", _B + r"(?P<p>fm1[ar]_|fm2_)[A-Za-z0-9+/]{100,}={0,3}"),
    ("frameio-token", "Frame.io API token", _B + r"(?P<p>fio-u-)[A-Za-z0-9_=-]{64}" + _E),
    ("gitlab-session-cookie", "GitLab session cookie", r"(?P<p>_gitlab_session=)[0-9a-z]{32}" + _E),
    ("grafana-token", "Grafana API key", _B + r"(?P<p>eyJrIjoi)[A-Za-z0-9]{70,400}={0,3}"),
    (
        "harness-token",
        "Harness access token",
        _B + r"(?P<p>(?:pat|sat)\.)[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}" + _E,
    ),
    ("huggingface-token", "Hugging Face organization API token", _B + r"(?P<p>api_org_)[A-Za-z]{34}" + _E),
    ("infracost-token", "Infracost API token", _B + r"(?P<p>ico-)[A-Za-z0-9]{32}" + _E),
    ("intra42-client-secret", "42 Intra client secret", _B + r"(?P<p>s-s4t2(?:ud|af)-)[a-fA-F0-9]{64}" + _E),
    ("maxmind-license-key", "MaxMind license key", _B + r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}(?P<p>_mmk)" + _E),
    ("octopus-deploy-api-key", "Octopus Deploy API key", _B + r"(?P<p>API-)[A-Z0-9]{26}" + _E),
    ("openshift-token", "OpenShift user token", _B + r"(?P<p>sha256~)[A-Za-z0-9_-]{43}" + _E),
    (
        "plaid-access-token",
        "Plaid access token",
        _B
        + r"(?P<p>access-(?:sandbox|development|production)-)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        + _E,
    ),
    ("prefect-api-key", "Prefect API key", _B + r"(?P<p>pnu_)[A-Za-z0-9]{36}" + _E),
    ("readme-api-key", "ReadMe API key", _B + r"(?P<p>rdme_)[a-z0-9]{70}" + _E),
    ("scalingo-token", "Scalingo API token", _B + r"(?P<p>tk-us-)[A-Za-z0-9_-]{48}" + _E),
    ("settlemint-token", "SettleMint access token", _B + r"(?P<p>sm_(?:aat|pat|sat)_)[A-Za-z0-9]{16}" + _E),
    ("shippo-api-key", "Shippo API token", _B + r"(?P<p>shippo_(?:live|test)_)[a-fA-F0-9]{40}" + _E),
    (
        "sourcegraph-token",
        "Sourcegraph access token",
        _B + r"(?P<p>sgp_)(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}" + _E,
    ),
    ("twitter-bearer-token", "Twitter/X bearer token", _B64 + r"(?P<p>A{22})(?!A)[A-Za-z0-9%]{80,100}" + _E64),
    ("typeform-token", "Typeform personal access token", _B + r"(?P<p>tfp_)[A-Za-z0-9_.=-]{50,64}" + _E),
    ("yandex-api-key", "Yandex Cloud API key", _B64 + r"(?P<p>AQVN)[A-Za-z0-9_-]{35,38}" + _E64),
    ("yandex-access-token", "Yandex OAuth token", _B + r"(?P<p>t1\.)[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]{86}={0,2}"),
    ("langsmith-api-key", "LangSmith API key", _B + r"(?P<p>lsv2_(?:pt|sk)_)[a-f0-9]{32}_[a-f0-9]{10}" + _E),
    ("pinecone-api-key", "Pinecone API key", _B + r"(?P<p>pcsk_)[A-Za-z0-9]{4,8}_[A-Za-z0-9]{50,90}" + _E),
    ("openrouter-api-key", "OpenRouter API key", _B + r"(?P<p>sk-or-v1-)[a-f0-9]{64}" + _E),
    (
        "azure-identifiable-key",
        "Azure identifiable API key",
        _B64 + r"[A-Za-z0-9]{52}(?P<p>JQQJ9)[A-Za-z0-9]{27}" + _E64,
    ),
    ("bitbucket-app-password", "Bitbucket app password", _B + r"(?P<p>ATBB)[A-Za-z0-9_=.-]{28,}" + _E),
    ("circleci-token", "CircleCI personal API token", _B + r"(?P<p>CCIPAT_)[A-Za-z0-9]{22}_[a-f0-9]{40}" + _E),
    ("figma-token", "Figma access token", _B + r"(?P<p>fig[dhu]_)[A-Za-z0-9_-]{40,}" + _E),
    ("resend-api-key", "Resend API key", _B + r"(?P<p>re_)[A-Za-z0-9]{8}_[A-Za-z0-9]{24}" + _E),
    ("mailersend-token", "MailerSend API token", _B + r"(?P<p>mlsn\.)[a-f0-9]{64}" + _E),
    ("netlify-token", "Netlify personal access token", _B + r"(?P<p>nfp_)[A-Za-z0-9_]{36,40}" + _E),
    ("render-api-key", "Render API key", _B + r"(?P<p>rnd_)[A-Za-z0-9]{32}" + _E),
    ("neon-api-key", "Neon API key", _B + r"(?P<p>napi_)[a-z0-9]{64}" + _E),
    ("sonarqube-token", "SonarQube token", _B + r"(?P<p>sq[upa]_)[a-f0-9]{40}" + _E),
    (
        "fcm-server-key",
        "Firebase Cloud Messaging server key",
        _B + r"(?P<p>AAAA)[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134}" + _E,
    ),
    (
        "discord-bot-token",
        "Discord bot token",
        _B + r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}" + _E,
    ),
    (
        "langfuse-secret-key",
        "Langfuse secret key",
        _B + r"(?P<p>sk-lf-)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}" + _E,
    ),
    ("honeycomb-api-key", "Honeycomb API key", _B + r"(?P<p>hc[ax][im]k_)[A-Za-z0-9]{20,}" + _E),
    ("elevenlabs-api-key", "ElevenLabs API key", _B + r"(?P<p>sk_)[a-f0-9]{48}" + _E),
    ("jwt", "JSON Web Token", _B + r"(?P<p>eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}" + _E),
)

_provider_rules: list[tuple[str, str, re.Pattern[str]]] | None = None
_PROVIDER_QUICK = _Lazy(
    r"BEGIN|PuTTY|AGE-|A[KSBCIRPNG][A-Z]{2}[A-Z2-7]|IQoJ|FwoG|FQoG|AgoJ|gh[pousr]_|github_pat_|gl[a-z]+-|GR134|hooks\.slack|xox|xapp-"
    r"|discord|webhook\.office|[sr]k_(?:live|test|prod)_|whsec_|SG\.|SK[0-9a-fA-F]{32}|AIza|GOCSPX|npm_|pypi-|rubygems_|dckr_|NR[A-Z]{2}|"
    r"AccountKey|SharedAccess|Q~|sk-|HRKU|key-|-us\d|sib-|shp|_v1_|hv[sbr]\.|atlasv1|dp\.|lin_|ATATT|ATCTT|hf_|dapi|PMAK|pul-"
    r"|sntry|glc_|glsa_|:AA|tskey|pscale|sbp_|bkua_|sq0|EAA|access_token\$|dt0|secret_|ntn_|pat[A-Za-z0-9]{14}\.|r8_|gsk_|xai-|pplx-"
    r"|CFPAT|LTAI|eyJ|receiver/v1/|loggly|/tag/|phx_|_g?sk_"
    r"|A3-|A3T|ops_|p8e-|AKCp|cmVmd|\.acc[_-]|4b1d|CLOJARS_|v1\.0-|dnkey-|sl\.|duffel_|EZ[AT]K|FLWSECK|fo1_|fm[12]|fio-u-"
    r"|_gitlab_session|[ps]at\.|api_org_|ico-|s-s4t2|_mmk|API-|sha256~|access-|pnu_|rdme_|tk-us-|sm_[aps]at_|shippo_"
    r"|sgp_|A{22}|tfp_|AQVN|t1\.|lsv2_|pcsk_|JQQJ9|ATBB|CCIPAT_|fig[dhu]_|re_|mlsn\.|nfp_|rnd_|napi_|sb_secret_"
    r"|sq[upa]_|APA91b|[MNO][A-Za-z0-9_-]{23,25}\.|hc[ax][im]k_|sk_[a-f0-9]{48}"
)


def _providers() -> list[tuple[str, str, re.Pattern[str]]]:
    global _provider_rules
    if _provider_rules is None:
        _provider_rules = [(rule, kind, re.compile(rx)) for rule, kind, rx in _PROVIDERS_SPEC]
    return _provider_rules


def _jwt_is_public(token: str) -> bool:
    """Supabase-style anon keys are JWTs that are public by design (``"role": "anon"``)."""
    import base64
    import binascii
    import json

    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and data.get("role") in {"anon", "public"}


# Formats that are also used as browser-side keys: public when the name says so (NEXT_PUBLIC_*, *_ANON_KEY, Firebase).
_PUBLIC_WHEN_NAMED = frozenset({"google-api-key", "jwt"})
# Formats whose prefix alone is weak evidence (a few letters, or base64 of a common word): keep them only when the
# rest of the token looks random.
_WEAK_PREFIX_RULES = frozenset(
    {
        "artifactory-reference-token",
        "clickhouse-api-secret",
        "octopus-deploy-api-key",
        "yandex-api-key",
        "yandex-access-token",
        "discord-bot-token",
        "resend-api-key",
        "elevenlabs-api-key",
        "azure-identifiable-key",
        "twitter-bearer-token",
        "dropbox-token",
        "maxmind-license-key",
        "harness-token",
        "settlemint-token",
        "render-api-key",
        "netlify-token",
        "infracost-token",
        "typeform-token",
        "figma-token",
        "bitbucket-app-password",
        "sendgrid-api-key",
    }
)


def _provider_matches(value: str, public_name: bool = False) -> Iterator[SecretMatch]:
    if not _PROVIDER_QUICK.search(value):
        return
    for rule, kind, pattern in _providers():
        for m in pattern.finditer(value):
            secret = m.group("s") if "s" in pattern.groupindex else m.group(0)
            prefix = m.group("p") if "p" in pattern.groupindex and m.group("p") else ""
            if rule == "azure-storage-key":
                prefix = ""
            body = secret[len(prefix) :] if secret.startswith(prefix) else secret
            if rule != "private-key" and _placeholder_token(body):
                continue
            if rule == "private-key" and len(re.sub(r"[^A-Za-z0-9+/]", "", secret[len(prefix) :])) < 40:
                continue  # a header with no key material: documentation, not a key
            if rule == "jwt" and _jwt_is_public(secret):
                continue
            if public_name and rule in _PUBLIC_WHEN_NAMED:
                continue
            if (
                rule in {"openai-api-key", "new-relic-key", "mailchimp-api-key", "twilio-api-key", "notion-token"}
                and _entropy(body) < 3.0
            ):
                continue
            if rule in _WEAK_PREFIX_RULES and (_entropy(body) < 3.0 or _classes(body) < 2 or _wordy(body)):
                continue  # a short or common prefix: the body must look machine-generated
            if not prefix.strip() or not secret.startswith(prefix):
                prefix = ""
            yield _match(rule, kind, secret, prefix)


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


# --------------------------------------------------------------------------------------------
# Name semantics
# --------------------------------------------------------------------------------------------

# Head nouns that name a credential on their own.
_STRONG_NOUNS = frozenset(
    "password passwd passwort pwd pw pass passphrase passcode secret secrets token tokens apitoken credential credentials creds"
    " apikey privatekey pat authorization pin psk tkn"
    # password in other languages: pt, es, fr, de, it/ro/tr, nl, fi, pl/cs, no/da, sv, hu
    " senha contrasena motdepasse kennwort parola wachtwoord salasana haslo heslo passord adgangskode losenord jelszo"
    "".split()
)
# Nouns that name a credential only with a modifier (API_KEY, SECRET_KEY) or a random-looking value.
_WEAK_NOUNS = frozenset(
    "key keys auth salt pepper license licence signature cookie session seed dsn hmac sig mnemonic".split()
)
# A modifier before KEY that makes it a credential.
_KEY_MODIFIERS = frozenset(
    """
    api secret private access signing sign encryption encrypt decryption decrypt crypt crypto cipher master license
    licence app application client auth authentication session hmac jwt shared service admin ingest write account
    storage subscription consumer sdk server rsa ssh gpg pgp aes root deploy deployment integration personal bot
    webhook cookie csrf xsrf mac instance partner merchant developer dev prod live rest management mgmt insert
    """.split()
)
_PUBLIC_MODIFIERS = frozenset("public publishable pub site anon anonymous browser frontend".split())
_PUBLIC_NAME_PREFIXES = (
    ("next", "public"),
    ("expo", "public"),
    ("nuxt", "public"),
    ("react", "app"),
    ("vite",),
    ("gatsby",),
    ("public",),
)
# Tokens after the noun that make the name configuration *about* a credential.
_QUALIFIERS = frozenset(
    """
    file files path paths dir directory folder location arn arns id ids name names header headers url uri urls endpoint
    endpoints host hostname addr address port ttl expiry expires expire expiration exp lifetime timeout length len min
    max minimum maximum size count type types algorithm algorithms algo alg mode enabled enable disabled disable
    required require policy policies rotation rotate interval version format field fields param parameter
    parameters var variable store provider backend source ref reference region user username login hash hashed
    scheme method kind strength complexity attempts retries retry age duration days hours minutes seconds secs ms
    limit pattern regex schema table column prefix suffix issuer audience scope scopes realm claim claims subject grant
    bucket hasher hashing encoder strategy manager cache validation validator validity verify verification check
    label tag description desc help hint display mount volume env rate threshold level usage template mask chars
    characters digits symbols uppercase lowercase special history reuse lockout bits rounds iterations cost
    workfactor stdin fd cmd command script generator location key_id kid arn id version stage arn
    enforce enforced reset url expiry ttl lookup mapping map role roles group groups ou dn attribute attr attrs
    queue topic channel table index location dir type method mechanism encoding charset
    encrypted ciphertext enc identity identities iv nonce
    """.split()
)
# Suffixes that leave a noun in head position: DB_PASSWORD_PROD, API_KEY_2, SECRET_KEY_BASE.
_NEUTRAL_SUFFIXES = frozenset(
    "prod production dev development stage staging test qa uat live old new current next previous primary secondary base value raw plain".split()
)

_NAME_SPLIT = _Lazy(r"[^A-Za-z0-9]+")
_CAMEL = _Lazy(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_JOINED_SUFFIXES = ("password", "passwd", "passphrase", "secret", "token", "pwd", "apikey", "key", "pass")
_PASS_PREFIXES = frozenset(
    "db user admin root smtp mail redis ldap ftp proxy rabbit mq ssh sql pg mysql mongo keystore truststore store"
    " require".split()
)
# Joined words that are credentials but split into nothing useful (redis ``requirepass``/``masterauth``).
_JOINED_WORDS = {"masterauth": ["master", "password"], "requirepass": ["require", "password"]}


def _name_tokens(name: str) -> list[str]:
    tokens: list[str] = []
    for part in _NAME_SPLIT.split(name):
        for piece in _CAMEL.split(part):
            low = piece.lower()
            if not low:
                continue
            tokens.extend(_split_joined(low))
    for j in range(len(tokens) - 2):
        if tokens[j : j + 3] == ["mot", "de", "passe"]:  # French MOT_DE_PASSE, motDePasse
            tokens[j : j + 3] = ["motdepasse"]
            break
    return tokens


def _split_joined(token: str) -> list[str]:
    if token in _JOINED_WORDS:
        return list(_JOINED_WORDS[token])
    if token in _STRONG_NOUNS or token in _WEAK_NOUNS or token in _QUALIFIERS:
        if token == "apikey":
            return ["api", "key"]
        if token == "apitoken":
            return ["api", "token"]
        if token == "privatekey":
            return ["private", "key"]
        return [token]
    numbered = re.fullmatch(r"([a-z]{2,}?)(\d+)", token) if token not in _PROVIDER_NAMES else None
    if numbered:  # PASSWORD2, dbPassword1: a numbered credential keeps its noun
        head = _split_joined(numbered.group(1))
        if head[-1] in _STRONG_NOUNS or head[-1] in _WEAK_NOUNS:
            return [*head, numbered.group(2)]
    for suffix in _JOINED_SUFFIXES:
        if token.endswith(suffix) and len(token) > len(suffix) + 1:
            head = token[: -len(suffix)]
            if suffix == "key" and head not in _KEY_MODIFIERS:
                continue
            if suffix == "pass" and head not in _PASS_PREFIXES:
                continue
            if suffix == "apikey":
                return [*_split_joined(head), "api", "key"]
            return [*_split_joined(head), suffix]
    return [token]


_PROVIDER_NAMES = {
    "aws": "AWS",
    "github": "GitHub",
    "gh": "GitHub",
    "gitlab": "GitLab",
    "slack": "Slack",
    "stripe": "Stripe",
    "datadog": "Datadog",
    "dd": "Datadog",
    "newrelic": "New Relic",
    "sendgrid": "SendGrid",
    "twilio": "Twilio",
    "google": "Google",
    "gcp": "Google Cloud",
    "azure": "Azure",
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "npm": "npm",
    "pypi": "PyPI",
    "heroku": "Heroku",
    "mailgun": "Mailgun",
    "shopify": "Shopify",
    "sentry": "Sentry",
    "vault": "Vault",
    "doppler": "Doppler",
    "linear": "Linear",
    "jira": "Jira",
    "atlassian": "Atlassian",
    "splunk": "Splunk",
    "honeycomb": "Honeycomb",
    "algolia": "Algolia",
    "cloudflare": "Cloudflare",
    "okta": "Okta",
    "auth0": "Auth0",
    "firebase": "Firebase",
    "paypal": "PayPal",
    "braintree": "Braintree",
    "segment": "Segment",
    "mixpanel": "Mixpanel",
    "pagerduty": "PagerDuty",
    "circleci": "CircleCI",
    "docker": "Docker",
    "dockerhub": "Docker Hub",
    "smtp": "SMTP",
    "db": "database",
    "database": "database",
    "postgres": "PostgreSQL",
    "pg": "PostgreSQL",
    "mysql": "MySQL",
    "mongo": "MongoDB",
    "mongodb": "MongoDB",
    "redis": "Redis",
    "rabbitmq": "RabbitMQ",
    "ldap": "LDAP",
    "jwt": "JWT",
    "django": "Django",
    "rails": "Rails",
    "oauth": "OAuth",
    "elastic": "Elasticsearch",
    "elasticsearch": "Elasticsearch",
    "kafka": "Kafka",
    "snowflake": "Snowflake",
}
_NOUN_LABELS = {
    "pw": "password",
    "senha": "password",
    "contrasena": "password",
    "motdepasse": "password",
    "kennwort": "password",
    "parola": "password",
    "wachtwoord": "password",
    "salasana": "password",
    "haslo": "password",
    "heslo": "password",
    "passord": "password",
    "adgangskode": "password",
    "losenord": "password",
    "jelszo": "password",
    "psk": "pre-shared key",
    "tkn": "token",
    "mnemonic": "wallet mnemonic",
    "pwd": "password",
    "passwd": "password",
    "pass": "password",
    "passwort": "password",
    "creds": "credentials",
    "secrets": "secret",
    "tokens": "token",
    "pat": "personal access token",
    "keys": "key",
    "licence": "license",
    "sig": "signature",
    "authorization": "authorization header",
    "auth": "credential",
}


# Keys a vendor documents as public (shipped to browsers or apps), recognised by the provider word and the
# words around the noun: (words that must all be in the name, head nouns). Never when the name also says
# secret/private/admin/write/personal/master/password: PUSHER_APP_SECRET, ALGOLIA_ADMIN_KEY still fire.
_VENDOR_PUBLIC: tuple[tuple[frozenset[str], frozenset[str]], ...] = (
    (frozenset({"algolia", "search"}), frozenset({"key", "keys"})),  # Algolia search-only API key
    (frozenset({"search", "only"}), frozenset({"key", "keys", "token"})),  # *_SEARCH_ONLY_KEY
    (frozenset({"pusher"}), frozenset({"key"})),  # Pusher app key (the secret is PUSHER_APP_SECRET)
    (frozenset({"shopify", "api"}), frozenset({"key"})),  # Shopify app API key = OAuth client id
    (frozenset({"mixpanel"}), frozenset({"token"})),  # Mixpanel project token (browser SDK)
)
_NOT_PUBLIC_WORDS = frozenset(
    "secret secrets private admin write personal master password passwd service server management".split()
)
# Vendor header names that carry a credential without a credential noun.
_CREDENTIAL_NAMES = {("honeycomb", "team"): "Honeycomb API key"}
# Wallet phrases: credentials only in their shape (12-24 words), so judged like weak nouns.
_PHRASE_NAMES = {
    ("seed", "phrase"): "wallet seed phrase",
    ("recovery", "phrase"): "wallet recovery phrase",
    ("seed", "words"): "wallet seed phrase",
    ("mnemonic", "words"): "wallet mnemonic",
    ("mnemonic", "phrase"): "wallet mnemonic",
}


def _name_kind(name: str) -> tuple[str, str] | None:
    """("strong"|"weak"|"public", kind label) when the name denotes a credential, else None."""
    tokens = _name_tokens(name)
    if not tokens:
        return None
    if tuple(tokens[-2:]) in _CREDENTIAL_NAMES:
        return ("strong", _CREDENTIAL_NAMES[tuple(tokens[-2:])])
    if tuple(tokens[-2:]) in _PHRASE_NAMES:
        return ("weak", _PHRASE_NAMES[tuple(tokens[-2:])])
    present = set(tokens)
    if not present & _NOT_PUBLIC_WORDS:
        for words, nouns in _VENDOR_PUBLIC:
            if words <= present and tokens[-1] in nouns:
                return ("public", _label(tokens, len(tokens) - 1))
    public_prefix = any(tuple(tokens[: len(p)]) == p for p in _PUBLIC_NAME_PREFIXES)
    for j in range(len(tokens) - 1, -1, -1):
        noun = tokens[j]
        if noun not in _STRONG_NOUNS and noun not in _WEAK_NOUNS:
            continue
        trailing = tokens[j + 1 :]
        if any(t in _QUALIFIERS for t in trailing):
            continue
        modifiers = tokens[:j]
        previous = modifiers[-1] if modifiers else ""
        label = _label(tokens, j)
        if noun in _STRONG_NOUNS:
            if any(
                t not in _NEUTRAL_SUFFIXES and not t.isdigit() and not re.fullmatch(r"v\d+", t) for t in trailing
            ) and noun in {"pass", "pw", "pat"}:
                continue  # PASS_THROUGH, PAT_COUNT...
            if (
                noun
                in {
                    "password",
                    "passwd",
                    "pwd",
                    "pw",
                    "pass",
                    "passphrase",
                    "passcode",
                    "passwort",
                    "senha",
                    "contrasena",
                    "motdepasse",
                    "kennwort",
                    "parola",
                    "wachtwoord",
                    "salasana",
                    "haslo",
                    "heslo",
                    "passord",
                    "adgangskode",
                    "losenord",
                    "jelszo",
                    "psk",
                    "secret",
                    "secrets",
                }
                or "private" in modifiers
            ):
                return ("strong", label)
            if public_prefix or previous in _PUBLIC_MODIFIERS:
                return ("public", label)
            return ("strong", label)
        # weak noun: must be the head (only neutral suffixes after it)
        if any(t not in _NEUTRAL_SUFFIXES and not t.isdigit() and not re.fullmatch(r"v\d+", t) for t in trailing):
            continue
        if previous in _PUBLIC_MODIFIERS or (
            public_prefix and "secret" not in modifiers and "private" not in modifiers
        ):
            return ("public", label)
        if noun in {"key", "keys"} and (
            previous in _KEY_MODIFIERS or any(m in {"secret", "private"} for m in modifiers)
        ):
            return ("strong", label)
        if noun == "auth" and previous in {"basic", "http", "proxy", "smtp", "api", "redis"}:
            return ("strong", label)
        if noun == "cookie" and previous == "erlang":
            return ("strong", "Erlang cookie")  # RabbitMQ/CouchDB cluster secret: 20 capital letters
        return ("weak", label)
    return None


def _label(tokens: list[str], j: int) -> str:
    noun = tokens[j]
    words = [_NOUN_LABELS.get(noun, noun)]
    previous = tokens[j - 1] if j else ""
    if noun in {"key", "keys", "token", "secret"} and previous and previous not in _PROVIDER_NAMES:
        if previous in _KEY_MODIFIERS or previous in {
            "access",
            "refresh",
            "bearer",
            "bot",
            "session",
            "oauth",
            "webhook",
        }:
            words.insert(0, "API" if previous == "api" else previous)
    provider = next((_PROVIDER_NAMES[t] for t in tokens[:j] if t in _PROVIDER_NAMES), None)
    if provider:
        words.insert(0, provider)
    text = " ".join(words)
    return text


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


def scan_value(value: str, name: str = "") -> list[SecretMatch]:
    """Every credential in one value, most specific first (de-duplicated by fingerprint)."""
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
    if not found and _FLAG_IN_VALUE.search(value):
        # a command line kept in a variable (REDIS_ARGS=--requirepass x, EXTRA_ARGS=--db-password x)
        add(match for _, match in _scan_tokens(_split_shell(value), depth=1))
    if found and name_kind is None and _PUBLIC_VALUE.match(value.strip()):
        return []
    return found


def _compose_default(value: str) -> str:
    """``${VAR:-default}`` / ``${VAR-default}`` as the whole value: Compose (and the shell) put the default there
    when VAR is unset, so the default is what a rendered task definition carries. Anything else is returned as is."""
    m = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-(?P<default>[^{}]*)\}", value.strip())
    return m.group("default") if m else value


def classify_variable(name: str, value: str) -> SecretMatch | None:
    """Judge one environment entry, log-driver option or label by its name and value together."""
    if value is None:
        return None
    matches = scan_value(_compose_default(str(value)), str(name or ""))
    return matches[0] if matches else None


# --------------------------------------------------------------------------------------------
# Command lines
# --------------------------------------------------------------------------------------------

_MYSQL_FAMILY = frozenset(
    "mysql mysqldump mysqladmin mysqlimport mysqlshow mysqlcheck mariadb mariadb-dump mysqlpump mysqlsh".split()
)
_MONGO_FAMILY = frozenset(
    "mongo mongosh mongodump mongorestore mongoexport mongoimport mongostat mongotop mongofiles".split()
)
_SEPARATE_PASSWORD_FLAGS = {
    "sshpass": {"-p"},
    "redis-cli": {"-a"},
    "keydb-cli": {"-a"},
    "valkey-cli": {"-a"},
    **{program: {"-p"} for program in _MONGO_FAMILY},  # mongo shell and tools: -p is --password
    "sqlcmd": {"-P"},  # SQL Server tools: -P is the password (-p is not a port there either)
    "bcp": {"-P"},
    "osql": {"-P"},
}
_USERPASS_FLAGS = {"-u", "--user", "--proxy-user", "-U"}
# user<separator>password in one argument: curl -u user:pw, lftp -u user,pw, smbclient -U user%pw
_USERPASS_SEPARATORS = {
    "curl": ":",
    "wget": ":",
    "http": ":",
    "https": ":",
    "lftp": ",",
    "smbclient": "%",
    "rpcclient": "%",
    "smbcacls": "%",
    "smbget": "%",
}
_USERPASS_PROGRAMS = frozenset(_USERPASS_SEPARATORS)
# Registry logins whose -p is the password (docker run -p is a port: only after the login subcommand).
_LOGIN_PROGRAMS = frozenset("docker podman buildah skopeo nerdctl finch".split())
_USER_FLAGS = frozenset({"-U", "-u", "--user", "--username"})
_STDIN_PASSWORD_FLAGS = frozenset({"--password-stdin", "--passwd-stdin", "--stdin"})
_HEADER_ARG = _Lazy(r"^(?P<key>[A-Za-z][A-Za-z0-9_-]*):\s*(?P<value>\S.*)$", re.S)


# Programs taking a password as a positional argument: (program, subcommand) -> its position after the subcommand.
_POSITIONAL_PASSWORDS = {("rabbitmqctl", "add_user"): 2, ("rabbitmqctl", "change_password"): 2}
# Programs whose -b (batch) flag takes the password as the last positional argument: htpasswd -b[c] file user pw.
_BATCH_PASSWORD_PROGRAMS = frozenset({"htpasswd", "mosquitto_passwd"})
_SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", ">", ">>", "<", "2>", "2>&1"})


def _positional_passwords(args: Sequence[str]) -> Iterator[tuple[int, SecretMatch]]:
    for j, arg in enumerate(args):
        program = _program(arg)
        if program != "rabbitmqctl" and program not in _BATCH_PASSWORD_PROGRAMS:
            continue
        tail: list[int] = []
        for k in range(j + 1, len(args)):
            if args[k] in _SHELL_OPERATORS:
                break
            tail.append(k)
        positional = [k for k in tail if not args[k].startswith("-")]
        index = None
        if program == "rabbitmqctl":
            for n, k in enumerate(positional):
                position = _POSITIONAL_PASSWORDS.get((program, args[k].lower()))
                if position is not None and n + position < len(positional):
                    index = positional[n + position]
                    break
        elif any(re.fullmatch(r"-[A-Za-z]*b[A-Za-z]*", args[k]) for k in tail) and len(positional) >= 2:
            index = positional[-1]
        if index is not None and not is_reference_or_placeholder(args[index]):
            yield index, _match("command-line-password", f"password passed to {program}", args[index])


_SUBSTITUTION = _Lazy(r"\$\((?:[^()]|\([^()]*\))*\)|`[^`]*`")


def _split_shell(text: str) -> list[str]:
    import shlex

    text = _SUBSTITUTION.sub("${SUBSTITUTION}", text)  # $(cat /run/secrets/x) is a reference, keep it one token
    try:
        return shlex.split(text, posix=True)
    except ValueError:
        return text.split()


def _program(token: str) -> str:
    return token.rsplit("/", 1)[-1].lower()


def _judge_flag(name: str, value: str) -> SecretMatch | None:
    name = name.lstrip("-")
    if name.startswith("D") and "." in name:
        name = name[1:]  # -Dspring.datasource.password=...
    low = name.lower()
    if low in {"pass", "passin", "passout", "password"} and re.match(r"^(?:env|file|fd|stdin)(?::|$)", value):
        return None  # openssl -pass env:VAR / file:path
    if low in {"pass", "passin", "passout"} and value.startswith("pass:"):
        value = value[5:]
    matches = scan_value(value, name)
    return matches[0] if matches else None


# Tools whose -P is not a password: port (mysql, scp, curl's FTP port), directory (wget), progress (rsync),
# --pset (psql), profiles (maven).
_NOT_PASSWORD_CAPITAL_P = frozenset("scp wget rsync ssh sftp psql mvn mvnw maven".split())


def _generic_capital_p_password(args: Sequence[str], programs: set[str], value: str) -> bool:
    """``tool -U <user> -P <value>``: the sqlcmd/bcp/isql convention. Not for the tools where ``-P`` is something
    else (mysql and curl: port; scp: port; wget: directory), and never a number or a path."""
    if programs & (_MYSQL_FAMILY | _USERPASS_PROGRAMS | _NOT_PASSWORD_CAPITAL_P):
        return False
    has_user = any(
        a in _USER_FLAGS and k + 1 < len(args) and args[k + 1] and not args[k + 1].startswith("-")
        for k, a in enumerate(args)
    )
    v = value.strip()
    if not has_user or _NUMBER.match(v) or _is_path(v) or is_reference_or_placeholder(v):
        return False
    if re.fullmatch(r"[a-z][a-z0-9,_.-]*", v) and not _looks_random(v, 12):
        return False  # an unknown tool's lowercase option value (a profile list, a mode), not a password
    return _plausible_secret(v, strong=True)


def _stdin_passwords(args: Sequence[str]) -> Iterator[tuple[int, SecretMatch]]:
    """``echo <pw> | docker login --password-stdin``, ``echo user:<pw> | chpasswd``: a literal piped into a program
    that reads its password from standard input."""
    for j, arg in enumerate(args):
        if _program(arg) not in {"echo", "printf"}:
            continue
        end = next((k for k in range(j + 1, len(args)) if args[k] in _SHELL_OPERATORS), len(args))
        if end >= len(args) or args[end] != "|":
            continue
        words = [k for k in range(j + 1, end) if not args[k].startswith("-") and "%" not in args[k]]
        if len(words) != 1:
            continue
        index = words[0]
        after = list(
            args[end + 1 : next((k for k in range(end + 1, len(args)) if args[k] in _SHELL_OPERATORS), len(args))]
        )
        reader = {_program(a) for a in after[:1]}
        secret = args[index]
        if reader & {"chpasswd", "chpass"}:
            if ":" not in secret:
                continue
            secret = secret.split(":", 1)[1]
        elif not (set(after) & _STDIN_PASSWORD_FLAGS and ("login" in after or reader & {"passwd"})):
            continue
        if secret and not is_reference_or_placeholder(secret):
            yield index, _match("command-line-password", "password piped to a program reading it from stdin", secret)


def _header_argument(args: Sequence[str], i: int) -> SecretMatch | None:
    """``-H 'X-Api-Key: …'``, ``--header "Private-Token: …"``: a header argument judged as name=value."""
    arg = args[i]
    after_flag = i > 0 and args[i - 1] in {"-H", "--header", "--headers"}
    if not (after_flag or ": " in arg):
        return None
    m = _HEADER_ARG.match(arg.strip())
    if not m or m.group("key").lower() in {"authorization", "proxy-authorization"}:
        return None  # Authorization headers have their own rule
    if not after_flag and re.search(r"\s", m.group("value").strip()):
        return None  # "Password: must be 12 characters": text, not a header
    return _named_match(m.group("key"), m.group("value").strip(), rule="embedded-assignment")


def _scan_tokens(args: Sequence[str], depth: int = 0) -> Iterator[tuple[int, SecretMatch]]:
    programs = {_program(a) for a in args if a and not a.startswith("-")}
    consumed: set[int] = set()
    if programs & ({"rabbitmqctl"} | _BATCH_PASSWORD_PROGRAMS):
        for index, match in _positional_passwords(args):
            consumed.add(index)
            yield index, match
    if "|" in args and programs & {"echo", "printf"}:
        for index, match in _stdin_passwords(args):
            consumed.add(index)
            yield index, match
    for i, arg in enumerate(args):
        if i in consumed or not arg:
            continue
        if depth < 2 and re.search(r"\s", arg.strip()):
            whole = list(_provider_matches(arg)) + list(_url_matches(arg)) + list(_auth_header_matches(arg))
            header = _header_argument(args, i)
            if header:
                whole.append(header)
            for match in whole:
                yield i, match
            for _, match in _scan_tokens(_split_shell(arg), depth + 1):
                yield i, match
            continue
        matched = False
        if arg.startswith("-p") and len(arg) > 2 and not arg.startswith("--") and programs & _MYSQL_FAMILY:
            secret = arg[2:]  # before the --flag=value branch: -pAb=cd is a password containing "="
            if not is_reference_or_placeholder(secret):
                yield i, _match("command-line-password", "password in a mysql -p argument", secret)
                matched = True
        elif (
            i > 0
            and args[i - 1].lower() == "set"
            and i + 1 < len(args)
            and not arg.startswith("-")
            and (nk := _name_kind(arg))
            and nk[0] != "public"
        ):
            # aws configure set aws_secret_access_key X, npm config set //r/:_authToken X, CONFIG SET requirepass X
            found = _judge_flag(arg, args[i + 1])
            if found:
                yield i + 1, found
                consumed.add(i + 1)
                matched = True
        elif arg.startswith("-") and "=" in arg:
            flag, _, value = arg.partition("=")
            found = _judge_flag(flag, value)
            if found:
                yield i, found
                matched = True
        elif arg.startswith("-") and len(arg) > 1:
            flag = arg
            nxt = args[i + 1] if i + 1 < len(args) else None
            if nxt is not None and not nxt.startswith("-"):
                found = None
                if any(flag in flags for prog, flags in _SEPARATE_PASSWORD_FLAGS.items() if prog in programs):
                    if not is_reference_or_placeholder(nxt):
                        found = _match("command-line-password", f"password passed with {flag}", nxt)
                elif (
                    flag in _USERPASS_FLAGS
                    and (
                        separator := next((_USERPASS_SEPARATORS[p] for p in programs if p in _USERPASS_SEPARATORS), "")
                    )
                    and separator in nxt
                ):
                    password = nxt.split(separator, 1)[1]
                    if password and not is_reference_or_placeholder(password):
                        found = _match("command-line-password", f"password passed with {flag} user:password", password)
                elif flag in {"-p", "--pass"} and any(
                    args[k] == "login" and _program(args[k - 1]) in _LOGIN_PROGRAMS for k in range(1, i)
                ):
                    if not is_reference_or_placeholder(nxt):
                        found = _match("command-line-password", "password passed to a registry login", nxt)
                elif flag == "-P" and _generic_capital_p_password(args, programs, nxt):
                    found = _match("command-line-password", "password passed with -P next to -U <user>", nxt)
                elif len(flag.lstrip("-")) > 1 or flag == "-P":
                    nk = _name_kind(flag.lstrip("-"))
                    if nk and nk[0] != "public":
                        found = _judge_flag(flag, nxt)
                if found:
                    yield i + 1, found
                    consumed.add(i + 1)
                    matched = True
        elif re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", arg):
            name, _, value = arg.partition("=")
            found = classify_variable(name, value)
            if found:
                yield i, found
                matched = True
        if not matched and ":" in arg and (header := _header_argument(args, i)):
            yield i, header
            matched = True
        if not matched:
            for match in scan_value(arg):
                yield i, match


def scan_arguments(args: Sequence[str]) -> list[tuple[int, SecretMatch]]:
    """Credentials in a ``command``/``entryPoint`` array: (index of the argument holding it, match).

    Understands ``--password=x``, ``--password x``, ``-Dx.password=y``, ``NAME=value`` assignments,
    ``mysql -psecret``, ``sshpass -p``, ``redis-cli -a``, ``curl -u user:pass``, ``mongo -p``, ``sqlcmd -P``,
    ``-U user -P pw``, ``docker login -p``, ``echo pw | … --password-stdin``, header arguments, shell strings
    (``sh -c '...'``, split and scanned recursively), URLs with credentials and provider tokens.
    """
    results: list[tuple[int, SecretMatch]] = []
    seen: set[tuple[int, str]] = set()
    clean = ["" if a is None else a if isinstance(a, str) else str(a) for a in args]
    for index, match in _scan_tokens(clean):
        key = (index, match.fingerprint)
        if key not in seen:
            seen.add(key)
            results.append((index, match))
    return results
