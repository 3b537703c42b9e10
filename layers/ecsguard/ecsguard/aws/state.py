"""ecsguard's state: one DynamoDB table (``ECSGUARD_STATE_TABLE``) for everything it remembers.

It holds the idempotency records that absorb duplicate EventBridge deliveries (Powertools
idempotency, keyed on CloudTrail's ``eventID``: ids ``<function>#<hash>``) and the role inventory;
diagnosis de-duplication and the sweep's cache are to live in the same table under their own key
prefixes. Never a scan: every read is one item by its key.

The role inventory (which task-definition families use which task role) is two kinds of item:

* ``role#<role ARN>``: ``families`` (a string set), ``updated_at`` (ISO 8601), ``last_family``,
  ``last_revision``;
* ``family#<family>``: ``task_role`` (the family's role ARN as of its latest revision ecsguard saw),
  ``revision``, ``updated_at``. It lets a family that moves to another role (or to none) leave the old
  role's set, so the inventory does not accuse a family of a role it no longer uses.

Role ARNs are normalised to ``arn:<partition>:iam::<account>:role/<name>`` (the path dropped: a role
name is unique in its account, and ECS accepts a bare name too). The inventory knows what ecsguard has
seen registered in this region since it was deployed (plus what the sweep adds); a family none of whose
revisions is active any more stays listed until it registers a revision with another role.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from ..facts import Unknown
from .clients import Clients

logger = logging.getLogger(__name__)

ROLE_PREFIX = "role#"
FAMILY_PREFIX = "family#"
# A definite "this table cannot be read here" (copied from aws/facts.py, which imports this module).
_UNREADABLE = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "ResourceNotFoundException"}
)
_ROLE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")

# Runs ``work`` at most once per key (duplicate EventBridge deliveries) and returns its result.
Once = Callable[[str, Callable[[], dict[str, Any]]], dict[str, Any]]


class IdempotencyStore:
    """Runs a piece of work once per key, with Powertools idempotency on the state table.

    Built lazily: Powertools' idempotency utility and the DynamoDB client are only loaded the first
    time an event has something to act on or report, so clean definitions (most events) cost no
    DynamoDB calls and the cold start does not pay for them.
    """

    def __init__(self, table: str, clients: Clients) -> None:
        self._table = table
        self._clients = clients
        self._run: Callable[..., dict[str, Any]] | None = None
        self._config: Any = None
        self.context: Any = None

    def __call__(self, key: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if self._run is None:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            self._config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=24 * 3600)
            store = DynamoDBPersistenceLayer(table_name=self._table, boto3_client=self._clients("dynamodb"))

            @idempotent_function(data_keyword_argument="request", config=self._config, persistence_store=store)
            def run(request: dict[str, str], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
                return work()

            self._run = run
        if self.context is not None:
            self._config.register_lambda_context(self.context)
        return self._run(request={"key": key}, work=work)


def normalise_role(role: str | None, account: str | None = None, partition: str = "aws") -> str | None:
    """``arn:<partition>:iam::<account>:role/<name>`` for a role ARN (any path) or a bare role name; else None."""
    if not role:
        return None
    role = role.strip()
    match = _ROLE.match(role)
    if match:
        return f"arn:{match.group(1)}:iam::{match.group(2)}:role/{match.group(3)}"
    if _ROLE_NAME.match(role) and account and re.fullmatch(r"\d{12}", account):
        return f"arn:{partition}:iam::{account}:role/{role}"
    return None


class RoleInventoryFacts:
    """Mixin of :class:`ecsguard.aws.facts.AwsFacts`: the role -> families inventory in the state table.

    One ``GetItem`` per role per invocation (cached), never a scan or a listing of the account.
    """

    _clients: Any
    _state_table: str | None

    def families_using_role(self, role_arn: str) -> frozenset[str] | Unknown:
        if not self._state_table:
            return Unknown("role inventory: no state table configured (ECSGUARD_STATE_TABLE)")
        role = normalise_role(role_arn)
        if role is None:
            return Unknown(f"role inventory: {role_arn!r} is not a role ARN")
        cache = self.__dict__.setdefault("_role_families", {})
        if role not in cache:
            cache[role] = self._read_families(role)
        return cache[role]

    def _read_families(self, role: str) -> frozenset[str] | Unknown:
        try:
            response = self._clients("dynamodb").get_item(
                TableName=self._state_table,
                Key={"id": {"S": ROLE_PREFIX + role}},
                ProjectionExpression="families",
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in _UNREADABLE:
                raise  # throttling, server errors: retried
            logger.warning("cannot read the role inventory", extra={"error": code})
            return Unknown(f"dynamodb:GetItem: {code}")
        families = response.get("Item", {}).get("families", {}).get("SS", [])
        return frozenset(str(f) for f in families)


def record_task_role(
    clients: Clients,
    table: str,
    *,
    role: str | None,
    family: str,
    revision_arn: str | None = None,
    account: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Remember that ``family`` (as of ``revision_arn``) uses task role ``role`` (None: no task role).

    Two or three writes, no read: the family's item is updated first and returns the role it had, so a
    family that moved from another role leaves that role's set. A placeholder or unparseable role is not
    recorded. Failures are logged and reported as False: the inventory is advice, never a reason to fail
    or retry the event.
    """
    partition = (revision_arn or "arn:aws").split(":")[1] if (revision_arn or "").startswith("arn:") else "aws"
    normalised = normalise_role(role, account, partition)
    if role and normalised is None:
        return False  # ${TASK_ROLE}, <role>...: nothing to remember
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    dynamodb = clients("dynamodb")
    try:
        if normalised:
            previous = dynamodb.update_item(
                TableName=table,
                Key={"id": {"S": FAMILY_PREFIX + family}},
                UpdateExpression="SET task_role = :role, revision = :revision, updated_at = :now",
                ExpressionAttributeValues={
                    ":role": {"S": normalised},
                    ":revision": {"S": revision_arn or ""},
                    ":now": {"S": stamp},
                },
                ReturnValues="UPDATED_OLD",
            )
            dynamodb.update_item(
                TableName=table,
                Key={"id": {"S": ROLE_PREFIX + normalised}},
                UpdateExpression="ADD families :family SET updated_at = :now, last_family = :name, last_revision = :revision",
                ExpressionAttributeValues={
                    ":family": {"SS": [family]},
                    ":name": {"S": family},
                    ":revision": {"S": revision_arn or ""},
                    ":now": {"S": stamp},
                },
            )
        else:
            try:  # no task role now: forget the family's old role, if ecsguard knew one
                previous = dynamodb.update_item(
                    TableName=table,
                    Key={"id": {"S": FAMILY_PREFIX + family}},
                    UpdateExpression="REMOVE task_role SET revision = :revision, updated_at = :now",
                    ConditionExpression="attribute_exists(task_role)",
                    ExpressionAttributeValues={":revision": {"S": revision_arn or ""}, ":now": {"S": stamp}},
                    ReturnValues="UPDATED_OLD",
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                return True  # the family never had a task role ecsguard knew of
        old = previous.get("Attributes", {}).get("task_role", {}).get("S")
        if old and old != normalised:
            dynamodb.update_item(
                TableName=table,
                Key={"id": {"S": ROLE_PREFIX + old}},
                UpdateExpression="DELETE families :family SET updated_at = :now",
                ConditionExpression="attribute_exists(id)",
                ExpressionAttributeValues={":family": {"SS": [family]}, ":now": {"S": stamp}},
            )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            return True  # the old role's item is gone already
        logger.warning("role inventory not updated", extra={"family": family, "error": code})
        return False
    except EndpointConnectionError:
        logger.warning("role inventory not updated: no DynamoDB endpoint", extra={"family": family})
        return False
    return True


# --------------------------------------------------------------------------------------------
# Progress of one event: what ecsguard already did for it, so that a retry after a failure halfway
# (the actions done, the message not sent) finishes the work without repeating it, and still says
# what was done. ``progress#<eventID>``: ``actions`` (JSON of the ActionResults: words, never values),
# ``expiration`` (epoch seconds, a day later: the table's TTL attribute, as for idempotency records).
# --------------------------------------------------------------------------------------------

PROGRESS_PREFIX = "progress#"
PROGRESS_TTL_S = 24 * 3600


def load_progress(clients: Clients, table: str, event_id: str) -> list[dict[str, Any]]:
    """The actions an earlier attempt at this event took (an empty list when there was none)."""
    import json

    item = (
        clients("dynamodb")
        .get_item(TableName=table, Key={"id": {"S": PROGRESS_PREFIX + event_id}}, ConsistentRead=True)
        .get("Item")
    )
    if not item:
        return []
    try:
        actions = json.loads(item["actions"]["S"])
    except (KeyError, ValueError):
        return []
    return [a for a in actions if isinstance(a, dict)]


def save_progress(clients: Clients, table: str, event_id: str, actions: list[dict[str, Any]]) -> None:
    """Remember what was done for this event before the step that may fail (the notification)."""
    import json
    import time

    clients("dynamodb").put_item(
        TableName=table,
        Item={
            "id": {"S": PROGRESS_PREFIX + event_id},
            "actions": {"S": json.dumps(actions, separators=(",", ":"))},
            "expiration": {"N": str(int(time.time()) + PROGRESS_TTL_S)},
        },
    )


# --------------------------------------------------------------------------------------------
# Stopped-task diagnosis de-duplication: at most one message per task definition and cause within a window.
# ``diagnosis#<cluster>#<service or family>#<family:revision>#<check:cause[+...]>`` holds:
#
# * ``window_end`` (epoch seconds): until when further stops of this key are counted, not sent;
# * ``stops``: stops counted since the last message, that message's own stop included;
# * ``covers``: how many stops the last message stood for (kept so that a retry of it says the same);
# * ``opener`` (the EventBridge id of the event that sent the last message) and ``last_task`` (the task ARN
#   counted last): a retry of the sending event sends again (its act-and-notify record makes that once), a
#   second delivery or a second STOPPED event of the same task is not counted twice;
# * ``sent_at``, ``previous_sent_at`` (ISO 8601): when the last message and the one before it were sent;
# * ``expiration`` (epoch seconds, the table's TTL attribute): one day after the window's end. The item outlives
#   its window so that the next message (the first stop after the window) can say how many stops happened since
#   the previous one; a key quiet for a day starts again at 1.
#
# One conditional UpdateItem per event in a storm (the count); the stop that opens a window makes two.
# --------------------------------------------------------------------------------------------

from dataclasses import dataclass  # noqa: E402 (this section is appended to the module)

DIAGNOSIS_PREFIX = "diagnosis#"
DIAGNOSIS_KEEP_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class StopCount:
    """What the state table says about one stop: send a message now (and for how many stops), or count it."""

    send: bool
    stops: int  # for a message: the stops it stands for; for a counted stop: the count in this window so far
    window_end: str  # ISO 8601: until when further stops of this key are counted, not sent
    previous_message_at: str | None = None  # when the message before this one was sent (None: this is the first)
    outcome: str = "opened"  # opened | counted | duplicate | retry


def diagnosis_key(*, cluster: str | None, group: str | None, revision: str, causes: list[str]) -> str:
    """The state-table id of one task definition (in one service or family group) and cause."""
    scope = (cluster or "default").rsplit("/", 1)[-1]
    return f"{DIAGNOSIS_PREFIX}{scope}#{group or '-'}#{revision}#{'+'.join(causes)}"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def count_stop(
    clients: Clients,
    table: str,
    key: str,
    *,
    event_id: str,
    task_arn: str,
    window_s: int,
    now: float | None = None,
) -> StopCount:
    """Count one stop under ``key``; ``send`` is True for the first stop of a window (and for a retry of it).

    Errors other than the condition's are raised: the invocation fails and is retried (a count that cannot be
    kept must not turn into a silent drop or a message per stop).
    """
    import time

    moment = time.time() if now is None else now
    dynamodb = clients("dynamodb")
    values = {":now": {"N": str(int(moment))}, ":id": {"S": event_id}, ":task": {"S": task_arn}}
    for _attempt in range(4):
        try:
            response = dynamodb.update_item(
                TableName=table,
                Key={"id": {"S": key}},
                UpdateExpression="ADD stops :one SET last_task = :task",
                ConditionExpression="window_end > :now AND opener <> :id AND last_task <> :task",
                ExpressionAttributeValues={**values, ":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old = exc.response.get("Item") or {}
        else:
            item = response["Attributes"]
            return StopCount(False, int(item["stops"]["N"]), _iso(int(item["window_end"]["N"])), outcome="counted")
        window_end = int(old.get("window_end", {}).get("N", "0"))
        if window_end > moment:
            if old.get("opener", {}).get("S") == event_id:  # a retry of the event that sent the message
                return StopCount(
                    True,
                    int(old.get("covers", {}).get("N", "1")),
                    _iso(window_end),
                    old.get("previous_sent_at", {}).get("S") or None,
                    outcome="retry",
                )
            stops = int(old.get("stops", {}).get("N", "1"))
            return StopCount(False, stops, _iso(window_end), outcome="duplicate")  # this task was counted already
        # No window (or it ended): this stop opens one and is sent, standing for the stops counted since the
        # last message (unless that item is older than it is kept for: then it is the first again).
        fresh = not old or int(old.get("expiration", {}).get("N", "0")) <= moment
        covers = 1 if fresh else max(int(old.get("stops", {}).get("N", "1")), 1)
        previous = None if fresh else old.get("sent_at", {}).get("S")
        end = int(moment) + window_s
        condition = (
            "attribute_not_exists(opener)" if not old.get("opener") else "opener = :old_opener AND window_end <= :now"
        )
        opener_values = {":old_opener": old["opener"], ":now": values[":now"]} if old.get("opener") else {}
        try:
            dynamodb.update_item(
                TableName=table,
                Key={"id": {"S": key}},
                UpdateExpression=(
                    "SET window_end = :end, expiration = :expiration, stops = :one, covers = :covers, opener = :id, "
                    "last_task = :task, sent_at = :sent, previous_sent_at = :previous"
                ),
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":id": values[":id"],
                    ":task": values[":task"],
                    **opener_values,
                    ":one": {"N": "1"},
                    ":end": {"N": str(end)},
                    ":expiration": {"N": str(end + DIAGNOSIS_KEEP_S)},
                    ":covers": {"N": str(covers)},
                    ":sent": {"S": _iso(moment)},
                    ":previous": {"S": previous or ""},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            continue  # another stop opened the window first: count this one in it
        return StopCount(True, covers, _iso(end), previous, outcome="opened")
    raise RuntimeError(f"diagnosis count for {key} did not settle after 4 attempts")
