"""The sweep: every ACTIVE task definition of a region checked with the full catalogue, incrementally.

:func:`sweep` is the one piece of work: ``ecsguard sweep`` (the CLI), the scheduled function's
single-invocation mode and each Step Functions page run it. :func:`process_sweep` is the scheduled
function: modes by event (see its docstring), remediation, the digest.

* Listing: :func:`list_revisions`, a few paginated ``ListTaskDefinitions`` calls (never one per family).
* Reading: ``DescribeTaskDefinition`` (tags included) with bounded concurrency; the clients retry adaptively.
  A revision that cannot be read (it went away, access denied) is a :class:`SweptDefinition` with ``error``;
  throttling or a server error that outlives the retries raises (the scheduled run fails and is retried).
* The cache (with a state table): a revision is immutable but for its status and tags, so it is described
  once and kept in the state table (:mod:`ecsguard.aws.sweep_state`) with every value the secret scanner
  flags replaced, and the ``plaintext-secret`` findings of the original kept beside it (reused, never
  recomputed from the redacted copy). Facts and every other check run every time, so a deleted log group
  or a new check is seen.
* Tags: the only tag that changes what the sweep reports, ``ecsguard:ignore``, is read for the whole region
  with the Resource Groups Tagging API (``tag:GetResources`` filtered to task definitions carrying the tag,
  100 per page: one call for most accounts), only when some definition comes from the cache. A revision
  described in this sweep has its tags from ``DescribeTaskDefinition``. When the tagging API cannot be read
  (AccessDenied), the tags cached with the definition are used and the log says so.
* New / resolved: per revision, the (check, container, field) of its findings at the last sweep; the first
  sweep of a region is the baseline (nothing is new).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..aws import sweep_state
from ..aws.clients import Clients
from ..aws.facts import AwsFacts
from ..aws.state import normalise_role, record_task_role
from ..checks import REGISTRY, CheckContext, load_all
from ..checks.secrets import plaintext_secret, scan_container
from ..model import ActionResult, Finding, TaskDefinition
from ..model import _str as model_str
from ..policy import (
    IGNORE_TAG,
    Settings,
    belongs_to_stack,
    evaluate,
    ignored_checks,
    is_exempt,
    registered_by_ecsguard,
)
from ..render import digest as digest_render

logger = logging.getLogger(__name__)

_ARN = re.compile(r"^arn:aws[a-z-]*:ecs:([a-z0-9-]+):(\d{12}):task-definition/([^:/\s]{1,255}):(\d{1,10})$")
# A definite "this revision cannot be read" (it is gone, or this role may not look): reported, not raised.
_UNREADABLE = frozenset(
    {
        "ClientException",
        "InvalidParameterException",
        "AccessDeniedException",
        "AccessDenied",
        "ResourceNotFoundException",
    }
)
_TAGGING_UNKNOWABLE = frozenset({"AccessDeniedException", "AccessDenied", "UnrecognizedClientException"})
# Only this fix runs from a sweep (see process_sweep): it creates what is missing, it changes no revision.
SWEEP_REMEDIATIONS = frozenset({"log-group-missing"})


@dataclass(frozen=True, slots=True)
class SweptDefinition:
    arn: str  # the task-definition ARN (the finding "target" in JSON/SARIF output is this ARN)
    family: str
    revision: int
    task_definition: TaskDefinition | None  # None when it could not be read
    findings: tuple[Finding, ...]  # after the ecsguard:ignore exemptions
    exempted: tuple[Finding, ...]
    cached: bool  # the definition came from the state-table cache (not described again)
    error: str | None = None  # why it could not be read (an error code, never a value)


@dataclass(slots=True)
class SweepResult:
    region: str
    definitions: list[SweptDefinition]
    calls: Counter[str]  # AWS operation name -> count (DescribeTaskDefinition, ListTaskDefinitions, ...)
    new: list[tuple[str, str]]  # (arn, check id) findings not present at the previous sweep (needs a state table)
    resolved: list[tuple[str, str]]


# ------------------------------------------------------------------------------------------ plumbing


class _SweepClients:
    """The sweep's view of :class:`Clients`: creation serialised (boto3 sessions are not thread-safe; clients
    are), and every API call counted by operation name (botocore's ``before-call`` event)."""

    def __init__(self, clients: Clients) -> None:
        self._inner = clients
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self._hooked: list[Any] = []
        self._id = f"ecsguard-sweep-{id(self)}"

    @property
    def session(self) -> Any:
        return self._inner.session

    @property
    def default_region(self) -> str | None:
        return self._inner.default_region

    def _count(self, model: Any = None, **_: Any) -> None:
        with self._count_lock:
            self.calls[getattr(model, "name", "unknown")] += 1

    def __call__(self, service: str, region: str | None = None) -> Any:
        with self._lock:
            client = self._inner(service, region)
            if all(client is not hooked for hooked in self._hooked):
                client.meta.events.register("before-call", self._count, unique_id=self._id)
                self._hooked.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            for client in self._hooked:
                client.meta.events.unregister("before-call", unique_id=self._id)
            self._hooked.clear()


def parse_arn(arn: str) -> tuple[str, str, str, int] | None:
    """(region, account, family, revision) of a task-definition revision ARN; None for anything else."""
    match = _ARN.match(arn or "")
    return (match.group(1), match.group(2), match.group(3), int(match.group(4))) if match else None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@functools.cache
def scanner_digest() -> str:
    """A digest of the secret scanner's code and data: a cached definition made by another scanner is not used."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted([*(package / "secretscan").rglob("*.py"), package / "checks" / "secrets.py"]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def allowlist_digest(settings: Settings) -> str:
    return hashlib.sha256("\n".join(sorted(settings.secret_allowlist)).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------ listing


def list_revisions(clients: Clients, region: str, *, all_active: bool = False) -> list[str]:
    """The latest ACTIVE revision of every family (or every ACTIVE revision), newest first per family.

    ``ListTaskDefinitions(status=ACTIVE, sort=DESC)``, paginated (100 ARNs per call): a family's newest
    revision comes first. The latest is also taken by revision number, whatever order an endpoint returns.
    """
    paginator = clients("ecs", region).get_paginator("list_task_definitions")
    order: list[str] = []
    best: dict[str, tuple[int, str]] = {}
    everything: list[str] = []
    for page in paginator.paginate(status="ACTIVE", sort="DESC", PaginationConfig={"PageSize": 100}):
        for arn in page.get("taskDefinitionArns", []):
            parsed = parse_arn(arn)
            if parsed is None:
                continue
            family, revision = parsed[2], parsed[3]
            if all_active:
                everything.append(arn)
                continue
            if family not in best:
                order.append(family)
                best[family] = (revision, arn)
            elif revision > best[family][0]:
                best[family] = (revision, arn)
    if all_active:
        return sorted(everything, key=lambda a: (parse_arn(a)[2], -parse_arn(a)[3]))  # type: ignore[index]
    return [best[family][1] for family in order]


def ignore_tags(clients: Clients, region: str) -> dict[str, str] | None:
    """ARN -> ``ecsguard:ignore`` value of every task definition of the region carrying the tag; None when the
    tagging API may not be read here."""
    paginator = clients("resourcegroupstaggingapi", region).get_paginator("get_resources")
    found: dict[str, str] = {}
    try:
        for page in paginator.paginate(
            TagFilters=[{"Key": IGNORE_TAG}], ResourceTypeFilters=["ecs:task-definition"], ResourcesPerPage=100
        ):
            for mapping in page.get("ResourceTagMappingList", []):
                for tag in mapping.get("Tags", []):
                    if tag.get("Key") == IGNORE_TAG:
                        found[str(mapping.get("ResourceARN"))] = str(tag.get("Value", ""))
    except ClientError as exc:
        if _code(exc) not in _TAGGING_UNKNOWABLE:
            raise
        logger.warning(
            "cannot read tags: cached definitions keep the tags they were cached with", extra={"error": _code(exc)}
        )
        return None
    return found


# ------------------------------------------------------------------------------------------ the cache


_ARGUMENT_FIELD = re.compile(r"^(entryPoint|command|healthCheck\.command)\[(\d+)\]$")


_str = model_str  # the model's own conversion of a JSON scalar to the text the checks see


def redact(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """A copy of a ``DescribeTaskDefinition`` answer with every value the secret scanner flags replaced by
    :data:`~ecsguard.aws.sweep_state.REDACTED`; None when that cannot be proven (then nothing is cached).

    The places come from :func:`ecsguard.checks.secrets.scan_container` (the detector's own walk); a place
    this function does not know refuses the cache rather than keep a value. The copy is scanned again and
    must be clean, and no replaced value may appear anywhere else in it.
    """
    copy = json.loads(json.dumps(document))
    raw = copy.get("taskDefinition")
    if not isinstance(raw, dict):
        return None
    containers = [c for c in raw.get("containerDefinitions") or [] if isinstance(c, dict)]
    parsed = TaskDefinition.from_api(raw)
    if len(parsed.containers) != len(containers):
        return None
    removed: list[str] = []
    for container, raw_container in zip(parsed.containers, containers, strict=True):
        for place, _match in scan_container(container):
            if not _replace(raw_container, place, removed):
                return None
    redacted_td = TaskDefinition.from_api(raw)
    if any(scan_container(c) for c in redacted_td.containers):
        return None
    text = json.dumps(copy)
    if any(value and value != sweep_state.REDACTED and value in text for value in removed):
        return None  # the same value elsewhere (a label, another field): not cached
    return copy


def _replace(raw: dict[str, Any], place: str, removed: list[str]) -> bool:
    if place.startswith("environment."):
        name = place.split(".", 1)[1]
        hit = False
        for item in raw.get("environment") or []:
            if isinstance(item, dict) and (_str(item.get("name")) or "") == name:
                removed.append(_str(item.get("value")) or "")
                item["value"] = sweep_state.REDACTED
                hit = True
        return hit
    if place.startswith("logConfiguration.options."):
        key = place.split(".", 2)[2]
        options = (raw.get("logConfiguration") or {}).get("options")
        if isinstance(options, dict) and key in options:
            removed.append(_str(options[key]) or "")
            options[key] = sweep_state.REDACTED
            return True
        return False
    match = _ARGUMENT_FIELD.match(place)
    if not match:
        return False  # a place the detector learned after this code: never cache what it found there
    attribute, index = match.group(1), int(match.group(2))
    values = (raw.get("healthCheck") or {}).get("command") if attribute == "healthCheck.command" else raw.get(attribute)
    if not isinstance(values, list):
        return False
    positions = [i for i, v in enumerate(values) if _str(v) is not None]  # the model drops None arguments
    if index >= len(positions):
        return False
    removed.append(_str(values[positions[index]]) or "")
    values[positions[index]] = sweep_state.REDACTED
    return True


def _finding_to_dict(finding: Finding) -> dict[str, Any]:
    document = asdict(finding)
    document["data"] = dict(finding.data)
    return document


def _finding_from_dict(document: Mapping[str, Any]) -> Finding:
    return Finding(**{**document, "data": dict(document.get("data") or {})})


def _secret_findings(td: TaskDefinition, settings: Settings, region: str | None) -> list[Finding]:
    """plaintext-secret on the original revision, with the context evaluate() gives it."""
    context = CheckContext(
        target=td.name, facts=None, region=region, secret_allowlist=settings.secret_allowlist,
        options=settings.check_options(),
    )  # fmt: skip
    return plaintext_secret.run(td, context)


def _evaluate(
    td: TaskDefinition, settings: Settings, facts: AwsFacts, region: str, secrets: Sequence[Finding]
) -> tuple[list[Finding], list[Finding]]:
    """evaluate() with plaintext-secret's findings given (those of the original revision) rather than recomputed."""
    others = replace(settings, modes={**settings.modes, "plaintext-secret": "off"})
    findings, exempted = evaluate(td, others, facts, region)
    if settings.enabled("plaintext-secret"):
        ignored = ignored_checks(td)
        for finding in secrets:
            (exempted if is_exempt(finding, ignored) else findings).append(finding)
    order = {check_id: index for index, check_id in enumerate(REGISTRY)}
    findings.sort(key=lambda f: order.get(f.check, len(order)))  # registry order, as run_checks gives
    exempted.sort(key=lambda f: order.get(f.check, len(order)))
    return findings, exempted


def _keys(findings: Sequence[Finding]) -> frozenset[sweep_state.Key]:
    return frozenset((f.check, f.container, f.field) for f in findings)


def _changes(
    arn: str, current: frozenset[sweep_state.Key], before: frozenset[sweep_state.Key] | None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    before = before or frozenset()
    new = sorted({(arn, k[0]) for k in current - before})
    resolved = sorted({(arn, k[0]) for k in before - current} - {(arn, k[0]) for k in current})
    return new, resolved


# ------------------------------------------------------------------------------------------ the sweep


@dataclass(slots=True)
class _Outcome:
    swept: SweptDefinition
    new: list[tuple[str, str]] = field(default_factory=list)
    resolved: list[tuple[str, str]] = field(default_factory=list)


def sweep(
    clients: Clients,
    region: str,
    settings: Settings,
    *,
    arns: Sequence[str] | None = None,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
    run_id: str | None = None,
) -> SweepResult:
    """Check every listed revision (``arns``; None: :func:`list_revisions` of the region) with the full catalogue.

    ``settings.state_table`` set: definitions come from the cache when they can, new ones are cached, and
    ``new``/``resolved`` are counted against the previous sweep (``run_id`` names this one: a retry with the
    same id reports the same changes). With ``arns=None`` the run is also recorded as the region's latest, and
    revisions that were swept last time and are gone now count as resolved. Without a state table it works
    the same, describing everything, with no new/resolved. Nothing is acted on and nothing is sent.
    """
    counting = _SweepClients(clients)
    try:
        return _sweep(counting, region, settings, arns, concurrency, progress, run_id or _new_run_id())
    finally:
        counting.close()


def _new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


def _sweep(
    clients: _SweepClients,
    region: str,
    settings: Settings,
    arns: Sequence[str] | None,
    concurrency: int,
    progress: Callable[[int, int], None] | None,
    run: str,
) -> SweepResult:
    whole_region = arns is None
    listed = list_revisions(clients, region, all_active=settings.sweep_all_revisions) if arns is None else list(arns)  # type: ignore[arg-type]
    targets = []
    for arn in dict.fromkeys(listed):
        parsed = parse_arn(arn)
        if parsed is not None and settings.family_exempt(parsed[2]):
            logger.info("family exempt (ECSGUARD_EXEMPT_FAMILIES)", extra={"family": parsed[2]})
            continue
        targets.append(arn)
    table = settings.state_table
    writes = sweep_state.PutBuffer(clients, table) if table else None  # the cache items, 25 per BatchWriteItem
    cache: dict[str, sweep_state.CachedDefinition] = {}
    baseline = True
    latest = sweep_state.Latest(None, None)
    if table:
        latest = sweep_state.latest_run(clients, table, region)
        baseline = sweep_state.previous_run(latest, run) is None
        cache = sweep_state.load_definitions(clients, table, targets)
    scanner, allowlist = scanner_digest(), allowlist_digest(settings)
    usable = {
        arn
        for arn, cached in cache.items()
        if cached.document is not None and cached.scanner == scanner and cached.allowlist == allowlist
    }
    tags = ignore_tags(clients, region) if usable else {}
    for service in ("ecs", "logs", "ecr", "iam", "dynamodb", "secretsmanager", "ssm", "kms"):
        clients(service, region if service != "dynamodb" else None)  # created once, before the threads
    facts = AwsFacts(clients, state_table=table)  # shared: a log group or role read once per sweep
    try:  # read once here, not by every thread at once
        facts.pull_through_cache_prefixes(region)
    except Exception:
        logger.info("pull-through cache rules not read ahead", extra={"region": region})

    def one(arn: str) -> _Outcome:
        parsed = parse_arn(arn)
        family, revision = (parsed[2], parsed[3]) if parsed else (arn, 0)
        cached = cache.get(arn)
        from_cache = arn in usable
        document: Mapping[str, Any]
        if from_cache:
            assert cached is not None and cached.document is not None
            document = cached.document
            td = TaskDefinition.from_api(document["taskDefinition"], tags=_current_tags(document, arn, tags))
            secrets = [_finding_from_dict(f) for f in cached.secrets]
        else:
            try:
                response = clients("ecs", region).describe_task_definition(taskDefinition=arn, include=["TAGS"])
            except ClientError as exc:
                code = _code(exc)
                if code not in _UNREADABLE:
                    raise  # throttling, server errors after the retries: the run fails and is retried
                logger.warning("task definition cannot be read", extra={"task_definition": arn, "error": code})
                return _Outcome(SweptDefinition(arn, family, revision, None, (), (), False, error=code))
            document = {"taskDefinition": response["taskDefinition"], "tags": response.get("tags") or []}
            td = TaskDefinition.from_api(document["taskDefinition"], tags=document["tags"])
            secrets = _secret_findings(td, settings, region)
        if registered_by_ecsguard(td) or belongs_to_stack(td, settings.stack_name):
            return _Outcome(SweptDefinition(arn, family, revision, td, (), (), from_cache))
        findings, exempted = _evaluate(td, settings, facts, region, secrets)
        outcome = _Outcome(
            SweptDefinition(
                arn, td.family or family, td.revision or revision, td, tuple(findings), tuple(exempted), from_cache
            )
        )
        if table:
            current = _keys(findings)
            before = cached.baseline_for(run) if cached else None
            if not baseline:
                outcome.new, outcome.resolved = _changes(arn, current, before)
            if from_cache:
                assert cached is not None
                sweep_state.record_findings(clients, table, cached, last=current, run=run)
            else:
                stored = sweep_state.save_definition(
                    clients, table, arn,
                    document=redact(document),
                    secrets=[_finding_to_dict(f) for f in secrets],
                    scanner=scanner, allowlist=allowlist, last=current,
                    prev=before if before is not None else None, run=run, buffer=writes,
                )  # fmt: skip
                if not stored:
                    logger.info(
                        "definition not cached (too large, or its redaction not proven)", extra={"task_definition": arn}
                    )
        return outcome

    outcomes = _run_pool(one, targets, concurrency, progress)
    if writes is not None:
        writes.flush()
    result = SweepResult(
        region=region, definitions=[o.swept for o in outcomes], calls=clients.calls, new=[], resolved=[]
    )
    for outcome in outcomes:
        result.new.extend(outcome.new)
        result.resolved.extend(outcome.resolved)
    if table:
        _record_inventory(clients, table, result.definitions, latest_only=not settings.sweep_all_revisions)
        if whole_region:
            result.resolved.extend(close_run(clients, table, region, run, targets, latest=latest))
    result.new.sort()
    result.resolved.sort()
    return result


def _current_tags(document: Mapping[str, Any], arn: str, ignore: dict[str, str] | None) -> list[dict[str, str]]:
    """The cached tags with ecsguard:ignore as the tagging API says now (None: the cached one stays)."""
    tags = [t for t in document.get("tags") or [] if isinstance(t, Mapping)]
    if ignore is None:
        return list(tags)
    kept = [t for t in tags if t.get("key") != IGNORE_TAG]
    if arn in ignore:
        kept.append({"key": IGNORE_TAG, "value": ignore[arn]})
    return kept


def _run_pool(
    work: Callable[[str], _Outcome], arns: Sequence[str], concurrency: int, progress: Callable[[int, int], None] | None
) -> list[_Outcome]:
    """``work`` over ``arns`` with at most ``concurrency`` at once, results in ``arns`` order; the first error raises."""
    total = len(arns)
    results: dict[int, _Outcome] = {}
    if progress:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="ecsguard-sweep") as pool:
        futures = {pool.submit(work, arn): index for index, arn in enumerate(arns)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                error = future.exception()
                if error is not None:
                    for other in pending:
                        other.cancel()
                    raise error
                results[futures[future]] = future.result()
                if progress:
                    progress(len(results), total)
    return [results[i] for i in range(total)]


def _record_inventory(
    clients: _SweepClients, table: str, definitions: Sequence[SweptDefinition], *, latest_only: bool
) -> int:
    """Keep the role -> families inventory current: each family's newest swept revision, when it differs."""
    newest: dict[str, SweptDefinition] = {}
    for swept in definitions:
        if swept.task_definition is None or not swept.family:
            continue
        if swept.family not in newest or swept.revision > newest[swept.family].revision:
            newest[swept.family] = swept
    if not newest:
        return 0
    recorded = sweep_state.family_roles(clients, table, sorted(newest))
    writes = 0
    for family, swept in newest.items():
        td = swept.task_definition
        assert td is not None
        parsed = parse_arn(swept.arn)
        account, partition = (parsed[1], swept.arn.split(":")[1]) if parsed else (None, "aws")
        role = normalise_role(td.task_role_arn, account, partition)
        if td.task_role_arn and role is None:
            continue  # a placeholder: nothing to remember
        known_role, known_revision = recorded.get(family, (None, None))
        if known_revision == swept.arn and known_role == role:
            continue
        known = parse_arn(known_revision or "")
        if not latest_only and known and known[3] > swept.revision:
            continue  # every ACTIVE revision: a newer one of this family was recorded
        if known_revision is None and role is None:
            continue  # no task role, and none ever recorded
        record_task_role(clients, table, role=td.task_role_arn, family=family, revision_arn=swept.arn, account=account)  # type: ignore[arg-type]
        writes += 1
    return writes


def close_run(
    clients: Any,
    table: str,
    region: str,
    run: str,
    arns: Sequence[str],
    *,
    latest: sweep_state.Latest | None = None,
    store_arns: bool = True,
) -> list[tuple[str, str]]:
    """Finish a run: the revisions of the previous run that are gone now count as resolved, and this run becomes
    the region's latest. Returns the resolved (arn, check) of the gone revisions."""
    latest = latest or sweep_state.latest_run(clients, table, region)
    previous = sweep_state.previous_run(latest, run)
    if store_arns:
        sweep_state.save_run(clients, table, run, region=region, arns=arns)
    resolved: list[tuple[str, str]] = []
    if previous:
        before = sweep_state.load_run_arns(clients, table, previous) or []
        gone = sorted(set(before) - set(arns))
        for cached in sweep_state.load_definitions(clients, table, gone).values():
            resolved.extend(sorted({(cached.arn, k[0]) for k in (cached.baseline_for(run) or ())}))
            sweep_state.forget_findings(clients, table, cached, run=run)
    sweep_state.complete_run(clients, table, region, run)
    return sorted(resolved)


# ------------------------------------------------------------------------------------------ summaries


def _worst(findings: Sequence[Finding]) -> str:
    from ..checks import SEVERITIES

    return min((f.severity for f in findings), key=SEVERITIES.index, default="info")


def summarize(result: SweepResult, actions: Sequence[ActionResult] = (), *, top: int = 10) -> dict[str, Any]:
    """What the digest needs of one sweep (or page): counts, changes, the worst offenders. ARNs, check ids and
    error codes only: never a message or a value. JSON-serialisable (a page stores it in the state table)."""
    from ..checks import SEVERITIES

    per_check: dict[str, dict[str, Any]] = {}
    offenders = []
    for swept in result.definitions:
        for finding in swept.findings:
            entry = per_check.setdefault(finding.check, {"severity": finding.severity, "definitions": 0, "findings": 0})
            entry["findings"] += 1
            if SEVERITIES.index(finding.severity) < SEVERITIES.index(entry["severity"]):
                entry["severity"] = finding.severity
        for check_id in {f.check for f in swept.findings}:
            per_check[check_id]["definitions"] += 1
        if swept.findings:
            offenders.append(
                {"arn": swept.arn, "severity": _worst(swept.findings), "findings": len(swept.findings),
                 "checks": sorted({f.check for f in swept.findings})}
            )  # fmt: skip
    offenders.sort(key=lambda o: (SEVERITIES.index(o["severity"]), -o["findings"], o["arn"]))
    return {
        "definitions": len(result.definitions),
        "cached": sum(1 for d in result.definitions if d.cached),
        "withFindings": sum(1 for d in result.definitions if d.findings),
        "findings": sum(len(d.findings) for d in result.definitions),
        "exempted": sum(len(d.exempted) for d in result.definitions),
        "perCheck": per_check,
        "offenders": offenders[:top],
        "unreadable": [[d.arn, d.error] for d in result.definitions if d.error],
        "new": [list(pair) for pair in result.new],
        "resolved": [list(pair) for pair in result.resolved],
        "calls": dict(result.calls),
        "actions": [asdict(a) for a in actions],
    }


def merge(summaries: Sequence[Mapping[str, Any]], *, top: int = 10) -> dict[str, Any]:
    """One summary of many pages (the union of per-page top offenders holds the overall top)."""
    from ..checks import SEVERITIES

    merged: dict[str, Any] = {
        "definitions": 0, "cached": 0, "withFindings": 0, "findings": 0, "exempted": 0, "perCheck": {},
        "offenders": [], "unreadable": [], "new": [], "resolved": [], "calls": Counter(), "actions": [],
    }  # fmt: skip
    for summary in summaries:
        for key in ("definitions", "cached", "withFindings", "findings", "exempted"):
            merged[key] += int(summary.get(key, 0))
        for check_id, entry in summary.get("perCheck", {}).items():
            into = merged["perCheck"].setdefault(
                check_id, {"severity": entry["severity"], "definitions": 0, "findings": 0}
            )
            into["definitions"] += entry["definitions"]
            into["findings"] += entry["findings"]
            if SEVERITIES.index(entry["severity"]) < SEVERITIES.index(into["severity"]):
                into["severity"] = entry["severity"]
        for key in ("offenders", "unreadable", "new", "resolved", "actions"):
            merged[key].extend(summary.get(key, []))
        merged["calls"].update(summary.get("calls", {}))
    merged["offenders"].sort(key=lambda o: (SEVERITIES.index(o["severity"]), -o["findings"], o["arn"]))
    merged["offenders"] = merged["offenders"][:top]
    merged["new"] = sorted(map(list, {tuple(p) for p in merged["new"]}))
    merged["resolved"] = sorted(map(list, {tuple(p) for p in merged["resolved"]}))
    merged["calls"] = dict(merged["calls"])
    return merged


# ------------------------------------------------------------------------------------------ the function


def _sweep_settings(settings: Settings) -> Settings:
    """The modes a sweep acts with: ``block`` never deregisters a revision that already exists (it may run in
    production) and only the fixes of :data:`SWEEP_REMEDIATIONS` run; everything else notifies."""
    modes = dict(settings.modes)
    for check_id in load_all():
        mode = settings.mode(check_id)
        if mode == "block" or (mode == "remediate" and check_id not in SWEEP_REMEDIATIONS):
            modes[check_id] = "notify"
    return replace(settings, modes=modes)


def act(result: SweepResult, settings: Settings, clients: Clients) -> list[ActionResult]:
    """Remediate what the modes allow on every swept definition with findings: the fixes of
    :data:`SWEEP_REMEDIATIONS` only (create the missing log groups: :func:`ecsguard.flows.log_groups.create_log_groups`,
    the very function registration's ``log-group-missing`` remediation calls). Calling it directly, not through
    ``act_on_registration``, keeps the deregistration and the secret migration out of this function's code, so its
    role needs neither (``block`` and the other fixes notify in a sweep: :func:`_sweep_settings`)."""
    from .log_groups import create_log_groups

    acting = _sweep_settings(settings)
    if acting.mode("log-group-missing") != "remediate":
        return []
    results: list[ActionResult] = []
    for swept in result.definitions:
        wanted = [f for f in swept.findings if f.check == "log-group-missing" and not f.data.get("unverified")]
        if swept.task_definition is None or not wanted:
            continue
        done = {(r.action, r.target) for r in results if r.ok}
        # A log group shared by many definitions is created once; "already exists" of the others is not repeated.
        results.extend(
            r
            for r in create_log_groups(swept.task_definition, wanted, acting, clients, result.region)
            if r.changed or not r.ok or (r.action, r.target) not in done
        )
    return results


def _account(result_arns: Sequence[str], clients: Clients) -> str:
    for arn in result_arns:
        parsed = parse_arn(arn)
        if parsed:
            return parsed[1]
    return "unknown"


def _send_digest(
    summary: Mapping[str, Any],
    *,
    settings: Settings,
    clients: Clients,
    region: str,
    account: str,
    run: str,
    baseline: bool,
) -> str | None:
    """Publish the run's digest once (the run's item remembers its message id); None when there is nothing to say."""
    from ..aws import actions as aws_actions

    table = settings.state_table
    if table:
        known = sweep_state.load_run(clients, table, run)
        if known and known.digest:
            return known.digest  # a retry: sent already
    digest = digest_render.Digest.from_summary(summary, account=account, region=region, run=run, baseline=baseline)
    if not digest.worth_sending:
        logger.info("no digest: nothing found and nothing changed", extra={"run": run})
        return None
    notification = digest_render.render(digest, min_severity=settings.notify_min_severity)
    if not settings.topic_arn:
        logger.warning("digest not published: no topic configured (ECSGUARD_TOPIC_ARN)")
        return None
    chat_message = None
    if settings.chat_format:
        from ..render import chat

        chat_message = chat.render_digest(digest, min_severity=settings.notify_min_severity)
    message_id = aws_actions.publish_notification(
        clients,
        topic_arn=settings.topic_arn,
        subject=notification.subject,
        message=digest_render.message_body(notification, chat=chat_message),
        attributes=notification.attributes,
    )
    if table:
        sweep_state.mark_digest(clients, table, run, message_id)
    return message_id


def _counts(summary: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "definitions": summary["definitions"],
        "cached": summary["cached"],
        "withFindings": summary["withFindings"],
        "findings": summary["findings"],
        "new": len(summary["new"]),
        "resolved": len(summary["resolved"]),
        "unreadable": len(summary["unreadable"]),
        "actions": len(summary["actions"]),
    }


# Step Functions payloads are limited to 256 KB: a plan whose pages of ARNs would not fit returns references
# (``["ecsguard-page:<n>"]``) that each page resolves from the run's stored ARN list.
PLAN_PAYLOAD_LIMIT = 200_000
PAGE_REFERENCE = "ecsguard-page:"


def _page_key(arns: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(arns).encode()).hexdigest()[:20]


def _pages(arns: Sequence[str], size: int) -> list[list[str]]:
    return [list(arns[i : i + size]) for i in range(0, len(arns), size)]


def process_sweep(
    event: Mapping[str, Any], *, settings: Settings, clients: Clients, once: Any = None
) -> dict[str, Any]:
    """The scheduled function. By event:

    * a scheduled event (``detail-type: Scheduled Event``, EventBridge Scheduler or a rule) or
      ``{"action": "run"}``: sweep the region in this invocation, act, send the digest. Meant for accounts
      whose revisions fit in one page (``ECSGUARD_SWEEP_PAGE_SIZE``); a larger account should schedule the
      Step Functions state machine instead (this mode logs a warning and still sweeps: what it described is
      cached as it goes, so a retry after a timeout continues where it stopped);
    * ``{"action": "plan"}``: list the revisions, store them under a new run, return
      ``{"run": id, "pages": [[arn, ...], ...], "count": n}`` (pages of at most the page size; when the whole
      would exceed Step Functions' payload limit, each page is ``["ecsguard-page:<n>"]``, resolved by the page);
    * ``{"action": "page", "run": id, "arns": [...]}``: sweep one page (the same :func:`sweep`), act, store its
      outcome under the run in the state table; returns counts only;
    * ``{"action": "digest", "run": id, "pages": n}``: read the page outcomes, count the revisions gone since
      the previous run as resolved, record the run as the region's latest, send the digest.
    """
    action = str(event.get("action") or ("run" if event.get("detail-type") == "Scheduled Event" else ""))
    region = _region(event, clients)
    if action == "run":
        run = str(event.get("run") or event.get("id") or _new_run_id())
        arns = list_revisions(clients, region, all_active=settings.sweep_all_revisions)
        if len(arns) > settings.sweep_page_size:
            logger.warning(
                "more revisions than one page: schedule the sweep state machine (plan/page/digest) for this account",
                extra={"revisions": len(arns), "page_size": settings.sweep_page_size},
            )
        result = sweep(clients, region, settings, concurrency=settings.sweep_concurrency, run_id=run)
        actions = act(result, settings, clients)
        summary = summarize(result, actions)
        if settings.security_hub:
            _sync_security_hub(clients, region, result, settings, archive_gone=True)
        baseline = _was_baseline(settings, clients, region, run)
        message_id = _send_digest(
            summary, settings=settings, clients=clients, region=region, run=run, baseline=baseline,
            account=_account([d.arn for d in result.definitions], clients),
        )  # fmt: skip
        return {"status": "swept", "mode": "run", "run": run, "region": region, "messageId": message_id,
                "baseline": baseline, **_counts(summary)}  # fmt: skip
    if action == "plan":
        table = _require_table(settings, "plan")
        run = str(event.get("run") or _new_run_id())
        arns = [
            a
            for a in list_revisions(clients, region, all_active=settings.sweep_all_revisions)
            if not settings.family_exempt((parse_arn(a) or ("", "", "", 0))[2])
        ]
        pages = _pages(arns, settings.sweep_page_size)
        sweep_state.save_run(clients, table, run, region=region, arns=arns, pages=[_page_key(p) for p in pages])
        inline = len(json.dumps(pages)) <= PLAN_PAYLOAD_LIMIT
        listed = pages if inline else [[f"{PAGE_REFERENCE}{n}"] for n in range(len(pages))]
        return {"run": run, "region": region, "count": len(arns), "pages": listed}
    if action == "page":
        table = _require_table(settings, "page")
        run = str(event.get("run") or "")
        arns = [str(a) for a in event.get("arns") or []]
        if not run:
            raise ValueError("a page event needs its run id")
        if len(arns) == 1 and arns[0].startswith(PAGE_REFERENCE):
            number = int(arns[0].removeprefix(PAGE_REFERENCE))
            arns = _pages(sweep_state.load_run_arns(clients, table, run) or [], settings.sweep_page_size)[number]
        result = sweep(clients, region, settings, arns=arns, concurrency=settings.sweep_concurrency, run_id=run)
        actions = act(result, settings, clients)
        summary = summarize(result, actions)
        if settings.security_hub:
            _sync_security_hub(clients, region, result, settings, archive_gone=False)
        sweep_state.save_page(clients, table, run, _page_key(arns), summary)
        return {"status": "swept", "mode": "page", "run": run, **_counts(summary)}
    if action == "digest":
        table = _require_table(settings, "digest")
        run = str(event.get("run") or "")
        known = sweep_state.load_run(clients, table, run)
        if known is None:
            raise ValueError(f"run {run!r} is unknown (no plan stored it, or it expired)")
        expected = int(event.get("pages", len(known.pages)))
        outcomes = sweep_state.load_pages(clients, table, run, known.pages)
        if expected != len(known.pages) or len(outcomes) != len(known.pages):
            raise RuntimeError(f"run {run}: {len(outcomes)} of {len(known.pages)} pages stored an outcome")
        summary = merge([outcomes[key] for key in known.pages])
        latest = sweep_state.latest_run(clients, table, known.region or region)
        baseline = sweep_state.previous_run(latest, run) is None
        arns = sweep_state.load_run_arns(clients, table, run) or []
        gone = close_run(clients, table, known.region or region, run, arns, latest=latest, store_arns=False)
        if settings.security_hub:
            # Every page imported its own findings; what ecsguard reported earlier on a revision that is no
            # longer ACTIVE (deregistered, deleted) is archived now, once the whole region has been seen.
            _archive_gone(clients, known.region or region, settings, _account(arns, clients))
        summary["resolved"] = sorted(map(list, {tuple(p) for p in [*summary["resolved"], *gone]}))
        message_id = _send_digest(
            summary, settings=settings, clients=clients, region=known.region or region, run=run,
            baseline=baseline, account=_account(arns, clients),
        )  # fmt: skip
        return {"status": "digest", "run": run, "messageId": message_id, "baseline": baseline, **_counts(summary)}
    logger.info("not a sweep event", extra={"action": action or None})
    return {
        "status": "skipped",
        "reason": "not a sweep event (expected a Scheduled Event or action run/plan/page/digest)",
    }


def _sync_security_hub(
    clients: Clients, region: str, result: SweepResult, settings: Settings, *, archive_gone: bool
) -> None:
    """Import the swept definitions' findings into Security Hub (ECSGUARD_SECURITY_HUB) and archive those gone."""
    from . import securityhub

    account = _account([d.arn for d in result.definitions], clients)
    outcome = securityhub.sync_findings(
        clients,
        region,
        account,
        [(d.task_definition or d.arn, list(d.findings)) for d in result.definitions if d.error is None],
    )
    result.calls.update(outcome.calls)
    if outcome.errors:
        logger.warning("Security Hub import incomplete", extra={"errors": list(outcome.errors)})
    if archive_gone:
        _archive_gone(clients, region, settings, account)


def _archive_gone(clients: Clients, region: str, settings: Settings, account: str) -> None:
    """Archive ecsguard's Security Hub findings of every revision that is no longer ACTIVE."""
    from . import securityhub

    active = list_revisions(clients, region, all_active=True)
    outcome = securityhub.sync_findings(
        clients, region, account, [], scope_arns=securityhub.ALL_DEFINITIONS, keep_arns=active
    )
    if outcome.errors:
        logger.warning("Security Hub archive incomplete", extra={"errors": list(outcome.errors)})


def _was_baseline(settings: Settings, clients: Clients, region: str, run: str) -> bool:
    if not settings.state_table:
        return True
    return sweep_state.latest_run(clients, settings.state_table, region).previous is None


def _require_table(settings: Settings, action: str) -> str:
    if not settings.state_table:
        raise ValueError(f"the sweep's {action} step needs the state table (ECSGUARD_STATE_TABLE)")
    return settings.state_table


_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def _region(event: Mapping[str, Any], clients: Clients) -> str:
    region = event.get("region")
    if isinstance(region, str) and _REGION.match(region):
        return region
    region = clients.default_region
    if not region:
        raise ValueError("no region: set AWS_REGION or give the event a region")
    return region
