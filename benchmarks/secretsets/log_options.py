"""Generate the fifth red-team set, ``tests/data/secrets_log_options.jsonl`` ("log-options").

Written before reading ``ecsguard/secretscan.py`` or ``docs/secrets.md``. A focused round on one
place the ``plaintext-secret`` check looks: a container's ``logConfiguration.options`` (key = option
name, value = option value). It samples the real option vocabularies:

* Docker log drivers usable on ECS: ``awslogs``, ``splunk``, ``fluentd``, ``gelf``, ``syslog``,
  ``journald``, ``json-file``, ``logentries``;
* ``awsfirelens``, whose options are handed to a Fluent Bit output: ``datadog``, ``newrelic``,
  ``es``/``opensearch``, ``http`` (with the ``Header`` option used for Sumo, Honeycomb, Dynatrace,
  Coralogix, Logz.io, Loggly...), ``loki`` and Grafana's ``grafana-loki``, ``splunk``, ``kafka``,
  the AWS outputs (``kinesis_firehose``, ``cloudwatch_logs``, ``kinesis_streams``, ``s3``),
  ``forward``, ``logdna``, ``azure``, ``influxdb``, plus the ECS-level FireLens options;
* the casing people use (``apikey``, ``apiKey``, ``APIKEY``, ``Splunk_Token``, ``HTTP_Passwd``).

Hard negatives are every non-secret option with a realistic value (hosts, ports, indexes, regions,
ARNs, buckets, labels, tags, tenant ids, formats, booleans), references (``${DD_API_KEY}``,
``{{resolve:...}}``), placeholders, and options whose *names* contain credential words but whose
values are no credential (``splunk-caname``, ``awslogs-credentials-endpoint``, ``tls.key_file``,
``s3_key_format``, the Docker ``env`` option listing variable *names*).

Every secret value is SYNTHETIC: drawn from a seeded generator in the vendor's format. Nothing is
copied from a real credential. Each row: ``name, value, secret, family, where="option", why``.

    python benchmarks/secretsets/log_options.py          # rewrite the jsonl
    python benchmarks/secretsets/log_options.py --check  # exit 1 if the file is stale
"""

from __future__ import annotations

import base64
import json
import random
import string
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "data" / "secrets_log_options.jsonl"
SEED = 20250412

ALNUM = string.ascii_letters + string.digits
UPPER_NUM = string.ascii_uppercase + string.digits
LOWER_NUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
WORDS = ["tulip", "copper", "harbor", "magnet", "orbit", "walnut", "falcon", "quartz", "meadow", "ember", "glacier"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ca-central-1"]
APPS = ["orders", "checkout", "billing", "search", "auth-api", "web", "worker", "ingest"]

rng = random.Random(SEED)
ROWS: list[dict] = []


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def uid(upper: bool = False) -> str:
    u = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return u.upper() if upper else u


def account() -> str:
    return str(rng.randint(100000000000, 999999999999))


def password() -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return rand(rng.randint(14, 22), ALNUM + "!#%^*-_")
    if kind == 1:
        return rand(rng.randint(16, 24))
    return f"{rng.choice(WORDS).title()}{rng.choice('#!%*')}{rng.randint(1000, 9999)}{rng.choice(WORDS).title()}"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def jwt() -> str:
    head = b64url(b'{"alg":"HS256","typ":"JWT"}')
    body = b64url(json.dumps({"sub": rand(8, LOWER_NUM), "iat": rng.randint(1_600_000_000, 1_800_000_000)}).encode())
    return f"{head}.{body}.{b64url(rng.randbytes(32))}"


def dd_key() -> str:
    return rand(32, HEX)


def nr_license() -> str:
    return rand(36, HEX) + "NRAL"


def nr_user_key() -> str:
    return "NRAK-" + rand(27, UPPER_NUM)


def nr_insert_key() -> str:
    return "NRII-" + rand(32, ALNUM + "-_")


def glc() -> str:
    payload = {
        "o": str(rng.randint(100000, 9999999)),
        "n": f"stack-{rng.randint(100000, 999999)}-hl-write-ecs",
        "k": rand(24),
        "m": {"r": rng.choice(["prod-us-east-0", "prod-eu-west-2"])},
    }
    return "glc_" + base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def dynatrace() -> str:
    return f"dt0c01.{rand(24, UPPER_NUM)}.{rand(64, UPPER_NUM)}"


def honeycomb() -> str:
    return rng.choice([rand(22), rand(32, HEX)])


def azure_shared_key() -> str:
    return base64.b64encode(rng.randbytes(64)).decode()


def confluent_secret() -> str:
    return rand(64, B64)


def sumo_token() -> str:
    return "ZaVnC4dhaV" + b64url(rng.randbytes(70)) + "=="


def cloud_id() -> str:
    name = f"{rng.choice(APPS)}-logs"
    host = f"{rng.choice(REGIONS)}.aws.found.io:443${rand(32, HEX)}${rand(32, HEX)}"
    return f"{name}:{base64.b64encode(host.encode()).decode()}"


def row(name: str, value: str, secret: bool, family: str, why: str) -> None:
    ROWS.append({"name": name, "value": value, "secret": secret, "family": family, "where": "option", "why": why})


def S(name, value, family, why):
    row(name, value, True, family, why)


def N(name, value, family, why):
    row(name, value, False, family, why)


# ---------------------------------------------------------------- Docker drivers
def docker_drivers() -> None:
    # awslogs: nothing in awslogs is a credential
    for _ in range(2):
        app = rng.choice(APPS)
        region = rng.choice(REGIONS)
        N("awslogs-group", f"/ecs/{app}-{rand(8, HEX)}", "awslogs-config", "log group name")
        N("awslogs-region", region, "awslogs-config", "region")
        N("awslogs-stream-prefix", app, "awslogs-config", "stream prefix")
    N("awslogs-endpoint", "https://logs.eu-west-1.amazonaws.com", "awslogs-config", "endpoint URL, no userinfo")
    N("awslogs-create-group", "true", "awslogs-config", "boolean")
    N("awslogs-datetime-format", r"\[%b %d, %Y %H:%M:%S\]", "awslogs-config", "strftime pattern")
    N("awslogs-multiline-pattern", r"^\d{4}-\d{2}-\d{2}", "awslogs-config", "regex")
    N("mode", "non-blocking", "awslogs-config", "delivery mode")
    N("max-buffer-size", "25m", "awslogs-config", "size")
    N("awslogs-credentials-endpoint", "/creds", "cred-word-name", "name says credentials; value is an endpoint path")
    N(
        "awslogs-credentials-endpoint",
        f"/v2/credentials/{uid()}",
        "cred-word-name",
        "ECS relative credentials URI: an endpoint path only reachable by the task, not a credential",
    )
    # splunk
    for upper in (False, True, False, False):
        S("splunk-token", uid(upper), "splunk-hec-token", "Splunk HEC token (GUID) in plaintext")
    S("splunk-token", rand(32, HEX), "splunk-hec-token", "Splunk HEC token without dashes")
    N("splunk-token", "${SPLUNK_TOKEN}", "reference", "variable reference, not the token")
    N("splunk-token", "{{resolve:secretsmanager:prod/splunk-hec:SecretString:token}}", "reference", "CFN dynamic ref")
    N("splunk-token", "", "placeholder", "empty")
    for host in ("splunk.example.com:8088", "http-inputs-acme.splunkcloud.com:443", "10.0.4.17:8088"):
        N("splunk-url", f"https://{host}", "splunk-config", "HEC URL, no credential")
    N("splunk-source", "ecs:orders", "splunk-config", "source name")
    N("splunk-sourcetype", "_json", "splunk-config", "sourcetype")
    N("splunk-index", "main", "splunk-config", "index")
    N("splunk-index", "ecs_prod_apps", "splunk-config", "index")
    N("splunk-capath", "/etc/ssl/certs/splunk-ca.pem", "splunk-config", "CA path")
    N("splunk-caname", "SplunkServerDefaultCert", "cred-word-name", "CA name (contains 'ca'), not a credential")
    N("splunk-insecureskipverify", "false", "splunk-config", "boolean")
    N("splunk-format", "json", "splunk-config", "format")
    N("splunk-verify-connection", "true", "splunk-config", "boolean")
    N("splunk-gzip", "true", "splunk-config", "boolean")
    N("splunk-gzip-level", "6", "splunk-config", "integer")
    N("splunk-tag", "{{.Name}}/{{.ID}}", "splunk-config", "Go template")
    # fluentd / gelf / syslog / journald / json-file
    N("fluentd-address", "localhost:24224", "fluentd-config", "address")
    N("fluentd-address", "unix:///var/run/fluentd/fluentd.sock", "fluentd-config", "socket")
    N("tag", "docker.{{.ImageName}}.{{.Name}}", "fluentd-config", "Go template tag")
    N("tag", f"{rng.choice(APPS)}-{rand(40, HEX)}", "hash-value", "tag with a git commit sha: high entropy, no secret")
    N("fluentd-async", "true", "fluentd-config", "boolean")
    N("fluentd-buffer-limit", "8192", "fluentd-config", "integer")
    N("fluentd-retry-wait", "1s", "fluentd-config", "duration")
    N("gelf-address", "udp://graylog.internal:12201", "gelf-config", "address")
    N("gelf-compression-type", "gzip", "gelf-config", "enum")
    N("syslog-address", "tcp+tls://logs5.papertrailapp.com:41234", "syslog-config", "address; port is not a token")
    N("syslog-facility", "daemon", "syslog-config", "facility")
    N("syslog-tls-ca-cert", "/etc/docker/certs/ca.pem", "syslog-config", "path")
    N("syslog-tls-cert", "/etc/docker/certs/cert.pem", "syslog-config", "path")
    N("syslog-tls-key", "/etc/docker/certs/key.pem", "cred-word-name", "path to a key file, not the key")
    N("syslog-tls-skip-verify", "false", "syslog-config", "boolean")
    N("syslog-format", "rfc5424micro", "syslog-config", "enum")
    N("labels", "com.example.team,com.example.secret-scope", "docker-config", "label names")
    N("env", "SPLUNK_TOKEN,DD_API_KEY,OS_VERSION", "cred-word-name", "Docker env option lists variable NAMES")
    N("max-size", "10m", "json-file-config", "size")
    N("max-file", "3", "json-file-config", "integer")
    N("compress", "true", "json-file-config", "boolean")
    # logentries
    for _ in range(3):
        S("logentries-token", uid(), "logentries-token", "Logentries log token (GUID)")
    N("logentries-token", "${LOGENTRIES_TOKEN}", "reference", "variable reference")
    N("line-only", "true", "logentries-config", "boolean")


# ---------------------------------------------------------------- FireLens / Fluent Bit outputs
def firelens_common() -> None:
    N("Name", "datadog", "firelens-config", "output plugin name")
    N("Name", "es", "firelens-config", "output plugin name")
    N("Name", "newrelic", "firelens-config", "output plugin name")
    N("enable-ecs-log-metadata", "true", "firelens-config", "boolean")
    N("retry_limit", "2", "firelens-config", "integer")
    N("Retry_Limit", "False", "firelens-config", "boolean")
    N("match", "*", "firelens-config", "match pattern")
    N("include-pattern", r"^(ERROR|WARN)", "firelens-config", "regex")
    N("exclude-pattern", "healthcheck", "firelens-config", "regex")
    N("log-driver-buffer-limit", "2097152", "firelens-config", "integer")
    N("workers", "2", "firelens-config", "integer")


def datadog() -> None:
    for name in ("apikey", "apiKey", "APIKEY", "ApiKey", "api_key", "apikey", "apikey", "Apikey"):
        S(name, dd_key(), "datadog-api-key", "Datadog API key (32 hex) in a FireLens datadog output")
    for value, fam, why in [
        ("${DD_API_KEY}", "reference", "variable reference"),
        ("{{resolve:secretsmanager:datadog/api-key}}", "reference", "CFN dynamic ref"),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:dd-api-key-AbC123", "reference", "ARN of a secret"),
        ("<DATADOG_API_KEY>", "placeholder", "placeholder"),
        ("YOUR_DATADOG_API_KEY", "placeholder", "placeholder"),
        ("x" * 32, "placeholder", "32 x's: placeholder shaped like a key"),
        ("********", "placeholder", "masked"),
    ]:
        N(rng.choice(["apikey", "apiKey"]), value, fam, why)
    for host in (
        "http-intake.logs.datadoghq.com",
        "http-intake.logs.datadoghq.eu",
        "http-intake.logs.us5.datadoghq.com",
    ):
        N("Host", host, "datadog-config", "intake host")
    N("TLS", "on", "datadog-config", "boolean")
    N("compress", "gzip", "datadog-config", "enum")
    for app in rng.sample(APPS, 3):
        N("dd_service", app, "datadog-config", "service name")
    N("dd_source", "nodejs", "datadog-config", "source")
    N("dd_tags", "env:prod,team:payments", "datadog-config", "tags")
    N(
        "dd_tags",
        f"env:staging,team:search,git.commit.sha:{rand(40, HEX)}",
        "hash-value",
        "tags with a commit sha: high entropy, no secret",
    )
    N("dd_message_key", "log", "datadog-config", "field name")
    N("provider", "ecs", "datadog-config", "enum")
    N("dd_hostname", "ip-10-0-1-23.ec2.internal", "datadog-config", "hostname")


def newrelic() -> None:
    for _ in range(3):
        S("licenseKey", nr_license(), "newrelic-license-key", "New Relic license key (…NRAL)")
    for _ in range(2):
        S("apiKey", nr_user_key(), "newrelic-api-key", "New Relic user API key (NRAK-)")
    S("apiKey", nr_insert_key(), "newrelic-api-key", "New Relic insert key (NRII-)")
    S("LicenseKey", nr_license(), "newrelic-license-key", "casing variant")
    N("licenseKey", "${NEW_RELIC_LICENSE_KEY}", "reference", "variable reference")
    N("endpoint", "https://log-api.newrelic.com/log/v1", "newrelic-config", "endpoint")
    N("endpoint", "https://log-api.eu.newrelic.com/log/v1", "newrelic-config", "endpoint")
    N("maxBufferSize", "256000", "newrelic-config", "integer")
    N("maxRecords", "1024", "newrelic-config", "integer")


def elastic() -> None:
    for name in ("HTTP_Passwd", "HTTP_Passwd", "http_passwd", "HTTP_PASSWD"):
        S(name, password(), "basic-auth-password", "Elasticsearch/OpenSearch basic-auth password")
    S("HTTP_Passwd", "Winter2025!", "basic-auth-password", "human-chosen password is still the live password")
    S("Cloud_Auth", f"elastic:{rand(24)}", "basic-auth-password", "Elastic Cloud user:password")
    N("HTTP_Passwd", "${ES_PASSWORD}", "reference", "variable reference")
    N("HTTP_User", "elastic", "username", "user name")
    N("HTTP_User", "fluentbit_writer", "username", "user name")
    N("Cloud_ID", cloud_id(), "elastic-cloud-id", "Cloud ID: base64 of host and cluster ids, an address not a secret")
    for host in ("search-logs-abc123xyz.eu-west-1.es.amazonaws.com", "vpc-ecs-logs-7f3k2.us-east-1.es.amazonaws.com"):
        N("Host", host, "es-config", "domain endpoint")
    N("Host", "es.internal", "es-config", "host")
    N("Port", "443", "es-config", "port")
    N("Port", "9200", "es-config", "port")
    N("Index", "ecs-logs", "es-config", "index")
    N("Logstash_Format", "On", "es-config", "boolean")
    N("Logstash_Prefix", "orders", "es-config", "prefix")
    N("AWS_Auth", "On", "cred-word-name", "name contains Auth; value is a switch")
    N("AWS_Region", "eu-west-1", "es-config", "region")
    N("AWS_Role_ARN", f"arn:aws:iam::{account()}:role/ecs-fluentbit-es", "es-config", "role ARN")
    N("AWS_External_ID", "ecs-logging", "es-config", "external id is not a secret (AWS)")
    N("AWS_Service_Name", "aoss", "es-config", "enum")
    N("Suppress_Type_Name", "On", "es-config", "boolean")
    N("Replace_Dots", "On", "es-config", "boolean")
    N("tls", "On", "tls-config", "boolean")
    N("tls.verify", "Off", "cred-word-name", "TLS switch")
    N("tls.ca_file", "/fluent-bit/etc/ca.crt", "tls-config", "path")
    N("tls.crt_file", "/fluent-bit/etc/client.crt", "tls-config", "path")
    N("tls.key_file", "/fluent-bit/etc/client.key", "cred-word-name", "path to the key, not the key")
    S("tls.key_passwd", password(), "tls-key-password", "password of the TLS private key")
    S("tls.key_passwd", rand(18), "tls-key-password", "password of the TLS private key")


def http_output() -> None:
    N("Name", "http", "firelens-config", "plugin")
    for host in ("http-intake.logs.datadoghq.com", "api.honeycomb.io", "collectors.sumologic.com", "listener.logz.io"):
        N("Host", host, "http-config", "host")
    N("Port", "443", "http-config", "port")
    N("URI", "/api/v2/logs", "http-config", "path")
    N("URI", "/services/collector/event", "http-config", "path")
    N("URI", "/1/batch/ecs-logs", "http-config", "Honeycomb dataset path")
    N("Format", "json_lines", "http-config", "format")
    N("format", "json", "http-config", "format")
    N("json_date_key", "timestamp", "http-config", "field name")
    N("json_date_format", "iso8601", "http-config", "format")
    N("header_tag", "FLUENT-TAG", "http-config", "header name")
    # URI with credentials
    S(
        "URI",
        f"/receiver/v1/http/{sumo_token()}",
        "url-path-token",
        "Sumo Logic HTTP source: the URL path is the credential",
    )
    S("URI", f"/bulk/{uid()}/tag/ecs/", "url-path-token", "Loggly customer token in the path")
    S("URI", f"/inputs/{uid()}/tag/http/", "url-path-token", "Loggly customer token in the path")
    S("URI", f"/?token={rand(32, string.ascii_letters)}&type=ecs", "url-query-token", "Logz.io token in the query")
    S("URI", f"/api/v2/logs?dd-api-key={dd_key()}", "url-query-token", "Datadog key in the query")
    N("URI", "/bulk/${LOGGLY_TOKEN}/tag/ecs/", "reference", "variable reference")
    N("URI", "/?type=ecs&token=${LOGZIO_TOKEN}", "reference", "variable reference")
    # basic auth
    for name in ("http_Passwd", "HTTP_Passwd", "http_passwd"):
        S(name, password(), "basic-auth-password", "HTTP output basic-auth password")
    N("http_User", "ingest", "username", "user")
    N("http_User", "123456", "username", "numeric user id")
    # Header option: "<header name> <value>"
    for _ in range(2):
        secret_headers()
    headers_plain = [
        ("Content-Type application/json", "content type"),
        ("X-Scope-OrgID tenant-a", "Loki tenant"),
        (f"X-Scope-OrgID {uid()}", "Loki tenant id (uuid)"),
        ("X-Honeycomb-Dataset ecs-logs", "dataset"),
        ("X-API-Key ${API_KEY}", "reference"),
        ("DD-API-KEY {{resolve:secretsmanager:datadog/api-key}}", "dynamic reference"),
        ("Authorization Bearer ${TOKEN}", "reference"),
        ("X-Sumo-Category prod/ecs/orders", "category"),
        ("X-Sumo-Name orders", "name"),
        (f"X-Request-Id {uid()}", "request id"),
        ("User-Agent fluent-bit", "user agent"),
    ]
    for value, why in headers_plain:
        N(rng.choice(["Header", "header"]), value, "header-noncredential", why)


def secret_headers() -> None:
    """The Fluent Bit http ``Header`` option: ``<header name> <header value>`` in one string."""
    headers_secret = [
        (f"X-API-Key {rand(32)}", "generic API key header"),
        (f"x-api-key {rand(40, LOWER_NUM)}", "lowercase API key header"),
        (f"DD-API-KEY {dd_key()}", "Datadog key header"),
        (f"X-Honeycomb-Team {honeycomb()}", "Honeycomb key header"),
        (f"X-Honeycomb-Team {honeycomb()}", "Honeycomb key header"),
        (f"Authorization Api-Token {dynatrace()}", "Dynatrace token header"),
        (f"Api-Token {dynatrace()}", "Dynatrace token as its own header"),
        (f"Authorization Bearer {jwt()}", "bearer JWT"),
        (f"Authorization Bearer cxtp_{rand(30)}", "Coralogix send-your-data key as bearer"),
        (f"private_key {uid()}", "Coralogix private key header"),
        (f"Api-Key {nr_user_key()}", "New Relic Api-Key header"),
        (f"X-License-Key {nr_license()}", "New Relic license header"),
        (f"X-Insert-Key {nr_insert_key()}", "New Relic insert key header"),
        (f"Authorization Basic {base64.b64encode(f'ingest:{password()}'.encode()).decode()}", "basic auth header"),
        (f"X-Auth-Token {rand(28)}", "auth token header"),
        (f"apikey {rand(32, HEX)}", "gateway apikey header"),
        (f"Authorization Splunk {uid()}", "Splunk HEC auth header"),
        (f"X-Sumo-Token {rand(40)}", "token header"),
    ]
    for value, why in headers_secret:
        S(rng.choice(["Header", "Header", "header"]), value, "header-credential", why)


def loki() -> None:
    N("Name", "loki", "firelens-config", "plugin")
    N("host", "logs-prod-006.grafana.net", "loki-config", "host")
    N("host", "loki.monitoring.svc", "loki-config", "host")
    N("port", "443", "loki-config", "port")
    N("uri", "/loki/api/v1/push", "loki-config", "path")
    N("labels", "job=fluentbit, env=prod", "loki-config", "labels")
    N("labels", '{job="ecs"}', "loki-config", "labels")
    N("Labels", '{job="fluent-bit", cluster="prod"}', "loki-config", "labels")
    N("label_keys", "$container_name,$ecs_task_definition", "loki-config", "record accessors")
    N("remove_keys", "source,container_id", "loki-config", "keys")
    N("line_format", "json", "loki-config", "format")
    N("LineFormat", "key_value", "loki-config", "format")
    N("tenant_id", "tenant-prod", "loki-config", "tenant id")
    N("tenant_id", uid(), "loki-config", "tenant id (uuid): an identifier")
    N("http_user", str(rng.randint(100000, 999999)), "username", "Grafana Cloud numeric user")
    for _ in range(3):
        S("http_passwd", glc(), "grafana-cloud-token", "Grafana Cloud access policy token (glc_)")
    S("http_passwd", password(), "basic-auth-password", "Loki basic-auth password")
    S("bearer_token", jwt(), "bearer-token", "bearer JWT")
    S("bearer_token", rand(40), "bearer-token", "opaque bearer token")
    N("bearer_token", "${LOKI_TOKEN}", "reference", "reference")
    N("Url", "https://logs-prod-us-central1.grafana.net/loki/api/v1/push", "loki-config", "URL without userinfo")
    S(
        "Url",
        f"https://{rng.randint(100000, 999999)}:{glc()}@logs-prod-us-central1.grafana.net/loki/api/v1/push",
        "url-userinfo",
        "grafana-loki plugin URL with user:token",
    )
    S("Url", f"https://loki:{password()}@loki.example.com/loki/api/v1/push", "url-userinfo", "URL with password")


def splunk_fb() -> None:
    N("Name", "splunk", "firelens-config", "plugin")
    for name in ("Splunk_Token", "splunk_token", "Splunk_Token"):
        S(name, uid(rng.random() < 0.5), "splunk-hec-token", "Splunk HEC token in Fluent Bit splunk output")
    N("Splunk_Token", "${SPLUNK_HEC_TOKEN}", "reference", "reference")
    N("host", "splunk-hec.example.com", "splunk-config", "host")
    N("port", "8088", "splunk-config", "port")
    N("Splunk_Send_Raw", "On", "splunk-config", "boolean")
    N("event_index", "ecs", "splunk-config", "index")
    N("event_sourcetype", "ecs:app", "splunk-config", "sourcetype")
    N("TLS.Verify", "Off", "tls-config", "boolean")


def kafka() -> None:
    N("Name", "kafka", "firelens-config", "plugin")
    N("Brokers", "pkc-4r297.us-east-1.aws.confluent.cloud:9092", "kafka-config", "broker")
    N("Brokers", "b-1.logs.abc123.c2.kafka.eu-west-1.amazonaws.com:9096", "kafka-config", "broker")
    N("Topics", "ecs-logs", "kafka-config", "topic")
    N("rdkafka.sasl.username", rand(16, UPPER_NUM), "username", "Confluent API key id used as the SASL user: an id")
    N("rdkafka.sasl.username", "fluentbit", "username", "user")
    for _ in range(2):
        S("rdkafka.sasl.password", confluent_secret(), "kafka-sasl-password", "Confluent API secret as SASL password")
    S("rdkafka.sasl.password", password(), "kafka-sasl-password", "SCRAM password")
    S("rdkafka.ssl.key.password", password(), "tls-key-password", "password of the client key")
    N("rdkafka.sasl.password", "${KAFKA_PASSWORD}", "reference", "reference")
    N("rdkafka.security.protocol", "SASL_SSL", "kafka-config", "enum")
    N("rdkafka.sasl.mechanisms", "PLAIN", "kafka-config", "enum")
    N("rdkafka.sasl.mechanism", "SCRAM-SHA-512", "kafka-config", "enum")
    N("rdkafka.ssl.key.location", "/fluent-bit/etc/client.key", "cred-word-name", "path")
    N("Format", "json", "kafka-config", "format")


def aws_outputs() -> None:
    for _ in range(2):
        region = rng.choice(REGIONS)
        app = rng.choice(APPS)
        acct = account()
        N("region", region, "aws-output-config", "region")
        N("delivery_stream", f"{app}-logs-stream", "aws-output-config", "stream name")
        N("stream", f"{app}-kinesis", "aws-output-config", "stream name")
        N("log_group_name", f"/aws/ecs/{app}", "aws-output-config", "group")
        N("log_stream_prefix", f"{app}-", "aws-output-config", "prefix")
        N("bucket", f"logs-{acct}-{region}", "aws-output-config", "bucket")
        N("role_arn", f"arn:aws:iam::{acct}:role/firelens-{app}", "aws-output-config", "role ARN")
    N("auto_create_group", "true", "aws-output-config", "boolean")
    N("log_retention_days", "30", "aws-output-config", "integer")
    N("log_key", "log", "cred-word-name", "field name (contains key)")
    N("log_format", "json/emf", "aws-output-config", "format")
    N("endpoint", "https://firehose.eu-west-1.amazonaws.com", "aws-output-config", "endpoint")
    N("sts_endpoint", "https://sts.eu-west-1.amazonaws.com", "aws-output-config", "endpoint")
    N("total_file_size", "1M", "aws-output-config", "size")
    N("upload_timeout", "1m", "aws-output-config", "duration")
    N("use_put_object", "On", "aws-output-config", "boolean")
    N("s3_key_format", "/fluent-bit-logs/$TAG/%Y/%m/%d/%H/$UUID.gz", "cred-word-name", "object key format")
    N("s3_key_format_tag_delimiters", ".-", "cred-word-name", "delimiters")
    N("compression", "gzip", "aws-output-config", "enum")
    N("time_key", "timestamp", "cred-word-name", "field name")
    N("time_key_format", "%Y-%m-%dT%H:%M:%S", "cred-word-name", "format")
    N("canned_acl", "bucket-owner-full-control", "aws-output-config", "enum")
    N("external_id", "firelens-logging", "aws-output-config", "external id is not a secret")


def forward_and_misc() -> None:
    N("Name", "forward", "firelens-config", "plugin")
    S("Shared_Key", rand(24), "forward-shared-key", "forward secure mode shared key")
    S(
        "Shared_Key",
        f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.randint(1000, 9999)}",
        "forward-shared-key",
        "chosen shared key",
    )
    S("shared_key", rand(32, HEX), "forward-shared-key", "shared key, lowercase")
    N("Shared_Key", "${FLUENT_SHARED_KEY}", "reference", "reference")
    N("Self_Hostname", "ecs-task-orders-7f9c2", "forward-config", "hostname")
    N("Empty_Shared_Key", "false", "cred-word-name", "boolean")
    N(
        "Shared_Key_File",
        "/fluent-bit/etc/shared.key",
        "cred-word-name",
        "a path, not a key (option name not in upstream Fluent Bit forward docs as far as known; path either way)",
    )
    N("Username", "fluent", "username", "forward user auth user")
    S("Password", password(), "basic-auth-password", "forward user auth password")
    # logdna
    N("Name", "logdna", "firelens-config", "plugin")
    for name in ("api_key", "api_key", "API_Key"):
        S(name, rand(32, HEX), "logdna-ingestion-key", "LogDNA / Mezmo ingestion key")
    N("logdna_host", "logs.logdna.com", "logdna-config", "host")
    N("tags", "ecs,prod", "logdna-config", "tags")
    N("app", "orders", "logdna-config", "app")
    # coralogix plugin
    S("Private_Key", uid(), "coralogix-private-key", "Coralogix private key")
    S("private_key", uid(), "coralogix-private-key", "Coralogix private key, lowercase")
    N("App_Name", "orders", "coralogix-config", "app name")
    N("Sub_Name", "ecs", "coralogix-config", "subsystem")
    # azure log analytics
    N("Customer_ID", uid(), "azure-config", "Log Analytics workspace id: an identifier")
    S("Shared_Key", azure_shared_key(), "azure-shared-key", "Log Analytics shared key (base64, 88 chars)")
    N("Log_Type", "ECSLogs", "azure-config", "type")
    S("client_secret", f"{rand(3)}8Q~{rand(34, ALNUM + '~._-')}", "azure-client-secret", "Entra client secret")
    N("client_id", uid(), "azure-config", "app id")
    N("tenant_id", uid(), "azure-config", "tenant id")
    # influxdb
    S("http_token", b64url(rng.randbytes(64)) + "==", "influx-token", "InfluxDB API token")
    N("org", "acme", "influx-config", "org")
    N("bucket", "ecs", "influx-config", "bucket")
    N("Sequence_Tag", "_seq", "influx-config", "tag")
    # stackdriver, misc credential-word names
    N("google_service_credentials", "/fluent-bit/etc/sa.json", "cred-word-name", "path to a credentials file")
    N("auth_type", "basic", "cred-word-name", "names an auth mechanism (not a known Docker/Fluent Bit option name)")


def more_secrets() -> None:
    """More draws of the common secret-bearing options, so the set is about 40% secrets."""
    for name in ("apikey", "apikey", "apikey", "apiKey", "APIKey", "api_key"):
        S(name, dd_key(), "datadog-api-key", "Datadog API key (32 hex) in a FireLens datadog output")
    for name in ("splunk-token", "splunk-token", "Splunk_Token", "Splunk_Token"):
        S(name, uid(rng.random() < 0.5), "splunk-hec-token", "Splunk HEC token (GUID)")
    for name in ("HTTP_Passwd", "http_Passwd", "HTTP_Passwd", "http_passwd"):
        S(name, password(), "basic-auth-password", "basic-auth password")
    for _ in range(3):
        S("licenseKey", nr_license(), "newrelic-license-key", "New Relic license key")
    for _ in range(2):
        S("http_passwd", glc(), "grafana-cloud-token", "Grafana Cloud access policy token (glc_)")
        S("logentries-token", uid(), "logentries-token", "Logentries token")
        S("bearer_token", rand(48, ALNUM + "-_"), "bearer-token", "opaque bearer token")
        S("Shared_Key", rand(20, ALNUM + "!#%"), "forward-shared-key", "forward shared key")
        S("rdkafka.sasl.password", confluent_secret(), "kafka-sasl-password", "Confluent API secret")
        S("api_key", rand(32, HEX), "logdna-ingestion-key", "LogDNA / Mezmo ingestion key")
    S("Header", f"X-API-KEY {rand(36)}", "header-credential", "upper-case API key header")
    S("Header", f"Authorization Token {rand(40, HEX)}", "header-credential", "token scheme")


def build() -> list[dict]:
    global rng
    rng = random.Random(SEED)
    ROWS.clear()
    docker_drivers()
    firelens_common()
    datadog()
    newrelic()
    elastic()
    http_output()
    loki()
    splunk_fb()
    kafka()
    aws_outputs()
    forward_and_misc()
    more_secrets()
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
