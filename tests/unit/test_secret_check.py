"""The plaintext-secret check: where it looks, what a finding says, the allowlist, and no value leaks."""

from __future__ import annotations

import json
import re

from ecsguard import secretscan
from ecsguard.checks import CheckContext, load_all
from ecsguard.checks.secrets import plaintext_secret, scan_container
from ecsguard.model import Container, parse_document

from conftest import CORPUS

CANARY = "CanaryValue7f3Q9zK2mXw"  # synthetic


def definition(**container: object) -> dict:
    base = {"name": "web", "image": "nginx:1.25"}
    base.update(container)
    return {"family": "shop", "containerDefinitions": [base]}


def run(document: dict, allowlist: frozenset[str] = frozenset()) -> list:
    td = parse_document(document)
    return plaintext_secret.run(td, CheckContext(target=td.name, secret_allowlist=allowlist))


def test_registered_with_metadata() -> None:
    registered = load_all()["plaintext-secret"]
    assert registered.severity == "high" and registered.mistake == 3 and registered.remediable
    assert registered.docs.startswith("https://docs.aws.amazon.com/")


def test_environment_finding_names_container_field_kind_and_rule() -> None:
    token = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5"
    findings = run(definition(environment=[{"name": "GITHUB_TOKEN", "value": token}, {"name": "PORT", "value": "80"}]))
    assert len(findings) == 1
    f = findings[0]
    assert (f.check, f.container, f.field, f.rule) == (
        "plaintext-secret",
        "web",
        "environment.GITHUB_TOKEN",
        "github-token",
    )
    assert f.evidence == "ghp_… (40 chars)"
    assert f.fingerprint == secretscan.fingerprint(token)
    assert "Container 'web'" in f.message and "environment.GITHUB_TOKEN" in f.message
    assert "a GitHub token (rule github-token" in f.message
    assert "Rotate" in f.remediation and "CloudTrail" in f.remediation
    assert "`secrets`" in f.remediation and "valueFrom" in f.remediation


def test_log_options_and_arguments_are_scanned() -> None:
    document = definition(
        logConfiguration={
            "logDriver": "splunk",
            "options": {"splunk-url": "https://splunk:8088", "splunk-token": CANARY},
        },
        command=["./server", f"--db-password={CANARY}x"],
        entryPoint=["sh", "-c", f"mysql -uroot -p{CANARY}y app"],
    )
    fields = {f.field: f for f in run(document)}
    assert set(fields) == {"logConfiguration.options.splunk-token", "command[1]", "entryPoint[2]"}
    assert "secretOptions" in fields["logConfiguration.options.splunk-token"].remediation
    assert "environment variable" in fields["command[1]"].remediation


def test_references_and_placeholders_are_silent() -> None:
    document = definition(
        environment=[
            {"name": "DB_PASSWORD", "value": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123"},
            {"name": "API_KEY", "value": "${api_key}"},
            {"name": "JWT_SECRET", "value": "changeme"},
            {"name": "PASSWORD_MIN_LENGTH", "value": "12"},
        ],
        secrets=[{"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/token"}],
    )
    assert run(document) == []


def test_allowlist_by_name_case_insensitive_and_by_fingerprint() -> None:
    document = definition(
        environment=[{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "API_TOKEN", "value": CANARY}]
    )
    assert {f.field for f in run(document)} == {"environment.DB_PASSWORD", "environment.API_TOKEN"}
    assert {f.field for f in run(document, frozenset({"db_password"}))} == {"environment.API_TOKEN"}
    assert {f.field for f in run(document, frozenset({"DB_Password"}))} == {"environment.API_TOKEN"}
    print_ = secretscan.fingerprint(CANARY)
    assert {f.field for f in run(document, frozenset({print_}))} == {"environment.DB_PASSWORD"}
    # an allowlisted name does not silence the same name's value in another place
    args = definition(command=["./app", "--password", "hunter2x"])
    assert len(run(args, frozenset({"password"}))) == 1


def test_canary_never_appears_in_any_finding_field() -> None:
    document = definition(
        environment=[
            {"name": "DB_PASSWORD", "value": CANARY},
            {"name": "DATABASE_URL", "value": f"postgres://app:{CANARY}@db:5432/app"},
            {"name": "JAVA_OPTS", "value": f"-Dspring.datasource.password={CANARY} -Xmx1g"},
            {"name": "SETTINGS", "value": json.dumps({"password": CANARY})},
        ],
        logConfiguration={"logDriver": "awsfirelens", "options": {"HTTP_Passwd": CANARY}},
        command=["sh", "-c", f"PGPASSWORD={CANARY} psql -h db"],
    )
    findings = run(document)
    assert len(findings) == 6
    for f in findings:
        blob = " ".join(
            str(x)
            for x in (repr(f), json.dumps(f.to_dict()), f.message, f.remediation, f.evidence, f.fingerprint, f.data)
        )
        assert CANARY not in blob
        assert CANARY[:8] not in blob


def test_scan_container_serves_run_task_overrides() -> None:
    override = Container(name="app", image=None, command=("./job", "--token", CANARY))
    hits = scan_container(override)
    assert [field for field, _ in hits] == ["command[2]"]


_TEMPLATE = re.compile(r"\$\{|\$[A-Za-z_(]|\{\{|\{[a-z_]+\}|<[^>]+>|^[A-Z][A-Z0-9_]*$")


def test_real_task_definitions_flag_only_real_looking_credentials() -> None:
    """71 task definitions written by other people: template placeholders never fire."""
    flagged: list[tuple[str, str]] = []
    files = sorted((CORPUS / "taskdefs").glob("*.json"))
    assert len(files) == 71
    for path in files:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
        td = parse_document(document)
        for container in td.containers:
            values = {f"environment.{v.name}": v.value for v in container.environment}
            if container.log_configuration:
                values.update(
                    {f"logConfiguration.options.{k}": v for k, v in container.log_configuration.options.items()}
                )
            for field, _match in scan_container(container):
                value = values.get(field, "")
                assert not _TEMPLATE.search(value), f"{path.name} {field}: a template placeholder was flagged"
                assert not secretscan.is_reference_or_placeholder(value) or not value
                flagged.append((path.name, field))
    # the only plaintext credentials in that corpus: Drone's shared secret, its MySQL root password and DSN
    assert set(flagged) <= {
        ("013.json", "environment.DRONE_SECRET"),
        ("013.json", "environment.DRONE_DATABASE_DATASOURCE"),
        ("013.json", "environment.MYSQL_ROOT_PASSWORD"),
    }


def test_guessable_values_have_no_published_fingerprint() -> None:
    """sha256("123456") is on every search engine: a human-chosen value's hash would reveal it."""
    weak = parse_document(definition(environment=[{"name": "DRONE_SECRET", "value": "123456"}]))
    strong = parse_document(
        definition(environment=[{"name": "GITHUB_TOKEN", "value": "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"}])
    )
    context = CheckContext(target="t")
    [weak_finding] = plaintext_secret.run(weak, context)
    [strong_finding] = plaintext_secret.run(strong, context)
    assert weak_finding.fingerprint is None
    assert "sha256:" not in weak_finding.remediation + weak_finding.message
    assert "variable name" in weak_finding.remediation
    assert strong_finding.fingerprint == secretscan.fingerprint("ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5")
    assert strong_finding.fingerprint in strong_finding.remediation


def test_guessable_value_is_still_allowlisted_by_its_fingerprint() -> None:
    weak = parse_document(definition(environment=[{"name": "DRONE_SECRET", "value": "123456"}]))
    context = CheckContext(target="t", secret_allowlist=frozenset({secretscan.fingerprint("123456")}))
    assert plaintext_secret.run(weak, context) == []
