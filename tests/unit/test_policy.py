"""Configuration from the environment: defaults, validation that names the variable, exemptions."""

from __future__ import annotations

import pytest

from ecsguard.model import Finding, TaskDefinition
from ecsguard.policy import ConfigError, Settings, ignored_checks, is_exempt


def test_defaults():
    settings = Settings.from_env({})
    assert settings.log_retention_days == 30
    assert settings.mode("log-group-missing") == "remediate"
    assert settings.mode("plaintext-secret") == "notify"
    assert settings.mode("logging-disabled") == "notify"
    assert settings.topic_arn is None


def test_modes_parse():
    settings = Settings.from_env({"ECSGUARD_MODES": "plaintext-secret=block, logging-disabled=off"})
    assert settings.mode("plaintext-secret") == "block"
    assert not settings.enabled("logging-disabled")


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"ECSGUARD_MODES": "plaintext-secret"}, "ECSGUARD_MODES: 'plaintext-secret' is not of the form"),
        ({"ECSGUARD_MODES": "no-such-check=off"}, "ECSGUARD_MODES: unknown check id 'no-such-check'"),
        ({"ECSGUARD_MODES": "plaintext-secret=loud"}, "ECSGUARD_MODES: unknown mode 'loud'"),
        ({"ECSGUARD_MODES": "logging-disabled=remediate"}, "no safe automatic fix"),
        ({"ECSGUARD_LOG_RETENTION_DAYS": "45"}, "ECSGUARD_LOG_RETENTION_DAYS: CloudWatch Logs does not accept 45"),
        ({"ECSGUARD_LOG_RETENTION_DAYS": "month"}, "ECSGUARD_LOG_RETENTION_DAYS: 'month' is not a number"),
        ({"ECSGUARD_TOPIC_ARN": "my-topic"}, "ECSGUARD_TOPIC_ARN"),
        ({"ECSGUARD_LOG_KMS_KEY_ARN": "alias/logs"}, "ECSGUARD_LOG_KMS_KEY_ARN"),
        ({"ECSGUARD_SECRET_ALLOWLIST": "sha256:abc"}, "ECSGUARD_SECRET_ALLOWLIST"),
        ({"ECSGUARD_SECRET_STORE": "vault"}, "ECSGUARD_SECRET_STORE"),
        ({"ECSGUARD_SECRET_KMS_KEY_ID": "alias/secrets"}, "ECSGUARD_SECRET_KMS_KEY_ID"),
        ({"ECSGUARD_DELETE_LEAKING_REVISION": "yes"}, "ECSGUARD_DELETE_LEAKING_REVISION"),
    ],
)
def test_bad_values_name_the_variable(environ, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Settings.from_env(environ)


def test_exempt_families_accept_globs():
    settings = Settings.from_env({"ECSGUARD_EXEMPT_FAMILIES": "legacy-*, batch-nightly"})
    assert settings.family_exempt("legacy-reporting")
    assert settings.family_exempt("batch-nightly")
    assert not settings.family_exempt("batch-nightly-2")
    assert not settings.family_exempt(None)


def test_allowlist_keeps_names_and_fingerprints():
    fingerprint = "sha256:" + "a" * 64
    settings = Settings.from_env({"ECSGUARD_SECRET_ALLOWLIST": f"DEMO_PASSWORD,{fingerprint.upper()}"})
    assert settings.secret_allowlist == {"demo_password", fingerprint}


def _finding(check: str) -> Finding:
    return Finding(check=check, severity="low", target="t", message="m", remediation="r")


def test_ignore_tag():
    td = TaskDefinition(family="f", containers=(), tags={"ecsguard:ignore": " Plaintext-Secret , logging-disabled"})
    ignored = ignored_checks(td)
    assert is_exempt(_finding("plaintext-secret"), ignored)
    assert not is_exempt(_finding("log-group-missing"), ignored)
    assert is_exempt(
        _finding("anything"), ignored_checks(TaskDefinition(family="f", containers=(), tags={"ecsguard:ignore": "all"}))
    )


def test_state_table_and_its_older_name():
    assert Settings.from_env({}).state_table is None
    assert Settings.from_env({"ECSGUARD_STATE_TABLE": "ecsguard-state"}).state_table == "ecsguard-state"
    assert Settings.from_env({"ECSGUARD_IDEMPOTENCY_TABLE": "ecsguard-idem"}).state_table == "ecsguard-idem"
    both = {"ECSGUARD_STATE_TABLE": "ecsguard-state", "ECSGUARD_IDEMPOTENCY_TABLE": "ecsguard-state"}
    assert Settings.from_env(both).state_table == "ecsguard-state"
    with pytest.raises(ConfigError, match="ECSGUARD_STATE_TABLE .* ECSGUARD_IDEMPOTENCY_TABLE"):
        Settings.from_env({"ECSGUARD_STATE_TABLE": "a", "ECSGUARD_IDEMPOTENCY_TABLE": "b"})
