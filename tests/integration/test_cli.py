"""The ecsguard command as a user runs it: scan before registering, deliver a real event."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ecsguard.cli import main

from conftest import CORPUS, EVENTS, ROOT, Account, load_event, only_modes_text

CANARY = "CanaryPw-3c2b1a09f8e7-DoNotLeak"


@pytest.fixture(autouse=True)
def _first_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the command's plumbing and the first four checks: the rest of the catalogue is off
    (tests/integration/test_catalogue.py runs the whole catalogue through the same command)."""
    monkeypatch.setenv("ECSGUARD_MODES", only_modes_text())


def write(tmp_path: Path, name: str, document) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return str(path)


def test_scan_clean_file_exits_0(tmp_path, capsys):
    request = load_event("clean")["detail"]["requestParameters"]
    assert main(["scan", write(tmp_path, "clean.json", request)]) == 0
    assert "0 findings in 1 file" in capsys.readouterr().out


def test_scan_json_format_is_exactly_the_documented_shape(tmp_path, capsys):
    containers = [
        {
            "name": "web",
            "image": "nginx:1.27",
            "environment": [{"name": "DB_PASSWORD", "value": CANARY}],
            "logConfiguration": {
                "logDriver": "splunk",
                "options": {"splunk-token": "4e1a7f3c-2b9d-4e8a-9c6f-1d2e3f4a5b6c"},
            },
        }
    ]
    path = write(tmp_path, "containers.json", containers)

    assert main(["scan", "--format", "json", path]) == 1

    out = capsys.readouterr().out
    document = json.loads(out)
    assert set(document) == {"findings"}
    for finding in document["findings"]:
        assert set(finding) == {"check", "severity", "target", "container", "field", "message", "remediation"}
        assert finding["target"] == path
    fields = {f["field"] for f in document["findings"] if f["check"] == "plaintext-secret"}
    assert fields == {"environment.DB_PASSWORD", "logConfiguration.options.splunk-token"}
    assert CANARY not in out


def test_scan_text_never_prints_the_value(tmp_path, capsys):
    path = write(
        tmp_path,
        "td.json",
        {
            "family": "f",
            "containerDefinitions": [
                {"name": "c", "image": "i", "environment": [{"name": "API_TOKEN", "value": CANARY}]}
            ],
        },
    )
    assert main(["scan", path]) == 1
    captured = capsys.readouterr()
    assert "environment.API_TOKEN" in captured.out
    assert CANARY not in captured.out + captured.err
    assert CANARY[:10] not in captured.out + captured.err


def test_describe_output_and_ignore_tag(tmp_path, capsys):
    response = load_event("exempt")["detail"]["responseElements"]
    path = write(tmp_path, "describe.json", response)
    assert main(["scan", "--format", "json", path]) == 0
    assert json.loads(capsys.readouterr().out) == {"findings": []}


def test_modes_option_turns_checks_off(tmp_path, capsys):
    path = write(tmp_path, "c.json", [{"name": "web", "image": "nginx"}])
    assert main(["scan", "--fail-on", "low", path]) == 1  # logging-disabled is low: it fails only a strict gate
    assert main(["scan", "--fail-on", "low", "--modes", only_modes_text(logging_disabled="off"), path]) == 0


def test_findings_below_fail_on_are_printed_but_do_not_fail_the_gate(tmp_path, capsys):
    path = write(tmp_path, "c.json", [{"name": "web", "image": "nginx"}])
    assert main(["scan", path]) == 0  # default --fail-on: NotifyMinSeverity, medium
    assert "logging-disabled" in capsys.readouterr().out
    assert main(["scan", "--fail-on", "info", path]) == 1


def test_bad_configuration_is_exit_2_naming_the_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ECSGUARD_MODES", "plaintext-secret=shout")
    assert main(["scan", write(tmp_path, "c.json", [{"name": "web"}])]) == 2
    assert "ECSGUARD_MODES" in capsys.readouterr().err


def test_invalid_files_are_named_and_the_rest_still_scanned(tmp_path, capsys):
    invalid = sorted((CORPUS / "invalid").glob("*.json"))
    assert len(invalid) == 10
    good = write(tmp_path, "good.json", [{"name": "web", "image": "nginx"}])

    code = main(["scan", "--format", "json", *map(str, invalid), good, str(tmp_path / "missing.json")])

    captured = capsys.readouterr()
    assert code == 2
    errors = [line for line in captured.err.splitlines() if line.startswith("ecsguard: error: ")]
    assert len(errors) == len(invalid) + 1
    for path in invalid:
        [line] = [e for e in errors if str(path) in e]
        assert "line " in line or "UTF-16" in line
    assert any("missing.json: cannot read the file" in e for e in errors)
    assert "merge-conflict markers" in next(e for e in errors if "01.json" in e)
    assert "comments" in next(e for e in errors if "03.json" in e)
    assert "UTF-16" in next(e for e in errors if "07.json" in e)
    assert {f["target"] for f in json.loads(captured.out)["findings"]} == {good}


def test_every_real_task_definition_scans_cleanly_of_placeholders(capsys):
    files = sorted((CORPUS / "taskdefs").glob("*.json"))
    code = main(["scan", "--format", "json", *map(str, files)])
    assert code in (0, 1)
    findings = json.loads(capsys.readouterr().out)["findings"]
    for finding in findings:
        assert finding["check"] in {"logging-disabled", "plaintext-secret", "awslogs-options-invalid"}
    # A template placeholder is not a secret and not a bad log setting.
    by_file = {}
    for finding in findings:
        by_file.setdefault(Path(finding["target"]).name, []).append(finding)
    for name, found in by_file.items():
        document = json.loads((CORPUS / "taskdefs" / name).read_text(encoding="utf-8-sig"))
        text = json.dumps(document)
        for finding in found:
            if finding["check"] == "plaintext-secret" and finding["field"].startswith("environment."):
                variable = finding["field"].split(".", 1)[1]
                values = [
                    e.get("value")
                    for c in _containers(document)
                    for e in c.get("environment") or []
                    if e.get("name") == variable
                ]
                assert values and not all(str(v).startswith(("${", "{{", "$")) for v in values), (name, variable)
        assert text


def _containers(document):
    if isinstance(document, list):
        return document
    if "taskDefinition" in document:
        document = document["taskDefinition"]
    return document.get("containerDefinitions", [document])


def test_deliver_routes_through_the_template_and_runs_the_handler(account: Account, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    event = load_event("missing-log-group")
    account.register(event)

    code = main(
        ["deliver", str(EVENTS / "register_task_definition/missing-log-group.json"), "--topic-arn", account.topic_arn]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "Matched rule RegisterTaskDefinitionFunction/" in out
    assert "created log group /ecs/orders-api in us-east-1 (30-day retention)" in out
    assert "SNS message id: " in out and "(none" not in out
    assert len(account.messages()) == 1


def test_deliver_says_when_no_rule_matches(account: Account, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(["deliver", str(EVENTS / "register_task_definition/failed-call.json")])
    assert code == 1
    assert "No rule in the template matches this event" in capsys.readouterr().out
    assert account.messages() == []


def test_deliver_json_and_block_mode(account: Account, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    event = load_event("plaintext-secrets")
    container = event["detail"]["responseElements"]["taskDefinition"]["containerDefinitions"][0]
    container["environment"].append({"name": "ADMIN_PASSWORD", "value": CANARY})
    event["detail"]["requestParameters"]["containerDefinitions"][0]["environment"].append(
        {"name": "ADMIN_PASSWORD", "value": CANARY}
    )
    account.register(event)
    path = write(tmp_path, "event.json", event)

    code = main(
        [
            "deliver",
            path,
            "--topic-arn",
            account.topic_arn,
            "--format",
            "json",
            "--modes",
            "plaintext-secret=block",
            "--verbose",
        ]
    )

    captured = capsys.readouterr()
    assert code == 0
    [matched] = json.loads(captured.out)["matched"]
    assert any(a["action"] == "deregister-revision" and a["ok"] for a in matched["result"]["actions"])
    assert CANARY not in captured.out + captured.err
    assert '"message":"task definition checked"' in captured.err  # --verbose: the handler's log lines, on stderr


def test_deliver_needs_the_template(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(EVENTS / "register_task_definition/clean.json", tmp_path / "e.json")
    assert main(["deliver", "e.json"]) == 2
    assert "template.yaml: template not found" in capsys.readouterr().err


def test_demo_shows_the_log_group_and_the_message():
    import subprocess
    import sys

    environment = load_event("plaintext-secrets")["detail"]["requestParameters"]["containerDefinitions"][0][
        "environment"
    ]
    secrets = [e["value"] for e in environment if e["name"] in {"DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL"}]
    assert len(secrets) == 3
    done = subprocess.run(
        [sys.executable, "-m", "ecsguard.cli", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "log group /ecs/inventory-worker: exists, retention 30 days, tags {" in out
    assert "'ecsguard:created-by': 'ecsguard'" in out
    assert "Subject: [ecsguard] HIGH: inventory-worker:1 - " in out
    assert '"check": "plaintext-secret"' in out
    assert "no message: nothing to report for this definition" in out
    assert "moto server stopped" in out
    for value in secrets:
        assert value not in out + done.stderr


def test_scan_sarif_for_code_scanning(tmp_path, capsys):
    document = {
        "family": "web",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "nginx",
                "environment": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "API_TOKEN", "value": CANARY}],
            }
        ],
    }
    path = tmp_path / "td.json"
    path.write_text(json.dumps(document, indent=2))

    assert main(["scan", "--format", "sarif", str(path)]) == 1

    out = capsys.readouterr().out
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rule_ids == ["logging-disabled", "plaintext-secret"]
    secret = next(r for r in run["results"] if r["ruleId"] == "plaintext-secret")
    assert secret["level"] == "error"
    location = secret["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == path.as_posix()
    line = path.read_text().splitlines()[location["region"]["startLine"] - 1]
    assert '"API_TOKEN"' in line
    assert CANARY not in out


def test_scan_cloudformation_template_yaml(capsys):
    """CloudFormation/SAM/CDK templates: every AWS::ECS::TaskDefinition, !Sub literals checked, !Ref not."""
    path = str(ROOT / "tests" / "data" / "cloudformation-task-definition.yaml")
    assert main(["scan", "--format", "json", path]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert {(f["check"], f["container"], f["field"]) for f in findings} == {
        ("plaintext-secret", "api", "environment.DATABASE_URL"),  # !Sub "postgres://app:<literal>@${DbHost}"
        ("logging-disabled", "sidecar", "logConfiguration"),
    }
    assert all(f["target"] == path and "(resource ApiTaskDef)" in f["message"] for f in findings)


def test_scan_cloudformation_json_and_yaml_task_definition(tmp_path, capsys):
    template = {
        "Resources": {
            "Worker": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "ContainerDefinitions": [
                        {
                            "Name": "worker",
                            "Image": "busybox",
                            "Environment": [{"Name": "API_TOKEN", "Value": {"Fn::GetAtt": ["Secret", "Arn"]}}],
                            "LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-group": "/ecs/w"}},
                        }
                    ]
                },
            }
        }
    }
    cfn = write(tmp_path, "template.json", template)
    cli_yaml = tmp_path / "taskdef.yaml"  # aws ecs register-task-definition --cli-input-yaml
    cli_yaml.write_text(
        "family: web\ncontainerDefinitions:\n  - name: web\n    image: nginx\n    environment:\n      - name: MYSQL_ROOT_PASSWORD\n        value: rootpw123\n"
    )

    assert main(["scan", "--format", "json", cfn, str(cli_yaml)]) == 1

    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["target"], f["field"]) for f in findings if f["check"] == "plaintext-secret"] == [
        (str(cli_yaml), "environment.MYSQL_ROOT_PASSWORD")
    ]


def test_scan_yaml_and_template_errors_are_named(tmp_path, capsys):
    broken = tmp_path / "broken.yml"
    broken.write_text("family: web\ncontainerDefinitions: [\n")
    no_tasks = write(tmp_path, "stack.json", {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    assert main(["scan", str(broken), no_tasks]) == 2
    err = capsys.readouterr().err
    assert f"{broken}: not valid YAML (line " in err
    assert f"{no_tasks}: a CloudFormation template with no AWS::ECS::TaskDefinition resource" in err


def test_unreadable_template_still_gets_a_secret_scan(tmp_path, capsys):
    """A template with an unquoted placeholder cannot be parsed, but its hard-coded password is still a leak."""
    path = tmp_path / "taskdef.json.tpl"
    path.write_text(
        '[{"name": "web", "image": "x", "portMappings": [{"containerPort": ${port}}],\n'
        ' "environment": [{"name": "DB_PASSWORD", "value": "' + CANARY + '"},\n'
        '                 {"value": "${token}", "name": "API_TOKEN"}, {"name": "LOG_LEVEL", "value": "info"}]}]\n'
    )

    assert main(["scan", "--format", "json", str(path)]) == 2  # still an input error

    captured = capsys.readouterr()
    [finding] = json.loads(captured.out)["findings"]
    assert (finding["check"], finding["field"], finding["target"]) == (
        "plaintext-secret",
        "environment.DB_PASSWORD",
        str(path),
    )
    assert "text scan" in finding["message"]
    assert "unquoted template placeholder" in captured.err
    assert CANARY not in captured.out + captured.err


def test_health_check_command_is_scanned(tmp_path, capsys):
    path = write(
        tmp_path,
        "db.json",
        [
            {
                "name": "db",
                "image": "mysql:8",
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/db"}},
                "healthCheck": {"command": ["CMD-SHELL", f"mysqladmin ping -uroot -p{CANARY} || exit 1"]},
            }
        ],
    )
    assert main(["scan", "--format", "json", path]) == 1
    out = capsys.readouterr().out
    assert [f["field"] for f in json.loads(out)["findings"]] == ["healthCheck.command[1]"]
    assert CANARY not in out


def test_scan_with_aws_also_runs_the_checks_that_read_the_account(tmp_path, capsys, account: Account):
    """--aws reads the account (here moto): the missing log group is found only then; offline says nothing of it."""
    request = load_event("missing-log-group")["detail"]["requestParameters"]
    path = write(tmp_path, "taskdef.json", request)
    modes = "logging-disabled=off"

    main(["scan", "--format", "json", "--modes", modes, path])
    offline = {f["check"] for f in json.loads(capsys.readouterr().out)["findings"]}
    main(["scan", "--aws", "--region", "us-east-1", "--format", "json", "--modes", modes, path])
    online = {f["check"] for f in json.loads(capsys.readouterr().out)["findings"]}

    assert "log-group-missing" not in offline
    assert "log-group-missing" in online


def test_scan_with_aws_that_fails_prints_one_line_not_a_traceback(tmp_path, capsys):
    request = load_event("missing-log-group")["detail"]["requestParameters"]
    path = write(tmp_path, "taskdef.json", request)

    code = main(["scan", "--aws", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9", path])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("ecsguard: error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_deliver_against_an_endpoint_that_fails_prints_one_line_and_exit_3(tmp_path, capsys):
    """A failed AWS call is 'retry this event' (exit 3), not 'no rule matched' (exit 1), and not a traceback."""
    path = write(tmp_path, "event.json", load_event("truncated"))
    code = main(["deliver", path, "--endpoint-url", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("ecsguard: error: ") and "retry it" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
