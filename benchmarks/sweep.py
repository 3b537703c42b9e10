"""ecsguard sweep vs Cloud Custodian on the same moto server, side by side. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/sweep.py [--families 300] [--new 10] [--concurrency 8]

1. Starts moto's ThreadedMotoServer on 127.0.0.1 (a random port) and seeds it through boto3 with
   ``--families`` task-definition families of 4 to 10 revisions each (7 on average: 2,100 revisions for
   300 families), built from the RegisterTaskDefinition requests of ``events/register_task_definition``
   and the real definitions of ``tests/data/corpus/taskdefs`` (family names varied, one docker label
   per revision), plus the log groups of every other family and ecsguard's state table.
2. Installs Cloud Custodian (c7n 0.9.53) into its own virtual environment ``.venv-c7n`` (created on
   the first run from the same Python as this one, reused afterwards) and runs ``custodian run`` with
   ``benchmarks/c7n/policies.yml`` (the checks both tools can express) against the server
   (``AWS_ENDPOINT_URL``, fake credentials, the in-memory cache so the seven policies share one read).
3. Runs ``ecsguard sweep --format json`` (the full catalogue, with the state table) in its own process;
   where the command does not exist yet, ``ecsguard.flows.sweep.sweep`` in a fresh interpreter.
4. Registers one new revision for ``--new`` families and sweeps again: the second sweep must describe
   only what is new. Then ``ecsguard sweep --all-revisions`` (no state table) reads the same revisions as
   custodian, for a verdict per definition side by side (``--no-all-revisions`` skips it).

AWS calls are counted on the server, per operation, for each run (a WSGI wrapper around moto's
application), so both tools are counted the same way; custodian's own api-stats are printed beside.
Both tools run as separate processes and pay their interpreter start-up. Targets (printed, never
asserted): the first sweep at least 2 x faster than custodian; the second at most 1/3 of the first.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import venv
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "ecsguard"))

from ecsguard.model import DocumentError, task_definitions_in  # noqa: E402

REGION = "us-east-1"
STATE_TABLE = "ecsguard-state"
C7N_VERSION = "0.9.53"
C7N_VENV = ROOT / ".venv-c7n"
POLICIES = ROOT / "benchmarks" / "c7n" / "policies.yml"
ECSGUARD = ROOT / ".venv" / "bin" / "ecsguard"
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # moto answers unimplemented calls with HTTP 500: retrying them only slows both tools down alike.
    "AWS_MAX_ATTEMPTS": "1",
}


# --------------------------------------------------------------------------------------- the server


# What moto's server does not implement, answered as AWS answers this account (counted like any call):
# no pull-through cache rules; no role of these definitions exists here (iam:SimulatePrincipalPolicy).
SHIMS = {
    "AmazonEC2ContainerRegistry_V20150921.DescribePullThroughCacheRules": (
        "200 OK",
        "application/x-amz-json-1.1",
        b'{"pullThroughCacheRules": []}',
    ),
    "SimulatePrincipalPolicy": (
        "404 Not Found",
        "text/xml",
        b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        b"<Code>NoSuchEntity</Code><Message>The role cannot be found.</Message></Error>"
        b"<RequestId>bench</RequestId></ErrorResponse>",
    ),
}
# moto crashes (HTTP 500) on a few requests AWS rejects, such as DescribeSecret of a placeholder ARN
# (region "region"): answered with AWS's 4xx for a JSON-protocol request, and counted.
CRASH = b'{"__type": "ResourceNotFoundException", "message": "not found (moto crashed on this request)"}'


class CountingApp:
    """WSGI wrapper around moto's application: counts requests per (service, operation); answers SHIMS."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: Counter[str] = Counter()
        self.crashes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        service = ""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if "Credential=" in auth:
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
            service = scope[3] if len(scope) > 3 else ""
        if not operation:
            operation = (parse_qs(environ.get("QUERY_STRING", "")).get("Action") or [""])[0]
        if not operation and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            operation = (parse_qs(body.decode("utf-8", "replace")).get("Action") or [""])[0]
        name = f"{service}:{operation or environ.get('REQUEST_METHOD', '?')}"
        with self._lock:
            self.calls[name] += 1
        shim = SHIMS.get(target) or SHIMS.get(operation if not target else "")
        if shim:
            return self._answer(start_response, *shim)
        try:
            return self.app(environ, start_response)
        except Exception:
            if not target:
                raise
            with self._lock:
                self.crashes[name] += 1
            return self._answer(start_response, "400 Bad Request", "application/x-amz-json-1.1", CRASH)

    @staticmethod
    def _answer(start_response: Any, status: str, content_type: str, body: bytes) -> list[bytes]:
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def take(self) -> Counter[str]:
        with self._lock:
            calls, self.calls = self.calls, Counter()
        return calls


def start_server() -> tuple[Any, CountingApp, str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # no line per request, no traceback per 500

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    counting = CountingApp(server._server.app)
    server._server.app = counting  # werkzeug's handler reads server.app on every request
    host, port = server.get_host_and_port()
    return server, counting, f"http://{host}:{port}"


# -------------------------------------------------------------------------------------------- seeding


def templates() -> list[dict[str, Any]]:
    """RegisterTaskDefinition requests: events/ first, then the real definitions of the corpus."""
    found: list[dict[str, Any]] = []
    for path in sorted((ROOT / "events" / "register_task_definition").glob("*.json")):
        detail = json.loads(path.read_text()).get("detail") or {}
        request = detail.get("requestParameters") or {}
        if detail.get("errorCode") or not isinstance(request.get("containerDefinitions"), list):
            continue  # failed calls and foreign events register nothing
        if any("omitted" in json.dumps(c)[:200] for c in request["containerDefinitions"]):
            continue  # truncated by CloudTrail
        found.append(request)
    for path in sorted((ROOT / "tests" / "data" / "corpus" / "taskdefs").glob("*.json")):
        try:
            found += [td.register_input() for _, td in task_definitions_in(json.loads(path.read_text()))]
        except (ValueError, DocumentError, UnicodeDecodeError):
            continue  # invalid files and documents that are not task definitions
    return found


@functools.cache
def _members() -> tuple[frozenset[str], frozenset[str]]:
    """The fields botocore's model of RegisterTaskDefinition knows: (request, container definition)."""
    import botocore.session

    shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition")
    members = shape.input_shape.members
    return frozenset(members), frozenset(members["containerDefinitions"].member.members)


def _clean(request: dict[str, Any], family: str, revision: int) -> dict[str, Any]:
    """A request boto3 accepts: only the fields its model knows, a new family, one label per revision."""
    members, container_members = _members()
    clean = {k: v for k, v in request.items() if k in members and v is not None}
    containers = []
    for container in clean.get("containerDefinitions") or []:
        if isinstance(container, dict):
            containers.append({k: v for k, v in container.items() if k in container_members and v is not None})
    if containers:
        labels = dict(containers[0].get("dockerLabels") or {})
        labels["build"] = str(revision)
        containers[0]["dockerLabels"] = labels
    clean["containerDefinitions"] = containers
    clean["family"] = family
    return clean


def seed(endpoint: str, families: int) -> tuple[list[tuple[str, dict[str, Any], int]], int, int]:
    """Registers the revisions; returns (family, request, revisions) per family, revisions registered, rejected."""
    import boto3

    session = boto3.Session(region_name=REGION)
    ecs = session.client("ecs", endpoint_url=endpoint)
    logs = session.client("logs", endpoint_url=endpoint)
    base = templates()
    chosen: list[tuple[str, dict[str, Any], int]] = []
    registered = rejected = 0
    i = 0
    while len(chosen) < families and i < families + 10 * len(base):
        request = base[i % len(base)]
        stem = str(request.get("family") or "app")[:200]
        family = f"{stem}-{i:03d}"
        i += 1
        revisions = 4 + len(chosen) % 7  # 4..10, 7 on average
        ok = 0
        for revision in range(1, revisions + 1):
            try:
                ecs.register_task_definition(**_clean(request, family, revision))
                ok += 1
            except Exception:
                rejected += 1
                break
        registered += ok
        if not ok:
            continue
        chosen.append((family, request, ok))
        if len(chosen) % 2 == 0:  # half the log groups the definitions name exist
            for container in request.get("containerDefinitions") or []:
                group = ((container.get("logConfiguration") or {}).get("options") or {}).get("awslogs-group")
                if isinstance(group, str) and group and "$" not in group and "{" not in group:
                    try:
                        logs.create_log_group(logGroupName=group)
                    except Exception:
                        pass
    session.client("dynamodb", endpoint_url=endpoint).create_table(
        TableName=STATE_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return chosen, registered, rejected


def register_new(endpoint: str, chosen: list[tuple[str, dict[str, Any], int]], count: int) -> None:
    import boto3

    ecs = boto3.Session(region_name=REGION).client("ecs", endpoint_url=endpoint)
    for family, request, revisions in chosen[:: max(1, len(chosen) // count)][:count]:
        ecs.register_task_definition(**_clean(request, family, revisions + 1))


# ------------------------------------------------------------------------------------------ custodian


def ensure_custodian() -> Path:
    custodian = C7N_VENV / "bin" / "custodian"
    if not custodian.exists():
        print(f"creating {C7N_VENV.relative_to(ROOT)} with c7n {C7N_VERSION} (first run only)", flush=True)
        venv.create(C7N_VENV, with_pip=True, clear=True)
        subprocess.run(
            [str(C7N_VENV / "bin" / "python"), "-m", "pip", "install", "-q", f"c7n=={C7N_VERSION}"], check=True
        )
    return custodian


def run_custodian(custodian: Path, endpoint: str) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="c7n-bench-"))
    env = {**os.environ, **FAKE_ENV, "AWS_ENDPOINT_URL": endpoint}
    command = [str(custodian), "run", "-s", str(out), "-r", REGION, "--cache", "memory", str(POLICIES)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode:
        print(done.stderr[-3000:])
    matched: dict[str, set[str]] = {}
    api_stats: Counter[str] = Counter()
    for policy in sorted(p for p in out.iterdir() if p.is_dir()):
        resources = policy / "resources.json"
        if resources.exists():
            matched[policy.name] = {r["taskDefinitionArn"] for r in json.loads(resources.read_text())}
        metadata = policy / "metadata.json"
        if metadata.exists():
            api_stats.update(json.loads(metadata.read_text()).get("api-stats") or {})
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": elapsed, "matched": matched, "api_stats": api_stats, "rc": done.returncode}


# ------------------------------------------------------------------------------------------- ecsguard

# When the `ecsguard sweep` command is not there yet: the flow itself, in a fresh interpreter.
IN_PROCESS = """
import json, sys
sys.path.insert(0, {layer!r})
from ecsguard.aws import Clients
from ecsguard.flows.sweep import sweep
from ecsguard.policy import Settings
result = sweep(Clients(endpoint_url={endpoint!r}), {region!r}, Settings(state_table={table!r}))
findings = [f.to_dict() | {{"target": d.arn}} for d in result.definitions for f in d.findings]
print(json.dumps({{"findings": findings, "definitions": len(result.definitions),
                  "cached": sum(d.cached for d in result.definitions), "calls": result.calls}}))
"""


def cli_available() -> bool:
    if not ECSGUARD.exists():
        return False
    done = subprocess.run([str(ECSGUARD), "sweep", "--help"], capture_output=True, text=True)
    return done.returncode == 0


def run_ecsguard(endpoint: str, *, cli: bool, concurrency: int, all_revisions: bool = False) -> dict[str, Any]:
    env = {k: v for k, v in {**os.environ, **FAKE_ENV}.items() if not k.startswith("ECSGUARD_")}  # the defaults
    if cli:
        command = [str(ECSGUARD), "sweep", "--endpoint-url", endpoint, "--region", REGION, "--format", "json"]
        command += ["--all-revisions"] if all_revisions else ["--state-table", STATE_TABLE]
        if concurrency:
            command += ["--concurrency", str(concurrency)]
    else:
        code = IN_PROCESS.format(
            layer=str(ROOT / "layers" / "ecsguard"), endpoint=endpoint, region=REGION, table=STATE_TABLE
        )
        command = [sys.executable, "-c", code]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    document: dict[str, Any] = {}
    try:
        document = json.loads(done.stdout)
    except ValueError:
        print(f"ecsguard sweep exited {done.returncode}; stderr:\n{done.stderr[-3000:]}")
    return {"seconds": elapsed, "document": document, "rc": done.returncode}


def ecsguard_matches(document: dict[str, Any]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(check -> ARNs with a finding, check -> ARNs where the check could not verify)."""
    found: dict[str, set[str]] = defaultdict(set)
    unverified: dict[str, set[str]] = defaultdict(set)
    for finding in document.get("findings") or []:
        where = unverified if str(finding.get("message", "")).startswith("Could not verify") else found
        where[finding["check"]].add(finding["target"])
    return found, unverified


# ---------------------------------------------------------------------------------------------- print


def show_calls(title: str, calls: Counter[str]) -> None:
    total = sum(calls.values())
    print(f"  {title}: {total} calls")
    for operation, count in sorted(calls.items(), key=lambda item: (-item[1], item[0])):
        print(f"    {operation:48} {count:6}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=300)
    parser.add_argument("--new", type=int, default=10, help="families that get a new revision before sweep 2")
    parser.add_argument("--concurrency", type=int, default=8, help="ecsguard sweep's --concurrency")
    parser.add_argument(
        "--no-all-revisions", action="store_true", help="skip the third sweep (--all-revisions, no state table)"
    )
    args = parser.parse_args()

    os.environ.update(FAKE_ENV)  # the seeding client too: fake credentials, never the user's
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    custodian = ensure_custodian()
    server, counting, endpoint = start_server()
    try:
        started = time.perf_counter()
        chosen, registered, rejected = seed(endpoint, args.families)
        seeded = counting.take()
        print(
            f"moto server {endpoint}: {registered} revisions in {len(chosen)} families seeded in "
            f"{time.perf_counter() - started:.1f} s ({rejected} template(s) refused at registration), "
            f"{seeded['logs:CreateLogGroup']} log groups"
        )
        cli = cli_available()
        how = "`ecsguard sweep` (CLI)" if cli else "ecsguard.flows.sweep.sweep() in a fresh interpreter (no CLI yet)"
        print(f"ecsguard runs as: {how}; custodian: {custodian.relative_to(ROOT)} (c7n {C7N_VERSION})")

        first = run_ecsguard(endpoint, cli=cli, concurrency=args.concurrency)
        first_calls = counting.take()
        c7n = run_custodian(custodian, endpoint)
        c7n_calls = counting.take()
        register_new(endpoint, chosen, args.new)
        counting.take()
        second = run_ecsguard(endpoint, cli=cli, concurrency=args.concurrency)
        second_calls = counting.take()
        every = None
        if cli and not args.no_all_revisions:  # the same revisions custodian reads, for a verdict per ARN
            every = run_ecsguard(endpoint, cli=cli, concurrency=args.concurrency, all_revisions=True)
            every_calls = counting.take()
    finally:
        server.stop()

    def described(calls: Counter[str]) -> int:
        return calls["ecs:DescribeTaskDefinition"]

    def row(label: str, run: dict[str, Any], extra: str = "") -> None:
        findings = len(run["document"].get("findings") or [])
        print(f"  {label:54} {run['seconds']:7.2f} s  exit {run['rc']}, {findings} findings{extra}")

    print()
    print("time (wall clock, each tool in its own process, interpreter start-up included)")
    row("ecsguard sweep 1 (full catalogue, latest/family, cold)", first)
    matched = sum(len(v) for v in c7n["matched"].values())
    print(
        f"  {f'custodian run ({len(c7n["matched"])} policies, every revision)':54} {c7n['seconds']:7.2f} s  "
        f"exit {c7n['rc']}, {matched} resources matched"
    )
    ratio = c7n["seconds"] / first["seconds"] if first["seconds"] else 0.0
    print(f"  {'ratio custodian / ecsguard sweep 1':54} {ratio:7.2f} x  target >= 2.00  {verdict(ratio >= 2)}")
    share = second["seconds"] / first["seconds"] if first["seconds"] else 0.0
    row(
        f"ecsguard sweep 2 ({args.new} new revisions, state table warm)",
        second,
        f"; {share:.2f} of sweep 1, target <= 0.33  {verdict(share <= 1 / 3)}",
    )
    if every is not None:
        row(
            "ecsguard sweep --all-revisions (no state table)",
            every,
            f"; custodian / this {c7n['seconds'] / every['seconds']:.2f} x",
        )
    print()
    print("AWS calls, counted on the moto server per service:operation")
    show_calls("ecsguard sweep 1", first_calls)
    show_calls("custodian", c7n_calls)
    if c7n["api_stats"]:
        show_calls("custodian's own api-stats (metadata.json, all policies)", c7n["api_stats"])
    show_calls("ecsguard sweep 2", second_calls)
    if every is not None:
        show_calls("ecsguard sweep --all-revisions", every_calls)
    if counting.crashes:
        show_calls("requests moto crashed on (answered ResourceNotFoundException, all runs)", counting.crashes)
    print(
        f"  DescribeTaskDefinition: sweep 1 {described(first_calls)}, custodian {described(c7n_calls)}, "
        f"sweep 2 {described(second_calls)} (new revisions registered: {args.new})"
        + (f", --all-revisions {described(every_calls)}" if every is not None else "")
    )

    # Verdicts per definition on the same revisions: --all-revisions reads what custodian reads.
    found, unverified = ecsguard_matches((every or first)["document"])
    if every is None:
        account = next(iter(set().union(*c7n["matched"].values())), "::::123456789012:").split(":")[4]
        same = {f"arn:aws:ecs:{REGION}:{account}:task-definition/{family}:{n}" for family, _, n in chosen}
        scope = "the latest revision of each family (ecsguard sweep 1)"
    else:
        same = set().union(*c7n["matched"].values(), *found.values(), *unverified.values())
        scope = "every revision (ecsguard sweep --all-revisions vs custodian)"
    print()
    print(f"findings per check, definitions flagged, on {scope}")
    print(f"  {'check':26} {'ecsguard':>9} {'custodian':>10} {'both':>6} {'only ecsguard':>14} {'only custodian':>15}")
    for check in sorted(c7n["matched"]):
        ours = found.get(check, set())
        theirs = c7n["matched"][check] & same
        print(
            f"  {check:26} {len(ours):9} {len(theirs):10} {len(ours & theirs):6} {len(ours - theirs):14} "
            f"{len(theirs - ours):15}"
        )
    for check in sorted(set(unverified) & set(c7n["matched"])):
        print(f"  {check + ' could not verify':41} {len(unverified[check]):5} definitions")
    print("  ecsguard only (custodian cannot express these): definitions flagged / could not verify")
    for check in sorted((set(found) | set(unverified)) - set(c7n["matched"])):
        print(f"    {check:32} {len(found.get(check, ())):5} / {len(unverified.get(check, ())):5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
