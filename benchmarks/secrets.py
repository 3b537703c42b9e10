"""Secret detection benchmark: ecsguard's rules against detect-secrets, on the same entries.

    PYTHONPATH=layers/ecsguard python benchmarks/secrets.py [--misses]

Reads ``tests/data/secrets_corpus.jsonl`` (the ``main`` corpus) and generates the ``holdout``
section in memory (``benchmarks/secretsets/corpus.py``: other seed, other templates), and the
``independent`` section ``tests/data/secrets_independent.jsonl`` (a red-team set written by someone
else, before reading the rules: ``benchmarks/secretsets/independent.py``), and the ``styles`` section
``tests/data/secrets_styles.jsonl`` (a third red-team round, also written before reading the rules:
naming styles, value encodings, tool arguments; ``benchmarks/secretsets/styles.py``), and the ``log-options``
section ``tests/data/secrets_log_options.jsonl`` (a fifth round, also written before reading the rules: Docker
log-driver and FireLens/Fluent Bit output options; ``benchmarks/secretsets/log_options.py``). For each entry it asks:

* ecsguard: ``classify_variable(name, value)`` for environment and log-option rows,
  ``scan_arguments(args)`` for argument rows; positive when anything is returned;
* detect-secrets 1.5 with its default settings (all plugins, default filters), fed the way
  Prowler's ``ecs_task_definitions_no_environment_secrets`` feeds it: the entry serialised as a
  JSON object ``{"NAME": "value"}`` (``{"command": [...]}`` for arguments) written to a file and
  scanned with ``SecretsCollection.scan_file``. This is the fairest form: the JSON shape lets its
  keyword plugin see the name, which is what it needs to find ``DB_PASSWORD=hunter2``. A second
  line reports ``scan_line`` on ``NAME=value`` (its ad-hoc mode) for comparison.

Prints precision, recall, F1 and the confusion counts, ecsguard's misses per family, the median
time per entry and the import time of ``ecsguard.secretscan``. Always exits 0: these are figures,
not assertions.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "ecsguard"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from secretsets import corpus as make_secrets_corpus  # noqa: E402

from ecsguard import secretscan  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "secrets_corpus.jsonl"
INDEPENDENT = ROOT / "tests" / "data" / "secrets_independent.jsonl"
STYLES = ROOT / "tests" / "data" / "secrets_styles.jsonl"
LOG_OPTIONS = ROOT / "tests" / "data" / "secrets_log_options.jsonl"


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_main() -> list[dict]:
    return _load(CORPUS)


def load_independent() -> list[dict]:
    return _load(INDEPENDENT)


def load_styles() -> list[dict]:
    return _load(STYLES)


def load_log_options() -> list[dict]:
    return _load(LOG_OPTIONS)


def ecsguard_detect(row: dict) -> bool:
    if row["where"] == "argument":
        return bool(secretscan.scan_arguments(row["value"]))
    return secretscan.classify_variable(row["name"], row["value"]) is not None


def _detect_secrets_file() -> Callable[[dict], bool] | None:
    try:
        from detect_secrets import SecretsCollection
        from detect_secrets.settings import default_settings
    except ImportError:
        return None
    workdir = Path(tempfile.mkdtemp(prefix="ds-bench-"))

    def detect(row: dict) -> bool:
        path = workdir / "taskdef.json"
        path.write_text(json.dumps({row["name"]: row["value"]}), encoding="utf-8")
        collection = SecretsCollection()
        with default_settings():
            collection.scan_file(str(path))
        return bool(list(collection))

    return detect


def _detect_secrets_line() -> Callable[[dict], bool] | None:
    try:
        from detect_secrets.core.scan import scan_line
        from detect_secrets.settings import default_settings
    except ImportError:
        return None

    def detect(row: dict) -> bool:
        value = row["value"] if isinstance(row["value"], str) else " ".join(row["value"])
        with default_settings():
            return any(True for _ in scan_line(f"{row['name']}={value}"))

    return detect


def score(rows: list[dict], detect: Callable[[dict], bool]) -> tuple[dict, list[dict], list[dict], list[float]]:
    tp = fp = fn = tn = 0
    misses: list[dict] = []
    false_alarms: list[dict] = []
    times: list[float] = []
    for row in rows:
        start = time.perf_counter()
        found = detect(row)
        times.append((time.perf_counter() - start) * 1e6)
        if row["secret"] and found:
            tp += 1
        elif row["secret"]:
            fn += 1
            misses.append(row)
        elif found:
            fp += 1
            false_alarms.append(row)
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    figures = {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "tn": tn}
    return figures, misses, false_alarms, times


def import_times_ms() -> dict[str, float]:
    """Import cost of ecsguard.secretscan in fresh interpreters (median of 7 each).

    ``own``: with the stdlib modules every handler already has loaded (re, dataclasses, hashlib, json)
    and bytecode cached (a layer built with ``compileall``); ``cold``: nothing preloaded; ``no-pyc``:
    nothing preloaded and no bytecode cache (source compiled at import, as with
    PYTHONDONTWRITEBYTECODE on a read-only file system).
    """
    layer = str(ROOT / "layers" / "ecsguard")
    preload = "import re,dataclasses,hashlib,json;"
    timed = "import time,sys;sys.path.insert(0,%r);{pre}t=time.perf_counter();import ecsguard.secretscan;print((time.perf_counter()-t)*1000)"
    cache = tempfile.mkdtemp(prefix="pyc-")
    cached_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
        "PYTHONPYCACHEPREFIX": cache
    }
    nopyc_env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"} | {"PYTHONDONTWRITEBYTECODE": "1"}
    variants = {
        "own": (timed.format(pre=preload) % layer, cached_env),
        "cold": (timed.format(pre="") % layer, cached_env),
        "no-pyc": (timed.format(pre="") % layer, nopyc_env),
    }
    subprocess.run(
        [sys.executable, "-c", variants["cold"][0]], env=cached_env, capture_output=True, check=False
    )  # fill the cache
    results: dict[str, float] = {}
    for label, (code, env) in variants.items():
        samples = []
        for _ in range(7):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
            try:
                samples.append(float(out.stdout.strip()))
            except ValueError:
                pass
        results[label] = statistics.median(samples) if samples else float("nan")
    return results


def main() -> int:
    show_misses = "--misses" in sys.argv
    datasets = {
        "main": load_main(),
        "holdout": make_secrets_corpus.holdout_rows(),
        "independent": load_independent(),
        "styles": load_styles(),
        "log-options": load_log_options(),
    }
    tools: dict[str, Callable[[dict], bool] | None] = {
        "ecsguard": ecsguard_detect,
        "detect-secrets (json file, Prowler way)": _detect_secrets_file(),
        "detect-secrets (scan_line NAME=value)": _detect_secrets_line(),
    }
    print(
        "Secret detection benchmark (labels: tests/data/secrets_corpus.jsonl; holdout: generated, other seed/templates;"
        " independent: tests/data/secrets_independent.jsonl, red-team set by another author;"
        " styles: tests/data/secrets_styles.jsonl, third red-team round: naming styles, encodings, tool arguments;"
        " log-options: tests/data/secrets_log_options.jsonl, log-driver and FireLens output options)"
    )
    for label, rows in datasets.items():
        secrets = sum(1 for r in rows if r["secret"])
        print(f"\n== {label}: {len(rows)} entries, {secrets} secrets, {len(rows) - secrets} not secrets")
        print(
            f"{'tool':44} {'precision':>9} {'recall':>7} {'F1':>6} {'TP':>5} {'FP':>5} {'FN':>5} {'TN':>5} {'median µs':>10}"
        )
        for tool, detect in tools.items():
            if detect is None:
                print(f"{tool:44} (not installed)")
                continue
            figures, misses, false_alarms, times = score(rows, detect)
            print(
                f"{tool:44} {figures['precision']:9.3f} {figures['recall']:7.3f} {figures['f1']:6.3f} "
                f"{figures['tp']:5d} {figures['fp']:5d} {figures['fn']:5d} {figures['tn']:5d} {statistics.median(times):10.1f}"
            )
            if tool == "ecsguard":
                by_family = Counter(r["family"] for r in misses)
                fp_family = Counter(r["family"] for r in false_alarms)
                print(f"{'':4}ecsguard misses by family: {dict(by_family) or 'none'}")
                print(f"{'':4}ecsguard false alarms by family: {dict(fp_family) or 'none'}")
                if show_misses:
                    for r in misses:
                        print(f"{'':8}MISS {r['family']:24} {r['where']:11} {r['name']}")
                    for r in false_alarms:
                        print(
                            f"{'':8}FALSE ALARM {r['family']:17} {r['where']:11} {r['name']} = {str(r['value'])[:60]!r}"
                        )
    times = import_times_ms()
    print(
        f"\nimport time of ecsguard.secretscan (fresh interpreters, median of 7): own {times['own']:.1f} ms "
        f"(stdlib deps already loaded, bytecode cached); cold {times['cold']:.1f} ms (incl. re/dataclasses/hashlib); "
        f"without bytecode cache {times['no-pyc']:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
