"""The sweep's items in ecsguard's one state table (``aws/state.py`` describes the table; key ``id``, TTL ``expiration``).

Every read is one item by its key or a ``BatchGetItem`` of keys (never a scan, never a query). Items:

* ``sweep#def#<task-definition ARN>``: one revision as the sweep knows it.

  - ``definition``: the ``DescribeTaskDefinition`` answer (``{"taskDefinition": ..., "tags": [...]}``) with
    every value the secret scanner flags replaced (:data:`REDACTED`), as zlib + base64 of its JSON. Absent
    when it could not be stored (over :data:`ITEM_LIMIT` even compressed, or the redaction could not prove
    itself): the revision is then described again at the next sweep;
  - ``secrets``: the ``plaintext-secret`` findings of the original revision (zlib + base64 JSON: messages,
    redacted hints, published fingerprints; never a value), reused instead of scanning the redacted copy;
  - ``scanner`` and ``allowlist``: digests of the secret scanner's code and of the secret allowlist the two
    were made with: either one changes and the cached copy is not used (the revision is described again and
    the item replaced, so a value a newer scanner flags does not stay in the table);
  - ``last`` and ``prev`` (JSON lists of ``[check, container, field]``): the revision's findings at the last
    sweep that saw it and before it; ``last_run``: that sweep's run id (a retry of the same run compares with
    ``prev``, so it reports the same new findings);
  - ``seen_at`` (ISO 8601) and ``expiration`` (epoch seconds, the table's TTL): refreshed when the sweep
    writes the item, at the latest once :data:`TTL_REFRESH_S` has passed, so a revision no sweep sees any
    more (deregistered) disappears 23 to 30 days after the last sweep that saw it.

* ``sweep#run#<run>``: one run (its ``region``, ``count`` of revisions, ``chunks`` of its ARN list, the
  ``pages`` keys of a Step Functions run, ``digest`` = the message id once the digest was sent);
  ``sweep#run#<run>#arns#<n>``: the run's ARN list in chunks (zlib + base64 JSON);
  ``sweep#run#<run>#page#<key>``: the outcome of one page (zlib + base64 JSON, counts and ARNs, no values).
  All with an ``expiration`` :data:`RUN_TTL_S` later.

* ``sweep#latest#<region>``: the last completed run of the region (``run``) and the one before it
  (``previous``): new and resolved are counted against it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from .clients import Clients

DEF_PREFIX = "sweep#def#"
RUN_PREFIX = "sweep#run#"
LATEST_PREFIX = "sweep#latest#"
FAMILY_PREFIX = "family#"  # the role inventory's family items (aws/state.py)

REDACTED = "ecsguard-redacted"
# DynamoDB's item limit is 400 KB (names and values); keep room for the other attributes.
ITEM_LIMIT = 350_000
DEFINITION_TTL_S = 30 * 24 * 3600
TTL_REFRESH_S = 7 * 24 * 3600  # an unchanged item's expiration is pushed back at most once a week
RUN_TTL_S = 45 * 24 * 3600
CHUNK_LIMIT = 300_000  # bytes of compressed ARN list per run item
_BATCH = 100  # BatchGetItem: at most 100 keys per call

Key = tuple[str, str | None, str | None]  # (check id, container, field)


def pack(value: Any) -> str:
    """JSON, compressed (zlib) and base64-encoded: what large attributes hold."""
    return base64.b64encode(zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)).decode("ascii")


def unpack(text: str) -> Any:
    return json.loads(zlib.decompress(base64.b64decode(text)))


def _keys(text: str | None) -> frozenset[Key] | None:
    if text is None:
        return None
    try:
        return frozenset((str(c), k, f) for c, k, f in json.loads(text))
    except (ValueError, TypeError):
        return frozenset()


def _dump_keys(keys: Iterable[Key]) -> str:
    return json.dumps(sorted(keys, key=lambda k: (k[0], k[1] or "", k[2] or "")), separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class CachedDefinition:
    """What the state table holds about one revision (see the module docstring)."""

    arn: str
    document: Mapping[str, Any] | None  # the redacted DescribeTaskDefinition answer, None when not stored
    secrets: tuple[Mapping[str, Any], ...]
    scanner: str | None
    allowlist: str | None
    last: frozenset[Key] | None  # None: no sweep recorded this revision's findings yet
    prev: frozenset[Key] | None
    last_run: str | None
    expiration: int

    def baseline_for(self, run: str | None) -> frozenset[Key] | None:
        """The findings to compare this run's with: ``prev`` when this run already wrote the item (a retry)."""
        return self.prev if run is not None and self.last_run == run else self.last


def _item_to_cached(item: Mapping[str, Any]) -> CachedDefinition:
    def s(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return str(value) if value is not None else None

    document = None
    if s("definition"):
        try:
            document = unpack(s("definition") or "")
        except (ValueError, zlib.error):
            document = None
    secrets: tuple[Mapping[str, Any], ...] = ()
    if s("secrets"):
        try:
            secrets = tuple(unpack(s("secrets") or ""))
        except (ValueError, zlib.error):
            document = None  # findings that cannot be read: describe again
    return CachedDefinition(
        arn=(s("id") or "").removeprefix(DEF_PREFIX),
        document=document if isinstance(document, Mapping) else None,
        secrets=secrets,
        scanner=s("scanner"),
        allowlist=s("allowlist"),
        last=_keys(s("last")),
        prev=_keys(s("prev")),
        last_run=s("last_run"),
        expiration=int(item.get("expiration", {}).get("N", "0") or 0),
    )


def _batch_get(clients: Clients, table: str, ids: Sequence[str], projection: str | None = None) -> list[dict]:
    """Every existing item of ``ids`` (100 keys per call; unprocessed keys retried with backoff)."""
    dynamodb = clients("dynamodb")
    items: list[dict] = []
    for start in range(0, len(ids), _BATCH):
        request: dict[str, Any] = {"Keys": [{"id": {"S": i}} for i in dict.fromkeys(ids[start : start + _BATCH])]}
        if projection:
            request["ProjectionExpression"] = projection
            request["ExpressionAttributeNames"] = {"#id": "id"} if "#id" in projection else {}
            if not request["ExpressionAttributeNames"]:
                del request["ExpressionAttributeNames"]
        pending = {table: request}
        for attempt in range(8):
            response = dynamodb.batch_get_item(RequestItems=pending)
            items.extend(response.get("Responses", {}).get(table, []))
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise RuntimeError("dynamodb:BatchGetItem kept returning unprocessed keys (throttled)")
    return items


def load_definitions(clients: Clients, table: str, arns: Sequence[str]) -> dict[str, CachedDefinition]:
    """The cached items of these revisions (absent ARNs: never swept)."""
    found = _batch_get(clients, table, [DEF_PREFIX + arn for arn in arns])
    return {cached.arn: cached for cached in map(_item_to_cached, found)}


class PutBuffer:
    """Items written 25 at a time with BatchWriteItem (the first sweep of a region writes one item per revision:
    one call per 25, not per revision). Thread-safe; :meth:`flush` before the run is recorded. Items DynamoDB
    leaves unprocessed are retried with backoff; what is still unprocessed raises (the run fails and is retried,
    and the revisions are simply described again)."""

    BATCH = 25

    def __init__(self, clients: Clients, table: str, *, attempts: int = 6) -> None:
        self._clients, self._table, self._attempts = clients, table, attempts
        self._items: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def put(self, item: dict[str, Any]) -> None:
        with self._lock:
            self._items.append(item)
            ready = self._items if len(self._items) >= self.BATCH else None
            if ready is not None:
                self._items = []
        if ready:
            self._write(ready)

    def flush(self) -> None:
        with self._lock:
            ready, self._items = self._items, []
        for start in range(0, len(ready), self.BATCH):
            self._write(ready[start : start + self.BATCH])

    def _write(self, items: list[dict[str, Any]]) -> None:
        requests = [{"PutRequest": {"Item": item}} for item in items]
        for attempt in range(self._attempts):
            response = self._clients("dynamodb").batch_write_item(RequestItems={self._table: requests})
            requests = (response.get("UnprocessedItems") or {}).get(self._table) or []
            if not requests:
                return
            time.sleep(min(0.05 * 2**attempt, 2.0))
        raise RuntimeError(f"DynamoDB left {len(requests)} sweep cache item(s) unprocessed in {self._table}")


def save_definition(
    clients: Clients,
    table: str,
    arn: str,
    *,
    document: Mapping[str, Any] | None,
    secrets: Sequence[Mapping[str, Any]],
    scanner: str,
    allowlist: str,
    last: Iterable[Key],
    prev: Iterable[Key] | None,
    run: str | None,
    now: float | None = None,
    buffer: PutBuffer | None = None,
) -> bool:
    """Write the whole item of a revision just described (through ``buffer`` when given: batched); returns
    whether the definition itself was stored."""
    moment = time.time() if now is None else now
    item: dict[str, Any] = {
        "id": {"S": DEF_PREFIX + arn},
        "scanner": {"S": scanner},
        "allowlist": {"S": allowlist},
        "last": {"S": _dump_keys(last)},
        "seen_at": {"S": datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")},
        "expiration": {"N": str(int(moment) + DEFINITION_TTL_S)},
    }
    if prev is not None:
        item["prev"] = {"S": _dump_keys(prev)}
    if run:
        item["last_run"] = {"S": run}
    stored = False
    if document is not None:
        packed_secrets = pack(list(secrets))
        packed = pack(document)
        size = len(packed) + len(packed_secrets) + sum(len(v.get("S", "")) for v in item.values()) + 200
        if size <= ITEM_LIMIT:
            item["definition"] = {"S": packed}
            item["secrets"] = {"S": packed_secrets}
            stored = True
    if buffer is not None:
        buffer.put(item)
    else:
        clients("dynamodb").put_item(TableName=table, Item=item)
    return stored


def record_findings(
    clients: Clients,
    table: str,
    cached: CachedDefinition,
    *,
    last: Iterable[Key],
    run: str | None,
    now: float | None = None,
) -> bool:
    """Record a cached revision's findings of this run; no write when nothing changed and the TTL is fresh.

    Returns whether it wrote.
    """
    moment = time.time() if now is None else now
    current = frozenset(last)
    fresh = cached.expiration - moment > DEFINITION_TTL_S - TTL_REFRESH_S
    if cached.last == current and fresh:
        return False
    values: dict[str, Any] = {
        ":last": {"S": _dump_keys(current)},
        ":seen": {"S": datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")},
        ":exp": {"N": str(int(moment) + DEFINITION_TTL_S)},
    }
    expression = "SET #last = :last, seen_at = :seen, expiration = :exp"
    if cached.last != current:
        # A retry of the same run keeps the comparison it made the first time.
        previous = cached.baseline_for(run)
        values[":prev"] = {"S": _dump_keys(previous or ())}
        expression += ", prev = :prev"
        if run:
            values[":run"] = {"S": run}
            expression += ", last_run = :run"
    clients("dynamodb").update_item(
        TableName=table,
        Key={"id": {"S": DEF_PREFIX + cached.arn}},
        UpdateExpression=expression,
        ExpressionAttributeNames={"#last": "last"},
        ExpressionAttributeValues=values,
    )
    return True


def forget_findings(clients: Clients, table: str, cached: CachedDefinition, *, run: str) -> None:
    """A revision gone from the sweep (deregistered, or no longer its family's latest): its findings are resolved.

    ``last`` becomes empty (so a revision that comes back has all its findings new again), ``prev`` keeps what
    was resolved, for a retry of the same run. The item itself expires with its TTL.
    """
    if cached.last_run == run:
        return
    clients("dynamodb").update_item(
        TableName=table,
        Key={"id": {"S": DEF_PREFIX + cached.arn}},
        UpdateExpression="SET #last = :empty, prev = :prev, last_run = :run",
        ExpressionAttributeNames={"#last": "last"},
        ExpressionAttributeValues={
            ":empty": {"S": "[]"},
            ":prev": {"S": _dump_keys(cached.last or ())},
            ":run": {"S": run},
        },
    )


def family_roles(clients: Clients, table: str, families: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """The role inventory's ``family#`` items: family -> (task role, revision ARN) as last recorded."""
    found = _batch_get(clients, table, [FAMILY_PREFIX + f for f in families])
    return {
        item["id"]["S"].removeprefix(FAMILY_PREFIX): (
            item.get("task_role", {}).get("S"),
            item.get("revision", {}).get("S"),
        )
        for item in found
    }


# ------------------------------------------------------------------------------------------------ runs


def _expiration(now: float | None = None) -> dict[str, str]:
    return {"N": str(int(time.time() if now is None else now) + RUN_TTL_S)}


def save_run(
    clients: Clients, table: str, run: str, *, region: str, arns: Sequence[str], pages: Sequence[str] = ()
) -> None:
    """Remember a run's revisions (in chunks under the run) and, for a Step Functions run, its page keys."""
    dynamodb = clients("dynamodb")
    chunks: list[str] = []
    current: list[str] = []
    for arn in arns:
        current.append(arn)
        if len(current) >= 2000:
            chunks.append(pack(current))
            current = []
    if current or not chunks:
        chunks.append(pack(current))
    if any(len(chunk) > CHUNK_LIMIT for chunk in chunks):
        raise RuntimeError("a chunk of the run's ARN list is over the item limit")
    for number, chunk in enumerate(chunks):
        dynamodb.put_item(
            TableName=table,
            Item={"id": {"S": f"{RUN_PREFIX}{run}#arns#{number}"}, "arns": {"S": chunk}, "expiration": _expiration()},
        )
    item: dict[str, Any] = {
        "id": {"S": RUN_PREFIX + run},
        "region": {"S": region},
        "count": {"N": str(len(arns))},
        "chunks": {"N": str(len(chunks))},
        "started_at": {"S": datetime.now(UTC).isoformat(timespec="seconds")},
        "expiration": _expiration(),
    }
    if pages:
        item["pages"] = {"S": json.dumps(list(pages))}
    # A retry of the plan (same run id) rewrites the same thing; the digest marker is kept.
    dynamodb.update_item(
        TableName=table,
        Key={"id": item.pop("id")},
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in item),
        ExpressionAttributeNames={f"#{k}": k for k in item},
        ExpressionAttributeValues={f":{k}": v for k, v in item.items()},
    )


@dataclass(frozen=True, slots=True)
class Run:
    run: str
    region: str
    count: int
    pages: tuple[str, ...]
    digest: str | None


def load_run(clients: Clients, table: str, run: str) -> Run | None:
    item = (
        clients("dynamodb")
        .get_item(TableName=table, Key={"id": {"S": RUN_PREFIX + run}}, ConsistentRead=True)
        .get("Item")
    )
    if not item:
        return None
    return Run(
        run=run,
        region=item.get("region", {}).get("S", ""),
        count=int(item.get("count", {}).get("N", "0")),
        pages=tuple(json.loads(item["pages"]["S"])) if "pages" in item else (),
        digest=item.get("digest", {}).get("S"),
    )


def load_run_arns(clients: Clients, table: str, run: str) -> list[str] | None:
    """A run's ARN list (None when the run is unknown or its chunks expired)."""
    head = (
        clients("dynamodb")
        .get_item(TableName=table, Key={"id": {"S": RUN_PREFIX + run}}, ConsistentRead=True)
        .get("Item")
    )
    if not head:
        return None
    chunks = int(head.get("chunks", {}).get("N", "0"))
    ids = [f"{RUN_PREFIX}{run}#arns#{n}" for n in range(chunks)]
    found = {item["id"]["S"]: item for item in _batch_get(clients, table, ids)}
    if len(found) != chunks:
        return None
    arns: list[str] = []
    for chunk_id in ids:
        arns.extend(unpack(found[chunk_id]["arns"]["S"]))
    return arns


def save_page(clients: Clients, table: str, run: str, key: str, outcome: Mapping[str, Any]) -> None:
    packed = pack(dict(outcome))
    if len(packed) > ITEM_LIMIT:
        raise RuntimeError(f"the outcome of page {key} is over the DynamoDB item limit even compressed")
    clients("dynamodb").put_item(
        TableName=table,
        Item={"id": {"S": f"{RUN_PREFIX}{run}#page#{key}"}, "outcome": {"S": packed}, "expiration": _expiration()},
    )


def load_pages(clients: Clients, table: str, run: str, keys: Sequence[str]) -> dict[str, Any]:
    """Page key -> outcome for the pages that stored one."""
    found = _batch_get(clients, table, [f"{RUN_PREFIX}{run}#page#{key}" for key in keys])
    prefix = f"{RUN_PREFIX}{run}#page#"
    return {item["id"]["S"].removeprefix(prefix): unpack(item["outcome"]["S"]) for item in found}


def mark_digest(clients: Clients, table: str, run: str, message_id: str) -> None:
    clients("dynamodb").update_item(
        TableName=table,
        Key={"id": {"S": RUN_PREFIX + run}},
        UpdateExpression="SET digest = :id, expiration = :exp",
        ExpressionAttributeValues={":id": {"S": message_id}, ":exp": _expiration()},
    )


@dataclass(frozen=True, slots=True)
class Latest:
    run: str | None  # the last completed run
    previous: str | None  # the one before it


def latest_run(clients: Clients, table: str, region: str) -> Latest:
    item = (
        clients("dynamodb")
        .get_item(TableName=table, Key={"id": {"S": LATEST_PREFIX + region}}, ConsistentRead=True)
        .get("Item")
    )
    if not item:
        return Latest(None, None)
    return Latest(item.get("run", {}).get("S"), item.get("previous", {}).get("S") or None)


def previous_run(latest: Latest, run: str) -> str | None:
    """The run this one is compared with: the last completed one, or the one before it when this is a retry."""
    return latest.previous if latest.run == run else latest.run


def complete_run(clients: Clients, table: str, region: str, run: str) -> None:
    """Make ``run`` the region's last completed run (idempotent: a retry of the same run changes nothing)."""
    dynamodb = clients("dynamodb")
    latest = latest_run(clients, table, region)
    if latest.run == run:
        return
    item: dict[str, Any] = {"id": {"S": LATEST_PREFIX + region}, "run": {"S": run}}
    if latest.run:
        item["previous"] = {"S": latest.run}
    try:
        dynamodb.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(#run) OR #run = :seen",
            ExpressionAttributeNames={"#run": "run"},
            ExpressionAttributeValues={":seen": {"S": latest.run or ""}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        # Another run completed in between: this one still becomes the latest, the other its previous.
        complete_run(clients, table, region, run)
