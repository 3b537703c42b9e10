"""Policy: what to do about findings. Modes per check, exemptions, thresholds.

:func:`evaluate` is the one place that runs the enabled checks on a definition and sets aside what
its ``ecsguard:ignore`` tag exempts; every flow and ``ecsguard scan`` go through it.

Everything here comes from environment variables that ``template.yaml`` sets from stack
parameters (and that the README documents). A bad value raises :class:`ConfigError` naming the
variable, at start, before any event is handled.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .checks import MODES, SEVERITIES, CheckContext, load_all, run_checks
from .model import Finding, StoppedTask, TaskDefinition, TaskLaunch

if TYPE_CHECKING:
    from .facts import Facts

IGNORE_TAG = "ecsguard:ignore"
# Set on every revision ecsguard registers itself, so it never acts on its own work.
REMEDIATED_FROM_TAG = "ecsguard:remediated-from"
CREATED_BY_TAG = "ecsguard:created-by"
CREATED_BY_VALUE = "ecsguard"

# CloudWatch Logs accepts only these retention periods (0 = never expire).
LOG_RETENTION_DAYS = (
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# ECSGUARD_CHAT_FORMAT: format names (and the words that mean one) -> the format.
CHAT_FORMATS = ("chatbot",)
_CHAT_FORMAT_WORDS = {
    "false": None,
    "off": None,
    "none": None,
    "true": "chatbot",
    "on": "chatbot",
    "chatbot": "chatbot",
    "aws-chatbot": "chatbot",
    "amazon-q": "chatbot",
    "custom": "chatbot",
}

# The stopped-task diagnosis window (ECSGUARD_DIAGNOSIS_WINDOW_MINUTES): one minute to one week.
DIAGNOSIS_WINDOW_MAX_MINUTES = 7 * 24 * 60
# The sweep: at most this many revisions per page (one Lambda invocation) and definitions read at once.
SWEEP_PAGE_SIZE_MAX = 5000
SWEEP_CONCURRENCY_MAX = 64

_ARN = re.compile(r"^arn:aws[a-z-]*:")
_FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")


class ConfigError(ValueError):
    """A configuration variable has a value ecsguard cannot use. The message names the variable."""


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_modes(value: str, variable: str = "ECSGUARD_MODES") -> dict[str, str]:
    """``plaintext-secret=block,logging-disabled=off`` -> {check id: mode}, validated."""
    checks = load_all()
    modes: dict[str, str] = {}
    for item in _split(value):
        check_id, sep, mode = (part.strip() for part in item.partition("="))
        if not sep or not check_id or not mode:
            raise ConfigError(f"{variable}: {item!r} is not of the form check-id=mode")
        if check_id not in checks:
            raise ConfigError(f"{variable}: unknown check id {check_id!r}; known: {', '.join(sorted(checks))}")
        if mode not in MODES:
            raise ConfigError(f"{variable}: unknown mode {mode!r} for {check_id}; use one of {', '.join(MODES)}")
        if mode == "remediate" and not checks[check_id].remediable:
            raise ConfigError(f"{variable}: {check_id} has no safe automatic fix; use off, notify or block")
        modes[check_id] = mode
    return modes


@dataclass(frozen=True, slots=True)
class Settings:
    topic_arn: str | None = None
    modes: Mapping[str, str] = field(default_factory=dict)
    log_retention_days: int = 30
    log_kms_key_arn: str | None = None
    exempt_families: tuple[str, ...] = ()
    secret_allowlist: frozenset[str] = frozenset()
    # ecsguard's one DynamoDB table (idempotency records, later the role inventory and caches).
    state_table: str | None = None
    # Secret migration (plaintext-secret=remediate).
    secret_store: str = "secretsmanager"
    secret_kms_key_id: str | None = None
    secret_name_prefix: str = "ecsguard/"
    delete_leaking_revision: bool = False
    grant_execution_role: bool = False
    # Findings at or above this severity trigger a per-event message; lower ones ride along in it.
    notify_min_severity: str = "medium"
    # image-too-large: ECR's compressed image size above which a definition is reported.
    image_size_limit_mib: int = 500
    # The kill switch: every check notifies, nothing is remediated or blocked (a stack parameter, no deploy).
    kill_switch: bool = False
    # ecsguard's own stack: it never acts on resources of that stack.
    stack_name: str | None = None
    # Stopped-task diagnosis: at most one message per task definition and cause within this many minutes
    # (the stops in between are counted in the state table and the next message says how many there were).
    diagnosis_window_minutes: int = 60
    # The sweep (flows/sweep.py): revisions per page (one invocation sweeps at most one page; more go through
    # Step Functions), definitions read and checked at once, and every ACTIVE revision rather than the latest.
    sweep_page_size: int = 500
    sweep_concurrency: int = 8
    sweep_all_revisions: bool = False
    # ECSGUARD_SECURITY_HUB: import findings in ASFF into Security Hub and archive those that are gone.
    security_hub: bool = False
    # ECSGUARD_CHAT_FORMAT: the message format the topic's https subscribers get instead of the machine JSON
    # (None: the machine JSON, as before; "chatbot": an Amazon Q Developer in chat applications / AWS Chatbot
    # custom notification).
    chat_format: str | None = None

    def pages(self, severity: str) -> bool:
        """Does a finding of this severity, on its own, warrant a per-event message?"""
        order = SEVERITIES.index
        return severity in SEVERITIES and order(severity) <= order(self.notify_min_severity)

    def check_options(self) -> dict[str, object]:
        """Thresholds checks read from ``CheckContext.options``."""
        return {"image_size_limit_mib": self.image_size_limit_mib}

    def mode(self, check_id: str) -> str:
        if check_id in self.modes:
            mode = self.modes[check_id]
        else:
            checks = load_all()
            mode = checks[check_id].default_mode if check_id in checks else "notify"
        if self.kill_switch and mode in ("remediate", "block"):
            return "notify"  # ECSGUARD_KILL_SWITCH: report everything, change nothing
        return mode

    def enabled(self, check_id: str) -> bool:
        return self.mode(check_id) != "off"

    def family_exempt(self, family: str | None) -> bool:
        return bool(family) and any(fnmatch.fnmatchcase(family, pattern) for pattern in self.exempt_families)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def flag(name: str) -> bool:
            value = (get(name) or "false").lower()
            if value not in {"true", "false"}:
                raise ConfigError(f"{name}: expected true or false, got {value!r}")
            return value == "true"

        topic_arn = get("ECSGUARD_TOPIC_ARN")
        if topic_arn and not re.match(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$", topic_arn):
            raise ConfigError(f"ECSGUARD_TOPIC_ARN: {topic_arn!r} is not an SNS topic ARN")

        retention_text = get("ECSGUARD_LOG_RETENTION_DAYS") or "30"
        try:
            retention = int(retention_text)
        except ValueError:
            raise ConfigError(f"ECSGUARD_LOG_RETENTION_DAYS: {retention_text!r} is not a number") from None
        if retention not in LOG_RETENTION_DAYS:
            raise ConfigError(
                f"ECSGUARD_LOG_RETENTION_DAYS: CloudWatch Logs does not accept {retention}; "
                f"use one of {', '.join(map(str, LOG_RETENTION_DAYS))} (0 = never expire)"
            )

        kms = get("ECSGUARD_LOG_KMS_KEY_ARN")
        if kms and not _ARN.match(kms):
            raise ConfigError(f"ECSGUARD_LOG_KMS_KEY_ARN: {kms!r} is not a KMS key ARN (CloudWatch Logs needs the ARN)")

        allowlist: set[str] = set()
        for item in _split(get("ECSGUARD_SECRET_ALLOWLIST") or ""):
            if item.lower().startswith("sha256:"):
                if not _FINGERPRINT.match(item.lower()):
                    raise ConfigError(f"ECSGUARD_SECRET_ALLOWLIST: {item!r} is not sha256: followed by 64 hex digits")
                allowlist.add(item.lower())
            else:
                allowlist.add(item.lower())

        secret_kms = get("ECSGUARD_SECRET_KMS_KEY_ID")
        if secret_kms and not _ARN.match(secret_kms):
            raise ConfigError(
                f"ECSGUARD_SECRET_KMS_KEY_ID: {secret_kms!r} is not a KMS key ARN (the role's policy is scoped to the ARN)"
            )

        store = (get("ECSGUARD_SECRET_STORE") or "secretsmanager").lower()
        if store not in {"secretsmanager", "ssm"}:
            raise ConfigError(f"ECSGUARD_SECRET_STORE: use secretsmanager or ssm, got {store!r}")

        min_severity = (get("ECSGUARD_NOTIFY_MIN_SEVERITY") or "medium").lower()
        if min_severity not in SEVERITIES:
            raise ConfigError(f"ECSGUARD_NOTIFY_MIN_SEVERITY: use one of {', '.join(SEVERITIES)}, got {min_severity!r}")

        size_text = get("ECSGUARD_IMAGE_SIZE_LIMIT_MIB") or "500"
        if not size_text.isdigit() or int(size_text) < 1:
            raise ConfigError(
                f"ECSGUARD_IMAGE_SIZE_LIMIT_MIB: expected a whole number of MiB above 0, got {size_text!r}"
            )

        window_text = get("ECSGUARD_DIAGNOSIS_WINDOW_MINUTES") or "60"
        if not window_text.isdigit() or not 1 <= int(window_text) <= DIAGNOSIS_WINDOW_MAX_MINUTES:
            raise ConfigError(
                "ECSGUARD_DIAGNOSIS_WINDOW_MINUTES: expected a whole number of minutes from 1 to "
                f"{DIAGNOSIS_WINDOW_MAX_MINUTES} (one week), got {window_text!r}"
            )

        chat_text = (get("ECSGUARD_CHAT_FORMAT") or "false").lower()
        if chat_text not in _CHAT_FORMAT_WORDS:
            raise ConfigError(
                f"ECSGUARD_CHAT_FORMAT: use true, false or a format name ({', '.join(CHAT_FORMATS)}), got {chat_text!r}"
            )

        page_text = get("ECSGUARD_SWEEP_PAGE_SIZE") or "500"
        if not page_text.isdigit() or not 1 <= int(page_text) <= SWEEP_PAGE_SIZE_MAX:
            raise ConfigError(
                f"ECSGUARD_SWEEP_PAGE_SIZE: expected a whole number of revisions from 1 to {SWEEP_PAGE_SIZE_MAX}, "
                f"got {page_text!r}"
            )
        concurrency_text = get("ECSGUARD_SWEEP_CONCURRENCY") or "8"
        if not concurrency_text.isdigit() or not 1 <= int(concurrency_text) <= SWEEP_CONCURRENCY_MAX:
            raise ConfigError(
                f"ECSGUARD_SWEEP_CONCURRENCY: expected a whole number from 1 to {SWEEP_CONCURRENCY_MAX}, "
                f"got {concurrency_text!r}"
            )

        # ECSGUARD_IDEMPOTENCY_TABLE is the variable's earlier name, still honoured.
        state_table, alias = get("ECSGUARD_STATE_TABLE"), get("ECSGUARD_IDEMPOTENCY_TABLE")
        if state_table and alias and state_table != alias:
            raise ConfigError(
                f"ECSGUARD_STATE_TABLE ({state_table!r}) and its older name ECSGUARD_IDEMPOTENCY_TABLE ({alias!r}) "
                "name different tables; set only ECSGUARD_STATE_TABLE"
            )

        return cls(
            topic_arn=topic_arn,
            modes=parse_modes(get("ECSGUARD_MODES") or ""),
            log_retention_days=retention,
            log_kms_key_arn=kms,
            exempt_families=tuple(_split(get("ECSGUARD_EXEMPT_FAMILIES") or "")),
            secret_allowlist=frozenset(allowlist),
            state_table=state_table or alias,
            secret_store=store,
            secret_kms_key_id=secret_kms,
            secret_name_prefix=get("ECSGUARD_SECRET_NAME_PREFIX") or "ecsguard/",
            delete_leaking_revision=flag("ECSGUARD_DELETE_LEAKING_REVISION"),
            grant_execution_role=flag("ECSGUARD_GRANT_EXECUTION_ROLE"),
            notify_min_severity=min_severity,
            image_size_limit_mib=int(size_text),
            kill_switch=flag("ECSGUARD_KILL_SWITCH"),
            stack_name=get("ECSGUARD_STACK_NAME"),
            diagnosis_window_minutes=int(window_text),
            sweep_page_size=int(page_text),
            sweep_concurrency=int(concurrency_text),
            sweep_all_revisions=flag("ECSGUARD_SWEEP_ALL_REVISIONS"),
            security_hub=flag("ECSGUARD_SECURITY_HUB"),
            chat_format=_CHAT_FORMAT_WORDS[chat_text],
        )


def ignored_checks(task_definition: TaskDefinition) -> frozenset[str]:
    """Check ids the ``ecsguard:ignore`` tag exempts (``all`` exempts every check)."""
    value = task_definition.tags.get(IGNORE_TAG, "")
    return frozenset(item.lower() for item in _split(value))


def is_exempt(finding: Finding, ignored: frozenset[str]) -> bool:
    return "all" in ignored or finding.check in ignored


STACK_NAME_TAG = "aws:cloudformation:stack-name"


def registered_by_ecsguard(task_definition: TaskDefinition) -> bool:
    return REMEDIATED_FROM_TAG in task_definition.tags


def belongs_to_stack(task_definition: TaskDefinition, stack_name: str | None) -> bool:
    """A resource of ecsguard's own stack (CloudFormation tags it with the stack name): never acted on."""
    return bool(stack_name) and task_definition.tags.get(STACK_NAME_TAG) == stack_name


def evaluate(
    task_definition: TaskDefinition,
    settings: Settings,
    facts: Facts | None,
    region: str | None,
    *,
    target: str | None = None,
    scope: str = "definition",
    launch: TaskLaunch | None = None,
    stopped: StoppedTask | None = None,
) -> tuple[list[Finding], list[Finding]]:
    """(findings to act on, findings exempted by the ecsguard:ignore tag).

    Without ``facts`` (``ecsguard scan``) the checks that need AWS are skipped. ``target`` names
    what the findings are about (default: the definition's family:revision; a file path for scan).
    ``scope`` picks the checks: those of a definition (default), of a ``launch`` or of a ``stopped`` task.
    """
    context = CheckContext(
        target=target or task_definition.name,
        facts=facts,
        region=region,
        secret_allowlist=settings.secret_allowlist,
        options=settings.check_options(),
        launch=launch,
        stopped=stopped,
    )
    findings = run_checks(task_definition, context, enabled=settings.enabled, scope=scope)
    ignored = ignored_checks(task_definition)
    kept = [f for f in findings if not is_exempt(f, ignored)]
    exempted = [f for f in findings if is_exempt(f, ignored)]
    return kept, exempted
