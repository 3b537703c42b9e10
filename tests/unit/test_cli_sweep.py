"""``ecsguard sweep`` without AWS: the formats, the exit codes and the progress bar over a stand-in sweep.

The flow (``flows.sweep.sweep``) is replaced by a function returning a fixed result, so these tests are
about the command: what it prints, what it exits with, what it passes on. tests/integration/test_sweep_command.py
runs the same command against a moto server with the real flow.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ecsguard.cli import main
from ecsguard.cli import sweep as cli_sweep
from ecsguard.flows.sweep import SweepResult, SweptDefinition
from ecsguard.model import Finding
from ecsguard.render import csv as render_csv
from ecsguard.render import terminal

from conftest import ROOT

SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
REGION = "us-east-1"
PREFIX = f"arn:aws:ecs:{REGION}:123456789012:task-definition"
CANARY = "CanaryPw-7f3e2d1c0b9a-DoNotLeak"


def finding(check: str, severity: str, family: str, revision: int, **extra: Any) -> Finding:
    values = {
        "check": check,
        "severity": severity,
        "target": f"{family}:{revision}",
        "message": f"{check} in {family}.",
        "remediation": "Fix it.",
        "container": "app",
        "field": None,
    }
    values.update(extra)
    return Finding(**values)


def definition(family: str, revision: int, *findings: Finding, cached: bool = False, **extra: Any) -> Any:
    values = {
        "arn": f"{PREFIX}/{family}:{revision}",
        "family": family,
        "revision": revision,
        "task_definition": None,
        "findings": tuple(findings),
        "exempted": (),
        "cached": cached,
    }
    values.update(extra)
    return SweptDefinition(**values)


def result(*definitions: Any, **extra: Any) -> Any:
    values = {"region": REGION, "definitions": list(definitions), "calls": Counter(), "new": [], "resolved": []}
    values.update(extra)
    return SweepResult(**values)


MIXED = (
    definition(
        "web",
        7,
        finding(
            "plaintext-secret",
            "high",
            "web",
            7,
            field="environment.DB_PASSWORD",
            message="Container app sets DB_PASSWORD in plaintext (hint: Ca…ak).",
            evidence="Ca…ak",
        ),
        finding("logging-disabled", "low", "web", 7),
    ),
    definition("worker", 3, finding("logging-disabled", "low", "worker", 3), cached=True),
    definition("clean", 1, cached=True),
)


@pytest.fixture
def swept(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace the flow with one returning ``state["result"]`` (default: MIXED) and record how it was called."""
    state: dict[str, Any] = {"result": result(*MIXED), "calls": []}

    def fake(clients, region, settings, *, concurrency, progress):
        state["calls"].append(
            {
                "region": region,
                "settings": settings,
                "all_revisions": settings.sweep_all_revisions,
                "concurrency": concurrency,
                "progress": progress,
            }
        )
        if isinstance(state["result"], BaseException):
            raise state["result"]
        if progress:
            total = len(state["result"].definitions)
            for done in range(1, total + 1):
                progress(done, total)
        return state["result"]

    monkeypatch.setattr(cli_sweep, "run_sweep", fake)
    return state


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sweep", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# json -------------------------------------------------------------------------------------------------------


def test_json_is_the_scan_document_with_the_arn_as_target(swept, capsys):
    code, out, err = run(capsys, "--format", "json")

    document = json.loads(out)
    assert set(document) == {"findings"}
    for item in document["findings"]:
        assert set(item) == {"check", "severity", "target", "container", "field", "message", "remediation"}
    assert [(f["target"], f["check"]) for f in document["findings"]] == [
        (f"{PREFIX}/web:7", "plaintext-secret"),
        (f"{PREFIX}/web:7", "logging-disabled"),
        (f"{PREFIX}/worker:3", "logging-disabled"),
    ]
    assert code == 1  # plaintext-secret is high: at or above the default --fail-on (medium)
    assert err == ""


def test_json_without_findings_is_an_empty_document_and_exit_0(swept, capsys):
    swept["result"] = result(definition("clean", 1))
    code, out, _ = run(capsys, "--format", "json")
    assert (code, json.loads(out)) == (0, {"findings": []})


# sarif ------------------------------------------------------------------------------------------------------


def validate_sarif(log: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_the_vendored_schema_is_the_sarif_2_1_0_schema():
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]
    assert {"run", "result", "artifactLocation", "toolComponent"} <= set(SCHEMA["definitions"])
    # It rejects what it should, or every validation below passes vacuously.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate({"version": "2.1.0", "runs": [{"tool": {}}]})


def test_sarif_is_valid_and_points_at_the_arn(swept, capsys):
    code, out, _ = run(capsys, "--format", "sarif")

    log = json.loads(out)
    validate_sarif(log)
    [sarif_run] = log["runs"]
    assert {r["id"] for r in sarif_run["tool"]["driver"]["rules"]} == {"plaintext-secret", "logging-disabled"}
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif_run["results"]]
    assert uris == [f"{PREFIX}/web:7", f"{PREFIX}/web:7", f"{PREFIX}/worker:3"]
    assert all(urlsplit(uri).scheme == "arn" for uri in uris)  # an absolute URI (scheme "arn"), not a path
    assert "invocations" not in sarif_run  # the same SARIF as scan when everything was read
    assert code == 1


def test_sarif_names_the_unreadable_definitions_as_tool_notifications(swept, capsys):
    swept["result"] = result(*MIXED, definition("gone", 2, error="AccessDeniedException"))
    code, out, err = run(capsys, "--format", "sarif")

    log = json.loads(out)
    validate_sarif(log)
    [invocation] = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [notification] = invocation["toolExecutionNotifications"]
    assert f"{PREFIX}/gone:2" in notification["message"]["text"]
    assert "AccessDeniedException" in notification["message"]["text"]
    assert code == 3
    assert f"{PREFIX}/gone:2 could not be read (AccessDeniedException)" in err


# csv --------------------------------------------------------------------------------------------------------


def test_csv_is_one_row_per_finding_with_the_header(swept, capsys):
    code, out, _ = run(capsys, "--format", "csv")

    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["arn", "family", "revision", "check", "severity", "container", "field", "message"]
    assert rows[1:] == [
        [
            f"{PREFIX}/web:7",
            "web",
            "7",
            "plaintext-secret",
            "high",
            "app",
            "environment.DB_PASSWORD",
            "Container app sets DB_PASSWORD in plaintext (hint: Ca…ak).",
        ],
        [f"{PREFIX}/web:7", "web", "7", "logging-disabled", "low", "app", "", "logging-disabled in web."],
        [f"{PREFIX}/worker:3", "worker", "3", "logging-disabled", "low", "app", "", "logging-disabled in worker."],
    ]
    assert code == 1


def test_csv_quotes_commas_quotes_and_line_breaks_and_defuses_formulas():
    tricky = definition(
        "f",
        1,
        finding(
            "plaintext-secret",
            "high",
            "f",
            1,
            container="-sidecar",
            field="environment.=HYPERLINK(1)",
            message='Set "A, B"\nthen C.',
        ),
    )
    out = io.StringIO()
    assert render_csv.write([tricky], out) == 1

    text = out.getvalue()
    assert '"Set ""A, B""\nthen C."' in text  # RFC 4180: quoted, quotes doubled, the line break kept inside
    assert text.endswith("\r\n")
    [_, row] = list(csv.reader(io.StringIO(text)))
    assert row[5:] == ["'-sidecar", "environment.=HYPERLINK(1)", 'Set "A, B"\nthen C.']  # only a leading sign


def test_csv_without_findings_is_the_header_only(swept, capsys):
    swept["result"] = result(definition("clean", 1))
    code, out, _ = run(capsys, "--format", "csv")
    assert (code, out) == (0, "arn,family,revision,check,severity,container,field,message\r\n")


# text -------------------------------------------------------------------------------------------------------


def test_text_is_a_table_worst_first_then_totals_per_check(swept, capsys):
    swept["result"] = result(
        *MIXED,
        definition("gone", 2, error="AccessDeniedException"),
        calls=Counter({"DescribeTaskDefinition": 1, "ListTaskDefinitions": 2}),
    )
    code, out, err = run(capsys, "--fail-on", "high")
    lines = out.splitlines()

    assert lines[0] == f"Swept 4 task definitions in {REGION} (1 described, 2 from the cache, 1 could not be read)"
    header = next(i for i, line in enumerate(lines) if line.startswith("DEFINITION"))
    assert lines[header].split() == ["DEFINITION", "WORST", "FINDINGS", "CHECKS"]
    assert lines[header + 1].split() == ["web:7", "HIGH", "2", "plaintext-secret,", "logging-disabled"]
    assert lines[header + 2].split() == ["worker:3", "LOW", "1", "logging-disabled"]
    assert "1 definition without findings." in lines
    totals = next(i for i, line in enumerate(lines) if line.startswith("CHECK "))
    assert lines[totals + 1].split() == ["plaintext-secret", "high", "1", "1"]
    assert lines[totals + 2].split() == ["logging-disabled", "low", "2", "2"]
    assert "Could not be read (not checked):" in lines
    assert f"  {PREFIX}/gone:2: AccessDeniedException" in lines
    assert "AWS calls: DescribeTaskDefinition 1, ListTaskDefinitions 2" in lines
    assert "Since the last sweep" not in out  # no state table: nothing to compare with
    assert code == 3
    assert "1 task definition of 4 could not be read" in err


def test_text_never_prints_a_message_so_no_hint_either(swept, capsys):
    _, out, err = run(capsys)
    assert "Ca…ak" not in out + err
    assert "DB_PASSWORD" not in out  # the table names checks; the messages are in json, sarif and csv


def test_text_with_a_state_table_says_what_is_new_and_resolved(swept, capsys, monkeypatch):
    monkeypatch.setenv("ECSGUARD_STATE_TABLE", "ecsguard-state")
    swept["result"] = result(
        *MIXED,
        new=[(f"{PREFIX}/web:7", "plaintext-secret")],
        resolved=[(f"{PREFIX}/api:4", "runs-as-root"), (f"{PREFIX}/api:4", "logging-disabled")],
    )
    _, out, _ = run(capsys)
    assert "Since the last sweep (state table ecsguard-state): 1 new, 2 resolved." in out
    assert f"  new: plaintext-secret on {PREFIX}/web:7" in out
    assert f"  resolved: runs-as-root on {PREFIX}/api:4" in out
    assert swept["calls"][0]["settings"].state_table == "ecsguard-state"


def test_text_lists_at_most_twenty_changes_of_each_kind():
    out = io.StringIO()
    new = [(f"{PREFIX}/f{i:02}:1", "logging-disabled") for i in range(25)]
    terminal.print_sweep(result(new=new), out, state_table="t")
    assert out.getvalue().count("  new: ") == terminal.LISTED_CHANGES
    assert "  ... and 5 more new" in out.getvalue()


def test_text_of_an_empty_region():
    out = io.StringIO()
    terminal.print_sweep(result(), out)
    assert out.getvalue().splitlines() == [
        f"Swept 0 task definitions in {REGION} (0 described, 0 from the cache)",
        "",
        "0 definitions without findings.",
    ]


def test_exempted_findings_are_counted_not_listed(swept, capsys):
    ignored = finding("runs-as-root", "medium", "quiet", 1)
    swept["result"] = result(definition("quiet", 1, exempted=(ignored,)))
    code, out, _ = run(capsys)
    assert "1 finding exempted by the ecsguard:ignore tag." in out
    assert "runs-as-root" not in out
    assert code == 0  # an exempted finding does not fail the gate


# exit codes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "expected"), [(None, 1), ("critical", 0), ("high", 1), ("medium", 1), ("low", 1), ("info", 1)]
)
def test_fail_on_decides_exit_1(swept, capsys, fail_on, expected):
    args = ["--format", "json"] + (["--fail-on", fail_on] if fail_on else [])
    assert run(capsys, *args)[0] == expected


def test_low_findings_fail_only_a_strict_gate(swept, capsys, monkeypatch):
    swept["result"] = result(definition("worker", 3, finding("logging-disabled", "low", "worker", 3)))
    assert run(capsys)[0] == 0
    assert run(capsys, "--fail-on", "low")[0] == 1
    monkeypatch.setenv("ECSGUARD_NOTIFY_MIN_SEVERITY", "low")  # the default gate follows NotifyMinSeverity
    assert run(capsys)[0] == 1


def test_a_failed_aws_call_is_exit_3_with_one_line_naming_call_and_code(swept, capsys):
    swept["result"] = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform ecs:ListTaskDefinitions"}},
        "ListTaskDefinitions",
    )
    code, out, err = run(capsys, "--format", "json")
    assert code == 3
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("ecsguard: error: ListTaskDefinitions failed: AccessDeniedException")
    assert "Traceback" not in err


def test_an_unreachable_endpoint_is_exit_3_too(swept, capsys):
    swept["result"] = EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")
    code, _, err = run(capsys)
    assert code == 3
    assert "AWS could not be reached: EndpointConnectionError" in err


def test_ctrl_c_is_a_clean_exit(swept, capsys):
    swept["result"] = KeyboardInterrupt()
    code, out, err = run(capsys)
    assert (code, out) == (130, "")
    assert err == "ecsguard: interrupted: nothing was printed\n"


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "xml"],
        ["--concurrency", "0"],
        ["--concurrency", "65"],
        ["--concurrency", "many"],
        ["--fail-on", "x"],
    ],
)
def test_bad_usage_is_exit_2(swept, capsys, args):
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", *args])
    assert exit_info.value.code == 2
    assert swept["calls"] == []


def test_bad_configuration_is_exit_2_naming_the_variable(swept, capsys, monkeypatch):
    monkeypatch.setenv("ECSGUARD_MODES", "plaintext-secret=shout")
    code, _, err = run(capsys)
    assert code == 2
    assert "ECSGUARD_MODES" in err
    assert swept["calls"] == []


def test_no_region_is_exit_2(swept, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code, _, err = run(capsys)
    assert code == 2
    assert "--region" in err


def test_an_unknown_profile_is_exit_2(swept, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code, _, err = run(capsys, "--profile", "nope")
    assert code == 2
    assert "ProfileNotFound" in err


# what is passed on ------------------------------------------------------------------------------------------


def test_flags_reach_the_flow(swept, capsys):
    run(capsys, "--region", "eu-west-1", "--all-revisions", "--concurrency", "3", "--state-table", "t1")
    [call] = swept["calls"]
    assert (call["region"], call["all_revisions"], call["concurrency"]) == ("eu-west-1", True, 3)
    assert call["settings"].state_table == "t1"


def test_defaults_reach_the_flow(swept, capsys):
    run(capsys)
    [call] = swept["calls"]
    assert (call["region"], call["all_revisions"], call["concurrency"]) == (REGION, False, 8)
    assert call["settings"].state_table is None  # works without a state table


def test_settings_from_the_environment_are_the_defaults(swept, capsys, monkeypatch):
    monkeypatch.setenv("ECSGUARD_SWEEP_ALL_REVISIONS", "true")
    monkeypatch.setenv("ECSGUARD_SWEEP_CONCURRENCY", "16")
    run(capsys)
    [call] = swept["calls"]
    assert (call["all_revisions"], call["concurrency"]) == (True, 16)


def test_run_sweep_is_the_flow_over_the_whole_region(monkeypatch):
    from ecsguard.flows import sweep as flow

    seen: dict[str, Any] = {}

    def sweep(clients, region, settings, *, arns=None, concurrency=8, progress=None):
        seen.update(region=region, arns=arns, concurrency=concurrency, progress=progress)
        return "result"

    monkeypatch.setattr(flow, "sweep", sweep)
    assert cli_sweep.run_sweep(None, REGION, None, concurrency=2, progress=print) == "result"
    # arns=None: the flow lists the region (and records the run as the region's latest in the state table).
    assert seen == {"region": REGION, "arns": None, "concurrency": 2, "progress": print}


# progress ---------------------------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_on_a_terminal(swept, capsys, monkeypatch):
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    code = main(["sweep", "--format", "json"])

    assert code == 1
    assert swept["calls"][0]["progress"] is not None
    text = stderr.getvalue()
    assert "3/3 task definitions" in text
    assert "[" + "#" * 30 + "]" in text
    assert text.endswith("\r\x1b[2K")  # erased before the output
    json.loads(capsys.readouterr().out)  # stdout is only the document


def test_no_progress_bar_when_piped(swept, capsys):
    code, out, err = run(capsys, "--format", "json")
    assert swept["calls"][0]["progress"] is None
    assert err == ""
    assert "\r" not in out


def test_the_bar_redraws_at_most_ten_times_a_second_but_always_shows_the_end():
    out = Terminal()
    bar = cli_sweep.ProgressBar(out, width=10, interval=3600)
    for done in range(1, 1001):
        bar(done, 1000)
    assert out.getvalue().count("\r[") == 2  # the first draw and the last (done == total)
    assert out.getvalue().endswith("[##########] 1000/1000 task definitions")
    bar.close()
    bar.close()  # idempotent
    assert out.getvalue().endswith("\r\x1b[2K")
    assert out.getvalue().count("\x1b[2K") == 1


def test_an_empty_sweep_draws_a_full_bar():
    out = Terminal()
    cli_sweep.ProgressBar(out, width=4)(0, 0)
    assert out.getvalue() == "\r[####] 0/0 task definitions"


def test_docs_page_documents_every_flag():
    text = (ROOT / "docs" / "sweep.md").read_text(encoding="utf-8")
    assert "ecsguard sweep" in text
    for flag in (
        "--region",
        "--profile",
        "--endpoint-url",
        "--format",
        "--fail-on",
        "--state-table",
        "--all-revisions",
        "--concurrency",
        "--modes",
    ):
        assert flag in text, flag


def test_the_flow_logs_only_warnings_during_a_sweep_and_the_level_is_restored(monkeypatch, capsys):
    import logging

    core = logging.getLogger("ecsguard")
    monkeypatch.setattr(core, "level", logging.DEBUG)
    seen = []
    monkeypatch.setattr(
        cli_sweep, "run_sweep", lambda *a, **k: seen.append(core.getEffectiveLevel()) or result(definition("c", 1))
    )
    assert main(["sweep"]) == 0
    assert seen == [logging.WARNING]
    assert core.level == logging.DEBUG
