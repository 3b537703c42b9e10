"""One page per check in docs/checks, generated from the metadata: they cannot drift, and the metadata is complete."""

from __future__ import annotations

import re

import pytest

from ecsguard.checks import SEVERITIES, load_all
from ecsguard.render.check_docs import pages

from conftest import ROOT

DOCS = ROOT / "docs" / "checks"
CHECKS = load_all()


def test_every_page_is_what_the_metadata_renders():
    wanted = pages()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    stale = sorted(name for name in wanted if on_disk.get(name) != wanted[name])
    extra = sorted(set(on_disk) - set(wanted))
    assert not stale and not extra, (
        f"docs/checks is out of date (stale: {stale}, extra: {extra}): run "
        "`.venv/bin/python -m ecsguard.render.check_docs docs/checks`"
    )


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_metadata_is_complete(check_id: str):
    check = CHECKS[check_id]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", check.id)
    assert check.severity in SEVERITIES
    assert 1 <= check.mistake <= 8
    assert len(check.title) >= 10 and len(check.rationale) >= 60 and len(check.remediation) >= 40
    assert check.docs.startswith("https://docs.aws.amazon.com/"), check.docs
    if check.needs_facts:
        assert check.aws_calls, f"{check_id} reads AWS: list its calls in aws_calls"
    for call in check.aws_calls:
        assert re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z]+", call), call
    for rule in check.config_rules:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule), rule
    for control in check.security_hub:
        assert re.fullmatch(r"(ECS|ECR|IAM|KMS)\.\d+", control), control
    for control in check.control_tower:
        assert re.fullmatch(r"CT\.ECS\.PR\.\d+", control), control
