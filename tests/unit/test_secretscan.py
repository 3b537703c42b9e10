"""Rules of ecsguard.secretscan: each with positive and negative cases, and the value never leaks.

Every secret-looking value below is synthetic (assembled from a prefix and filler at run time).
"""

from __future__ import annotations

import base64 as _b64
import json
import random
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from ecsguard.secretscan import SecretMatch, classify_variable, fingerprint, is_reference_or_placeholder, scan_arguments

ROOT = Path(__file__).resolve().parents[2]
_rng = random.Random(4242)


def rand(alphabet: str, n: int) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"

# (rule, name, value) that must fire with exactly that rule
POSITIVE = [
    ("aws-access-key-id", "AWS_ACCESS_KEY_ID", "AKIA" + rand("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
    ("aws-access-key-id", "SOME_VALUE", "ASIA" + rand("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
    ("aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", rand(ALNUM + "/+", 38) + "Q9"),
    ("aws-session-token", "AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2Vj" + rand(ALNUM + "/+", 300)),
    ("github-token", "GITHUB_TOKEN", "ghp_" + rand(ALNUM, 36)),
    ("github-token", "CONFIG", "ghs_" + rand(ALNUM, 36)),
    ("github-token", "GH", "github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59)),
    ("gitlab-token", "GITLAB", "glpat-" + rand(URLSAFE, 20)),
    ("slack-token", "SLACK", "xoxb-" + rand("0123456789", 12) + "-" + rand("0123456789", 13) + "-" + rand(ALNUM, 24)),
    (
        "slack-webhook",
        "ALERTS",
        "https://hooks.slack.com/services/T"
        + rand("ABCDEFGH0123", 8)
        + "/B"
        + rand("ABCDEFGH0123", 10)
        + "/"
        + rand(ALNUM, 24),
    ),
    ("stripe-secret-key", "STRIPE", "sk_live_" + rand(ALNUM, 24)),
    ("stripe-secret-key", "STRIPE", "rk_live_" + rand(ALNUM, 24)),
    ("stripe-secret-key", "STRIPE", "sk_test_" + rand(ALNUM, 24)),
    ("sendgrid-api-key", "MAIL", "SG." + rand(URLSAFE, 22) + "." + rand(URLSAFE, 43)),
    ("twilio-api-key", "TWILIO", "SK" + rand(HEX, 32)),
    ("twilio-auth-token", "TWILIO_AUTH_TOKEN", rand(HEX, 32)),
    ("google-api-key", "MAPS", "AIza" + rand(URLSAFE, 35)),
    ("npm-token", "NPM", "npm_" + rand(ALNUM, 36)),
    ("pypi-token", "TWINE_PASSWORD", "pypi-AgEIcHlwaS5vcmc" + rand(URLSAFE, 70)),
    ("datadog-api-key", "DD_API_KEY", rand(HEX, 32)),
    ("datadog-app-key", "DD_APP_KEY", rand(HEX, 40)),
    ("new-relic-key", "NR", "NRAK-" + rand(string.ascii_uppercase + string.digits, 27)),
    ("new-relic-key", "NEW_RELIC_LICENSE_KEY", rand(HEX, 40)),
    (
        "azure-storage-key",
        "AZ",
        "DefaultEndpointsProtocol=https;AccountName=x;AccountKey="
        + rand(ALNUM + "+/", 86)
        + "==;EndpointSuffix=core.windows.net",
    ),
    (
        "private-key",
        "TLS_KEY",
        "-----BEGIN RSA PRIVATE KEY-----\\n"
        + rand(ALNUM + "+/", 64)
        + "\\n"
        + rand(ALNUM + "+/", 64)
        + "\\n-----END RSA PRIVATE KEY-----",
    ),
    ("jwt", "UPSTREAM", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdmMiLCJzY29wZSI6ImFkbWluIn0." + rand(URLSAFE, 43)),
    ("openai-api-key", "OPENAI_API_KEY", "sk-proj-" + rand(URLSAFE, 60)),
    ("anthropic-api-key", "LLM", "sk-ant-api03-" + rand(URLSAFE, 90)),
    ("heroku-api-key", "HEROKU_API_KEY", "3b8f0c4e-2d1a-4f6b-9c7e-5a4d3c2b1a09"),
    ("mailgun-api-key", "MG", "key-" + rand(HEX, 32)),
    ("shopify-token", "SHOP", "shpat_" + rand(HEX, 32)),
    ("digitalocean-token", "DO", "dop_v1_" + rand(HEX, 64)),
    ("vault-token", "VAULT", "hvs." + rand(URLSAFE, 90)),
    ("doppler-token", "DOPPLER", "dp.st.prd." + rand(ALNUM, 40)),
    ("linear-api-key", "LINEAR", "lin_api_" + rand(ALNUM, 40)),
    ("atlassian-api-token", "JIRA", "ATATT3xFfGF0" + rand(URLSAFE, 160)),
    ("huggingface-token", "HF", "hf_" + rand(ALNUM, 34)),
    ("url-credentials", "DATABASE_URL", "postgres://app:" + rand(ALNUM, 14) + "@db.internal:5432/app"),
    ("url-credentials", "MONGO", "mongodb+srv://u:" + rand(ALNUM, 14) + "@cluster0.abcde.mongodb.net/db"),
    ("url-credentials", "REDIS_URL", "redis://:" + rand(ALNUM, 20) + "@cache:6379/0"),
    ("url-credentials", "BROKER", "amqp://guest:guest@rabbitmq:5672//"),
    ("url-credentials", "DSN", "root:drone@tcp(127.0.0.1:3306)/drone?parseTime=true"),
    ("embedded-assignment", "CONN", "Server=db;Database=App;User Id=sa;Password=" + rand(ALNUM, 12) + ";"),
    ("embedded-assignment", "JDBC", "jdbc:sqlserver://db:1433;databaseName=a;user=sa;password=" + rand(ALNUM, 12)),
    ("embedded-assignment", "JAVA_OPTS", "-Xmx1g -Dspring.datasource.password=" + rand(ALNUM, 12) + " -Dx=y"),
    ("embedded-assignment", "SETTINGS", json.dumps({"db": {"host": "db", "password": rand(ALNUM, 12)}})),
    ("embedded-assignment", "HEADERS", "Content-Type=application/json,X-Api-Key=" + rand(ALNUM, 32)),
    ("embedded-assignment", "HEADERS", "Authorization: Bearer " + rand(ALNUM, 40)),
    ("secret-named-variable", "DB_PASSWORD", "hunter2"),
    ("secret-named-variable", "MYSQL_ROOT_PASSWORD", "rootpass"),
    ("secret-named-variable", "DB_PASSWORD", "password123"),
    ("secret-named-variable", "ADMIN_PASSWORD", "P@ssw0rd!"),
    ("secret-named-variable", "SECRET_KEY_BASE", rand(HEX, 128)),
    ("secret-named-variable", "DJANGO_SECRET_KEY", "django-insecure-" + rand(ALNUM, 40)),
    ("secret-named-variable", "JWT_SECRET", rand(ALNUM, 32)),
    ("secret-named-variable", "API_KEY", rand(ALNUM, 32)),
    ("secret-named-variable", "SMTP_PASS", "Marble77!"),
    ("secret-named-variable", "REDIS_PWD", "Canyon12#"),
    ("secret-named-variable", "PASSPHRASE", "orange-falcon-river-marble"),
    ("secret-named-variable", "CLIENT_SECRET", rand(ALNUM, 34)),
    ("secret-named-variable", "ENCRYPTION_KEY", rand(ALNUM, 32)),
    ("secret-named-variable", "SIGNING_KEY", rand(HEX, 64)),
    ("secret-named-variable", "keyStorePassword", "Tr0mb0ne#"),
    ("secret-named-variable", "splunk-token", "0e6c5f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6"),
    ("secret-named-variable", "DRONE_SECRET", "123456"),
    ("secret-named-variable", "BASIC_AUTH", "admin:" + rand(ALNUM, 12)),
    ("secret-named-variable", "HMAC_KEY", rand(HEX, 64)),
]

# (family, name, value) that must not fire
NEGATIVE = [
    ("reference", "DB_PASSWORD", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"),
    ("reference", "API_KEY", "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api_key"),
    ("reference", "ENCRYPTION_KEY", "arn:aws:kms:eu-west-1:123456789012:key/0e6c5f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6"),
    ("reference", "JWT_SECRET", "/prod/app/jwt-secret"),
    ("reference", "DB_PASSWORD", "${db_password}"),
    ("reference", "DB_PASSWORD", "{{resolve:secretsmanager:prod/db:SecretString:password}}"),
    ("reference", "DB_PASSWORD", "$(DB_PASSWORD)"),
    ("reference", "DB_PASSWORD", "%(db_password)s"),
    ("reference", "DB_PASSWORD", "{{ must_env `DB_PASSWORD` }}"),
    ("reference", "IMAGE", "<IMAGE1_NAME>"),
    ("reference", "OPENAI_API_KEY", "$OPENAI_API_KEY"),
    ("reference", "DATABASE_URL", "${{ secrets.DATABASE_URL }}"),
    ("reference", "DATABASE_URL", "postgres://${user}:${password}@${host}/db"),
    ("reference", "CONFIG", '{"username": "${database_username}", "password": "${database_password}"}'),
    ("reference", "JAVA_OPTS", "-Dspring.datasource.password=${DB_PASSWORD} -Xmx1g"),
    ("placeholder", "DB_PASSWORD", "changeme"),
    ("placeholder", "DB_PASSWORD", "<password>"),
    ("placeholder", "API_KEY", "xxx"),
    ("placeholder", "API_KEY", "REPLACE_ME"),
    ("placeholder", "API_KEY", "your-api-key-here"),
    ("placeholder", "API_KEY", ""),
    ("placeholder", "TOKEN", "true"),
    ("placeholder", "TOKEN", "none"),
    ("placeholder", "DB_PASSWORD", "password"),
    ("placeholder", "GITHUB_SECRET", "string"),
    ("placeholder", "AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
    ("placeholder", "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("placeholder", "GITHUB_TOKEN", "ghp_" + "x" * 36),
    ("placeholder", "DATABASE_URL", "postgres://user:password@localhost/db"),
    ("placeholder", "REDIS", "YOUR_ELASTICACHE_ENDPOINT:6379"),
    ("config", "PASSWORD_MIN_LENGTH", "12"),
    ("config", "TOKEN_TTL", "3600"),
    ("config", "DB_PASSWORD_FILE", "/run/secrets/db"),
    ("config", "API_KEY_HEADER", "X-Api-Key"),
    ("config", "SECRET_NAME", "prod/db"),
    ("config", "JWT_ALGORITHM", "HS256"),
    ("config", "AUTH_TYPE", "basic"),
    ("config", "KEY_ID", "2024-01"),
    ("config", "DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"),
    ("config", "VAULT_ADDR", "https://vault.internal:8200"),
    ("config", "PASSWORD_RESET_URL", "https://example.com/reset"),
    ("config", "ALLOW_EMPTY_PASSWORD", "yes"),
    ("config", "CACHE_KEY", "v2-user-profile"),
    ("config", "SORT_KEY", "created_at"),
    ("config", "MAX_TOKENS", "4096"),
    ("identifier", "REQUEST_ID", "0e6c5f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6"),
    ("identifier", "GIT_SHA", rand(HEX, 40)),
    ("identifier", "IMAGE_DIGEST", "sha256:" + rand(HEX, 64)),
    ("identifier", "VPC", "vpc-0a1b2c3d4e5f67890"),
    ("identifier", "TWILIO_ACCOUNT_SID", "AC" + rand(HEX, 32)),
    ("public", "STRIPE_PUBLISHABLE_KEY", "pk_live_" + rand(ALNUM, 24)),
    ("public", "MAPBOX_TOKEN", "pk.eyJ1Ijoi" + rand(ALNUM, 20) + "." + rand(URLSAFE, 22)),
    ("public", "RECAPTCHA_SITE_KEY", "6L" + rand(URLSAFE, 38)),
    ("public", "SENTRY_DSN", "https://" + rand(HEX, 32) + "@o12345.ingest.sentry.io/123"),
    ("public", "GA_ID", "G-" + rand("ABCDEFGHJK0123456789", 10)),
    ("public", "NEXT_PUBLIC_FIREBASE_API_KEY", "AIza" + rand(URLSAFE, 35)),
    ("public", "SSH_PUBLIC_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rand(ALNUM, 43) + " ci@example"),
    ("url", "API_URL", "https://api.example.com/v1"),
    ("url", "GIT", "https://user@git.example.com/org/repo.git"),
    ("url", "GRAFANA", "https://<userid>@logs-prod-us-west2.grafana.net/loki/api/v1/push"),
    ("ordinary", "LOG_LEVEL", "debug"),
    ("ordinary", "JAVA_OPTS", "-Xms512m -Xmx1g -XX:+UseG1GC"),
    ("ordinary", "NODE_ENV", "production"),
    ("ordinary", "IMAGE", "nginx:1.25@sha256:" + rand(HEX, 64)),
]


@pytest.mark.parametrize(("rule", "name", "value"), POSITIVE, ids=[f"{r}:{n}" for r, n, _ in POSITIVE])
def test_rule_fires(rule: str, name: str, value: str) -> None:
    match = classify_variable(name, value)
    assert match is not None, f"{name} should be a {rule}"
    assert match.rule == rule


@pytest.mark.parametrize(("family", "name", "value"), NEGATIVE, ids=[f"{f}:{n}" for f, n, _ in NEGATIVE])
def test_not_a_secret(family: str, name: str, value: str) -> None:
    assert classify_variable(name, value) is None


KNOWN_PREFIXES = {
    "",
    "AKIA",
    "ASIA",
    "IQoJb3JpZ2luX2Vj",
    "ghp_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "https://hooks.slack.com/",
    "sk_live_",
    "rk_live_",
    "sk_test_",
    "SG.",
    "SK",
    "AIza",
    "npm_",
    "pypi-",
    "NRAK-",
    "-----BEGIN RSA PRIVATE KEY-----",
    "eyJ",
    "sk-proj-",
    "sk-ant-api03-",
    "key-",
    "shpat_",
    "dop_v1_",
    "hvs.",
    "dp.st.",
    "lin_api_",
    "ATATT3",
    "hf_",
}


@pytest.mark.parametrize(("rule", "name", "value"), POSITIVE, ids=[f"{r}:{n}" for r, n, _ in POSITIVE])
def test_hint_and_repr_never_show_the_value(rule: str, name: str, value: str) -> None:
    match = classify_variable(name, value)
    assert match is not None
    shown, _, rest = match.hint.partition("…")
    assert shown in KNOWN_PREFIXES, match.hint
    assert rest.startswith(" (") and rest.endswith(" chars)")
    secret_part = value[len(shown) :] if value.startswith(shown) else value
    # the kind is a label chosen from the rule and the *name* (it may say "password"); everything else is checked
    texts = (match.hint, match.rule, repr(match).replace(repr(match.kind), ""))
    for start in range(0, max(1, len(secret_part) - 6)):
        window = secret_part[start : start + 6]
        if len(window) == 6 and len(set(window)) > 2 and window.isalnum() and window not in shown:
            assert not any(window in text for text in texts), (window, match.hint)


def test_hints_show_only_the_known_prefix() -> None:
    token = "ghp_" + rand(ALNUM, 36)
    assert classify_variable("X", token).hint == "ghp_… (40 chars)"
    key = "sk_live_" + rand(ALNUM, 24)
    assert classify_variable("X", key).hint == "sk_live_… (32 chars)"
    assert classify_variable("X", "AKIA" + rand("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)).hint == "AKIA… (20 chars)"
    assert classify_variable("DB_PASSWORD", "hunter2").hint == "… (7 chars)"


def test_fingerprint_is_of_the_credential_part_only() -> None:
    password = rand(ALNUM, 16)
    match = classify_variable("DATABASE_URL", f"postgres://app:{password}@db:5432/app")
    assert match.fingerprint == fingerprint(password)
    assert fingerprint("x") == "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    bearer = rand(ALNUM, 40)
    assert classify_variable("AUTHORIZATION", f"Bearer {bearer}").fingerprint == fingerprint(bearer)


def test_canary_never_appears_anywhere() -> None:
    canary = "CanaryPw" + rand(ALNUM, 20)
    for name, value in [
        ("DB_PASSWORD", canary),
        ("DATABASE_URL", f"mysql://root:{canary}@db/app"),
        ("JAVA_OPTS", f"-Dspring.datasource.password={canary}"),
        ("SETTINGS", json.dumps({"password": canary})),
    ]:
        match = classify_variable(name, value)
        assert match is not None, name
        blob = " ".join([match.rule, match.kind, match.hint, match.fingerprint, repr(match)])
        assert canary not in blob and canary[:10] not in blob
    for index, match in scan_arguments(["sh", "-c", f"mysql -uroot -p{canary} db"]):
        assert index == 2 and canary not in repr(match)


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        "/prod/db/password",
        "${X}",
        "{{resolve:ssm:/a/b}}",
        "$(X)",
        "%(x)s",
        "{{ must_env `X` }}",
        "<IMAGE1_NAME>",
        "changeme",
        "",
        "REPLACE_ME",
        "your-api-key-here",
        "ssm://prod/db",
        "alias/app",
    ],
)
def test_is_reference_or_placeholder(value: str) -> None:
    assert is_reference_or_placeholder(value)


@pytest.mark.parametrize("value", ["hunter2", "P@ssw0rd!", "ghp_" + rand(ALNUM, 36), "password123", "drone"])
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not is_reference_or_placeholder(value)


# ----------------------------------------------------------------------------- arguments

ARG_POSITIVE = [
    (["./server", "--db-password=" + "Marble77x", "--port", "8080"], 1),
    (["./worker", "--api-token", rand(ALNUM, 32)], 2),
    (["java", "-Dspring.datasource.password=Canyon12x", "-jar", "app.jar"], 1),
    (["mysql", "-h", "db", "-uroot", "-pS3cretPw", "app"], 4),
    (["sh", "-c", "mysql -h db -u root -pS3cretPw app < /init.sql"], 2),
    (["sh", "-c", "export GITHUB_TOKEN=ghp_" + rand(ALNUM, 36) + " && ./release.sh"], 2),
    (["migrate", "-database", "postgres://app:" + rand(ALNUM, 16) + "@db:5432/app", "up"], 2),
    (["redis-cli", "-h", "cache", "-a", rand(ALNUM, 20), "ping"], 4),
    (["sshpass", "-p", rand(ALNUM, 12), "ssh", "deploy@bastion"], 2),
    (["curl", "-u", "admin:" + rand(ALNUM, 14), "https://grafana.internal"], 2),
    (["bash", "-lc", "PGPASSWORD=" + rand(ALNUM, 14) + " psql -h db -c 'select 1'"], 2),
    (["app", "sk_live_" + rand(ALNUM, 24)], 1),
]

ARG_NEGATIVE = [
    ["bundle", "exec", "rackup", "app/config.ru", "-o", "0.0.0.0", "-p", "8080"],
    ["./server", "--password-file", "/run/secrets/db"],
    ["sh", "-c", "mysql -h db -u root -p$MYSQL_ROOT_PASSWORD app"],
    ["java", "-Dspring.datasource.password=${DB_PASSWORD}", "-jar", "app.jar"],
    ["sh", "-c", "export DB_PASSWORD=$(cat /run/secrets/db) && exec ./server"],
    ["./app", "--token-ttl", "3600", "--secret-name", "prod/app"],
    ["aws", "secretsmanager", "get-secret-value", "--secret-id", "prod/db"],
    ["./server", "--key", "/etc/ssl/private/server.key"],
    ["sh", "-c", "echo 'expvar_port: 15000' >> /etc/datadog-agent/datadog.yaml ; /init"],
    ["docker-login", "--password-stdin"],
    ["mysql", "-p"],
    [],
]


@pytest.mark.parametrize(("args", "index"), ARG_POSITIVE)
def test_arguments_fire_at_the_right_index(args: list[str], index: int) -> None:
    found = scan_arguments(args)
    assert found, args[0]
    assert found[0][0] == index
    assert all(isinstance(m, SecretMatch) for _, m in found)


@pytest.mark.parametrize("args", ARG_NEGATIVE)
def test_arguments_not_secret(args: list[str]) -> None:
    assert scan_arguments(args) == []


def test_arguments_keep_indices_with_odd_items() -> None:
    found = scan_arguments(["x", None, "--password", "Marble77x"])  # type: ignore[list-item]
    assert [i for i, _ in found] == [3]


# ----------------------------------------------------------------------------- corpus and cost


def test_corpus_is_generated_and_labeled() -> None:
    rows = [json.loads(line) for line in (ROOT / "tests/data/secrets_corpus.jsonl").read_text().splitlines()]
    assert len(rows) >= 400
    assert sum(r["secret"] for r in rows) >= len(rows) / 3
    assert {r["where"] for r in rows} == {"environment", "option", "argument"}
    check = subprocess.run([sys.executable, str(ROOT / "benchmarks/secretsets/corpus.py"), "--check"], check=False)
    assert check.returncode == 0, "tests/data/secrets_corpus.jsonl is stale: rerun benchmarks/secretsets/corpus.py"


_IMPORT_PROBE = """
import importlib, json, pkgutil, sys
sys.path.insert(0, LAYER)
import ecsguard.secretscan as package
from ecsguard.secretscan.core import _Lazy
modules = {info.name: importlib.import_module(f"{package.__name__}.{info.name}") for info in pkgutil.iter_modules(package.__path__)}
lazy = {name: [v for v in vars(m).values() if isinstance(v, _Lazy)] for name, m in modules.items()}
distinct = {id(v): v for patterns in lazy.values() for v in patterns}.values()
print(json.dumps({
    "modules": sorted(modules),
    "without_patterns": sorted(name for name, patterns in lazy.items() if not patterns),
    "lazy": len(distinct),
    "compiled": sum(v._compiled is not None for v in distinct),
    "provider_rules_unset": modules["providers"]._provider_rules is None,
}))
"""


def test_no_regex_is_compiled_at_import() -> None:
    # A fresh interpreter imports every submodule of the package; none may have compiled a pattern by then.
    code = f"LAYER = {str(ROOT / 'layers/ecsguard')!r}\n" + _IMPORT_PROBE
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    probe = json.loads(out.stdout)
    expected = {"core", "placeholders", "providers", "urls", "names", "plausible", "values", "arguments"}
    assert expected <= set(probe["modules"])
    assert probe["without_patterns"] == []  # every submodule was seen holding its patterns
    assert probe["lazy"] >= 35  # 38 distinct lazy patterns today: the probe cannot pass by seeing none
    assert probe["compiled"] == 0
    assert probe["provider_rules_unset"]


@pytest.mark.parametrize(
    "name, value",
    [
        ("POSTGRES_PASSWORD", "postgres"),
        ("ADMIN_PASSWORD", "admin"),
        ("GF_SECURITY_ADMIN_PASSWORD", "admin"),
        ("MYSQL_ROOT_PASSWORD", "root"),
    ],
)
def test_vendor_default_password_repeating_the_name_is_a_credential(name, value):
    assert classify_variable(name, value) is not None


@pytest.mark.parametrize("name, value", [("DB_PASSWORD", "db_password"), ("SESSION_KEY", "sessionid")])
def test_value_spelling_the_name_is_a_label(name, value):
    assert classify_variable(name, value) is None


# ----------------------------------------------------------------------------- independent red-team set
# Rules generalised after the independent set (tests/data/secrets_independent.jsonl): each with the
# entries that must fire and the look-alikes that must not.

_IR = rand(ALNUM, 24)  # a generic random credential
_B64PAD = [rand(ALNUM, 22) + "==" for _ in range(3)]

INDEPENDENT_POSITIVE = [
    # a query-string parameter only counts when its key is secret-named (and a bare query string is split)
    ("url-credentials", "API_URL", "https://api.example.com/v1/items?api_key=" + _IR),
    ("url-credentials", "BLOB_URL", "https://acme.blob.core.windows.net/c/b.csv?sv=2022-11-02&sp=r&sig=" + _IR + "%3D"),
    ("embedded-assignment", "AZURE_STORAGE_SAS", "sv=2022-11-02&ss=b&srt=co&sp=rl&spr=https&sig=" + _IR + "%2B" + _IR),
    ("embedded-assignment", "OAUTH_FORM", "grant_type=client_credentials&client_id=orders&client_secret=" + _IR),
    # base64 padding is not an assignment: comma-separated keys are judged as one value
    ("secret-named-variable", "APP_KEYS", ",".join(_B64PAD)),
    # PHP define(), Ruby hash/bracket assignments and => inside larger values
    ("embedded-assignment", "WORDPRESS_CONFIG_EXTRA", f"define('WP_REDIS_PASSWORD', '{_IR}');"),
    (
        "embedded-assignment",
        "GITLAB_OMNIBUS_CONFIG",
        f"external_url 'https://g.example.com'\ngitlab_rails['db_password'] = '{_IR}'",
    ),
    ("embedded-assignment", "PHP_CONFIG", f"$cfg = ['password' => '{_IR}'];"),
    # a header option written "Name value" (fluent-bit Header) and vendor header names
    ("embedded-assignment", "Header", "X-API-Key " + rand(HEX, 32)),
    ("authorization-header", "Header", "Authorization Bearer " + rand(URLSAFE, 40)),
    ("embedded-assignment", "OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=" + rand(ALNUM, 22)),
    # credentials in the path of log-shipping URLs
    (
        "sumologic-collector-url",
        "SUMO_URL",
        "https://endpoint4.collection.us2.sumologic.com/receiver/v1/http/" + rand(URLSAFE, 80) + "==",
    ),
    ("sumologic-collector-url", "URI", "/receiver/v1/http/" + rand(URLSAFE, 80) + "=="),
    ("loggly-token", "LOGGLY_URL", "https://logs-01.loggly.com/inputs/3f0c2a9e-7b1d-4c5e-9a8f-1b2c3d4e5f60/tag/ecs/"),
    ("posthog-personal-api-key", "ANALYTICS", "phx_" + rand(ALNUM, 43)),
    # an unencoded e-mail as URL user name
    ("url-credentials", "SMTP_URL", f"smtp://postmaster@mg.example.com:{_IR}@smtp.mailgun.org:587"),
    # named credentials the name rules did not know
    ("secret-named-variable", "RABBITMQ_ERLANG_COOKIE", "QWERTZUIOPASDFGHJKLY"),
    ("secret-named-variable", "NEW_RELIC_INSERT_KEY", rand(URLSAFE, 32)),
    ("secret-named-variable", "DB_PASSWORD", "test1234"),
    ("secret-named-variable", "API_KEY", "AQICAH" + rand(ALNUM, 20)),  # too short for a KMS blob
    # vendor-public names never cover secret words or provider secret formats
    ("secret-named-variable", "ALGOLIA_ADMIN_KEY", rand(HEX, 32)),
    ("secret-named-variable", "ALGOLIA_API_KEY", rand(HEX, 32)),
    ("secret-named-variable", "PUSHER_APP_SECRET", rand(HEX, 20)),
    ("secret-named-variable", "SHOPIFY_API_SECRET", rand(HEX, 32)),
    ("secret-named-variable", "MIXPANEL_API_SECRET", rand(HEX, 32)),
    ("stripe-secret-key", "PUSHER_APP_KEY", "sk_live_" + rand(ALNUM, 24)),
    # a command line kept in a variable
    ("secret-named-variable", "REDIS_ARGS", f"--requirepass {_IR} --appendonly yes"),
]

INDEPENDENT_NEGATIVE = [
    ("MONGO_URL", "mongodb://app:${MONGO_PASSWORD}@mongo:27017/app?authSource=admin"),
    ("MONGO_URL", "mongodb://mongo:27017/app?authSource=admin&authMechanism=SCRAM-SHA-256"),
    ("QUERY", "a=1&b=2&c=three"),
    ("OAUTH_FORM", "grant_type=client_credentials&client_id=orders&client_secret=${CLIENT_SECRET}"),
    ("DB_CREDENTIALS", "user=app password=${DB_PASSWORD}"),
    ("WORDPRESS_CONFIG_EXTRA", "define('WP_MEMORY_LIMIT', '256M');\ndefine('FS_METHOD', 'direct');"),
    ("WORDPRESS_CONFIG_EXTRA", "define('DB_PASSWORD', getenv('DB_PASSWORD'));"),
    ("APP_CONFIG_JS", "module.exports = { password: process.env.DB_PASSWORD }"),
    ("GITLAB_OMNIBUS_CONFIG", "external_url 'https://g.example.com'; letsencrypt['enable'] = false"),
    ("Header", "X-Service orders"),
    ("Header", "Content-Type application/json"),
    ("Header", "X-Api-Key ${API_KEY}"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-dataset=orders,x-scope-orgid=tenant-a"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=${HONEYCOMB_API_KEY}"),
    ("URI", "/api/v1/logs"),
    ("SMTP_URL", "smtp://postmaster@mg.example.com:${SMTP_PASSWORD}@smtp.mailgun.org:587"),
    ("CALLBACK", "https://user@host.example.com:8443/path?next=a@b"),
    ("RABBITMQ_ERLANG_COOKIE", "${ERLANG_COOKIE}"),
    # encrypted values
    (
        "DB_PASSWORD",
        "ENC[AES256_GCM,data:"
        + rand(ALNUM, 24)
        + "=,iv:"
        + rand(ALNUM, 43)
        + "=,tag:"
        + rand(ALNUM, 22)
        + "==,type:str]",
    ),
    ("SPRING_DATASOURCE_PASSWORD", "ENC(" + rand(ALNUM, 32) + "==)"),
    ("API_KEY", "AQICAHh" + rand(ALNUM + "+/", 170) + "=="),
    ("DB_PASSWORD", "$ANSIBLE_VAULT;1.1;AES256\n" + rand(HEX, 64)),
    ("DB_PASSWORD_ENCRYPTED", rand(ALNUM, 40)),
    # keys public by vendor design
    ("ALGOLIA_SEARCH_KEY", rand(HEX, 32)),
    ("ALGOLIA_SEARCH_ONLY_API_KEY", rand(HEX, 32)),
    ("PUSHER_APP_KEY", rand(HEX, 20)),
    ("SHOPIFY_API_KEY", rand(HEX, 32)),
    ("MIXPANEL_TOKEN", rand(HEX, 32)),
    ("POSTHOG_API_KEY", "phc_" + rand(ALNUM, 43)),
    (
        "FIREBASE_CONFIG",
        json.dumps(
            {"apiKey": "AIza" + rand(URLSAFE, 35), "authDomain": "acme.firebaseapp.com", "messagingSenderId": "1234"}
        ),
    ),
    (
        "WEB_CONFIG",
        json.dumps({"apiKey": "AIza" + rand(URLSAFE, 35), "messagingSenderId": "1234", "appId": "1:1:web:2"}),
    ),
    # placeholders
    ("AUTH_TOKEN", "test"),
    ("DB_PASSWORD", "foobar"),
    ("SECRET_KEY", "please-change-this"),
    ("REDIS_ARGS", "--appendonly yes --save 60 1000"),
]


@pytest.mark.parametrize(
    ("rule", "name", "value"), INDEPENDENT_POSITIVE, ids=[f"{r}:{n}" for r, n, _ in INDEPENDENT_POSITIVE]
)
def test_independent_rule_fires(rule: str, name: str, value: str) -> None:
    match = classify_variable(name, value)
    assert match is not None, f"{name} should be a {rule}"
    assert match.rule == rule
    texts = (match.hint, repr(match).replace(repr(match.kind), ""))
    assert not any(_IR in text for text in texts)


@pytest.mark.parametrize(("name", "value"), INDEPENDENT_NEGATIVE, ids=[n for n, _ in INDEPENDENT_NEGATIVE])
def test_independent_not_a_secret(name: str, value: str) -> None:
    assert classify_variable(name, value) is None


def test_firebase_config_still_reports_a_real_secret_inside() -> None:
    config = {"apiKey": "AIza" + rand(URLSAFE, 35), "authDomain": "a.firebaseapp.com", "serverKey": _IR}
    match = classify_variable("FIREBASE_CONFIG", json.dumps(config))
    assert match is not None and match.rule == "embedded-assignment"
    assert classify_variable("APP_CONFIG", json.dumps({"apiKey": "AIza" + rand(URLSAFE, 35)})) is not None


INDEPENDENT_ARG_POSITIVE = [
    (["redis-server", "--requirepass", _IR, "--appendonly", "yes"], 2),
    (["redis-server", "--masterauth", _IR], 2),
    (["sh", "-c", "mysqladmin ping -h localhost -uroot -pAb9=cd7Ef"], 2),  # "=" inside the attached password
    (["mysql", "-uroot", "-pAb9=cd7Ef"], 2),
    (["aws", "configure", "set", "aws_secret_access_key", rand(ALNUM + "/+", 40)], 4),
    (["redis-cli", "CONFIG", "SET", "requirepass", _IR], 4),
    (["rabbitmqctl", "add_user", "orders", _IR], 3),
    (["rabbitmqctl", "change_password", "orders", _IR], 3),
    (["sh", "-c", f"rabbitmqctl add_user orders {_IR} && rabbitmqctl set_user_tags orders administrator"], 2),
    (["htpasswd", "-bc", "/etc/nginx/.htpasswd", "admin", _IR], 4),
    (["htpasswd", "-nbB", "admin", _IR], 3),
]

INDEPENDENT_ARG_NEGATIVE = [
    ["redis-server", "--requirepass", "$REDIS_PASSWORD"],
    ["sh", "-c", 'redis-server --requirepass "$REDIS_PASSWORD"'],
    ["mysql", "-uroot", "-p$MYSQL_ROOT_PASSWORD"],
    ["aws", "configure", "set", "region", "eu-west-1"],
    ["aws", "configure", "set", "aws_secret_access_key", "$AWS_SECRET_ACCESS_KEY"],
    ["redis-cli", "CONFIG", "SET", "requirepass", "${REDIS_PASSWORD}"],
    ["sh", "-c", "set -eux && exec app"],
    ["rabbitmqctl", "add_user", "orders", "$RABBITMQ_PASSWORD"],
    ["rabbitmqctl", "add_vhost", "orders"],
    ["rabbitmqctl", "set_permissions", "-p", "/", "orders", ".*", ".*", ".*"],
    ["htpasswd", "-c", "/etc/nginx/.htpasswd", "admin"],
    ["sh", "-c", "htpasswd -bc /etc/nginx/.htpasswd admin $ADMIN_PASSWORD && nginx -g 'daemon off;'"],
]


@pytest.mark.parametrize(("args", "index"), INDEPENDENT_ARG_POSITIVE)
def test_independent_arguments_fire(args: list[str], index: int) -> None:
    found = scan_arguments(args)
    assert found, args
    assert found[0][0] == index
    assert not any(_IR in (m.hint + repr(m)) for _, m in found)


@pytest.mark.parametrize("args", INDEPENDENT_ARG_NEGATIVE)
def test_independent_arguments_not_secret(args: list[str]) -> None:
    assert scan_arguments(args) == []


def test_independent_set_is_generated_and_scores() -> None:
    path = ROOT / "tests/data/secrets_independent.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) >= 350
    assert {r["where"] for r in rows} == {"environment", "option", "argument"}
    assert all(r["why"] for r in rows)
    check = subprocess.run([sys.executable, str(ROOT / "benchmarks/secretsets/independent.py"), "--check"], check=False)
    assert check.returncode == 0, (
        "tests/data/secrets_independent.jsonl is stale: rerun benchmarks/secretsets/independent.py"
    )
    tp = fp = fn = 0
    for row in rows:
        if row["where"] == "argument":
            found = bool(scan_arguments(row["value"]))
        else:
            found = classify_variable(row["name"], row["value"]) is not None
        tp += found and row["secret"]
        fp += found and not row["secret"]
        fn += not found and row["secret"]
    assert tp / (tp + fp) >= 0.98 and tp / (tp + fn) >= 0.95


# --------------------------------------------------------------------------------------------
# Real-world check (docs/secrets.md): rules generalised after labelling public task definitions.
# Same shapes as the real entries, synthetic values.
# --------------------------------------------------------------------------------------------

_RW_WORDS = "ocean river maple stone cloud ember frost grain hollow ivory jungle kettle lemon mango".split()

REAL_WORLD_POSITIVE = [
    # a password the author chose, in a URL to a deployed host: "my…" is not a request to fill in
    (
        "url-credentials",
        "DATABASE_URL",
        "postgres://postgres:mypassword@db-" + rand(HEX, 8) + ".rds.amazonaws.com:5432/app",
    ),
    ("url-credentials", "DATABASE_URL", "postgres://app:my-db-password@10.0.3.7:5432/app"),
    # Toss Payments secret key (the client key is public, below)
    ("toss-payments-secret-key", "TOSS_PAYMENTS_SECRET_KEY", "live_sk_" + rand(ALNUM, 24)),
    ("toss-payments-secret-key", "PAYMENTS", "test_gsk_" + rand(ALNUM, 24)),
    # a BIP39-style wallet mnemonic under a wallet name (12 and 24 words)
    ("secret-named-variable", "SolanaOASIS__WalletMnemonicWords", " ".join(_rng.sample(_RW_WORDS, 12))),
    ("secret-named-variable", "WALLET_SEED_PHRASE", " ".join(_rng.choice(_RW_WORDS) for _ in range(24))),
    ("secret-named-variable", "RECOVERY_PHRASE", " ".join(_rng.choice(_RW_WORDS) for _ in range(15))),
    # Portuguese/Spanish password nouns in names
    ("secret-named-variable", "DB_SENHA", "S3nh4" + rand(ALNUM, 6)),
    ("secret-named-variable", "SMTP_CONTRASENA", rand(ALNUM, 10) + "!"),
    # a prefix around a real random body is not a stand-in
    ("secret-named-variable", "WEBHOOK_SECRET", "whsec_dummy" + rand(ALNUM, 14)),
]

REAL_WORLD_NEGATIVE = [
    ("WEBHOOK_SECRET", "whsec_dummy"),
    ("STRIPE_SECRET_KEY", "sk_test_fake"),
    ("API_TOKEN", "token-sample-1"),
    ("TOSS_PAYMENTS_CLIENT_KEY", "test_ck_" + rand(ALNUM, 28)),
    ("PAYMENT_CLIENT_KEY", "live_gck_" + rand(ALNUM, 28)),
    ("MAIL_PASS", "SuaSenha"),
    ("DB_SENHA", "sua_senha"),
    ("SMTP_PASSWORD", "tu-contrasena"),
    ("API_TOKEN", "seu_token_aqui"),
    ("DB_PASSWORD", "votre_mot_de_passe"),
    ("API_KEY", "my-api-key"),
    ("DATABASE_URL", "postgres://user:mytoken@db:5432/app"),
    ("SERVICE_DESCRIPTION", "the quick brown fox jumps over the lazy dog near the river bank today"),
    ("WALLET_PUBLIC_KEY", rand(ALNUM, 44)),
    ("MNEMONIC_LANGUAGE", "english"),
]


@pytest.mark.parametrize(("rule", "name", "value"), REAL_WORLD_POSITIVE)
def test_real_world_shapes_fire(rule: str, name: str, value: str) -> None:
    match = classify_variable(name, value)
    assert match is not None, name
    assert match.rule == rule
    assert value not in match.hint + repr(match)


@pytest.mark.parametrize(("name", "value"), REAL_WORLD_NEGATIVE)
def test_real_world_shapes_not_secret(name: str, value: str) -> None:
    assert classify_variable(name, value) is None


# --------------------------------------------------------------------------------------------
# Styles round (docs/secrets.md, "Third red-team round: styles"): naming styles, value encodings and
# tool arguments. Each generalised rule with entries that must fire and look-alikes that must not.
# Synthetic values only.
# --------------------------------------------------------------------------------------------


_ST = rand(ALNUM, 22)  # canary for this section: must never reach a hint or repr
_ST_PEM = (
    "-----BEGIN PRIVATE KEY-----\n" + _b64.b64encode(_rng.randbytes(300)).decode() + "\n-----END PRIVATE KEY-----\n"
)
_ST_SA = json.dumps(
    {"type": "service_account", "private_key": _ST_PEM, "client_email": "x@demo.iam.gserviceaccount.com"}
)
_ST_CERT = (
    "-----BEGIN CERTIFICATE-----\n" + _b64.b64encode(_rng.randbytes(300)).decode() + "\n-----END CERTIFICATE-----\n"
)

STYLES_POSITIVE = [
    # a numbered credential keeps its noun
    ("secret-named-variable", "PASSWORD2", _ST),
    ("secret-named-variable", "dbPassword1", _ST),
    ("secret-named-variable", "API_KEY3", _ST),
    # abbreviations: pre-shared keys and TKN
    ("secret-named-variable", "VPN_PSK", _ST),
    ("secret-named-variable", "IPSEC_PSK", _ST),
    ("secret-named-variable", "GH_TKN", _ST),
    # password in other languages
    ("secret-named-variable", "MOT_DE_PASSE", _ST),
    ("secret-named-variable", "motDePasse", _ST),
    ("secret-named-variable", "MOTDEPASSE", _ST),
    ("secret-named-variable", "DB_KENNWORT", _ST),
    ("secret-named-variable", "PAROLA", _ST),
    ("secret-named-variable", "WACHTWOORD", _ST),
    ("secret-named-variable", "SALASANA", _ST),
    ("secret-named-variable", "HASLO", _ST),
    ("secret-named-variable", "SMTP_PASSORD", _ST),
    ("secret-named-variable", "LOSENORD", _ST),
    # base64 of a service-account JSON / PEM private key under any name
    ("private-key", "GCP_SA_KEY_B64", _b64.b64encode(_ST_SA.encode()).decode()),
    ("private-key", "PAYLOAD", _b64.b64encode(_ST_PEM.encode()).decode()),
    ("private-key", "SA_URLSAFE", _b64.urlsafe_b64encode(_ST_SA.encode()).decode().rstrip("=")),
    # Oracle thin user/password inside a JDBC URL
    ("url-credentials", "ORACLE_URL", f"jdbc:oracle:thin:scott/{_ST}@db.internal:1521/ORCL"),
    ("url-credentials", "DB_URL", f"jdbc:oracle:oci:app/{_ST}@//db.internal:1521/svc"),
    # a netrc entry, one line or several
    ("netrc-password", "NETRC", f"machine api.example.com login bot password {_ST}"),
    ("netrc-password", "NETRC_CONTENT", f"machine a.example.com\nlogin bot\npassword {_ST}\n"),
    ("netrc-password", "CREDS_FILE", f"default login anonymous password {_ST}"),
]

STYLES_NEGATIVE = [
    # Spring Cloud Config {cipher} values are encrypted at rest
    ("spring.datasource.password", "{cipher}" + rand(HEX, 64)),
    ("spring.datasource.password", "{cipher}{key:prod}" + rand(ALNUM, 40) + "=="),
    # numbered non-credentials and provider names ending in a digit
    ("PASSWORD2_POLICY", "strict"),
    ("KEY1", "created_at"),
    ("AUTH0_DOMAIN", "acme.eu.auth0.com"),
    ("OAUTH2_PROVIDER", "github"),
    # qualifiers after the new nouns
    ("PSK_IDENTITY", "client1"),
    ("PSK_MODE", "disabled"),
    ("TKN_TTL", "900"),
    ("KENNWORT_MIN_LENGTH", "12"),
    ("MOT_DE_PASSE", "${MDP}"),
    ("PAROLA", "<parola>"),
    # base64 of public or key-less material
    ("CA_BUNDLE_B64", _b64.b64encode(_ST_CERT.encode()).decode()),
    (
        "GCP_WIF_CONFIG_B64",
        _b64.b64encode(json.dumps({"type": "external_account", "audience": "//iam"}).encode()).decode(),
    ),
    ("FEATURE_FLAGS_B64", _b64.b64encode(json.dumps({"newCheckout": True, "tokenAuth": False}).encode()).decode()),
    # netrc look-alikes
    ("NETRC", "machine api.example.com login bot password ${NETRC_PASSWORD}"),
    ("DESCRIPTION", "the machine learning job resets the default password policy"),
    ("NETRC_FILE", "/home/app/.netrc"),
    # Oracle without a password
    ("ORACLE_URL", "jdbc:oracle:thin:@//db.internal:1521/ORCL"),
]


@pytest.mark.parametrize(("rule", "name", "value"), STYLES_POSITIVE)
def test_styles_rule_fires(rule: str, name: str, value: str) -> None:
    match = classify_variable(name, value)
    assert match is not None, name
    assert match.rule == rule
    assert _ST not in match.hint + repr(match) + match.kind


@pytest.mark.parametrize(("name", "value"), STYLES_NEGATIVE)
def test_styles_not_secret(name: str, value: str) -> None:
    assert classify_variable(name, value) is None


STYLES_ARG_POSITIVE = [
    # mongo shell and tools: -p is the password
    (["mongo", "-u", "admin", "-p", _ST, "--eval", "db.adminCommand('ping')"], 4),
    (["mongodump", "--username", "backup", "-p", _ST, "--out", "/tmp/d"], 4),
    # SQL Server tools: -P is the password
    (["/opt/mssql-tools/bin/sqlcmd", "-S", "localhost", "-U", "sa", "-P", _ST, "-Q", "SELECT 1"], 6),
    (["CMD-SHELL", f"/opt/mssql-tools18/bin/sqlcmd -C -S localhost -U sa -P '{_ST}' -Q 'SELECT 1' || exit 1"], 1),
    # an unknown tool with -U <user> -P <value>
    (["./cli", "-P", _ST, "-U", "admin"], 2),
    (["isql", "-U", "sa", "-P", _ST], 4),
    # registry logins: -p after the login subcommand
    (["docker", "login", "-u", "ci", "-p", _ST, "registry.internal"], 5),
    # a literal piped to a program reading its password from stdin
    (["sh", "-c", f"echo {_ST} | docker login -u ci --password-stdin registry.internal"], 2),
    (["sh", "-c", f"echo 'root:{_ST}' | chpasswd"], 2),
    # user<sep>password in one argument
    (["lftp", "-u", f"ftpuser,{_ST}", "ftp.example.com"], 2),
    (["smbclient", "//srv/share", "-U", f"svc%{_ST}"], 3),
    # a secret-named header argument
    (["./client", "--header", f"X-Api-Key: {_ST}"], 2),
    (["curl", "-H", f"Private-Token:{_ST}", "https://gitlab.example.com/api/v4/projects"], 2),
    (["http", "GET", "api.example.com", f"X-Api-Key: {_ST}"], 3),
]

STYLES_ARG_NEGATIVE = [
    ["mongo", "--host", "db", "--port", "27017"],
    ["mongosh", "-u", "admin", "-p", "$MONGO_PASSWORD"],
    ["/opt/mssql-tools/bin/sqlcmd", "-S", "localhost", "-U", "sa", "-P", "$SA_PASSWORD", "-Q", "SELECT 1"],
    ["./cli", "-P", "5432", "-U", "admin"],
    ["./tool", "-U", "admin", "-P", "/etc/tool/pw"],
    ["psql", "-U", "app", "-P", "pager=off"],
    ["mvn", "-P", "prod,release", "-U", "clean", "install"],
    ["rsync", "-u", "-P", "data", "/dst"],
    ["scp", "-P", "2222", "-o", "User=deploy", "a.txt", "host:/tmp"],
    ["docker", "run", "--name", "login", "-p", "8080:80", "nginx"],
    ["docker", "run", "-p", "8080:80", "acme/login"],
    ["sh", "-c", "echo $REGISTRY_PASSWORD | docker login -u ci --password-stdin registry.internal"],
    ["sh", "-c", "echo hello | tr a-z A-Z"],
    ["sh", "-c", "cat /run/secrets/pw | docker login -u ci --password-stdin registry.internal"],
    ["lftp", "-u", "ftpuser", "ftp.example.com"],
    ["smbclient", "-L", "srv", "-U", "svc"],
    ["curl", "-H", "Content-Type: application/json", "http://localhost:8080/"],
    ["curl", "-H", "X-Api-Key: $API_KEY", "https://api.example.com"],
    ["./app", "--help-text", "Password: must be at least 12 characters"],
]


@pytest.mark.parametrize(("args", "index"), STYLES_ARG_POSITIVE)
def test_styles_arguments_fire(args: list[str], index: int) -> None:
    found = scan_arguments(args)
    assert found, args
    assert found[0][0] == index
    assert not any(_ST in (m.hint + repr(m) + m.kind) for _, m in found)


@pytest.mark.parametrize("args", STYLES_ARG_NEGATIVE)
def test_styles_arguments_not_secret(args: list[str]) -> None:
    assert scan_arguments(args) == []


def test_styles_set_is_generated_and_scores() -> None:
    path = ROOT / "tests/data/secrets_styles.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) >= 300
    assert {r["where"] for r in rows} == {"environment", "option", "argument"}
    assert all(r["why"] for r in rows)
    check = subprocess.run([sys.executable, str(ROOT / "benchmarks/secretsets/styles.py"), "--check"], check=False)
    assert check.returncode == 0, "tests/data/secrets_styles.jsonl is stale: rerun benchmarks/secretsets/styles.py"
    tp = fp = fn = 0
    for row in rows:
        if row["where"] == "argument":
            found = bool(scan_arguments(row["value"]))
        else:
            found = classify_variable(row["name"], row["value"]) is not None
        tp += found and row["secret"]
        fp += found and not row["secret"]
        fn += not found and row["secret"]
    assert tp / (tp + fp) >= 0.98 and tp / (tp + fn) >= 0.95


# --------------------------------------------------------------------------------------------
# Provider coverage: self-identifying formats reviewed against the gitleaks rule set (plus Kingfisher/TruffleHog
# prefixes). Bodies are seeded random filler of the published shape, never a real or fixture key.
# --------------------------------------------------------------------------------------------

UPPER_ALNUM = string.ascii_uppercase + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
B64 = ALNUM + "+/"
DIGITS = "0123456789"


def _uuid() -> str:
    return f"{rand(HEX, 8)}-{rand(HEX, 4)}-{rand(HEX, 4)}-{rand(HEX, 4)}-{rand(HEX, 12)}"


# (rule, value): must fire with that rule under a neutral name, as a --flag=value and inside a shell string
PROVIDER_COVERAGE = [
    ("1password-secret-key", "A3-" + "-".join(rand(UPPER_ALNUM, n) for n in (6, 11, 5, 5, 5))),
    ("1password-secret-key", "A3-" + "-".join(rand(UPPER_ALNUM, n) for n in (6, 6, 5, 5, 5, 5))),
    ("1password-service-account-token", "ops_eyJ" + rand(B64, 260)),
    ("adobe-client-secret", "p8e-" + rand(ALNUM, 32)),
    ("artifactory-api-key", "AKCp" + rand(ALNUM, 69)),
    ("artifactory-reference-token", "cmVmd" + rand(ALNUM, 59)),
    (
        "authress-access-key",
        f"sc_{rand(LOWER_ALNUM, 12)}.{rand(LOWER_ALNUM, 5)}.acc_{rand(LOWER_ALNUM, 20)}.{rand(B64, 60)}",
    ),
    ("aws-access-key-id", "A3T" + rand(UPPER_ALNUM, 1) + rand("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
    ("clickhouse-api-secret", "4b1d" + rand(ALNUM, 38)),
    ("clojars-token", "CLOJARS_" + rand(LOWER_ALNUM, 60)),
    ("cloudflare-origin-ca-key", f"v1.0-{rand(HEX, 24)}-{rand(HEX, 146)}"),
    ("defined-networking-token", f"dnkey-{rand(LOWER_ALNUM, 26)}-{rand(LOWER_ALNUM, 52)}"),
    ("dropbox-token", "sl." + rand(URLSAFE, 135)),
    ("duffel-token", "duffel_live_" + rand(URLSAFE, 43)),
    ("duffel-token", "duffel_test_" + rand(URLSAFE, 43)),
    ("easypost-api-key", "EZAK" + rand(ALNUM, 54)),
    ("easypost-api-key", "EZTK" + rand(ALNUM, 54)),
    ("flutterwave-secret-key", f"FLWSECK_TEST-{rand('abcdefgh0123456789', 32)}-X"),
    ("flutterwave-secret-key", f"FLWSECK_TEST-{rand('abcdefgh0123456789', 12)}"),
    ("flyio-token", "fo1_" + rand(URLSAFE, 43)),
    ("flyio-token", "fm2_" + rand(B64, 140)),
    ("frameio-token", "fio-u-" + rand(URLSAFE, 64)),
    ("gitlab-token", "glffct-" + rand(URLSAFE, 20)),
    ("gitlab-token", f"glpat-{rand(URLSAFE, 36)}.{rand(LOWER_ALNUM, 9)}"),
    ("gitlab-token", f"glrt-t1_{rand(URLSAFE, 27)}.{rand(LOWER_ALNUM, 9)}"),
    ("gitlab-session-cookie", "_gitlab_session=" + rand(LOWER_ALNUM, 32)),
    ("grafana-token", "eyJrIjoi" + rand(ALNUM, 90) + "=="),
    ("harness-token", f"pat.{rand(URLSAFE, 22)}.{rand(ALNUM, 24)}.{rand(ALNUM, 20)}"),
    ("harness-token", f"sat.{rand(URLSAFE, 22)}.{rand(ALNUM, 24)}.{rand(ALNUM, 20)}"),
    ("huggingface-token", "api_org_" + rand(string.ascii_letters, 34)),
    ("infracost-token", "ico-" + rand(ALNUM, 32)),
    ("intra42-client-secret", "s-s4t2ud-" + rand(HEX, 64)),
    ("maxmind-license-key", f"{rand(ALNUM, 6)}_{rand(ALNUM, 29)}_mmk"),
    ("new-relic-key", "NRII-" + rand(URLSAFE, 32)),
    ("new-relic-key", "NRAK-" + rand(LOWER_ALNUM, 27)),
    ("octopus-deploy-api-key", "API-" + rand(UPPER_ALNUM, 26)),
    ("openshift-token", "sha256~" + rand(URLSAFE, 43)),
    ("plaid-access-token", "access-production-" + _uuid()),
    ("prefect-api-key", "pnu_" + rand(ALNUM, 36)),
    ("readme-api-key", "rdme_" + rand(LOWER_ALNUM, 70)),
    ("scalingo-token", "tk-us-" + rand(URLSAFE, 48)),
    ("sendgrid-api-key", "SG." + rand(LOWER_ALNUM + "_-", 66)),
    ("settlemint-token", "sm_pat_" + rand(ALNUM, 16)),
    ("settlemint-token", "sm_aat_" + rand(ALNUM, 16)),
    ("shippo-api-key", "shippo_live_" + rand(HEX, 40)),
    ("slack-webhook", "hooks.slack.com/services/" + rand(ALNUM + "+/", 50)),
    ("sourcegraph-token", f"sgp_{rand(HEX, 16)}_{rand(HEX, 40)}"),
    ("sourcegraph-token", "sgp_local_" + rand(HEX, 40)),
    ("stripe-secret-key", "sk_prod_" + rand(ALNUM, 32)),
    ("stripe-secret-key", "rk_prod_" + rand(ALNUM, 24)),
    ("twilio-api-key", "SK" + rand("0123456789abcdefABCDEF", 32)),
    ("twitter-bearer-token", "A" * 22 + rand("BCDEFGHIJKLMNOPQRSTUVWXYZ", 1) + rand(ALNUM + "%", 90)),
    ("typeform-token", "tfp_" + rand(URLSAFE + ".", 59)),
    ("yandex-api-key", "AQVN" + rand(URLSAFE, 36)),
    ("yandex-access-token", f"t1.{rand(URLSAFE, 40)}.{rand(URLSAFE, 86)}"),
    ("langsmith-api-key", f"lsv2_pt_{rand(HEX, 32)}_{rand(HEX, 10)}"),
    ("langsmith-api-key", f"lsv2_sk_{rand(HEX, 32)}_{rand(HEX, 10)}"),
    ("pinecone-api-key", f"pcsk_{rand(ALNUM, 6)}_{rand(ALNUM, 64)}"),
    ("openrouter-api-key", "sk-or-v1-" + rand(HEX, 64)),
    (
        "azure-identifiable-key",
        rand(ALNUM, 52) + "JQQJ99" + rand(UPPER_ALNUM, 6) + "XJ3w3AAA" + rand(UPPER_ALNUM, 8) + rand(ALNUM, 4),
    ),
    ("azure-identifiable-key", rand(ALNUM, 52) + "JQQJ99" + rand(ALNUM, 2) + "AZDO" + rand(ALNUM, 20)),
    ("bitbucket-app-password", "ATBB" + rand(ALNUM, 32)),
    ("circleci-token", f"CCIPAT_{rand(ALNUM, 22)}_{rand(HEX, 40)}"),
    ("docker-hub-token", "dckr_oat_" + rand(URLSAFE, 32)),
    ("figma-token", "figd_" + rand(URLSAFE, 40)),
    ("resend-api-key", f"re_{rand(ALNUM, 8)}_{rand(ALNUM, 24)}"),
    ("mailersend-token", "mlsn." + rand(HEX, 64)),
    ("netlify-token", "nfp_" + rand(ALNUM, 36)),
    ("render-api-key", "rnd_" + rand(ALNUM, 32)),
    ("neon-api-key", "napi_" + rand(LOWER_ALNUM, 64)),
    ("supabase-token", "sb_secret_" + rand(URLSAFE, 31)),
    ("sonarqube-token", "squ_" + rand(HEX, 40)),
    ("sonarqube-token", "sqp_" + rand(HEX, 40)),
    ("fcm-server-key", f"AAAA{rand(URLSAFE, 7)}:APA91b{rand(URLSAFE, 134)}"),
    ("discord-bot-token", f"MT{rand(ALNUM, 24)}.{rand(URLSAFE, 6)}.{rand(URLSAFE, 38)}"),
    ("langfuse-secret-key", "sk-lf-" + _uuid()),
    ("honeycomb-api-key", "hcaik_" + rand(LOWER_ALNUM, 58)),
    ("elevenlabs-api-key", "sk_" + rand(HEX, 48)),
]

# Near misses under a neutral name: a prefix alone, a placeholder body, a wrong length, a public key, a word
PROVIDER_COVERAGE_NEGATIVE = [
    "xoxb-your-token-here",
    "ghp_" + "x" * 36,
    "sk_live_XXXXXXXXXXXXXXXXXXXXXXXX",
    "glpat-xxxxxxxxxxxxxxxxxxxx",
    "hf_",
    "glffct-",
    "A3-ABCDEF",
    "ops_eyJ",
    "p8e-",
    "AKCp" + "X" * 69,
    "cmVmcy9oZWFkcy9tYWlu",  # base64 of refs/heads/main
    "4b1d",
    "CLOJARS_",
    "v1.0-" + "0" * 24 + "-" + "0" * 146,
    "v1.0-beta",
    "sl.example.com",
    "duffel_test_",
    "EZAK" + "X" * 54,
    "FLWSECK_TEST-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-X",
    "FLWPUBK_TEST-" + "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6" + "-X",  # Flutterwave public key
    "fio-u-",
    "pat.example.com",
    "sat.timeout",
    "api_org_",
    "ico-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "s-s4t2ud-" + "0" * 64,
    "API-XXXXXXXXXXXXXXXXXXXXXXXXXX",
    "API-GATEWAY-STAGE-PROD",
    "sha256~" + "x" * 43,
    "sha256:" + "a1" * 32,
    "access-sandbox-00000000-0000-0000-0000-000000000000",
    "access-log-bucket",
    "pnu_your_prefect_api_key_here",
    "rdme_" + "x" * 70,
    "tk-us-" + "x" * 48,
    "sm_pat_YOUR_TOKEN_HERE",
    "A" * 22 + "x" * 80,
    "A" * 40,
    "tfp_",
    "t1.micro",
    "lsv2_pt_...",
    "lsv2_pt_" + "x" * 32 + "_" + "x" * 10,
    "pcsk_...",
    "sk-or-v1-your_key_here",
    "sk-or-v1-...",
    "figd_...",
    "re_your_api_key",
    "re_run_migrations_on_start",
    "mlsn.xxxxxxxxxxxxxxxx",
    "nfp_YOUR_NETLIFY_TOKEN",
    "rnd_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "napi_" + "x" * 64,
    "sb_publishable_" + "a1B2c3D4e5" * 3,  # Supabase publishable key: public by design
    "sqp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "pk-lf-1b4e28ba-2fa1-11d2-883f-0016d3cca427",  # Langfuse public key
    "sk_" + "0" * 48,
    "Node-exporter-instance-01.abcdef.internal-cluster-example-com",
    "AAAAB3NzaC1yc2EAAAADAQABAAABAQ" + "C" * 100,
]


@pytest.mark.parametrize(
    ("rule", "value"), PROVIDER_COVERAGE, ids=[f"{r}-{i}" for i, (r, _) in enumerate(PROVIDER_COVERAGE)]
)
def test_provider_format_fires_under_a_neutral_name(rule: str, value: str) -> None:
    for name in ("VALUE", "CONFIG_X", "SETTING"):
        found = classify_variable(name, value)
        assert found is not None and found.rule == rule, (name, found)
        assert value not in found.hint + repr(found) + found.kind
        assert found.fingerprint == fingerprint(value)
    for args in (["tool", f"--token={value}"], ["sh", "-c", f"tool --config /etc/x {value}"]):
        hits = scan_arguments(args)
        assert hits and hits[0][1].rule == rule, args
        assert not any(value in m.hint + repr(m) for _, m in hits)


@pytest.mark.parametrize("value", PROVIDER_COVERAGE_NEGATIVE)
def test_provider_near_miss_is_quiet(value: str) -> None:
    assert classify_variable("VALUE", value) is None


@pytest.mark.parametrize(
    "value",
    [
        "A" * 26 + rand(ALNUM, 90),  # base64 of zero bytes then data, not a 22-A bearer token
        rand(ALNUM, 20) + "/" + "cmVmd" + rand(ALNUM, 59) + "+" + rand(ALNUM, 20),  # a run inside a base64 blob
        rand(ALNUM, 30) + "+" + "AKCp" + rand(ALNUM, 69) + "/" + rand(ALNUM, 10),
    ],
)
def test_base64_prefixed_formats_need_a_token_boundary(value: str) -> None:
    assert classify_variable("BLOB", value) is None


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("BUNDLE_GEMS__CONTRIBSYS__COM", f"{rand(HEX, 8)}:{rand(HEX, 8)}", True),
        ("BUNDLE_ENTERPRISE__CONTRIBSYS__COM", f"{rand(HEX, 8)}:{rand(HEX, 8)}", True),
        ("BUNDLE_GEMS__CONTRIBSYS__COM", "${SIDEKIQ_CREDENTIALS}", False),
        ("BUNDLE_GEMS__CONTRIBSYS__COM", "user:changeme", False),
        ("BUNDLE_PATH", "vendor/bundle", False),
        ("BUNDLE_WITHOUT", "development:test", False),
    ],
)
def test_bundler_host_credentials(name: str, value: str, secret: bool) -> None:
    found = classify_variable(name, value)
    assert (found is not None) is secret
    if found:
        assert found.rule == "bundler-credentials"
        assert value.split(":")[1] not in found.hint + repr(found)


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        (
            f'<packageSourceCredentials><feed><add key="Username" value="ci" /><add key="ClearTextPassword" value="{rand(ALNUM, 14)}" /></feed></packageSourceCredentials>',
            True,
        ),
        ('<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />', False),
        ('<add key="PageSize" value="50" />', False),
    ],
)
def test_nuget_and_appsettings_add_key_value(value: str, secret: bool) -> None:
    found = classify_variable("NUGET_CONFIG", value)
    assert (found is not None) is secret


# Precision check on real .env examples (docs/secrets.md): the shapes other people's samples use for
# "fill this in", each with a synthetic live counterpart that must still fire.
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", "generate_a_new_key"),  # a request led by an instruction verb
        ("AWS_SECRET_ACCESS_KEY", "get_the_secret_of_the_above_key"),
        ("AWS_SECRET_ACCESS_KEY", "votre_secret_access_key_r2"),
        ("SECRETS_SYSTEM", "youReallyNeedToChangeThis"),  # camelCase requests
        ("APP_KEY", "SomeRandomStringOf32CharsExactly"),
        ("APP_KEYS", "toBeModified1,toBeModified2"),
        ("OPENAI_API_KEY", "user_provided"),  # where the value comes from, not the value
        ("MAILCHIMP_API_KEY", "Optional-valid"),
        ("DJANGO_SECRET_KEY", "local-dev-secret-key-change-in-production"),
        ("SECRET_KEY_BASE", "app_secret_key_base_do_not_use_in_production_abc123"),
        ("DASHBOARD_PASSWORD", "this_password_is_insecure_and_should_be_updated"),  # prose
        ("JWT_SECRET", "супер-секретний-ключ-мінімум-32-символи"),
        ("POSTGRES_PASSWORD", "ВАШ_ПАРОЛЬ_POSTGRES"),  # an upper-case name in any script
        ("STRIPE_SECRET_KEY", "sk_test_xxx"),  # a credential prefix around a stand-in
        ("STRIPE_SECRET_KEY", "sk_test_tua_chiave"),
        ("RESEND_API_KEY", "re_123456789"),
        ("APP_KEY", "base64:your-app-key"),
        ("APP_KEY", "base64:" + "X" * 32),
        ("APP_KEY", "base64:VOTRE_CLE_GENEREE_ICI"),
        ("APP_KEY", "base64:generate-a-real-key"),
        ("SUPABASE_SERVICE_ROLE_KEY", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."),  # elided in documentation
        ("STRIPE_WEBHOOK_SECRET", "whsec_... (optional for now)"),
        ("GITHUB_TOKEN", "ghp_\u2026"),
        ("NEXT_PRIVATE_ENCRYPTION_KEY", "CAFEBABE"),  # hex-speak magic numbers
        ("ENCRYPTION_KEY", "deadbeef"),
        ("TIDB_API_KEY", "dify"),  # a word where an issued key goes
        ("MINIO_ACCESS_KEY", "minioadmin"),
        ("UPSTASH_VECTOR_TOKEN", "demo"),
        ("DB_PASSWORD", "database__user_password"),  # a label of the field
        ("POSTGRES_PASSWORD", "appuser_password"),
        ("SESSION_KEY", "_Dev_Community_Session"),  # the name of the session cookie
        ("ORACLE_DSN", "oracle:1521/FREEPDB1"),  # an address
        ("CREDS_IV", rand(HEX, 32)),  # an IV is public by design
        ("MONGO_INITDB_ROOT_PASSWORD", "${MONGO_PASSWORD:-changeme}"),  # a Compose default that is a stand-in
        ("TELEMETRY_ENABLED", "${TELEMETRY_ENABLED:-true}"),
    ],
)
def test_real_env_example_placeholders_are_quiet(name: str, value: str) -> None:
    assert classify_variable(name, value) is None


_CS_PASSWORD = rand(ALNUM, 10) + "!"
_REDIS_DEFAULT = "myredis" + rand(HEX, 4)
_CH_DEFAULT = "chouse" + rand(HEX, 4)


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("SECRET_KEY", v := rand(ALNUM, 40), v),
        ("SECRET_KEY", v := "get" + rand(string.ascii_letters, 14), v),  # random, starting with a lead word
        ("API_KEY", v := "Some" + rand(ALNUM, 20), v),
        ("SECRET_KEY", "get-lucky-tonight-now", "get-lucky-tonight-now"),  # a chosen phrase, no request in it
        ("DB_PASSWORD", "this-is-my-long-password-phrase", "this-is-my-long-password-phrase"),  # 2 grammar words
        ("REDIS_PASSWORD", "correct-horse-battery-staple-42", "correct-horse-battery-staple-42"),
        ("DB_PASSWORD", "Super_Secure_Password", "Super_Secure_Password"),  # capitalised: chosen, not a label
        ("DB_PASSWORD", "admin_pass", "admin_pass"),  # a prefix around a placeholder word is a chosen password
        ("STRIPE_SECRET_KEY", v := "sk_test_" + rand(ALNUM, 24), v),
        ("APP_KEY", v := "base64:" + _b64.b64encode(bytes(_rng.randrange(256) for _ in range(32))).decode(), v),
        ("MINIO_SECRET_KEY", "minioadmin", "minioadmin"),  # a secret key is chosen: a word there is live
        ("JWT_SECRET", "lighthouse", "lighthouse"),
        ("CLICKHOUSE_PASSWORD", "${CLICKHOUSE_PASSWORD:-" + _CH_DEFAULT + "}", _CH_DEFAULT),  # what Compose renders
        ("REDIS_AUTH", "${REDIS_AUTH:-" + _REDIS_DEFAULT + "}", _REDIS_DEFAULT),  # Redis's AUTH password
        (
            "ConnectionStrings__Db",
            "${DB:-Server=sql;User Id=sa;Password=" + _CS_PASSWORD + ";Encrypt=False}",
            _CS_PASSWORD,
        ),
    ],
)
def test_real_env_example_live_values_still_fire(name: str, value: str, secret: str) -> None:
    found = classify_variable(name, value)
    assert found is not None
    assert secret not in found.hint + repr(found)


@pytest.mark.parametrize(
    "name, value",
    [
        ("ANALYTICDB_PASSWORD", "testpassword"),
        ("GOOGLE_CLIENT_SECRET", "dev-secret"),
        ("JWT_SECRET", "devsecret"),
        ("NEXTAUTH_SECRET", "mysecret"),
        ("POSTGRES_PASSWORD", "postgres"),
    ],
)
def test_chosen_secret_built_from_the_name_is_live_in_a_deployed_definition(name, value):
    """A task definition is deployed configuration: a weak password or secret made of the words around it is the
    value the service runs with (and a guessable one), not a label."""
    assert classify_variable(name, value) is not None


@pytest.mark.parametrize(
    "name, value",
    [
        ("DB_PASSWORD", "db_password"),
        ("JWT_SECRET", "jwt_secret"),
        ("COOKIE_SECRET", "cookieSecret"),
        ("SECRET_KEY", "secret"),
    ],
)
def test_a_value_spelling_the_variable_name_is_a_label(name, value):
    assert classify_variable(name, value) is None


# --------------------------------------------------------------------------------------------
# Log-options round (docs/secrets.md, "Fifth red-team round: log-driver options"): Docker log-driver and
# FireLens/Fluent Bit output options, key = option name. Synthetic values only.
# --------------------------------------------------------------------------------------------
def _uuid() -> str:
    h = rand(HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def test_log_options_set_is_generated_and_labeled() -> None:
    rows = [json.loads(line) for line in (ROOT / "tests/data/secrets_log_options.jsonl").read_text().splitlines()]
    assert len(rows) >= 250
    assert len(rows) / 3 <= sum(r["secret"] for r in rows) <= len(rows) / 2
    assert {r["where"] for r in rows} == {"option"}
    check = subprocess.run([sys.executable, str(ROOT / "benchmarks/secretsets/log_options.py"), "--check"], check=False)
    assert check.returncode == 0, (
        "tests/data/secrets_log_options.jsonl is stale: rerun benchmarks/secretsets/log_options.py"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("URI", f"/bulk/{_uuid()}/tag/ecs/"),  # Loggly: the token is in the path, the Host is another option
        ("URI", f"/inputs/{_uuid().upper()}/tag/http,ecs/"),
    ],
)
def test_loggly_token_in_a_bare_path_fires(name: str, value: str) -> None:
    found = classify_variable(name, value)
    assert found is not None and found.rule == "loggly-token"
    token = value.split("/")[2]
    assert token not in found.hint + repr(found)


@pytest.mark.parametrize(
    "value",
    [
        "/inputs/" + "6513270e-269e-4d37-b2a7-4de452e6b438",  # no /tag/: any API with a resource id
        "/api/inputs/6513270e-269e-4d37-b2a7-4de452e6b438/tag/x",  # a deeper path is not Loggly's grammar
        "/bulk/${LOGGLY_TOKEN}/tag/ecs/",  # a reference
        "/bulk/00000000-0000-0000-0000-000000000000/tag/ecs/",  # a stand-in
        "/inputs/TOKEN/tag/http/",
    ],
)
def test_loggly_like_paths_without_a_token_are_quiet(value: str) -> None:
    assert classify_variable("URI", value) is None


_LOG_OPTION_SECRETS = [
    # Datadog output key in the casings people use
    ("apikey", rand(HEX, 32)),
    ("apiKey", rand(HEX, 32)),
    ("APIKEY", rand(HEX, 32)),
    ("Api_Key", rand(HEX, 32)),
    ("API-KEY", rand(HEX, 32)),
    # Fluent Bit key casing of basic auth and TLS key passwords
    ("HTTP_Passwd", rand(ALNUM, 18)),
    ("Http_Passwd", rand(ALNUM, 18)),
    ("http_passwd", "Walnut#4821Orbit"),
    ("HTTP_Passwd", "Ember7"),  # weak but live
    ("tls.key_passwd", rand(ALNUM, 16)),
    ("rdkafka.sasl.password", rand(ALNUM + "+/", 64)),
    ("rdkafka.ssl.key.password", rand(ALNUM, 14)),
    ("Cloud_Auth", "elastic:" + rand(ALNUM, 24)),
    ("Shared_Key", rand(ALNUM, 24)),
    ("Splunk_Token", _uuid()),
    ("splunk-token", _uuid().upper()),
    ("logentries-token", _uuid()),
    ("licenseKey", rand(HEX, 36) + "NRAL"),
    ("Private_Key", _uuid()),
    ("bearer_token", rand(ALNUM, 40)),
    ("http_passwd", "glc_" + rand(ALNUM, 60) + "=="),
    # the http output's Header option: "<header name> <value>"
    ("Header", f"X-API-Key {rand(ALNUM, 32)}"),
    ("header", f"x-api-key {rand(ALNUM, 32)}"),
    ("Header", f"X-API-Key: {rand(ALNUM, 32)}"),
    ("HEADER", f"DD-API-KEY {rand(HEX, 32)}"),
    ("Header", f"X-Honeycomb-Team {rand(ALNUM, 22)}"),
    ("Header", f"Api-Token {rand(ALNUM, 40)}"),
    (
        "Header",
        f"Authorization Api-Token dt0c01.{rand(string.ascii_uppercase + string.digits, 24)}.{rand(string.ascii_uppercase + string.digits, 64)}",
    ),
    ("Header", f"Authorization GenieKey {_uuid()}"),
    ("Header", f"Authorization Splunk {_uuid()}"),
    ("Header", f"private_key {_uuid()}"),
    ("Header", f"X-Insert-Key {rand(ALNUM, 32)}"),
    ("Header", f"signoz-access-token {_uuid()}"),
    # URLs and query strings in address options
    ("URI", f"/?token={rand(string.ascii_letters, 32)}&type=ecs"),
    ("URI", f"/api/v2/logs?dd-api-key={rand(HEX, 32)}"),
    ("Url", f"https://loki:{rand(ALNUM, 20)}@loki.example.com/loki/api/v1/push"),
    ("fluentd-address", f"tcp://fluent:{rand(ALNUM, 20)}@fluentd:24224"),
]


@pytest.mark.parametrize(("name", "value"), _LOG_OPTION_SECRETS)
def test_log_option_credentials_fire(name: str, value: str) -> None:
    found = classify_variable(name, value)
    assert found is not None
    secret = max(re.split(r"[\s=:@/?&]", value), key=len)  # the longest part is the random credential
    assert len(secret) >= 6 and secret not in found.hint + repr(found)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # names with a credential word, values that are no credential
        ("splunk-caname", "SplunkServerDefaultCert"),
        ("awslogs-credentials-endpoint", "/creds"),
        ("awslogs-credentials-endpoint", f"/v2/credentials/{_uuid()}"),
        ("syslog-tls-key", "/etc/docker/certs/key.pem"),
        ("tls.key_file", "/fluent-bit/etc/client.key"),
        ("tls.verify", "Off"),
        ("AWS_Auth", "On"),
        ("auth_type", "basic"),
        ("Shared_Key_File", "/fluent-bit/etc/shared.key"),
        ("Empty_Shared_Key", "false"),
        ("s3_key_format", "/fluent-bit-logs/$TAG/%Y/%m/%d/$UUID.gz"),
        ("log_key", "log"),
        ("rdkafka.ssl.key.location", "/fluent-bit/etc/client.key"),
        ("rdkafka.sasl.kerberos.principal", "kafka/broker1.example.com@EXAMPLE.COM"),
        ("env", "SPLUNK_TOKEN,DD_API_KEY"),  # the Docker env option lists variable names
        ("RemoveKeys", "password,token"),
        # identifiers and addresses with entropy
        (
            "Cloud_ID",
            "logs:" + _b64.b64encode(f"us-east-1.aws.found.io:443${rand(HEX, 32)}${rand(HEX, 32)}".encode()).decode(),
        ),
        ("tenant_id", _uuid()),
        ("Customer_ID", _uuid()),
        ("rdkafka.sasl.username", rand(string.ascii_uppercase + string.digits, 16)),  # a Confluent API key id
        ("dd_tags", f"env:prod,git.commit.sha:{rand(HEX, 40)}"),
        ("labels", '{job="ecs", cluster="prod"}'),
        ("splunk-url", "https://http-inputs-acme.splunkcloud.com:443"),
        ("role_arn", "arn:aws:iam::123456789012:role/firelens"),
        # headers that carry no credential
        ("Header", f"X-Scope-OrgID {_uuid()}"),
        ("Header", f"X-Request-Id {_uuid()}"),
        ("Header", f"X-Trace-Id {rand(HEX, 32)}"),
        ("Header", "X-Honeycomb-Dataset ecs-logs"),
        ("Header", "Content-Type application/json"),
        ("Header", "Authorization Bearer"),
        ("header_tag", "FLUENT-TAG"),
        # references and placeholders
        ("apikey", "${DD_API_KEY}"),
        ("apiKey", "{{resolve:secretsmanager:datadog/api-key}}"),
        ("apikey", "x" * 32),
        ("apikey", "<DATADOG_API_KEY>"),
        ("Header", "X-API-Key ${API_KEY}"),
        ("Header", "Api-Token ${DT_API_TOKEN}"),
        ("Header", "DD-API-KEY YOUR_DATADOG_API_KEY"),
        ("Cloud_Auth", "${ES_USER}:${ES_PASS}"),
        ("splunk-token", "arn:aws:ssm:us-east-1:123456789012:parameter/splunk"),
    ],
)
def test_log_option_look_alikes_are_quiet(name: str, value: str) -> None:
    assert classify_variable(name, value) is None
