"""``gil-lab check``: gate CI on a run that already exists, without measuring again."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from loadtests.cli.errors import lab_errors
from loadtests.cli.options import expect_param, not_measurable
from loadtests.core.exit_status import ExitStatus
from loadtests.report.gate_text import render_expectations
from loadtests.results.expectation import Expectation, ExpectationError
from loadtests.workflow import gates


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@expect_param(required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@lab_errors
def check(run_dir: Path, expectations: tuple[Expectation, ...], as_json: bool) -> None:
    """Evaluate --expect expressions on RUN_DIR's summary.json (or its run.json) and exit 0, 10, 11 or 1.

    The same expressions as `gil-lab compare --expect`; nothing is measured. Exit 10: an
    expectation failed; 11: a comparison it selects is invalid; 1: the run lacks one;
    2: an expression does not parse or names what the run never measured (docs/ci.md).
    """
    try:
        report = gates.check_run(run_dir, expectations)
    except ExpectationError as exc:
        raise not_measurable(exc) from None
    click.echo(json.dumps(report.to_json(), indent=2) if as_json else render_expectations(report), nl=as_json)
    if report.status != ExitStatus.PASS:
        sys.exit(report.status)


COMMANDS = (check,)
