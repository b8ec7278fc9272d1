"""The exit statuses: one definition, the table in docs/ci.md agrees with it, and the precedence of gates."""

from __future__ import annotations

import re
from pathlib import Path

import click

from loadtests.core.exit_status import ExitStatus, combined

DOC = Path(__file__).resolve().parents[2] / "docs" / "ci.md"


def test_the_documented_table_is_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*([a-z ]+?)\s*\|", text, flags=re.MULTILINE)
    assert {int(code): name.replace(" ", "_").upper() for code, name in rows} == {s.value: s.name for s in ExitStatus}


def test_usage_is_clicks_own_status() -> None:
    assert click.UsageError("x").exit_code == ExitStatus.USAGE_ERROR
    assert click.BadParameter("x").exit_code == ExitStatus.USAGE_ERROR


def test_a_failure_outranks_an_invalid_comparison_which_outranks_a_missing_one() -> None:
    assert combined([]) == ExitStatus.PASS
    assert combined([ExitStatus.PASS, ExitStatus.PASS]) == ExitStatus.PASS
    assert combined([ExitStatus.LAB_ERROR, ExitStatus.PASS]) == ExitStatus.LAB_ERROR
    assert combined([ExitStatus.LAB_ERROR, ExitStatus.INVALID]) == ExitStatus.INVALID
    assert combined([ExitStatus.INVALID, ExitStatus.FAILED, ExitStatus.LAB_ERROR]) == ExitStatus.FAILED
