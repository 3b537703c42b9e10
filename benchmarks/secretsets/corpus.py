"""Generate the labeled secret-detection corpus (``tests/data/secrets_corpus.jsonl``).

Every secret value here is synthetic: drawn from a seeded random generator in the documented
shape of each provider's credential (prefix, alphabet, length). Nothing is copied from real keys.

Two sections with different seeds *and* different templates (names, wording, value generators):

* ``main``: written to ``tests/data/secrets_corpus.jsonl`` (the corpus the tests and docs cite);
* ``holdout``: generated in memory by ``benchmarks/secrets.py`` with :func:`holdout_rows`, so the
  rules can be checked against entries that were not looked at while writing them.

Each row: ``{"name", "value", "secret", "family", "where"}``; ``where`` is ``environment``,
``option`` (log driver option) or ``argument`` (then ``value`` is the whole argument list and
``name`` is ``command`` or ``entryPoint``).

    python benchmarks/secretsets/corpus.py          # rewrite the jsonl
    python benchmarks/secretsets/corpus.py --check  # exit 1 if the file is stale
"""

from __future__ import annotations

import base64
import json
import random
import string
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "data" / "secrets_corpus.jsonl"

ALNUM = string.ascii_letters + string.digits
UPPER_NUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = string.ascii_letters + string.digits + "+/"
B32 = string.ascii_uppercase + "234567"
URLSAFE = string.ascii_letters + string.digits + "-_"


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def pick(self, seq):
        return self.r.choice(seq)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def b64(self, nbytes: int) -> str:
        return base64.b64encode(bytes(self.r.getrandbits(8) for _ in range(nbytes))).decode()

    def b64url(self, nbytes: int) -> str:
        return base64.urlsafe_b64encode(bytes(self.r.getrandbits(8) for _ in range(nbytes))).decode().rstrip("=")

    # --- provider shapes -------------------------------------------------------------------
    def aws_key_id(self) -> str:
        return self.pick(["AKIA", "AKIA", "ASIA"]) + self.s(B32, 16)

    def aws_secret(self) -> str:
        while True:
            v = self.s(B64, 40)
            if any(c.isupper() for c in v) and any(c.isdigit() for c in v):
                return v

    def aws_session(self) -> str:
        return "IQoJb3JpZ2luX2Vj" + self.s(B64, self.r.randint(300, 420))

    def github(self) -> str:
        if self.r.random() < 0.25:
            return "github_pat_" + self.s(ALNUM, 22) + "_" + self.s(ALNUM, 59)
        return self.pick(["ghp_", "gho_", "ghs_", "ghu_", "ghr_"]) + self.s(ALNUM, 36)

    def gitlab(self) -> str:
        return "glpat-" + self.s(URLSAFE, 20)

    def slack(self) -> str:
        kind = self.pick(["xoxb", "xoxp", "xoxa", "xoxr"])
        return f"{kind}-{self.s(string.digits, 12)}-{self.s(string.digits, 13)}-{self.s(ALNUM, 24)}"

    def slack_hook(self) -> str:
        return f"https://hooks.slack.com/services/T{self.s(UPPER_NUM, 8)}/B{self.s(UPPER_NUM, 10)}/{self.s(ALNUM, 24)}"

    def stripe(self) -> str:
        return self.pick(["sk_live_", "rk_live_", "sk_test_"]) + self.s(ALNUM, self.pick([24, 99]))

    def sendgrid(self) -> str:
        return f"SG.{self.s(URLSAFE, 22)}.{self.s(URLSAFE, 43)}"

    def twilio_sk(self) -> str:
        return "SK" + self.s(HEX, 32)

    def google(self) -> str:
        return "AIza" + self.s(URLSAFE, 35)

    def npm(self) -> str:
        return "npm_" + self.s(ALNUM, 36)

    def pypi(self) -> str:
        return "pypi-AgEIcHlwaS5vcmc" + self.s(URLSAFE, self.r.randint(60, 140))

    def newrelic(self) -> str:
        return "NRAK-" + self.s(UPPER_NUM, 27) if self.r.random() < 0.6 else self.s(HEX, 36) + "NRAL"

    def azure_conn(self) -> str:
        return (
            f"DefaultEndpointsProtocol=https;AccountName={self.s(string.ascii_lowercase, 10)};"
            f"AccountKey={self.b64(64)};EndpointSuffix=core.windows.net"
        )

    def pem(self) -> str:
        label = self.pick(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
        body = "\n".join(self.b64(48) for _ in range(self.r.randint(3, 8)))
        sep = self.pick(["\n", "\\n"])
        return f"-----BEGIN {label}-----{sep}{body.replace(chr(10), sep)}{sep}-----END {label}-----"

    def jwt(self) -> str:
        header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).decode().rstrip("=")
        claims = {
            "sub": self.uuid(),
            "iat": self.r.randint(1_600_000_000, 1_800_000_000),
            "scope": self.pick(["svc", "admin", "api"]),
        }
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"{header}.{payload}.{self.b64url(32)}"

    def openai(self) -> str:
        return (
            "sk-proj-" + self.s(URLSAFE, 74) + "T3BlbkFJ" + self.s(URLSAFE, 74)
            if self.r.random() < 0.5
            else "sk-" + self.s(ALNUM, 20) + "T3BlbkFJ" + self.s(ALNUM, 20)
        )

    def anthropic(self) -> str:
        return "sk-ant-api03-" + self.s(URLSAFE, 93) + "AA"

    def mailgun(self) -> str:
        return "key-" + self.s(HEX, 32)

    def shopify(self) -> str:
        return self.pick(["shpat_", "shpss_", "shpca_"]) + self.s(HEX, 32)

    def digitalocean(self) -> str:
        return self.pick(["dop_v1_", "doo_v1_"]) + self.s(HEX, 64)

    def vault(self) -> str:
        return "hvs." + self.s(URLSAFE, 90)

    def doppler(self) -> str:
        return "dp.st." + self.pick(["prd", "dev", "stg"]) + "." + self.s(ALNUM, 40)

    def linear(self) -> str:
        return "lin_api_" + self.s(ALNUM, 40)

    def atlassian(self) -> str:
        return "ATATT3xFfGF0" + self.s(URLSAFE, 170) + "=" + self.s(HEX.upper(), 8)

    def hf(self) -> str:
        return "hf_" + self.s(ALNUM, 34)

    # --- human and generic secrets -----------------------------------------------------------
    WORDS = "orange falcon river marble copper winter galaxy tiger harbor velvet summit maple canyon".split()

    def human_password(self) -> str:
        w = self.pick(self.WORDS)
        style = self.r.randint(0, 4)
        if style == 0:
            return w.capitalize() + str(self.r.randint(10, 9999)) + self.pick("!@#$%&*")
        if style == 1:
            return self.s(ALNUM + "!@#%^&*", self.r.randint(10, 20))
        if style == 2:
            return w + self.pick(["123", "2024", "_01", "!"])
        if style == 3:
            return self.pick(
                ["hunter2", "P@ssw0rd!", "rootpass", "password123", "Welcome1", "letmein42", "qwerty!23", "s3cr3t"]
            )
        return "-".join(self.pick(self.WORDS) for _ in range(4))

    def hex_secret(self, n: int = 64) -> str:
        return self.s(HEX, n)


Row = dict[str, object]


def _row(name: str, value: object, secret: bool, family: str, where: str = "environment") -> Row:
    return {"name": name, "value": value, "secret": secret, "family": family, "where": where}


def main_rows(seed: int = 20240611) -> list[Row]:
    g = Gen(seed)
    rows: list[Row] = []
    add = rows.append

    # ---------------------------------------------------------------- secrets: provider formats
    providers: list[tuple[str, list[str], Callable[[], str]]] = [
        ("aws-access-key-id", ["AWS_ACCESS_KEY_ID", "S3_ACCESS_KEY", "BACKUP_AWS_KEY"], g.aws_key_id),
        ("aws-secret-access-key", ["AWS_SECRET_ACCESS_KEY", "S3_AWS_SECRET_KEY", "aws_secret_key"], g.aws_secret),
        ("aws-session-token", ["AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"], g.aws_session),
        ("github-token", ["GITHUB_TOKEN", "GH_PAT", "CI_GIT_CREDENTIAL", "RENOVATE_TOKEN", "DEPLOY_BLOB"], g.github),
        ("gitlab-token", ["GITLAB_TOKEN", "GL_ACCESS", "CI_JOB_AUTH"], g.gitlab),
        ("slack-token", ["SLACK_BOT_TOKEN", "SLACK_API", "NOTIFIER"], g.slack),
        ("slack-webhook", ["SLACK_WEBHOOK_URL", "ALERT_HOOK", "NOTIFY_ENDPOINT"], g.slack_hook),
        ("stripe-secret-key", ["STRIPE_SECRET_KEY", "STRIPE_KEY", "PAYMENTS_BACKEND_KEY"], g.stripe),
        ("sendgrid-api-key", ["SENDGRID_API_KEY", "MAIL_API", "EMAIL_PROVIDER_KEY"], g.sendgrid),
        ("twilio-api-key", ["TWILIO_API_KEY", "TWILIO_KEY_SID"], g.twilio_sk),
        ("google-api-key", ["GOOGLE_API_KEY", "MAPS_SERVER_KEY", "GEOCODER"], g.google),
        ("npm-token", ["NPM_TOKEN", "NPM_AUTH"], g.npm),
        ("pypi-token", ["PYPI_TOKEN", "TWINE_PASSWORD"], g.pypi),
        ("new-relic-key", ["NEW_RELIC_API_KEY", "NEW_RELIC_LICENSE_KEY", "NR_KEY"], g.newrelic),
        ("azure-connection-string", ["AZURE_STORAGE_CONNECTION_STRING", "BLOB_CONN"], g.azure_conn),
        ("private-key", ["JWT_PRIVATE_KEY", "TLS_KEY", "SSH_DEPLOY_KEY", "GCP_SA_PEM"], g.pem),
        ("jwt", ["API_BEARER", "SERVICE_JWT", "UPSTREAM_AUTH_TOKEN"], g.jwt),
        ("openai-api-key", ["OPENAI_API_KEY", "LLM_KEY"], g.openai),
        ("anthropic-api-key", ["ANTHROPIC_API_KEY", "CLAUDE_KEY"], g.anthropic),
        ("mailgun-api-key", ["MAILGUN_API_KEY", "MG_KEY"], g.mailgun),
        ("shopify-token", ["SHOPIFY_ACCESS_TOKEN", "SHOP_ADMIN"], g.shopify),
        ("digitalocean-token", ["DIGITALOCEAN_TOKEN", "DO_ACCESS"], g.digitalocean),
        ("vault-token", ["VAULT_TOKEN", "VAULT_AUTH"], g.vault),
        ("doppler-token", ["DOPPLER_TOKEN"], g.doppler),
        ("linear-api-key", ["LINEAR_API_KEY"], g.linear),
        ("atlassian-api-token", ["JIRA_API_TOKEN", "ATLASSIAN_TOKEN"], g.atlassian),
        ("huggingface-token", ["HF_TOKEN", "HUGGINGFACE_HUB_TOKEN"], g.hf),
    ]
    for family, names, make in providers:
        for name in names:
            add(_row(name, make(), True, family))
    for _ in range(3):
        add(_row("DD_API_KEY", g.hex_secret(32), True, "datadog-api-key"))
        add(
            _row(
                g.pick(["DD_APP_KEY", "DATADOG_APP_KEY", "DD_APPLICATION_KEY"]),
                g.hex_secret(40),
                True,
                "datadog-app-key",
            )
        )
        add(_row(g.pick(["TWILIO_AUTH_TOKEN", "TWILIO_TOKEN"]), g.hex_secret(32), True, "twilio-auth-token"))
        add(_row("HEROKU_API_KEY", g.uuid(), True, "heroku-api-key"))

    # ---------------------------------------------------------------- secrets: URLs and connection strings
    for _ in range(3):
        pw = g.human_password().replace("@", "").replace("/", "").replace(":", "").replace("#", "").replace("?", "")
        user = g.pick(["app", "admin", "svc_orders", "root", "postgres"])
        host = g.pick(
            ["db.internal", "orders.cluster-abc123.eu-west-1.rds.amazonaws.com", "10.0.3.17", "mongo-0.mongo"]
        )
        add(_row("DATABASE_URL", f"postgres://{user}:{pw}@{host}:5432/app", True, "url-credentials"))
        add(
            _row(
                "MONGO_URI",
                f"mongodb+srv://{user}:{pw}@cluster0.{g.s(string.ascii_lowercase, 5)}.mongodb.net/prod?retryWrites=true",
                True,
                "url-credentials",
            )
        )
        add(_row("REDIS_URL", f"redis://:{g.s(ALNUM, 24)}@{host}:6379/0", True, "url-credentials"))
        add(_row("CELERY_BROKER_URL", f"amqp://{user}:{pw}@rabbitmq:5672//", True, "url-credentials"))
        add(
            _row(
                "SPRING_DATASOURCE_URL",
                f"jdbc:sqlserver://{host}:1433;databaseName=app;user={user};password={pw}",
                True,
                "connection-string",
            )
        )
        add(
            _row(
                "ConnectionStrings__Default",
                f"Server={host};Database=App;User Id={user};Password={pw};TrustServerCertificate=True",
                True,
                "connection-string",
            )
        )
        add(_row("MYSQL_DSN", f"{user}:{pw}@tcp({host}:3306)/app?parseTime=true", True, "connection-string"))
        add(_row("SMTP_URL", f"smtps://{user}%40example.org:{pw}@smtp.mailhost.net:465", True, "url-credentials"))
        add(
            _row(
                "UPSTREAM",
                f"https://deploy:{g.s(ALNUM, 20)}@git.internal.example/org/repo.git",
                True,
                "url-credentials",
            )
        )
        add(
            _row(
                "PG_CONN",
                f"host={host} port=5432 dbname=app user={user} password={pw} sslmode=require",
                True,
                "connection-string",
            )
        )

    # ---------------------------------------------------------------- secrets: secret-named variables
    human_names = [
        "DB_PASSWORD",
        "MYSQL_ROOT_PASSWORD",
        "POSTGRES_PASSWORD",
        "SMTP_PASS",
        "REDIS_PWD",
        "ADMIN_PASSWORD",
        "LDAP_BIND_PASSWORD",
        "RABBITMQ_DEFAULT_PASS",
        "KEYSTORE_PASSWORD",
        "MAIL_PASSWORD",
        "SFTP_PASSWD",
        "ElasticPassword",
        "db.password",
        "SPRING_DATASOURCE_PASSWORD",
        "WP_DB_PASSWORD",
        "PGPASSWORD",
    ]
    for name in human_names:
        add(_row(name, g.human_password(), True, "secret-named-variable"))
        add(_row(name, g.human_password(), True, "secret-named-variable"))
    random_names = [
        ("SECRET_KEY_BASE", lambda: g.hex_secret(128)),
        ("DJANGO_SECRET_KEY", lambda: "django-insecure-" + g.s(ALNUM + "!@#%^&*(-_=+)", 50)),
        ("JWT_SECRET", lambda: g.s(ALNUM, 32)),
        ("API_KEY", lambda: g.s(ALNUM, 32)),
        ("SERVICE_TOKEN", lambda: g.b64url(24)),
        ("CLIENT_SECRET", lambda: g.s(ALNUM + "~._-", 34)),
        ("ENCRYPTION_KEY", lambda: g.b64(32)),
        ("SIGNING_KEY", lambda: g.hex_secret(64)),
        ("SESSION_SECRET", lambda: g.s(ALNUM, 40)),
        ("APP_KEY", lambda: "base64:" + g.b64(32)),
        ("PASSPHRASE", lambda: "-".join(g.pick(Gen.WORDS) for _ in range(5))),
        ("OAUTH_CLIENT_SECRET", lambda: g.s(ALNUM, 40)),
        ("WEBHOOK_SECRET", lambda: g.hex_secret(40)),
        ("INTERNAL_API_TOKEN", lambda: g.uuid()),
        ("MASTER_KEY", lambda: g.b64(24)),
        ("COOKIE_SECRET", lambda: g.s(ALNUM, 24)),
        ("ALGOLIA_ADMIN_KEY", lambda: g.hex_secret(32)),
        ("SPLUNK_HEC_TOKEN", lambda: g.uuid()),
        ("RECAPTCHA_SECRET_KEY", lambda: "6L" + g.s(URLSAFE, 38)),
        ("ApiKey", lambda: g.s(ALNUM, 28)),
        ("auth_token", lambda: g.hex_secret(40)),
        ("DRONE_RPC_SECRET", lambda: g.hex_secret(32)),
        ("NEXTAUTH_SECRET", lambda: g.b64(32)),
        ("HMAC_KEY", lambda: g.hex_secret(64)),
        ("LICENSE_KEY", lambda: g.s(UPPER_NUM, 25)),
        ("MEILI_MASTER_KEY", lambda: g.s(ALNUM, 32)),
        ("BASIC_AUTH", lambda: "admin:" + g.human_password()),
        ("SECRET_PIN", lambda: str(g.r.randint(100000, 99999999))),
    ]
    for name, make in random_names:
        add(_row(name, make(), True, "secret-named-variable"))
        add(_row(name, make(), True, "secret-named-variable"))

    # ---------------------------------------------------------------- secrets: embedded
    for _ in range(4):
        pw = g.human_password().replace(" ", "")
        add(
            _row(
                "JAVA_OPTS",
                f"-Xms256m -Xmx{g.pick([512, 1024])}m -Dspring.datasource.password={pw} -Dserver.port=8080",
                True,
                "embedded",
            )
        )
        add(
            _row(
                "JAVA_TOOL_OPTIONS",
                f"-Djavax.net.ssl.trustStorePassword={g.s(ALNUM, 12)} -XX:+UseG1GC",
                True,
                "embedded",
            )
        )
        add(
            _row(
                "APP_CONFIG_JSON",
                json.dumps({"db": {"host": "db.internal", "user": "app", "password": pw}, "debug": False}),
                True,
                "embedded",
            )
        )
        add(_row("EXTRA_HEADERS", f"Authorization: Bearer {g.s(ALNUM, 40)}", True, "embedded"))
        add(_row("UPSTREAM_HEADERS", f"Content-Type=application/json,X-Api-Key={g.s(ALNUM, 32)}", True, "embedded"))
        add(_row("SETTINGS", json.dumps({"apiKey": g.s(HEX, 32), "region": "eu-west-1"}), True, "embedded"))
        add(_row("NODE_OPTIONS", f"--max-old-space-size=2048 --secret={g.s(ALNUM, 24)}", True, "embedded"))

    # ---------------------------------------------------------------- secrets: log driver options
    for _ in range(3):
        add(_row("splunk-token", g.uuid(), True, "secret-named-variable", "option"))
        add(_row("apikey", g.hex_secret(32), True, "secret-named-variable", "option"))
        add(_row("HTTP_Passwd", g.human_password(), True, "secret-named-variable", "option"))
        add(_row("dd_api_key", g.hex_secret(32), True, "datadog-api-key", "option"))
        add(_row("Header", f"Authorization Bearer {g.s(ALNUM, 36)}", True, "embedded", "option"))
        add(_row("license_key", g.hex_secret(36) + "NRAL", True, "new-relic-key", "option"))
        add(
            _row(
                "loki-url",
                f"https://{g.s(string.digits, 6)}:{g.google()[:4]}{g.s(ALNUM, 60)}@logs-prod-eu-west-0.grafana.net/loki/api/v1/push",
                True,
                "url-credentials",
                "option",
            )
        )

    # ---------------------------------------------------------------- secrets: arguments
    for _ in range(3):
        pw = g.human_password().replace(" ", "").replace("'", "")
        add(_row("command", ["./server", f"--db-password={pw}", "--port", "8080"], True, "argument-flag", "argument"))
        add(_row("command", ["./worker", "--api-token", g.s(ALNUM, 32)], True, "argument-flag", "argument"))
        add(
            _row(
                "command",
                ["sh", "-c", f"mysql -h db -u root -p{g.s(ALNUM, 12)} app < /init.sql"],
                True,
                "argument-shell",
                "argument",
            )
        )
        add(
            _row(
                "entryPoint",
                ["java", f"-Dspring.datasource.password={pw}", "-jar", "app.jar"],
                True,
                "argument-flag",
                "argument",
            )
        )
        add(
            _row(
                "command",
                ["sh", "-c", f"export GITHUB_TOKEN={g.github()} && ./release.sh"],
                True,
                "argument-shell",
                "argument",
            )
        )
        add(
            _row(
                "command",
                ["migrate", "-database", f"postgres://app:{g.s(ALNUM, 16)}@db:5432/app?sslmode=disable", "up"],
                True,
                "argument-url",
                "argument",
            )
        )
        add(
            _row(
                "command", ["redis-cli", "-h", "cache", "-a", g.s(ALNUM, 20), "ping"], True, "argument-flag", "argument"
            )
        )
        add(
            _row(
                "command",
                ["curl", "-fsS", "-u", f"admin:{g.s(ALNUM, 14)}", "https://grafana.internal/api/health"],
                True,
                "argument-flag",
                "argument",
            )
        )

    # ================================================================ NOT secrets
    acct = lambda: str(g.r.randint(100000000000, 999999999999))  # noqa: E731
    region = lambda: g.pick(["us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-1"])  # noqa: E731
    refs = [
        lambda: f"arn:aws:secretsmanager:{region()}:{acct()}:secret:prod/db-{g.s(ALNUM, 6)}",
        lambda: f"arn:aws:secretsmanager:{region()}:{acct()}:secret:app/api-key-{g.s(ALNUM, 6)}:password::",
        lambda: f"arn:aws:ssm:{region()}:{acct()}:parameter/prod/app/DB_PASSWORD",
        lambda: f"arn:aws:kms:{region()}:{acct()}:key/{g.uuid()}",
        lambda: f"/prod/{g.pick(['orders', 'billing', 'auth'])}/{g.pick(['db_password', 'API_KEY', 'jwt-secret'])}",
        lambda: "${" + g.pick(["db_password", "DB_PASSWORD", "var.api_key", "jwt_secret"]) + "}",
        lambda: "{{resolve:secretsmanager:" + g.pick(["prod/db", "MySecret"]) + ":SecretString:password}}",
        lambda: "{{resolve:ssm-secure:/app/" + g.pick(["token", "password"]) + ":1}}",
        lambda: "$(" + g.pick(["DB_PASSWORD", "API_TOKEN"]) + ")",
        lambda: "%(" + g.pick(["db_password", "secret"]) + ")s",
        lambda: "{{ must_env `" + g.pick(["DB_PASSWORD", "API_KEY"]) + "` }}",
        lambda: "<IMAGE1_NAME>",
        lambda: "${{ secrets." + g.pick(["DB_PASSWORD", "API_TOKEN"]) + " }}",
        lambda: "$" + g.pick(["DB_PASSWORD", "OPENAI_API_KEY", "TOKEN"]),
        lambda: "ssm://" + g.pick(["prod/db/password", "/app/token"]),
        lambda: "alias/" + g.pick(["app-secrets", "aws/secretsmanager"]),
    ]
    secret_names = [
        "DB_PASSWORD",
        "API_KEY",
        "JWT_SECRET",
        "GITHUB_TOKEN",
        "CLIENT_SECRET",
        "ENCRYPTION_KEY",
        "SMTP_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
        "DD_API_KEY",
    ]
    for make in refs:
        for _ in range(2):
            add(_row(g.pick(secret_names), make(), False, "reference"))
    placeholders = [
        "changeme",
        "<password>",
        "xxx",
        "REPLACE_ME",
        "your-api-key-here",
        "",
        "true",
        "false",
        "none",
        "password",
        "CHANGE_ME",
        "********",
        "xxxxxxxxxxxxxxxx",
        "<your-token>",
        "TODO",
        "null",
        "dummy",
        "secret",
        "placeholder",
        "YOUR_API_KEY",
        "insert-token-here",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "string",
        "undefined",
        "[REDACTED]",
        "changeit",
        "set-in-secrets-manager",
    ]
    for value in placeholders:
        add(_row(g.pick(secret_names), value, False, "placeholder"))
    config = [
        ("PASSWORD_MIN_LENGTH", "12"),
        ("TOKEN_TTL", "3600"),
        ("DB_PASSWORD_FILE", "/run/secrets/db"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("SECRET_NAME", "prod/db"),
        ("JWT_ALGORITHM", "HS256"),
        ("AUTH_TYPE", "basic"),
        ("KMS_KEY_ID", "alias/app"),
        ("DB_SECRET_ARN", f"arn:aws:secretsmanager:eu-west-1:{acct()}:secret:db-{g.s(ALNUM, 6)}"),
        ("VAULT_ADDR", "https://vault.internal:8200"),
        ("PASSWORD_RESET_URL", "https://example.com/account/reset"),
        ("TOKEN_EXPIRY_SECONDS", "900"),
        ("SESSION_COOKIE_NAME", "sid"),
        ("JWT_ISSUER", "https://auth.example.com/"),
        ("OAUTH_TOKEN_URL", "https://login.example.com/oauth2/token"),
        ("SECRETS_BACKEND", "aws-secrets-manager"),
        ("API_KEY_ENABLED", "true"),
        ("PASSWORD_HASHER", "argon2"),
        ("AUTH_METHOD", "oidc"),
        ("KEY_ALIAS", "alias/app-data"),
        ("SIGNING_KEY_ID", "2024-01"),
        ("TOKEN_AUDIENCE", "api://orders"),
        ("SECRET_ROTATION_DAYS", "30"),
        ("SSL_KEY_PATH", "/etc/ssl/private/app.key"),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/var/secrets/google/key.json"),
        ("DB_USER", "app"),
        ("DB_USERNAME", "admin"),
        ("ALLOW_EMPTY_PASSWORD", "yes"),
        ("POSTGRES_HOST_AUTH_METHOD", "trust"),
        ("AWS_SECRET_NAME", "prod/orders/db"),
        ("REDIS_PASSWORD_SECRET_ARN", f"arn:aws:secretsmanager:us-east-1:{acct()}:secret:redis-AbC123"),
        ("MAX_TOKENS", "4096"),
        ("TOKENIZER", "cl100k_base"),
        ("KEY_PREFIX", "orders:"),
        ("CACHE_KEY", "v2-user-profile"),
        ("SORT_KEY", "created_at"),
        ("PARTITION_KEY", "tenantId"),
        ("PRIMARY_KEY", "id"),
        ("AUTH_ENABLED", "false"),
        ("PASSWORD_POLICY", "strong"),
        ("JWT_EXPIRES_IN", "7d"),
        ("TOKEN_REFRESH_INTERVAL", "15m"),
        ("SECRET_VERSION", "AWSCURRENT"),
    ]
    for name, value in config:
        add(_row(name, value, False, "config-secret-name"))
    for _ in range(3):
        add(
            _row(
                g.pick(["REQUEST_ID_SEED", "TENANT_ID", "CORRELATION_ID", "INSTALLATION_ID"]),
                g.uuid(),
                False,
                "identifier",
            )
        )
        add(
            _row(
                g.pick(["GIT_SHA", "COMMIT_SHA", "BUILD_COMMIT", "SOURCE_VERSION"]),
                g.hex_secret(40),
                False,
                "identifier",
            )
        )
        add(_row(g.pick(["IMAGE_DIGEST", "BASE_IMAGE_DIGEST"]), "sha256:" + g.hex_secret(64), False, "identifier"))
        add(
            _row(
                g.pick(["VPC_ID", "SECURITY_GROUP", "SUBNET_ID"]),
                g.pick(["vpc-", "sg-", "subnet-"]) + g.hex_secret(17),
                False,
                "identifier",
            )
        )
        add(_row("AWS_ACCOUNT_ID", acct(), False, "identifier"))
        add(_row("TWILIO_ACCOUNT_SID", "AC" + g.hex_secret(32), False, "identifier"))
        add(_row("KMS_KEY_ID", g.uuid(), False, "identifier"))
    public = [
        ("STRIPE_PUBLISHABLE_KEY", lambda: "pk_live_" + g.s(ALNUM, 99)),
        ("NEXT_PUBLIC_STRIPE_KEY", lambda: "pk_test_" + g.s(ALNUM, 24)),
        ("MAPBOX_ACCESS_TOKEN", lambda: "pk.eyJ1Ijoi" + g.s(ALNUM, 20) + "." + g.s(URLSAFE, 22)),
        ("RECAPTCHA_SITE_KEY", lambda: "6L" + g.s(URLSAFE, 38)),
        (
            "SENTRY_DSN",
            lambda: (
                f"https://{g.hex_secret(32)}@o{g.r.randint(10000, 999999)}.ingest.sentry.io/{g.r.randint(1000, 9999999)}"
            ),
        ),
        ("GA_MEASUREMENT_ID", lambda: "G-" + g.s(UPPER_NUM, 10)),
        ("GOOGLE_ANALYTICS_ID", lambda: f"UA-{g.r.randint(1000000, 99999999)}-1"),
        ("NEXT_PUBLIC_FIREBASE_API_KEY", g.google),
        (
            "SUPABASE_ANON_KEY",
            lambda: (
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                + base64.urlsafe_b64encode(b'{"role":"anon","iss":"supabase"}').decode().rstrip("=")
                + "."
                + g.b64url(32)
            ),
        ),
        ("SSH_PUBLIC_KEY", lambda: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + g.s(B64, 43) + " deploy@ci"),
        ("VAPID_PUBLIC_KEY", lambda: g.b64url(65)),
        ("NEW_RELIC_BROWSER_KEY", lambda: "NRJS-" + g.hex_secret(19)),
        ("TLS_CERT", lambda: "-----BEGIN CERTIFICATE-----\\n" + g.b64(48) + "\\n-----END CERTIFICATE-----"),
    ]
    for name, make in public:
        add(_row(name, make(), False, "public-by-design"))
        add(_row(name, make(), False, "public-by-design"))
    urls = [
        "https://api.example.com/v1",
        "postgres://db.internal:5432/app",
        "redis://cache:6379/0",
        "amqp://rabbitmq:5672",
        "https://user@git.example.com/org/repo.git",
        "mongodb://mongo-0.mongo,mongo-1.mongo:27017/app?replicaSet=rs0",
        "http://localhost:8080/health",
        "jdbc:postgresql://db.internal:5432/orders?ssl=true",
        "https://hooks.example.com/ci",
        "s3://my-bucket/path/to/key",
        "https://sqs.us-east-1.amazonaws.com/123456789012/orders",
    ]
    for value in urls:
        add(
            _row(
                g.pick(["API_URL", "DATABASE_URL", "REDIS_URL", "BROKER_URL", "UPSTREAM", "QUEUE_URL"]),
                value,
                False,
                "url-no-credentials",
            )
        )
    ordinary = [
        ("LOG_LEVEL", "info"),
        ("NODE_ENV", "production"),
        ("PORT", "8080"),
        ("DB_HOST", "orders.cluster-abc.eu-west-1.rds.amazonaws.com"),
        ("JAVA_OPTS", "-Xms512m -Xmx1024m -XX:+UseG1GC -Dfile.encoding=UTF-8"),
        ("TZ", "Europe/Paris"),
        ("WORKERS", "4"),
        ("SPRING_PROFILES_ACTIVE", "prod"),
        ("AWS_REGION", "eu-west-1"),
        ("FEATURE_FLAGS", "new-checkout,beta-search"),
        ("ALLOWED_HOSTS", "*.example.com,localhost"),
        ("DD_ENV", "prod"),
        ("DD_SERVICE", "orders"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4317"),
        ("PYTHONUNBUFFERED", "1"),
        ("GUNICORN_CMD_ARGS", "--bind=0.0.0.0:8000 --workers=3"),
        ("CORS_ORIGINS", "https://app.example.com"),
        ("S3_BUCKET", "orders-uploads-prod"),
        ("APP_VERSION", "1.42.3"),
        ("CONFIG_JSON", json.dumps({"timeout": 30, "retries": 3, "key": "orders"})),
        ("NGINX_WORKER_CONNECTIONS", "1024"),
        ("MESSAGE", "Set the password in Secrets Manager, never here"),
        ("KEYCLOAK_REALM", "company"),
        ("AWS_ACCESS_KEY_ID", "${extract_iam_key}"),
        ("awslogs-group", "/ecs/orders"),
        ("awslogs-stream-prefix", "ecs"),
    ]
    for name, value in ordinary:
        where = "option" if name.startswith("awslogs") else "environment"
        add(_row(name, value, False, "ordinary-config", where))
    option_neg = [
        ("Name", "datadog"),
        ("Host", "http-intake.logs.datadoghq.com"),
        ("TLS", "on"),
        ("provider", "ecs"),
        ("dd_service", "orders"),
        ("apikey", "${DD_API_KEY}"),
        ("splunk-url", "https://splunk.example.com:8088"),
        ("splunk-token", "{{resolve:secretsmanager:splunk:SecretString:token}}"),
        ("Url", "https://<userid>@logs-prod-us-west2.grafana.net/loki/api/v1/push"),
        ("Labels", '{job="firelens"}'),
    ]
    for name, value in option_neg:
        add(_row(name, value, False, "option-config", "option"))
    arg_neg = [
        ["bundle", "exec", "rackup", "-o", "0.0.0.0", "-p", "8080"],
        ["./server", "--password-file", "/run/secrets/db"],
        ["sh", "-c", "mysql -h db -u root -p$MYSQL_ROOT_PASSWORD app < /init.sql"],
        ["./worker", "--api-token", "${API_TOKEN}"],
        ["java", "-Dspring.datasource.password=${DB_PASSWORD}", "-jar", "app.jar"],
        ["docker-entrypoint.sh", "postgres"],
        ["sh", "-c", "echo 'expvar_port: 15000' >> /etc/datadog-agent/datadog.yaml ; /init"],
        ["rails", "s", "-p", "80", "-b", "0.0.0.0"],
        ["./app", "--token-ttl", "3600", "--secret-name", "prod/app"],
        ["aws", "secretsmanager", "get-secret-value", "--secret-id", "prod/db"],
        ["gunicorn", "-w", "4", "-b", "0.0.0.0:8000", "app:app"],
        ["psql", "postgres://app@db:5432/app", "-c", "select 1"],
        ["sh", "-c", "export DB_PASSWORD=$(cat /run/secrets/db) && exec ./server"],
        ["./server", "--key", "/etc/ssl/private/server.key"],
        ["nginx", "-g", "daemon off;"],
        ["python", "-m", "app", "--log-level", "info"],
    ]
    for args in arg_neg:
        add(_row("command", args, False, "argument-config", "argument"))
    return rows


def holdout_rows(seed: int = 77031) -> list[Row]:
    """Different seed, different names, wording and value shapes: a check against overfitting."""
    g = Gen(seed)
    rows: list[Row] = []
    add = rows.append
    svc = ["ORDERS", "BILLING", "SEARCH", "LEDGER", "NOTIFY", "INVENTORY"]

    # secrets
    for _ in range(4):
        s = g.pick(svc)
        add(_row(f"{s}_DB_PASS", g.s(ALNUM + "%!", 14), True, "secret-named-variable"))
        add(
            _row(
                f"{s}_ADMIN_PWD",
                g.pick(["Spring2025!", "admin1234", "Tr0mb0ne#", "correcthorse9"]),
                True,
                "secret-named-variable",
            )
        )
        add(_row(f"{s.lower()}.api.secret", g.b64(30), True, "secret-named-variable"))
        add(_row(f"{s}_ACCESS_TOKEN", g.b64url(30), True, "secret-named-variable"))
        add(_row(f"{s}_SHARED_KEY", g.hex_secret(48), True, "secret-named-variable"))
        add(_row(f"X_{s}_APIKEY", g.s(ALNUM, 40), True, "secret-named-variable"))
        add(_row(f"{s}_CREDENTIALS", json.dumps({"user": "svc", "pass": g.s(ALNUM, 18)}), True, "embedded"))
        add(_row(f"{s}_OPTS", f"--verbose --db.password='{g.s(ALNUM, 12)}' --cache", True, "embedded"))
        add(
            _row(
                f"{s}_JDBC",
                f"jdbc:mysql://{s.lower()}-db:3306/{s.lower()}?user=svc&password={g.s(ALNUM, 15)}",
                True,
                "url-credentials",
            )
        )
        add(
            _row(
                f"{s}_AMQP",
                f"amqps://svc:{g.s(ALNUM, 22)}@b-{g.uuid()}.mq.eu-west-1.amazonaws.com:5671",
                True,
                "url-credentials",
            )
        )
        add(
            _row(
                f"{s}_ES_URL", f"https://elastic:{g.s(ALNUM, 20)}@es.{s.lower()}.internal:9243", True, "url-credentials"
            )
        )
        add(
            _row(
                f"{s}_MSSQL",
                f"Data Source=sql01;Initial Catalog={s};User ID=svc;Pwd={g.s(ALNUM, 16)};",
                True,
                "connection-string",
            )
        )
        add(_row(f"{s}_CI_TOKEN", g.github(), True, "github-token"))
        add(_row(f"{s}_CHAT", g.slack(), True, "slack-token"))
        add(_row(f"{s}_PAY", g.stripe(), True, "stripe-secret-key"))
        add(_row(f"{s}_KEYPAIR", g.pem(), True, "private-key"))
        add(_row(f"{s}_AUTHZ", "Bearer " + g.jwt(), True, "jwt"))
        add(_row(f"{s}_LLM", g.pick([g.openai, g.anthropic])(), True, "llm-api-key"))
        add(_row(f"{s}_MAIL", g.pick([g.sendgrid, g.mailgun])(), True, "mail-api-key"))
        add(_row(f"{s}_CLOUD", g.pick([g.aws_key_id, g.google, g.digitalocean])(), True, "cloud-key"))
        add(_row(f"{s}_PKG", g.pick([g.npm, g.pypi, g.gitlab])(), True, "package-token"))
        add(_row(f"{s}_OPS", g.pick([g.vault, g.doppler, g.linear, g.hf, g.shopify, g.newrelic])(), True, "ops-token"))
        add(_row("DATADOG_API_KEY", g.hex_secret(32), True, "datadog-api-key"))
        add(_row(f"{s}_AWS_SECRET", g.aws_secret(), True, "aws-secret-access-key"))
        add(_row("http_passwd", g.s(ALNUM, 12), True, "secret-named-variable", "option"))
        add(_row("token", g.s(ALNUM, 30), True, "secret-named-variable", "option"))
        add(
            _row("command", ["/bin/app", "serve", "--client-secret", g.s(ALNUM, 30)], True, "argument-flag", "argument")
        )
        add(
            _row(
                "command",
                ["bash", "-lc", f"PGPASSWORD={g.s(ALNUM, 14)} psql -h db -U app -c 'select 1'"],
                True,
                "argument-shell",
                "argument",
            )
        )
        add(
            _row(
                "entryPoint",
                ["sshpass", "-p", g.s(ALNUM, 12), "ssh", "deploy@bastion"],
                True,
                "argument-flag",
                "argument",
            )
        )
        add(_row("command", ["node", "index.js", f"--webhook={g.slack_hook()}"], True, "argument-url", "argument"))

    # not secrets
    for _ in range(4):
        s = g.pick(svc)
        add(_row(f"{s}_DB_PASS", "${" + s.lower() + "_db_pass}", False, "reference"))
        add(
            _row(
                f"{s}_DB_PASS",
                f"arn:aws:ssm:eu-west-1:{g.r.randint(10**11, 10**12 - 1)}:parameter/{s.lower()}/db/pass",
                False,
                "reference",
            )
        )
        add(
            _row(
                f"{s}_API_SECRET",
                "{{resolve:secretsmanager:" + s.lower() + "/api:SecretString:secret}}",
                False,
                "reference",
            )
        )
        add(
            _row(
                f"{s}_TOKEN",
                g.pick(
                    [
                        "<<FILL_ME>>",
                        "<token>",
                        "TBD",
                        "n/a",
                        "-",
                        "REPLACE_WITH_REAL_TOKEN",
                        "your_token_here",
                        "XXXX-XXXX-XXXX",
                    ]
                ),
                False,
                "placeholder",
            )
        )
        add(
            _row(
                f"{s}_PASSWORD",
                g.pick(["", "changeme", "CHANGEME", "pass", "PASSWORD", "<db-password>", "***"]),
                False,
                "placeholder",
            )
        )
        add(_row(f"{s}_PASSWORD_MAX_AGE_DAYS", str(g.r.randint(30, 365)), False, "config-secret-name"))
        add(_row(f"{s}_TOKEN_LIFETIME", g.pick(["1h", "30m", "86400"]), False, "config-secret-name"))
        add(_row(f"{s}_SECRET_PATH", f"/{s.lower()}/prod/secret", False, "config-secret-name"))
        add(_row(f"{s}_API_KEY_NAME", "x-api-key", False, "config-secret-name"))
        add(
            _row(
                f"{s}_KEY_ARN",
                f"arn:aws:kms:eu-west-1:{g.r.randint(10**11, 10**12 - 1)}:key/{g.uuid()}",
                False,
                "config-secret-name",
            )
        )
        add(_row(f"{s}_AUTH_MODE", g.pick(["jwt", "oauth2", "none", "mtls"]), False, "config-secret-name"))
        add(_row(f"{s}_SECRETS_PROVIDER", g.pick(["vault", "aws", "env"]), False, "config-secret-name"))
        add(_row(f"{s}_ID", g.uuid(), False, "identifier"))
        add(_row(f"{s}_RELEASE_SHA", g.hex_secret(40), False, "identifier"))
        add(
            _row(
                f"{s}_IMAGE",
                f"{g.r.randint(10**11, 10**12 - 1)}.dkr.ecr.eu-west-1.amazonaws.com/{s.lower()}@sha256:{g.hex_secret(64)}",
                False,
                "identifier",
            )
        )
        add(_row(f"{s}_SG", "sg-" + g.hex_secret(17), False, "identifier"))
        add(_row(f"{s}_STRIPE_PK", "pk_live_" + g.s(ALNUM, 40), False, "public-by-design"))
        add(
            _row(
                f"{s}_SENTRY_DSN",
                f"https://{g.hex_secret(32)}@sentry.internal.example/{g.r.randint(2, 99)}",
                False,
                "public-by-design",
            )
        )
        add(_row(f"{s}_RECAPTCHA_PUBLIC_KEY", "6L" + g.s(URLSAFE, 38), False, "public-by-design"))
        add(_row(f"{s}_URL", f"https://{s.lower()}.internal.example:8443/api", False, "url-no-credentials"))
        add(_row(f"{s}_REDIS", f"rediss://{s.lower()}.cache.amazonaws.com:6379", False, "url-no-credentials"))
        add(_row(f"{s}_THREADS", str(g.r.randint(1, 64)), False, "ordinary-config"))
        add(_row(f"{s}_JVM", "-XX:MaxRAMPercentage=75 -Duser.timezone=UTC", False, "ordinary-config"))
        add(_row(f"{s}_MODE", g.pick(["active", "standby", "readonly"]), False, "ordinary-config"))
        add(_row("Retry_Limit", "2", False, "option-config", "option"))
        add(_row("http_user", "svc", False, "option-config", "option"))
        add(
            _row(
                "command",
                ["/bin/app", "serve", "--client-secret-file", "/run/secrets/client"],
                False,
                "argument-config",
                "argument",
            )
        )
        add(
            _row(
                "command",
                [
                    "bash",
                    "-lc",
                    "PGPASSWORD=$(aws ssm get-parameter --name /db/pass --with-decryption --query Parameter.Value --output text) psql -h db",
                ],
                False,
                "argument-config",
                "argument",
            )
        )
        add(
            _row(
                "command",
                ["uvicorn", "app:api", "--port", "8000", "--workers", "2"],
                False,
                "argument-config",
                "argument",
            )
        )
        add(_row("command", ["node", "index.js", "--webhook-path=/hooks/github"], False, "argument-config", "argument"))
    return rows


def write(path: Path = OUTPUT) -> str:
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in main_rows())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    if "--check" in sys.argv:
        expected = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in main_rows())
        sys.exit(0 if OUTPUT.read_text(encoding="utf-8") == expected else 1)
    text = write()
    rows = [json.loads(line) for line in text.splitlines()]
    secrets = sum(1 for r in rows if r["secret"])
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(rows)} rows, {secrets} secrets ({secrets / len(rows):.0%})")
    hold = holdout_rows()
    print(f"holdout (in memory): {len(hold)} rows, {sum(1 for r in hold if r['secret'])} secrets")
