"""Security Hub sync (ECSGUARD_SECURITY_HUB=true): ecsguard's findings imported in ASFF, kept current, resolved.

:func:`sync_findings` is the one entry point the registration flow and the sweep call:

* each current finding of the given definitions is imported when it is new or has changed (a content hash in
  its ProductFields; an unchanged finding is not sent again, so its UpdatedAt moves only when it changes);
* each ACTIVE finding ecsguard imported earlier for a definition in scope that is no longer found (the
  definition was fixed, the check exempted by ``ecsguard:ignore``, or the revision deregistered) is archived:
  RecordState ARCHIVED, Compliance PASSED, then Workflow RESOLVED (unless someone set it to SUPPRESSED).

Finding Ids are deterministic (:func:`ecsguard.render.asff.finding_id`), so nothing is duplicated however
often a definition is synced. Security Hub trouble (not enabled, access denied, throttled past retries)
never fails the caller: it is logged and returned in :class:`SyncResult.errors` (codes, never values).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from ..aws import actions
from ..aws.clients import Clients
from ..aws.securityhub import active_findings
from ..model import Finding, TaskDefinition
from ..render import asff

logger = logging.getLogger(__name__)

__all__ = ["ALL_DEFINITIONS", "SyncResult", "sync_findings"]


class _AllDefinitions:
    """``scope_arns=ALL_DEFINITIONS``: every definition of the region is in scope (the sweep's last step)."""

    def __repr__(self) -> str:
        return "ALL_DEFINITIONS"


ALL_DEFINITIONS = _AllDefinitions()

# Workflow states ecsguard moves to RESOLVED when it archives a finding (SUPPRESSED and RESOLVED stay).
_OPEN_WORKFLOW = frozenset({"NEW", "NOTIFIED"})


@dataclass(slots=True)
class SyncResult:
    imported: list[str] = field(default_factory=list)  # finding Ids imported because new or changed
    unchanged: int = 0  # current findings already in Security Hub as they are (not sent again)
    archived: list[str] = field(default_factory=list)  # finding Ids archived (gone)
    resolved: int = 0  # archived findings whose Workflow.Status was set to RESOLVED
    failed: list[tuple[str, str]] = field(default_factory=list)  # (finding Id, error code) Security Hub refused
    errors: list[str] = field(default_factory=list)  # whole requests that failed (error codes)
    calls: Counter[str] = field(default_factory=Counter)  # GetFindings, BatchImportFindings, BatchUpdateFindings
    skipped: int = 0  # definitions without an ARN (a finding's resource must be one)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _resource_arn(record: dict) -> str | None:
    for resource in record.get("Resources", []):
        if resource.get("Type") == asff.RESOURCE_TYPE:
            return resource.get("Id")
    return None


def _partition(clients: Clients, region: str, arns: set[str]) -> str:
    if arns:
        return asff.partition_of(next(iter(arns)))
    try:
        return clients.session.get_partition_for_region(region)
    except Exception:  # an unknown region: botocore raises; the commercial partition is the answer for tests
        return "aws"


def _unique(ids: dict[str, int], base: str) -> str:
    """The Id, or ``<Id>/2``, ``/3``... for a second finding of one check, container and field."""
    count = ids.get(base, 0) + 1
    ids[base] = count
    return base if count == 1 else f"{base}/{count}"[: asff.ID_LIMIT]


def sync_findings(
    clients: Clients,
    region: str,
    account: str,
    definitions: Iterable[tuple[str | TaskDefinition, Sequence[Finding]]],
    *,
    scope_arns: Collection[str] | _AllDefinitions | None = None,
    keep_arns: Collection[str] = (),
    now: str | None = None,
) -> SyncResult:
    """Bring Security Hub in line with ``definitions``: ``(ARN or TaskDefinition, its current findings)``.

    The findings are those left after the ``ecsguard:ignore`` exemptions (an exempted one is resolved).
    A TaskDefinition instead of an ARN adds its family, roles and container names/images to the resource.

    What may be archived (``scope_arns``):

    * None (default): the findings of the given definitions only (registration flow; a sweep page);
    * a collection of ARNs: those definitions too, e.g. revisions the caller knows were deregistered;
    * :data:`ALL_DEFINITIONS`: every ACTIVE ecsguard finding of this account and region whose definition is
      not among ``definitions`` nor in ``keep_arns`` (the sweep, once it has seen every definition it
      lists: whatever else ecsguard reported earlier is deregistered or deleted). ``keep_arns`` names
      definitions that still exist but were not evaluated (older ACTIVE revisions, a sweep of latest ones).
    """
    result = SyncResult()
    stamp = now or _now()
    wanted: dict[str, dict] = {}
    ids: dict[str, int] = {}
    arns: set[str] = set()
    for reference, findings in definitions:
        td = reference if isinstance(reference, TaskDefinition) else None
        arn = td.arn if td is not None else reference
        if not isinstance(arn, str) or not arn:
            result.skipped += 1
            logger.info("not synced to Security Hub: the definition has no ARN", extra={"findings": len(findings)})
            continue
        arns.add(arn)
        for finding in findings:
            finding_id = _unique(ids, asff.finding_id(region, arn, finding))
            wanted[finding_id] = asff.to_asff(
                finding,
                arn=arn,
                account=account,
                region=region,
                created_at=stamp,
                updated_at=stamp,
                task_definition=td,
                id=finding_id,
            )
    everything = scope_arns is ALL_DEFINITIONS
    in_scope = arns | (set() if everything or scope_arns is None else set(scope_arns))  # type: ignore[arg-type]
    # The product ARN names this account and region: findings other accounts (a delegated administrator sees
    # its members') or regions (cross-Region aggregation) imported are never read, updated or archived here.
    product = asff.product_arn(region, account, _partition(clients, region, arns))
    try:
        existing = {
            record["Id"]: record
            for record in active_findings(
                clients,
                region,
                product_arn=product,
                generator_prefix=asff.GENERATOR_PREFIX,
                resource_ids=None if everything else in_scope,
                calls=result.calls,
            )
        }
    except (ClientError, BotoCoreError) as exc:
        code = (
            exc.response.get("Error", {}).get("Code", "Error") if isinstance(exc, ClientError) else type(exc).__name__
        )
        logger.warning("Security Hub findings not read: nothing synced", extra={"region": region, "error": code})
        result.errors.append(f"GetFindings: {code}")
        return result

    send: list[dict] = []
    for finding_id, record in wanted.items():
        before = existing.get(finding_id)
        if before is not None:
            if (before.get("ProductFields") or {}).get(asff.CONTENT_HASH_FIELD) == record["ProductFields"][
                asff.CONTENT_HASH_FIELD
            ]:
                result.unchanged += 1
                continue
            record["CreatedAt"] = before.get("CreatedAt") or stamp
        send.append(record)
    new_or_changed = {record["Id"] for record in send}

    keep = set(keep_arns)
    gone: list[dict] = []
    for finding_id, record in existing.items():
        if finding_id in wanted:
            continue
        arn = _resource_arn(record)
        if arn in arns or (arn in in_scope and not everything):
            reason = "the definition no longer has this finding (fixed, or exempted by its ecsguard:ignore tag)"
        elif everything and arn not in keep:
            reason = "the task definition is no longer active (deregistered or deleted)"
        else:
            continue
        gone.append(record)
        send.append(asff.archived(record, updated_at=stamp, reason=reason))

    if send:
        written = actions.import_findings(clients, region=region, findings=send)
        result.calls["BatchImportFindings"] += written.requests
        if written.error:
            result.errors.append(f"BatchImportFindings: {written.error}")
        refused = {finding_id for finding_id, _ in written.failed}
        result.failed += written.failed
        sent = {record["Id"] for record in send[: written.succeeded + len(written.failed)]} if written.error else None
        for record in send:
            if record["Id"] in refused or (sent is not None and record["Id"] not in sent):
                continue
            (result.imported if record["Id"] in new_or_changed else result.archived).append(record["Id"])

    archived = set(result.archived)
    to_resolve = [
        {"Id": record["Id"], "ProductArn": record["ProductArn"]}
        for record in gone
        if record["Id"] in archived and (record.get("Workflow") or {}).get("Status", "NEW") in _OPEN_WORKFLOW
    ]
    if to_resolve:
        updated = actions.resolve_workflow(clients, region=region, identifiers=to_resolve)
        result.calls["BatchUpdateFindings"] += updated.requests
        result.resolved = updated.succeeded
        if updated.error:
            result.errors.append(f"BatchUpdateFindings: {updated.error}")
        result.failed += updated.failed
    logger.info(
        "Security Hub synced",
        extra={
            "region": region,
            "imported": len(result.imported),
            "unchanged": result.unchanged,
            "archived": len(result.archived),
            "resolved": result.resolved,
            "errors": result.errors,
        },
    )
    return result
