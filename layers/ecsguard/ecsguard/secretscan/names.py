"""What a name says: the vocabularies (credential nouns, modifiers, qualifiers, provider words, labels) and the
grammar over them. ``_name_kind`` tells whether a variable, option, flag or key name denotes a credential
(``"strong"``, ``"weak"``) or a key that is public by design (``"public"``), and how to label it."""

from __future__ import annotations

import re

from .core import _Lazy

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
