"""How often would ecsguard page someone? Figures over the real task definitions of tests/data/corpus.

Prints, for the default settings (NotifyMinSeverity=medium, every check at its default mode):
how many definitions would get a per-event message, how many findings each check raises and on
how many definitions, and the same with NotifyMinSeverity=low for comparison. Asserts nothing.

The corpus is read without AWS access (as ``ecsguard scan`` does): checks that need the account
(log groups, image sizes, IAM simulation...) are skipped, so the figures are a lower bound for
those and exact for everything a definition shows on its own.

    .venv/bin/python benchmarks/noise.py [--aws-offline]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "ecsguard"))

from ecsguard.checks import SEVERITIES, load_all  # noqa: E402
from ecsguard.facts import StaticFacts  # noqa: E402
from ecsguard.model import DocumentError, task_definitions_in  # noqa: E402
from ecsguard.policy import Settings, evaluate  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "corpus" / "taskdefs"


def corpus() -> list:
    found = []
    for path in sorted(CORPUS.glob("*.json")):
        try:
            found += [(path.name, td) for _, td in task_definitions_in(json.loads(path.read_text()))]
        except (ValueError, DocumentError, UnicodeDecodeError):
            continue
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--aws-offline",
        action="store_true",
        help="also run the checks that need AWS, with every AWS fact unknown (what a denied read looks like)",
    )
    args = parser.parse_args()
    definitions = corpus()
    checks = load_all()
    facts = StaticFacts(offline=True) if args.aws_offline else None
    per_check: Counter[str] = Counter()
    definitions_per_check: Counter[str] = Counter()
    paged = {"medium": 0, "low": 0, "high": 0}
    worst: Counter[str] = Counter()
    for _name, td in definitions:
        findings, _exempted = evaluate(td, Settings(), facts, td.region)  # a region only where the ARN says
        for check_id in {f.check for f in findings}:
            definitions_per_check[check_id] += 1
        per_check.update(f.check for f in findings)
        severities = [f.severity for f in findings]
        worst[min(severities, key=SEVERITIES.index) if severities else "none"] += 1
        for threshold in paged:
            if any(SEVERITIES.index(s) <= SEVERITIES.index(threshold) for s in severities):
                paged[threshold] += 1
    total = len(definitions)
    print(f"{total} real task definitions (tests/data/corpus/taskdefs), checks without AWS access")
    for threshold in ("high", "medium", "low"):
        note = " (the default)" if threshold == "medium" else ""
        print(
            f"  NotifyMinSeverity={threshold:6}{note:14} {paged[threshold]:3} would get a message "
            f"({paged[threshold] / total:.0%})"
        )
    print("  worst finding per definition: " + ", ".join(f"{k} {worst[k]}" for k in (*SEVERITIES, "none")))
    print()
    print(f"  {'check':34} {'severity':8} {'findings':>8} {'definitions':>11}")
    for check_id, check in sorted(checks.items(), key=lambda kv: (SEVERITIES.index(kv[1].severity), kv[0])):
        if check.needs_facts and facts is None:
            print(f"  {check_id:34} {check.severity:8} {'(needs AWS: not run)':>21}")
            continue
        print(
            f"  {check_id:34} {check.severity:8} {per_check[check_id]:8} "
            f"{definitions_per_check[check_id]:6} ({definitions_per_check[check_id] / total:.0%})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
