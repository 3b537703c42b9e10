"""Values that are not credentials by their shape alone: references (ARNs, SSM paths, ``valueFrom``-style URIs),
encrypted values, templates, placeholders and requests for a value, configuration words, and values that are
public by design (publishable keys, analytics ids, public keys and certificates)."""

from __future__ import annotations

import re

from .core import _classes, _Lazy, _looks_random

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
