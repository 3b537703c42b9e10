"""Cold start of both handlers and AWS calls per RegisterTaskDefinition event.

Prints figures; asserts nothing. Run with the project's virtualenv:

    .venv/bin/python benchmarks/cold_start.py [--runs 15]

1. Cold import-and-init: in fresh interpreters, the time to ``import app`` of
   functions/register_task_definition, functions/run_task and functions/task_stopped (which builds the handler: Settings,
   Powertools Logger, the flow's modules) next to a bare ``import boto3`` in the same kind of
   interpreter, with bytecode present as in the built layer. Median of ``--runs`` interleaved
   runs. Target: handler <= 1.3 x bare boto3.
2. First invocation: time of the first event in a fresh interpreter (clients are created on first
   use), against moto in-process.
3. AWS calls per event for every events/register_task_definition file, counted with a botocore
   ``before-call`` hook, against moto in-process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
FUNCTION = FUNCTIONS / "register_task_definition"
FLOWS = ("register_task_definition", "run_task", "task_stopped")
LAYER = ROOT / "layers" / "ecsguard"
DEPLOYED_ENV = {
    "ECSGUARD_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:ecsguard",
    "ECSGUARD_STATE_TABLE": "ecsguard-idempotency",
    "ECSGUARD_LOG_RETENTION_DAYS": "30",
    "POWERTOOLS_SERVICE_NAME": "ecsguard",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}

BARE = "import time; t = time.perf_counter(); import boto3; print(time.perf_counter() - t)"
HANDLER = (
    "import sys, time; sys.path[:0] = [{function!r}, {layer!r}]; "
    "t = time.perf_counter(); import app; print(time.perf_counter() - t)"
)


def _time(code: str) -> float:
    # The deployed layer ships compiled bytecode (layers/ecsguard/Makefile runs compileall), so let the
    # warm-up run write __pycache__ here too; any value of PYTHONDONTWRITEBYTECODE, even "0", disables it.
    env = {k: v for k, v in {**os.environ, **DEPLOYED_ENV}.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    return float(out.strip().splitlines()[-1]) * 1000


def cold_start(runs: int) -> None:
    functions = {name: HANDLER.format(function=str(FUNCTIONS / name), layer=str(LAYER)) for name in FLOWS}
    for code in (BARE, *functions.values()):
        _time(code)  # warm the OS file cache and write bytecode, as a deployed layer has it
    samples: dict[str, list[float]] = {"boto3": [], **{name: [] for name in functions}}
    for _ in range(runs):  # interleaved, so machine load affects every column alike
        samples["boto3"].append(_time(BARE))
        for name, code in functions.items():
            samples[name].append(_time(code))
    bare = statistics.median(samples["boto3"])
    print(f"cold import-and-init, median of {runs} fresh interpreters (Python {sys.version.split()[0]})")
    print(f"  import boto3 (bare)                           {bare:7.1f} ms")
    for name in functions:
        handler = statistics.median(samples[name])
        print(f"  functions/{name + '/app.py':34} {handler:7.1f} ms  ratio {handler / bare:4.2f} (target <= 1.30)")


FIRST_INVOCATION = """
import json, sys, time
sys.path[:0] = [{function!r}, {layer!r}]
from moto import mock_aws
with mock_aws():
    import boto3
    boto3.client("sns", region_name="us-east-1").create_topic(Name="ecsguard")
    boto3.client("dynamodb", region_name="us-east-1").create_table(TableName="ecsguard-idempotency",
        KeySchema=[{{"AttributeName": "id", "KeyType": "HASH"}}],
        AttributeDefinitions=[{{"AttributeName": "id", "AttributeType": "S"}}], BillingMode="PAY_PER_REQUEST")
    event = json.load(open({event!r}))
    boto3.client("ecs", region_name="us-east-1").register_task_definition(**event["detail"]["requestParameters"])
    t = time.perf_counter()
    import app
    from ecsguard.delivery import lambda_context
    app.lambda_handler(event, lambda_context("bench"))
    print(time.perf_counter() - t)
"""


def first_invocation() -> None:
    event = ROOT / "events" / "register_task_definition" / "plaintext-secrets.json"
    code = FIRST_INVOCATION.format(function=str(FUNCTION), layer=str(LAYER), event=str(event))
    times = sorted(_time(code) for _ in range(5))
    print("first invocation in a fresh interpreter (import + first event incl. client creation, moto in-process)")
    print(f"  median of 5                         {statistics.median(times):7.1f} ms")


def calls_per_event() -> None:
    sys.path[:0] = [str(LAYER), str(ROOT / "tests")]
    os.environ.update(DEPLOYED_ENV)
    import boto3
    from moto import mock_aws

    from ecsguard.aws import Clients
    from ecsguard.delivery import lambda_context
    from ecsguard.handlers import logger, make_registration_handler
    from ecsguard.policy import Settings

    logger.setLevel("WARNING")

    print("AWS calls per event (moto in-process; idempotency on; first delivery, then a duplicate)")
    for path in sorted((ROOT / "events" / "register_task_definition").glob("*.json")):
        event = json.loads(path.read_text())
        with mock_aws():
            session = boto3.Session(region_name="us-east-1")
            topic = session.client("sns").create_topic(Name="ecsguard")["TopicArn"]
            session.client("dynamodb").create_table(
                TableName="ecsguard-idempotency",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            request = event["detail"].get("requestParameters") or {}
            if "containerDefinitions" in request and not event["detail"].get("errorCode"):
                clean = {k: v for k, v in request.items() if k != "someNewTopLevelField"}
                clean["containerDefinitions"] = [
                    {k: v for k, v in c.items() if k != "futureField"} for c in request["containerDefinitions"]
                ]
                session.client("ecs").register_task_definition(**clean)
            if path.stem == "clean":
                session.client("logs").create_log_group(logGroupName="/ecs/billing-api")
            calls: list[str] = []
            session.events.register("before-call", lambda model, calls=calls, **_: calls.append(model.name))
            settings = Settings(topic_arn=topic, state_table="ecsguard-idempotency")
            handler = make_registration_handler(settings=settings, clients=Clients(session=session))
            handler(event, lambda_context("bench"))
            first = list(calls)
            calls.clear()
            handler(event, lambda_context("bench"))
            print(f"  {path.stem:26} {len(first):2} calls, duplicate {len(calls):2}: {', '.join(first)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cold_start(args.runs)
    first_invocation()
    calls_per_event()


if __name__ == "__main__":
    main()
