"""Generate the third red-team set, ``tests/data/secrets_styles.jsonl`` ("styles").

Written before reading ``ecsguard/secretscan.py`` or ``docs/secrets.md``. Where the first two rounds
mostly used SCREAMING_SNAKE names and plain values, this set samples *styles*:

* naming: camelCase, lowercase, dotted Spring/Java keys, .NET ``Section__Key``, kebab and
  CamelCase log-driver option keys, prefixes/suffixes, abbreviations, non-English password nouns,
  and names that merely contain a credential word (``KEYBOARD_LAYOUT``, ``PASSENGER_APP_ENV``);
* value encodings: Basic auth in base64, base64-encoded service-account JSON, raw base64/hex keys,
  quoted values, surrounding whitespace, PEM keys with ``\\n`` escapes, URL-encoded passwords,
  IPv6 hosts, unencoded ``@:#`` in URL passwords, JDBC/ODBC/ADO.NET, multi-host MongoDB, Redis
  Sentinel, Kafka JAAS, ``.npmrc``/``.pypirc``, Docker ``auths`` JSON, git credential URLs, netrc;
* arguments: password flags of real tools labelled by the tool's real meaning (``psql -p`` is a
  port, ``mysql -p`` a password, ``sqlcmd -P`` a password, ``redis-cli -p`` a port), shell forms;
* hard negatives in the same styles: placeholders, references, public keys and certificates, ids,
  hashes, feature flags.

Every secret value is SYNTHETIC: drawn from a seeded generator in the right shape. Nothing is
copied from a real credential. Each row: ``name, value, secret, family, where, why``; for
``where == "argument"`` the value is the whole argument list and the name is ``command``,
``entryPoint`` or ``healthCheck``.

    python benchmarks/secretsets/styles.py          # rewrite the jsonl
    python benchmarks/secretsets/styles.py --check  # exit 1 if the file is stale
"""

from __future__ import annotations

import base64
import json
import random
import string
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "data" / "secrets_styles.jsonl"
SEED = 20250307

ALNUM = string.ascii_letters + string.digits
LOWER_NUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
WORDS = [
    "tulip",
    "ramp",
    "copper",
    "violet",
    "harbor",
    "magnet",
    "orbit",
    "walnut",
    "falcon",
    "quartz",
    "meadow",
    "ember",
    "lantern",
    "pepper",
    "glacier",
    "saffron",
    "timber",
    "cobalt",
    "willow",
    "zephyr",
]

rng = random.Random(SEED)
ROWS: list[dict] = []


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def password() -> str:
    """A synthetic password: random or human-style (Word#1234Word), always high enough entropy."""
    kind = rng.randrange(4)
    if kind == 0:
        return rand(rng.randint(14, 22), ALNUM + "!#%^*-_")
    if kind == 1:
        return rand(rng.randint(16, 24))
    if kind == 2:
        return f"{rng.choice(WORDS).title()}{rng.choice('#!%*')}{rng.randint(1000, 9999)}{rng.choice(WORDS).title()}"
    return f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.randint(10, 99)}"


def url_password() -> str:
    """A password with characters that need encoding in a URL."""
    return f"{rand(6)}@{rand(4)}:{rand(5)}#{rng.randint(10, 99)}"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def b64key(n: int = 32) -> str:
    return b64(rng.randbytes(n))


def hexkey(n: int = 32) -> str:
    return rng.randbytes(n).hex()


def pem_body(nbytes: int) -> str:
    body = b64(rng.randbytes(nbytes))
    return "\n".join(body[i : i + 64] for i in range(0, len(body), 64))


def pem(label: str, nbytes: int = 600) -> str:
    return f"-----BEGIN {label}-----\n{pem_body(nbytes)}\n-----END {label}-----\n"


def ghp() -> str:
    return "ghp_" + rand(36)


def npm_token() -> str:
    return "npm_" + rand(36)


def row(name: str, value, secret: bool, family: str, why: str, where: str = "environment") -> None:
    ROWS.append({"name": name, "value": value, "secret": secret, "family": family, "where": where, "why": why})


def S(name, value, family, why, where="environment"):
    row(name, value, True, family, why, where)


def N(name, value, family, why, where="environment"):
    row(name, value, False, family, why, where)


# ---------------------------------------------------------------- naming styles: secrets
def naming_secrets() -> None:
    for name in [
        "dbPassword",
        "apiKey",
        "clientSecret",
        "authToken",
        "accessToken",
        "privateKey",
        "secretKey",
        "masterPassword",
        "adminPwd",
        "smtpPass",
        "jwtSecret",
        "encryptionKey",
        "webhookSecret",
        "refreshToken",
        "sessionSecret",
        "redisPassword",
        "awsSecretAccessKey",
        "mongoPass",
    ]:
        value = password() if "P" in name[1:] or "Pass" in name else rand(rng.randint(28, 44))
        S(name, value, "camel_name", "camelCase credential name with a literal high-entropy value")
    for name in [
        "password",
        "secret_key",
        "api_key",
        "db_password",
        "token",
        "auth_token",
        "client_secret",
        "passphrase",
        "secret",
        "admin_pass",
    ]:
        S(name, password() if "pass" in name else rand(32), "lower_name", "lowercase credential name, literal value")
    for name in [
        "spring.datasource.password",
        "spring.mail.password",
        "jwt.secret",
        "spring.redis.password",
        "spring.rabbitmq.password",
        "app.security.jwt.secret",
        "spring.security.oauth2.client.registration.google.client-secret",
        "quarkus.datasource.password",
        "hibernate.connection.password",
        "javax.net.ssl.keyStorePassword",
        "server.ssl.key-store-password",
        "mail.smtp.password",
        "spring.data.mongodb.password",
        "app.api-key",
    ]:
        value = rand(40) if name.endswith(("secret", "api-key")) else password()
        S(name, value, "dotted_name", "Spring/Java dotted property holding a literal credential")
    for name in [
        "Jwt__Key",
        "Smtp__Password",
        "Authentication__Google__ClientSecret",
        "AzureAd__ClientSecret",
        "Redis__Password",
        "Database__Password",
        "ApiSettings__ApiKey",
        "Stripe__SecretKey",
        "Identity__SigningKey",
        "RabbitMq__Password",
    ]:
        value = "sk_live_" + rand(24) if "Stripe" in name else (password() if "Password" in name else rand(40))
        S(name, value, "dotnet_name", ".NET Section__Key configuration holding a literal credential")
    for name in [
        "APP_DB_PASSWORD",
        "DB_PASSWORD_PROD",
        "API_KEY_V2",
        "SECRET_KEY_1",
        "MYAPP_SECRET",
        "STRIPE_KEY_LIVE",
        "PASSWORD2",
        "ADMIN_PASSWORD_STAGING",
        "X_API_TOKEN",
        "TOKEN_OLD",
    ]:
        S(
            name,
            password() if "PASS" in name else rand(36),
            "affix_name",
            "credential word with a prefix/suffix, literal value",
        )
    for name in [
        "DB_PWD",
        "PASSWD",
        "MYSQL_PW",
        "VPN_PSK",
        "GH_TKN",
        "SECRETKEY",
        "APIKEY",
        "ACCESSKEY",
        "SMTP_PASS",
        "LDAP_BIND_PW",
        "PW",
        "IPSEC_PSK",
        "ADMIN_PWD",
        "AUTHKEY",
    ]:
        S(
            name,
            password() if "P" in name and "KEY" not in name else rand(32),
            "abbrev_name",
            "abbreviated credential name (PWD/PW/PSK/TKN/...KEY) with a literal value",
        )
    for name in [
        "CONTRASENA",
        "DB_CONTRASENA",
        "MOT_DE_PASSE",
        "MOTDEPASSE",
        "PASSWORT",
        "DB_PASSWORT",
        "SENHA",
        "SENHA_BANCO",
        "PAROLA",
        "DB_PAROLA",
        "KENNWORT",
        "WACHTWOORD",
        "SALASANA",
        "HASLO",
    ]:
        S(name, password(), "foreign_name", "password in es/fr/de/pt/it/nl/fi/pl, literal value")
    S("KEYCLOAK_CLIENT_SECRET", rand(32), "contains_word_secret", "client secret of a Keycloak client")
    S("KEYCLOAK_ADMIN_PASSWORD", password(), "contains_word_secret", "Keycloak admin password")
    S("PASSENGER_DB_PASSWORD", password(), "contains_word_secret", "app named passenger: still a password")


# ---------------------------------------------------------------- naming styles: negatives
def naming_negatives() -> None:
    for name, value in [
        ("PASSWORD_POLICY", "min_length=12,require_upper=true"),
        ("KEYBOARD_LAYOUT", "us"),
        ("TOKENIZER_MODEL", "bert-base-uncased"),
        ("SECRETARY_EMAIL", "office@example.com"),
        ("PASSENGER_APP_ENV", "production"),
        ("PASSTHROUGH", "true"),
        ("KEYCLOAK_URL", "https://sso.example.com/auth"),
        ("AUTHOR_NAME", "Jane Doe"),
        ("MONKEY_PATCH", "gevent"),
        ("TURKEY_REGION", "eu-south-1"),
        ("BYPASS_CACHE", "1"),
        ("COMPASS_URL", "https://compass.example.com"),
        ("DONKEY", "eeyore"),
        ("KEYSPACE", "orders"),
        ("CACHE_KEY_PREFIX", "orders:v2:"),
        ("PARTITION_KEY", "tenant_id"),
        ("PRIMARY_KEY_COLUMN", "id"),
        ("HOTKEY", "ctrl+shift+k"),
        ("KEYCLOAK_REALM", "master"),
        ("PASSPORT_STRATEGY", "jwt"),
        ("TOKEN_BUCKET_SIZE", "100"),
        ("PASSWORD_RESET_TIMEOUT", "3600"),
        ("SECRETS_MANAGER_ENDPOINT", "https://secretsmanager.eu-west-1.amazonaws.com"),
        ("TOKENIZERS_PARALLELISM", "false"),
        ("KEYCLOAK_CLIENT_ID", "orders-api"),
        ("AUTHORITY", "https://login.microsoftonline.com/common/v2.0"),
        ("PASSWORD_HASHER", "argon2id"),
        ("SORT_KEY", "created_at"),
        ("TURNKEY_MODE", "on"),
        ("JOCKEY_POOL", "default"),
    ]:
        N(name, value, "contains_word", "name merely contains a credential word; value is configuration")
    N("PWD", "/usr/src/app", "abbrev_negative", "PWD is the shell working directory here, a path")
    N("OLDPWD", "/", "abbrev_negative", "OLDPWD is the previous shell directory")
    for name, value in [
        ("dbPassword", "${DB_PASSWORD}"),
        ("apiKey", "<your-api-key>"),
        ("clientSecret", "REPLACE_ME"),
        ("authToken", ""),
        ("jwtSecret", "{{resolve:secretsmanager:prod/app:SecretString:jwt}}"),
        ("dbPasswordFile", "/run/secrets/db_password"),
        ("apiKeyHeader", "X-Api-Key"),
        ("passwordMinLength", "12"),
        ("tokenTtlSeconds", "3600"),
        ("clientId", str(uuid.UUID(int=rng.getrandbits(128)))),
        ("secretArn", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app/db-AbCdEf"),
        ("passwordAuthEnabled", "false"),
        ("tokenEndpoint", "https://auth.example.com/oauth2/token"),
        ("secretName", "prod/app/db"),
        ("keyId", "kid-2024-05"),
    ]:
        N(name, value, "camel_negative", "camelCase credential-ish name with a placeholder/reference/non-secret value")
    for name, value in [
        ("spring.datasource.password", "${DB_PASSWORD}"),
        ("jwt.secret", "${JWT_SECRET:}"),
        ("spring.datasource.username", "orders"),
        ("spring.datasource.url", "jdbc:postgresql://db.internal:5432/orders"),
        ("jwt.expiration", "86400"),
        ("jwt.issuer", "https://auth.example.com"),
        ("spring.mail.host", "smtp.example.com"),
        ("spring.security.oauth2.client.registration.google.client-id", "1234567890-abc.apps.googleusercontent.com"),
        ("server.ssl.key-store", "classpath:keystore.p12"),
        ("server.ssl.key-alias", "tomcat"),
        ("spring.datasource.password", ""),
        ("management.endpoints.web.exposure.include", "health,info"),
        ("spring.mail.password", "${SMTP_PASSWORD}"),
        ("app.api-key.header", "X-Api-Key"),
        ("spring.cloud.aws.secretsmanager.enabled", "true"),
    ]:
        N(name, value, "dotted_negative", "dotted property that is a reference, empty, or not a credential")
    for name, value in [
        ("Jwt__Issuer", "https://auth.example.com"),
        ("Jwt__Audience", "orders-api"),
        ("Smtp__Username", "mailer"),
        ("Smtp__Host", "smtp.example.com"),
        ("Smtp__Port", "587"),
        ("Jwt__Key", "#{JwtKey}#"),
        (
            "ConnectionStrings__Default",
            "Server=db.internal;Database=orders;Integrated Security=true;TrustServerCertificate=True",
        ),
        (
            "ConnectionStrings__Sql",
            "Server=tcp:orders.database.windows.net,1433;Database=orders;Authentication=Active Directory Managed Identity;",
        ),
        ("ConnectionStrings__Redis", "cache.internal:6379,ssl=True,abortConnect=False"),
        ("AzureAd__ClientId", str(uuid.UUID(int=rng.getrandbits(128)))),
        ("AzureAd__TenantId", str(uuid.UUID(int=rng.getrandbits(128)))),
        ("Logging__LogLevel__Default", "Information"),
    ]:
        N(name, value, "dotnet_negative", ".NET key that is not a credential or has no password in it")
    for name, value in [
        ("SENHA", "${SENHA_BANCO}"),
        ("CONTRASENA", "<contrasena>"),
        ("PASSWORT", ""),
        ("MOT_DE_PASSE", "${MDP}"),
    ]:
        N(name, value, "foreign_negative", "non-English password name with a placeholder/reference")
    for name, value in [
        ("ENABLE_PASSWORD_LOGIN", "true"),
        ("USE_TOKEN_AUTH", "1"),
        ("SECRET_SCANNING", "enabled"),
        ("apiKeyRequired", "true"),
        ("DISABLE_AUTH", "false"),
        ("KEYCLOAK_ENABLED", "true"),
        ("PASSWORD_ROTATION_DAYS", "90"),
        ("AUTH_TYPE", "oauth2"),
        ("JWT_ALGORITHM", "RS256"),
        ("TOKEN_EXPIRY", "15m"),
    ]:
        N(name, value, "flag", "feature flag / setting named after a credential")
    for name, value in [
        ("GIT_SHA", hexkey(20)),
        ("BUILD_COMMIT", hexkey(20)),
        ("IMAGE_DIGEST", "sha256:" + hexkey(32)),
        ("CHECKSUM_SHA256", hexkey(32)),
        ("ASSET_HASH", hexkey(8)),
        ("TRACE_ID", hexkey(16)),
        ("RELEASE_ID", str(uuid.UUID(int=rng.getrandbits(128)))),
        ("DEPLOYMENT_ID", "d-" + rand(9, string.ascii_uppercase + string.digits)),
    ]:
        N(name, value, "hash_id", "commit/digest/id: random-looking but not a credential")
    for name, value in [
        ("DB_PASSWORD", "********"),
        ("apiKey", "REDACTED"),
        ("SMTP_PASSWORD", "   "),
        ("clientSecret", "'${CLIENT_SECRET}'"),
        ("JWT_SECRET", '"<jwt-secret>"'),
        ("API_TOKEN", "\n"),
    ]:
        N(name, value, "masked_placeholder", "masked, blank, or quoted placeholder")


# ---------------------------------------------------------------- log-driver options
def options() -> None:
    for name, value, why in [
        ("splunk-token", str(uuid.UUID(int=rng.getrandbits(128))), "Splunk HEC token (UUID format)"),
        ("Passwd", password(), "fluent-bit es/http output password"),
        ("HTTP_Passwd", password(), "fluent-bit http/es output password"),
        ("http_passwd", password(), "lowercase fluent-bit password option"),
        ("apikey", hexkey(16), "Datadog API key via firelens"),
        ("api_key", hexkey(16), "API key option"),
        ("license_key", rand(36, HEX) + "NRAL", "New Relic license key"),
        ("Cloud_Auth", f"elastic:{password()}", "fluent-bit Elastic Cloud user:password"),
        (
            "loki-url",
            f"https://{rng.randint(100000, 999999)}:glc_{rand(60)}@logs-prod-eu-west-0.grafana.net/loki/api/v1/push",
            "Loki push URL with user:token in it",
        ),
        ("Header", f"Authorization Bearer {rand(40)}", "fluent-bit http output header with bearer token"),
        ("Logzio_Token", rand(32, string.ascii_letters), "logz.io shipping token"),
        ("tls.key_passwd", password(), "TLS private key passphrase"),
        (
            "splunk-token",
            " " + str(uuid.UUID(int=rng.getrandbits(128))) + "\n",
            "Splunk token with surrounding whitespace",
        ),
        ("dd_api_key", hexkey(16), "Datadog API key"),
        ("Password", password(), "CamelCase option password"),
        ("http-passwd", password(), "kebab option password"),
        ("sasl.password", password(), "Kafka output SASL password"),
        ("rdkafka.sasl.password", password(), "fluent-bit kafka rdkafka SASL password"),
    ]:
        S(name, value, "option_key", why, "option")
    for name, value, why in [
        ("splunk-url", "https://http-inputs-example.splunkcloud.com:443", "endpoint"),
        ("splunk-index", "main", "index name"),
        ("splunk-insecureskipverify", "false", "flag"),
        ("HTTP_User", "elastic", "user name, not a secret"),
        ("Host", "search-logs.eu-west-1.es.amazonaws.com", "host"),
        ("Port", "443", "port"),
        ("tls", "On", "flag"),
        ("Name", "es", "output plugin name"),
        ("Logstash_Prefix", "orders", "prefix"),
        ("awslogs-group", "/ecs/orders", "log group"),
        ("awslogs-stream-prefix", "ecs", "prefix"),
        ("provider", "ecs", "datadog provider"),
        ("dd_service", "orders", "service"),
        ("dd_tags", "env:prod,team:payments", "tags"),
        ("Retry_Limit", "2", "setting"),
        ("Header", "X-Source ecs", "non-secret header"),
        ("mode", "non-blocking", "docker mode"),
        ("max-buffer-size", "25m", "size"),
        ("splunk-sourcetype", "_json", "sourcetype"),
        (
            "Cloud_ID",
            "orders:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmMkZGVm",
            "Elastic Cloud ID is base64 of host names, not a credential",
        ),
        ("loki-url", "https://loki.internal:3100/loki/api/v1/push", "URL without credentials"),
        ("tls.verify", "off", "flag"),
        ("aws_auth", "On", "flag: sign with task role"),
        ("Passwd", "${ES_PASSWORD}", "reference"),
    ]:
        N(name, value, "option_negative", why, "option")


# ---------------------------------------------------------------- value encodings
def sa_json(private: bool = True) -> str:
    if private:
        doc = {
            "type": "service_account",
            "project_id": f"demo-{rand(6, LOWER_NUM)}",
            "private_key_id": hexkey(20),
            "private_key": pem("PRIVATE KEY", 900),
            "client_email": f"runner@demo-{rand(4, LOWER_NUM)}.iam.gserviceaccount.com",
            "client_id": str(rng.randint(10**20, 10**21)),
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    else:
        doc = {
            "type": "external_account",
            "audience": "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/aws/providers/aws",
            "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
            "token_url": "https://sts.googleapis.com/v1/token",
            "credential_source": {
                "environment_id": "aws1",
                "region_url": "http://169.254.169.254/latest/meta-data/placement/availability-zone",
            },
        }
    return json.dumps(doc)


def encodings() -> None:
    for name in ["AUTH_HEADER", "REGISTRY_AUTH", "UPSTREAM_AUTHORIZATION", "basicAuth"]:
        creds = f"{rng.choice(['svc', 'deploy', 'bot'])}:{password()}"
        S(name, "Basic " + b64(creds.encode()), "basic_b64", "HTTP Basic header: base64 of user:password")
    S("GCP_SA_KEY_B64", b64(sa_json().encode()), "sa_b64", "base64 of a service-account JSON with a private key")
    S("GOOGLE_CREDENTIALS", b64(sa_json().encode()), "sa_b64", "base64 service-account JSON under a generic name")
    S("FIREBASE_SERVICE_ACCOUNT", sa_json(), "sa_json", "raw service-account JSON with a private key")
    N(
        "GOOGLE_APPLICATION_CREDENTIALS_JSON",
        sa_json(private=False),
        "sa_negative",
        "workload identity federation config: no key material",
    )
    N("GCP_WIF_CONFIG_B64", b64(sa_json(private=False).encode()), "sa_negative", "base64 WIF config: no key material")
    for name in ["ENCRYPTION_KEY", "MASTER_KEY", "NEXTAUTH_SECRET", "cookieSecret", "SESSION_KEY"]:
        S(name, b64key(32), "b64_key", "base64 of 32 random bytes under a key/secret name")
    S("APP_KEY", "base64:" + b64key(32), "b64_key", "Laravel APP_KEY")
    S("FERNET_KEY", base64.urlsafe_b64encode(rng.randbytes(32)).decode(), "b64_key", "Fernet key (urlsafe base64)")
    for name in ["SECRET_KEY_BASE", "AES_KEY", "hmacKey", "webhookSigningSecret", "RAILS_MASTER_KEY"]:
        S(
            name,
            hexkey(64 if name == "SECRET_KEY_BASE" else 32 if name != "RAILS_MASTER_KEY" else 16),
            "hex_key",
            "hex key material under a key/secret name",
        )
    for name, value in [
        ("DB_PASSWORD", f"'{password()}'"),
        ("API_KEY", f'"{rand(32)}"'),
        ("dbPassword", f'"{password()}"'),
        ("spring.datasource.password", f"'{password()}'"),
    ]:
        S(name, value, "quoted", "credential wrapped in quotes")
    for name, value in [
        ("DB_PASSWORD", password() + "\n"),
        ("API_TOKEN", "  " + rand(40) + "  "),
        ("SMTP_PASSWORD", "\t" + password()),
        ("clientSecret", rand(34) + "\r\n"),
    ]:
        S(name, value, "whitespace", "credential with surrounding whitespace / trailing newline")
    for name, label in [
        ("PRIVATE_KEY", "RSA PRIVATE KEY"),
        ("JWT_PRIVATE_KEY", "PRIVATE KEY"),
        ("TLS_KEY", "EC PRIVATE KEY"),
        ("GITHUB_APP_PEM", "RSA PRIVATE KEY"),
        ("sshKey", "OPENSSH PRIVATE KEY"),
    ]:
        S(name, pem(label).replace("\n", "\\n"), "pem_escaped", "PEM private key with literal \\n escapes")
    S("SIGNING_MATERIAL", pem("PRIVATE KEY"), "pem_real", "PEM private key with real newlines under a neutral name")
    S(
        "CONFIG_KEY",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\\n"
        + pem_body(700).replace("\n", "\\n")
        + "\\n-----END ENCRYPTED PRIVATE KEY-----",
        "pem_escaped",
        "encrypted private key is still key material",
    )
    for name, label in [
        ("JWT_PUBLIC_KEY", "PUBLIC KEY"),
        ("TLS_CERT", "CERTIFICATE"),
        ("CA_BUNDLE", "CERTIFICATE"),
        ("RSA_PUB", "RSA PUBLIC KEY"),
    ]:
        N(name, pem(label).replace("\n", "\\n"), "pem_negative", "public key / certificate, not secret")
    N("CA_BUNDLE_B64", b64(pem("CERTIFICATE").encode()), "pem_negative", "base64 of a certificate, public")
    N(
        "SSH_PUBLIC_KEY",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rand(43) + " deploy@ci",
        "pem_negative",
        "ssh public key",
    )
    N("STRIPE_PUBLISHABLE_KEY", "pk_live_" + rand(24), "public_key", "publishable key is public by design")
    N("RECAPTCHA_SITE_KEY", "6Le" + rand(37, ALNUM + "-_"), "public_key", "reCAPTCHA site key is public")
    # URLs
    for scheme, port, db in [("postgresql", 5432, "orders"), ("mysql", 3306, "app"), ("postgres", 5432, "billing")]:
        pw = url_password()
        S(
            "DATABASE_URL",
            f"{scheme}://app:{quote(pw, safe='')}@db.internal:{port}/{db}",
            "url_encoded",
            "URL-encoded password in a connection URL",
        )
    S(
        "DATABASE_URL",
        f"postgres://app:{rand(8)}%40{rand(6)}%23@db.internal/app",
        "url_encoded",
        "percent-encoded password",
    )
    S(
        "DB_URI",
        f"postgresql://orders:{rand(18)}@[2001:db8::15]:5432/orders",
        "ipv6_url",
        "IPv6 host, password in userinfo",
    )
    S("REDIS_URL", f"redis://:{rand(24)}@[fd00:ec2::23]:6379/0", "ipv6_url", "IPv6 host, Redis password")
    S("AMQP_URL", f"amqp://svc:{rand(20)}@[2001:db8:0:1::5]:5672/prod", "ipv6_url", "IPv6 host with credentials")
    N("DB_URI", "postgresql://orders@[2001:db8::15]:5432/orders", "url_negative", "IPv6 URL with user only")
    N("METRICS_URL", "http://[::1]:9090/metrics", "url_negative", "IPv6 loopback, no credentials")
    N("SERVICE_URL", "http://[fe80::1%25eth0]:8080/", "url_negative", "IPv6 zone id, no credentials")
    S(
        "MYSQL_URL",
        f"mysql://root:{rand(5)}@{rand(4)}#{rand(3)}@db.internal:3306/app",
        "url_special",
        "unencoded @ and # inside the password",
    )
    S(
        "DATABASE_URL",
        f"postgres://app:{rand(6)}:{rand(7)}@db:5432/app",
        "url_special",
        "unencoded : inside the password",
    )
    S("CACHE_URL", f"rediss://default:{rand(10)}#{rand(8)}@cache.internal:6380", "url_special", "# in Redis password")
    N("DATABASE_URL", "postgres://app:${DB_PASSWORD}@db:5432/app", "url_negative", "password is a reference")
    N("DATABASE_URL", "postgres://db.internal:5432/app?sslmode=require", "url_negative", "no credentials")
    N("HOMEPAGE", "https://example.com/users/@alice#profile", "url_negative", "@ in path, not userinfo")
    # JDBC / ODBC / ADO.NET
    S(
        "JDBC_URL",
        f"jdbc:postgresql://db.internal:5432/orders?user=orders&password={rand(18)}",
        "jdbc",
        "password query parameter",
    )
    S(
        "spring.datasource.url",
        f"jdbc:mysql://db.internal:3306/app?user=app&password={password()}&useSSL=true",
        "jdbc",
        "password in a JDBC URL under a dotted name",
    )
    S(
        "DB_URL",
        f"jdbc:sqlserver://sql.internal:1433;databaseName=orders;user=sa;password={password()};encrypt=true",
        "jdbc",
        "SQL Server JDBC with password property",
    )
    S(
        "ORACLE_URL",
        f"jdbc:oracle:thin:scott/{rand(14)}@db.internal:1521/ORCL",
        "jdbc",
        "Oracle thin user/password@host",
    )
    N("JDBC_URL", "jdbc:postgresql://db.internal:5432/orders?sslmode=require", "jdbc_negative", "no password")
    N(
        "DB_URL",
        "jdbc:sqlserver://sql.internal:1433;databaseName=orders;authentication=ActiveDirectoryMSI",
        "jdbc_negative",
        "managed identity, no password",
    )
    N("JDBC_URL", "jdbc:mysql://db:3306/app?user=app&password=${DB_PASSWORD}", "jdbc_negative", "reference")
    S(
        "ODBC_CONNECTION",
        f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:sql.internal,1433;Uid=sa;Pwd={password()};Encrypt=yes;",
        "odbc",
        "ODBC Pwd=",
    )
    S(
        "DSN",
        f"DRIVER={{PostgreSQL Unicode}};SERVER=db;DATABASE=app;UID=app;PWD={{{rand(16)}}};",
        "odbc",
        "ODBC braced PWD",
    )
    S(
        "ConnectionStrings__Default",
        f"Server=sql.internal;Database=orders;User Id=sa;Password={password()};TrustServerCertificate=True",
        "adonet",
        "ADO.NET Password=",
    )
    S(
        "ConnectionStrings__Orders",
        f"Host=db;Port=5432;Database=orders;Username=app;Password={rand(20)}",
        "adonet",
        "Npgsql Password=",
    )
    S(
        "SqlConnection",
        f"Data Source=sql.internal;Initial Catalog=app;User ID=app;PWD={password()}",
        "adonet",
        "ADO.NET PWD=",
    )
    S(
        "ConnectionStrings__Redis",
        f"cache.internal:6379,password={rand(24)},ssl=True,abortConnect=False",
        "adonet",
        "StackExchange.Redis configuration string with password",
    )
    S(
        "AZURE_STORAGE_CONNECTION_STRING",
        f"DefaultEndpointsProtocol=https;AccountName=orders{rand(4, LOWER_NUM)};AccountKey={b64key(64)};EndpointSuffix=core.windows.net",
        "adonet",
        "Azure storage AccountKey",
    )
    S(
        "ServiceBus__ConnectionString",
        f"Endpoint=sb://orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={b64key(32)}",
        "adonet",
        "Azure Service Bus SharedAccessKey",
    )
    N("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true", "adonet_negative", "emulator shortcut, no key")
    N(
        "ConnectionStrings__Cosmos",
        "AccountEndpoint=https://orders.documents.azure.com:443/;",
        "adonet_negative",
        "endpoint only",
    )
    # MongoDB / Redis Sentinel
    S(
        "MONGO_URL",
        f"mongodb://admin:{rand(20)}@mongo-0.db:27017,mongo-1.db:27017,mongo-2.db:27017/orders?replicaSet=rs0&authSource=admin",
        "mongo_multi",
        "multi-host MongoDB URL with password",
    )
    S(
        "spring.data.mongodb.uri",
        f"mongodb+srv://orders:{password()}@cluster0.ab1cd.mongodb.net/orders?retryWrites=true",
        "mongo_multi",
        "SRV MongoDB URL with password, dotted name",
    )
    S(
        "MONGODB_URI",
        f"mongodb://app:{quote(url_password(), safe='')}@10.0.1.10:27017,10.0.1.11:27017/app",
        "mongo_multi",
        "encoded password, IP hosts",
    )
    N(
        "MONGO_URL",
        "mongodb://mongo-0.db:27017,mongo-1.db:27017/orders?replicaSet=rs0",
        "mongo_negative",
        "no credentials",
    )
    N(
        "MONGO_URL",
        "mongodb://mongo-0.db:27017/orders?authMechanism=MONGODB-AWS&authSource=$external",
        "mongo_negative",
        "IAM auth, no password",
    )
    S(
        "REDIS_SENTINEL_URL",
        f"redis+sentinel://:{rand(22)}@sentinel-0:26379,sentinel-1:26379/mymaster/0",
        "redis_sentinel",
        "Sentinel URL with password",
    )
    S(
        "CACHE_URL",
        f"redis-sentinel://default:{rand(22)}@s1:26379,s2:26379,s3:26379?sentinelMasterId=mymaster",
        "redis_sentinel",
        "Sentinel URL with user and password",
    )
    N("REDIS_SENTINELS", "sentinel-0:26379,sentinel-1:26379", "redis_negative", "host list")
    N(
        "REDIS_SENTINEL_URL",
        "redis+sentinel://sentinel-0:26379,sentinel-1:26379/mymaster",
        "redis_negative",
        "no password",
    )
    # Kafka JAAS
    for name in ["KAFKA_SASL_JAAS_CONFIG", "spring.kafka.properties.sasl.jaas.config", "sasl.jaas.config"]:
        S(
            name,
            f'org.apache.kafka.common.security.plain.PlainLoginModule required username="svc-orders" password="{password()}";',
            "kafka_jaas",
            "JAAS config with a literal password",
        )
    S(
        "KAFKA_JAAS",
        f"org.apache.kafka.common.security.scram.ScramLoginModule required username='orders' password='{rand(24)}';",
        "kafka_jaas",
        "SCRAM JAAS, single quotes",
    )
    N(
        "KAFKA_SASL_JAAS_CONFIG",
        "software.amazon.msk.auth.iam.IAMLoginModule required;",
        "kafka_negative",
        "MSK IAM, no password",
    )
    N(
        "KAFKA_SASL_JAAS_CONFIG",
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="svc" password="${KAFKA_PASSWORD}";',
        "kafka_negative",
        "password is a reference",
    )
    N("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", "kafka_negative", "mechanism")
    # npmrc / pypirc / docker auths / git / netrc
    S("NPMRC", f"//registry.npmjs.org/:_authToken={npm_token()}", "npmrc", ".npmrc auth token line")
    S(
        "NPM_CONFIG",
        f"@acme:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken={ghp()}\n",
        "npmrc",
        "multi-line .npmrc with token",
    )
    S(
        "NPMRC_CONTENT",
        f"//nexus.internal/repository/npm/:_auth={b64(('ci:' + password()).encode())}",
        "npmrc",
        "_auth base64 user:pass",
    )
    N("NPMRC", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}", "npmrc_negative", "reference")
    N("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org/", "npmrc_negative", "registry URL")
    S(
        "PYPIRC",
        f"[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc{rand(70, ALNUM + '-_')}\n",
        "pypirc",
        ".pypirc token",
    )
    S("PIP_INDEX_URL", f"https://ci:{rand(20)}@pypi.internal/simple/", "pypirc", "pip index URL with credentials")
    N("PIP_INDEX_URL", "https://pypi.org/simple/", "pypirc_negative", "public index")
    for name in ["DOCKER_AUTH_CONFIG", "DOCKER_CONFIG_JSON", "dockerconfigjson"]:
        auth = b64(f"deploy:{password()}".encode())
        S(
            name,
            json.dumps({"auths": {"registry.gitlab.com": {"auth": auth}}}),
            "docker_auths",
            "Docker auths JSON with base64 user:pass",
        )
    N("DOCKER_AUTH_CONFIG", json.dumps({"credsStore": "ecr-login"}), "docker_negative", "credential helper, no secret")
    N(
        "DOCKER_CONFIG_JSON",
        json.dumps({"credHelpers": {"123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}}),
        "docker_negative",
        "credential helper map",
    )
    S("GIT_REPO_URL", f"https://x-access-token:{ghp()}@github.com/acme/orders.git", "git_url", "token in git clone URL")
    S(
        "CONFIG_REPO",
        f"https://deploy:{password()}@gitlab.example.com/acme/config.git",
        "git_url",
        "password in git URL",
    )
    S(
        "GIT_CREDENTIALS",
        f"https://oauth2:glpat-{rand(20, ALNUM + '-_')}@gitlab.com",
        "git_url",
        "git-credentials store line",
    )
    N("GIT_REPO_URL", "https://github.com/acme/orders.git", "git_negative", "no credentials")
    N("GIT_REPO_URL", "git@github.com:acme/orders.git", "git_negative", "ssh remote; git@ is the ssh user")
    S("NETRC", f"machine api.example.com login bot password {password()}", "netrc", "netrc line with password")
    S("NETRC_CONTENT", f"machine github.com\nlogin x-access-token\npassword {ghp()}\n", "netrc", "multi-line netrc")
    N("NETRC_FILE", "/home/app/.netrc", "netrc_negative", "path")
    # JSON/YAML blobs in env
    S(
        "APP_CONFIG",
        json.dumps({"db": {"host": "db.internal", "user": "app", "password": password()}}),
        "json_blob",
        "JSON config with a password field",
    )
    S(
        "appsettings",
        json.dumps({"Jwt": {"Key": rand(48), "Issuer": "orders"}}),
        "json_blob",
        "JSON config with Jwt.Key",
    )
    N(
        "APP_CONFIG",
        json.dumps({"db": {"host": "db.internal", "passwordFile": "/run/secrets/db"}}),
        "json_negative",
        "JSON config referencing a file",
    )
    N(
        "APP_CONFIG",
        json.dumps({"features": {"tokenAuth": True, "passwordLogin": False}}),
        "json_negative",
        "flags only",
    )


# ---------------------------------------------------------------- arguments
def arguments() -> None:
    A = "argument"
    cases_secret = [
        ("command", ["./server", "--db-password", password()], "--db-password with value"),
        ("command", ["./server", f"--db-password={password()}"], "--db-password=value"),
        ("command", ["mysql", "-h", "db.internal", "-u", "root", f"-p{rand(16)}", "app"], "mysql -p<pw> attached"),
        ("command", ["mysql", "-h", "db", "-uroot", f"--password={password()}"], "mysql --password="),
        ("command", ["./agent", "--passwd", password()], "--passwd"),
        ("command", ["./agent", f"--api-key={rand(32)}"], "--api-key="),
        ("command", ["./agent", "--apiKey", rand(32)], "camelCase flag"),
        ("command", ["docker", "run", "-e", f"PASSWORD={password()}", "acme/job"], "-e PASSWORD=..."),
        ("command", ["env", f"PASSWORD={password()}", "./run"], "env PASSWORD=... cmd"),
        ("command", ["sh", "-c", f"export TOKEN={rand(40)}; ./run"], "export TOKEN= in sh -c"),
        (
            "command",
            ["/bin/sh", "-c", f"PGPASSWORD={password()} psql -h db -U app -c 'select 1'"],
            "PGPASSWORD= prefix",
        ),
        ("command", ["psql", f"postgresql://app:{rand(16)}@db.internal/orders"], "psql with credential URL"),
        (
            "command",
            ["curl", "-H", f"Authorization: Bearer {rand(40)}", "https://api.example.com/v1/sync"],
            "curl bearer header",
        ),
        (
            "command",
            ["curl", "-sf", "-u", f"admin:{password()}", "http://localhost:9200/_cluster/health"],
            "curl -u user:pass",
        ),
        (
            "command",
            ["wget", f"--password={password()}", "--user=ci", "https://repo.internal/artifact.tgz"],
            "wget --password=",
        ),
        ("healthCheck", ["CMD", "redis-cli", "-a", rand(24), "ping"], "redis-cli -a is the password"),
        (
            "healthCheck",
            ["CMD-SHELL", f"redis-cli -h localhost -a {rand(24)} ping | grep PONG"],
            "redis-cli -a in shell string",
        ),
        (
            "healthCheck",
            ["CMD", "mongo", "-u", "admin", "-p", password(), "--eval", "db.adminCommand('ping')"],
            "mongo -p <pw>",
        ),
        (
            "healthCheck",
            ["CMD-SHELL", f"mongosh --username root --password {rand(18)} --eval 'db.runCommand(\"ping\")'"],
            "mongosh --password",
        ),
        (
            "healthCheck",
            ["CMD", "/opt/mssql-tools/bin/sqlcmd", "-S", "localhost", "-U", "sa", "-P", password(), "-Q", "SELECT 1"],
            "sqlcmd -P is password",
        ),
        (
            "healthCheck",
            [
                "CMD-SHELL",
                f"/opt/mssql-tools18/bin/sqlcmd -C -S localhost -U sa -P '{password()}' -Q 'SELECT 1' || exit 1",
            ],
            "sqlcmd -P in shell string, quoted",
        ),
        ("healthCheck", ["CMD-SHELL", f"mysqladmin ping -h localhost -uroot -p{rand(16)}"], "mysqladmin -p<pw>"),
        (
            "command",
            ["openssl", "enc", "-d", "-aes-256-cbc", "-in", "secrets.enc", "-pass", f"pass:{password()}"],
            "openssl -pass pass:",
        ),
        (
            "command",
            ["openssl", "pkcs12", "-export", "-out", "c.p12", "-passout", f"pass:{rand(16)}"],
            "openssl -passout pass:",
        ),
        ("command", ["java", "-jar", "app.jar", f"--spring.datasource.password={password()}"], "Spring Boot arg"),
        ("command", ["java", f"-Dspring.datasource.password={password()}", "-jar", "app.jar"], "JVM system property"),
        (
            "command",
            ["java", f"-Djavax.net.ssl.keyStorePassword={rand(14)}", "-jar", "app.jar"],
            "keystore password property",
        ),
        ("command", ["./server", "--token", rand(40)], "--token value"),
        ("command", ["./server", f"-token={rand(40)}"], "go-style -token="),
        ("command", ["vault", "login", "hvs." + rand(24)], "vault token positional"),
        (
            "command",
            ["htpasswd", "-b", "-c", "/etc/nginx/.htpasswd", "admin", password()],
            "htpasswd -b takes the password positionally",
        ),
        (
            "command",
            ["keytool", "-importkeystore", "-srckeystore", "a.p12", "-storepass", rand(16)],
            "keytool -storepass",
        ),
        (
            "command",
            ["rclone", "sync", "/data", "s3:bucket", "--s3-secret-access-key", rand(40)],
            "rclone secret key flag",
        ),
        ("command", ["./oauth-proxy", "--client-secret", rand(32), "--client-id", "orders"], "--client-secret"),
        (
            "command",
            ["aws", "configure", "set", "aws_secret_access_key", rand(40, ALNUM + "/+")],
            "aws configure set secret",
        ),
        (
            "command",
            ["git", "clone", f"https://ci:{ghp()}@github.com/acme/config.git", "/cfg"],
            "git clone with token URL",
        ),
        ("command", ["npm", "config", "set", "//registry.npmjs.org/:_authToken", npm_token()], "npm config set token"),
        (
            "command",
            ["sh", "-c", f"echo {password()} | docker login -u ci --password-stdin registry.internal"],
            "password piped via echo",
        ),
        ("entryPoint", ["sh", "-c", f"DB_PASSWORD='{password()}' exec ./server"], "assignment prefix in sh -c, quoted"),
        ("command", ["./app", "--DbPassword", password()], "PascalCase flag"),
        (
            "command",
            ["dotnet", "App.dll", f"--ConnectionStrings:Default=Server=db;User Id=sa;Password={password()}"],
            ".NET command-line configuration",
        ),
        ("command", ["./app", "--jwt.secret", rand(40)], "dotted flag"),
        (
            "command",
            ["pg_dump", f"--dbname=postgresql://backup:{rand(16)}@db.internal:5432/orders", "-f", "/tmp/o.sql"],
            "dbname URL",
        ),
        ("command", ["mongodump", f"--uri=mongodb://backup:{rand(16)}@m1:27017,m2:27017/orders"], "mongodump URI"),
        ("command", ["sshpass", "-p", password(), "ssh", "deploy@host"], "sshpass -p is password"),
        ("command", ["lftp", "-u", f"ftpuser,{password()}", "ftp.example.com"], "lftp -u user,pass"),
        ("command", ["./client", "--header", f"X-Api-Key: {rand(32)}"], "API key header"),
        ("command", ["smbclient", "//srv/share", "-U", f"svc%{password()}"], "smbclient user%pass"),
        ("command", ["./cli", "-P", password(), "-U", "admin"], "generic -P with -U admin"),
    ]
    for name, args, why in cases_secret:
        S(name, args, "arg_" + why.split()[0].strip("-").lower()[:12], why, A)
    cases_neg = [
        ("command", ["./server", "--password-file", "/run/secrets/db"], "--password-file path"),
        ("command", ["./server", "-p", "8080"], "-p port"),
        ("command", ["./server", "--port", "5432"], "--port"),
        ("command", ["psql", "-h", "db.internal", "-p", "5432", "-U", "app", "-d", "orders"], "psql -p is port"),
        ("healthCheck", ["CMD", "redis-cli", "-h", "localhost", "-p", "6379", "ping"], "redis-cli -p is port"),
        ("command", ["mysql", "-h", "db", "-P", "3306", "-u", "app", "-p"], "mysql -P is port, bare -p prompts"),
        ("command", ["mongo", "--host", "db", "--port", "27017"], "mongo port"),
        ("healthCheck", ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], "plain curl"),
        ("command", ["curl", "-H", "Authorization: Bearer $TOKEN", "https://api.example.com"], "env reference"),
        ("command", ["sh", "-c", "export TOKEN=$(cat /run/secrets/token); ./run"], "token read from file"),
        ("command", ["./agent", "--api-key-file", "/etc/agent/key"], "key file path"),
        (
            "command",
            ["./agent", "--token-path", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"],
            "token path",
        ),
        (
            "command",
            ["docker", "login", "-u", "AWS", "--password-stdin", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"],
            "password from stdin",
        ),
        ("command", ["openssl", "rsa", "-in", "key.pem", "-passin", "env:KEY_PASS"], "openssl env: reference"),
        (
            "command",
            ["openssl", "enc", "-d", "-aes-256-cbc", "-pass", "file:/run/secrets/p"],
            "openssl file: reference",
        ),
        ("command", ["java", "-Dspring.datasource.password=${DB_PASSWORD}", "-jar", "app.jar"], "reference"),
        ("command", ["./tool", "--secret-name", "prod/app/db"], "secret name, not value"),
        ("command", ["nginx", "-g", "daemon off;"], "nginx"),
        ("command", ["ssh-keygen", "-t", "ed25519", "-N", "", "-f", "/tmp/k"], "empty passphrase"),
        ("command", ["./server", "--no-password"], "flag without value"),
        ("command", ["wget", "-P", "/tmp", "https://example.com/file.tgz"], "wget -P is directory prefix"),
        ("command", ["scp", "-P", "2222", "a.txt", "deploy@host:/tmp"], "scp -P is port"),
        ("command", ["ssh", "-p", "2222", "deploy@bastion"], "ssh -p is port"),
        (
            "healthCheck",
            [
                "CMD",
                "/opt/mssql-tools/bin/sqlcmd",
                "-S",
                "localhost",
                "-U",
                "sa",
                "-P",
                "$SA_PASSWORD",
                "-Q",
                "SELECT 1",
            ],
            "sqlcmd reference",
        ),
        ("healthCheck", ["CMD-SHELL", "mysqladmin ping -h localhost -p${MYSQL_ROOT_PASSWORD}"], "mysqladmin reference"),
        ("healthCheck", ["CMD-SHELL", 'redis-cli -a "$REDIS_PASSWORD" ping'], "redis reference"),
        ("healthCheck", ["CMD-SHELL", "pg_isready -U postgres -d orders"], "pg_isready"),
        ("command", ["python", "train.py", "--tokenizer", "bert-base-uncased"], "tokenizer"),
        ("command", ["./app", "--keyboard", "us"], "keyboard"),
        ("command", ["./app", "--password-policy", "strict"], "policy"),
        ("command", ["./app", "--auth", "none"], "auth mode"),
        ("command", ["./proxy", "--passthrough"], "flag"),
        (
            "command",
            ["openssl", "req", "-x509", "-nodes", "-subj", "/CN=localhost", "-keyout", "/tmp/k.pem"],
            "no password",
        ),
        ("command", ["./deploy", "--sha", hexkey(20)], "commit sha"),
        ("command", ["./verify", "--checksum", "sha256:" + hexkey(32)], "checksum"),
        ("command", ["./server", "--token-ttl", "3600"], "ttl"),
        ("command", ["./server", "--api-key-header", "X-Api-Key"], "header name"),
        ("command", ["htpasswd", "-B", "-i", "/etc/nginx/.htpasswd", "admin"], "htpasswd reading stdin"),
        (
            "command",
            ["java", "-jar", "app.jar", "--spring.datasource.username=orders", "--server.port=8080"],
            "no password",
        ),
        ("command", ["env", "PASSWORD_FILE=/run/secrets/pw", "./run"], "file path"),
        ("command", ["sh", "-c", "PGPASSWORD=$DB_PASSWORD psql -h db -U app"], "reference"),
        ("command", ["git", "clone", "https://github.com/acme/orders.git"], "no credentials"),
        ("command", ["psql", "postgresql://app@db.internal/orders"], "user only"),
        ("command", ["curl", "-u", "admin:$ES_PASSWORD", "http://localhost:9200"], "reference"),
        ("command", ["mongosh", "mongodb://db:27017/orders", "--eval", "db.stats()"], "no credentials"),
        ("command", ["./agent", "--api-key", "${DD_API_KEY}"], "reference"),
        ("command", ["./server", "--jwt-public-key", "/etc/keys/jwt.pub"], "public key path"),
        (
            "command",
            ["keytool", "-list", "-keystore", "/etc/ssl/cacerts", "-storepass:env", "STORE_PASS"],
            "keytool env reference",
        ),
        ("command", ["./tool", "-k", "/etc/tls/key.pem"], "-k path"),
        ("command", ["./cli", "-P", "5432", "-U", "admin"], "generic -P numeric port"),
    ]
    for name, args, why in cases_neg:
        N(name, args, "arg_negative", why, A)


# ---------------------------------------------------------------- more negatives in the same styles
def style_negatives() -> None:
    for name, value in [
        ("dbHost", "db.internal"),
        ("dbPort", "5432"),
        ("dbUser", "orders"),
        ("dbName", "orders"),
        ("apiBaseUrl", "https://api.example.com/v2"),
        ("apiTimeoutMs", "2500"),
        ("clientName", "orders-web"),
        ("authServerUrl", "https://auth.example.com"),
        ("tokenIssuer", "https://auth.example.com/"),
        ("secretsPrefix", "/prod/orders/"),
        ("keyRotationDays", "30"),
        ("publicKeyUrl", "https://auth.example.com/.well-known/jwks.json"),
        ("passwordResetUrl", "https://app.example.com/reset"),
        ("sessionCookieName", "sid"),
        ("apiVersion", "2024-06-01"),
        ("userPoolId", "eu-west-1_" + rand(9)),
        ("appClientId", rand(26, LOWER_NUM)),
        ("kmsKeyArn", "arn:aws:kms:eu-west-1:123456789012:key/" + str(uuid.UUID(int=rng.getrandbits(128)))),
        ("tokenAudience", "orders-api"),
        ("secretRef", "ssm:/prod/orders/db_password"),
    ]:
        N(name, value, "camel_config", "camelCase configuration, no credential")
    for name, value in [
        ("password_min_length", "12"),
        ("secret_name", "prod/orders"),
        ("api_key_header", "X-Api-Key"),
        ("token_url", "https://auth.example.com/token"),
        ("db_user", "orders"),
        ("key_prefix", "orders:"),
        ("auth_mode", "iam"),
        ("secret_arn", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-AbCdEf"),
    ]:
        N(name, value, "lower_config", "lowercase configuration, no credential")
    for name, value in [
        ("spring.datasource.hikari.maximum-pool-size", "20"),
        ("spring.jpa.hibernate.ddl-auto", "validate"),
        ("spring.security.oauth2.resourceserver.jwt.issuer-uri", "https://auth.example.com/realms/orders"),
        ("spring.security.oauth2.resourceserver.jwt.jwk-set-uri", "https://auth.example.com/jwks"),
        ("server.ssl.key-store-type", "PKCS12"),
        ("spring.redis.host", "cache.internal"),
        ("spring.kafka.bootstrap-servers", "b-1.msk.internal:9098,b-2.msk.internal:9098"),
        ("spring.kafka.properties.sasl.mechanism", "AWS_MSK_IAM"),
        ("logging.level.org.springframework.security", "DEBUG"),
        ("jwt.header", "Authorization"),
        ("jwt.token-validity-in-seconds", "86400"),
        ("app.security.password-encoder", "bcrypt"),
        ("quarkus.datasource.username", "orders"),
        ("spring.config.import", "aws-secretsmanager:prod/orders"),
        ("spring.datasource.password", "{cipher}" + hexkey(32)),
    ]:
        why = (
            "Spring Cloud Config {cipher} value is encrypted at rest; the key lives in the config server"
            if value.startswith("{cipher}")
            else "dotted configuration, no credential"
        )
        N(name, value, "dotted_config", why)
    for name, value in [
        ("Kestrel__Endpoints__Http__Url", "http://+:8080"),
        ("ASPNETCORE_ENVIRONMENT", "Production"),
        ("Authentication__Google__ClientId", "1234567890-abcdef.apps.googleusercontent.com"),
        ("Jwt__ExpiresInMinutes", "60"),
        ("Serilog__MinimumLevel", "Information"),
        ("AzureKeyVault__VaultUri", "https://orders-kv.vault.azure.net/"),
        ("Redis__InstanceName", "orders:"),
        ("Database__Host", "db.internal"),
        ("Database__User", "orders"),
        ("Smtp__EnableSsl", "true"),
        ("ApiSettings__BaseUrl", "https://api.example.com"),
        ("Identity__PasswordOptions__RequiredLength", "12"),
    ]:
        N(name, value, "dotnet_config", ".NET configuration, no credential")
    for name, value in [
        ("USUARIO", "admin"),
        ("UTILISATEUR", "app"),
        ("BENUTZER", "orders"),
        ("USUARIO_BANCO", "app"),
        ("SERVIDOR", "db.internal"),
        ("PORTA", "5432"),
        ("CHIAVE_PUBBLICA_URL", "https://auth.example.com/jwks"),
    ]:
        N(name, value, "foreign_config", "non-English configuration, no credential")
    for name, value in [
        ("PSK_MODE", "disabled"),
        ("PW_MIN_LENGTH", "10"),
        ("TKN_TTL", "900"),
        ("APIKEY_HEADER", "x-api-key"),
        ("SECRETKEY_ROTATION", "weekly"),
        ("ACCESSKEY_ID", "AKIA" + rand(16, string.ascii_uppercase + "234567")),
        ("PWD_RESET_URL", "https://app.example.com/reset"),
    ]:
        if value.startswith("AKIA"):
            # [relabeled after review] first labelled "not a secret" (an id without its secret half); the project's
            # documented decision flags AKIA ids alone (half of a key pair; AWS Config, Prowler and GitHub flag them).
            S(
                name,
                value,
                "abbrev_config",
                "AWS access key id: flagged by project convention (half of a key pair)"
                " [relabeled after review: first labelled an identifier]",
            )
            continue
        N(name, value, "abbrev_config", "abbreviated credential word, setting value")
    for name, value in [
        ("S3_BUCKET", "orders-prod-" + rand(6, LOWER_NUM)),
        ("QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"),
        ("SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:orders"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4317"),
        ("OTEL_RESOURCE_ATTRIBUTES", "service.name=orders,deployment.environment=prod"),
        ("JAVA_OPTS", "-Xmx512m -XX:+UseG1GC -Djavax.net.ssl.trustStore=/etc/ssl/truststore.jks"),
        ("JAVA_TOOL_OPTIONS", "-javaagent:/otel/opentelemetry-javaagent.jar"),
        ("NODE_OPTIONS", "--max-old-space-size=1024"),
        ("TZ", "Europe/Berlin"),
        ("CORS_ORIGINS", "https://app.example.com,https://admin.example.com"),
        ("GOOGLE_ANALYTICS_ID", "G-" + rand(10, string.ascii_uppercase + string.digits)),
        ("MAPBOX_PUBLIC_TOKEN", "pk.eyJ1Ijoib3JkZXJzIiwiYSI6I" + rand(20) + "." + rand(22, ALNUM + "-_")),
        ("FEATURE_FLAGS_B64", b64(json.dumps({"newCheckout": True, "tokenAuth": False}).encode())),
        ("BUILD_INFO", json.dumps({"commit": hexkey(20), "branch": "main"})),
        ("SENTRY_ENVIRONMENT", "production"),
        ("LOG_FORMAT", "json"),
        ("HEALTHCHECK_PATH", "/health"),
    ]:
        why = (
            "Mapbox pk. tokens are public by design"
            if name == "MAPBOX_PUBLIC_TOKEN"
            else "neutral configuration, no credential"
        )
        N(name, value, "neutral_config", why)
    S(
        "JAVA_OPTS",
        f"-Xmx1g -Dspring.datasource.password={password()} -Dspring.profiles.active=prod",
        "embedded_property",
        "JVM options carrying a password property",
    )
    S(
        "JAVA_TOOL_OPTIONS",
        f"-Djavax.net.ssl.keyStorePassword={rand(16)}",
        "embedded_property",
        "keystore password in JVM options",
    )
    S("CATALINA_OPTS", f"-Ddb.password={password()} -Xms256m", "embedded_property", "password in Tomcat options")


def build() -> list[dict]:
    global rng
    rng = random.Random(SEED)
    ROWS.clear()
    naming_secrets()
    naming_negatives()
    options()
    encodings()
    arguments()
    style_negatives()
    return list(ROWS)


def render(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def main() -> int:
    text = render(build())
    if "--check" in sys.argv:
        return 0 if OUTPUT.exists() and OUTPUT.read_text(encoding="utf-8") == text else 1
    OUTPUT.write_text(text, encoding="utf-8")
    rows = build()
    print(f"{len(rows)} rows, {sum(r['secret'] for r in rows)} secrets -> {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
