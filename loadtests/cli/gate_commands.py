"""``gil-lab check``: gate CI on a run that already exists, without measuring again."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from loadtests.cli.errors import lab_errors
from loadtests.cli.options import AnyExpectation, expect_param, not_measurable, split_expectations
from loadtests.core.exit_status import ExitStatus, combined
from loadtests.report.gate_text import render_expectations, render_safety_gate
from loadtests.results.expectation import ExpectationError
from loadtests.workflow import gates


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@expect_param(required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@lab_errors
def check(run_dir: Path, expectations: tuple[AnyExpectation, ...], as_json: bool) -> None:
    """Evaluate --expect expressions on RUN_DIR's summary.json (or its run.json) and exit 0, 10, 11 or 1.

    The same expressions as `gil-lab compare --expect`, `no-races` included; nothing is
    measured. Exit 10: an expectation failed (or a race was found); 11: a comparison it selects is invalid; 1: the run lacks one;
    2: an expression does not parse or names what the run never measured (docs/ci.md).
    """
    ratios, races = split_expectations(expectations)
    statuses, documents = [], []
    if ratios:
        try:
            report = gates.check_run(run_dir, ratios)
        except ExpectationError as exc:
            raise not_measurable(exc) from None
        statuses.append(report.status)
        documents.append(report.to_json())
        if not as_json:
            click.echo(render_expectations(report), nl=False)
    if races:
        run_id, status, results = gates.check_safety(run_dir, races)
        statuses.append(status)
        documents.append({"run_id": run_id, "exit_status": int(status), "results": [
            {"expect": r.expectation.text, "status": r.status, "reason": r.reason, "kind": "safety"}
            for r in results]})
        if not as_json:
            click.echo(render_safety_gate(run_id, results, status), nl=False)
    status = combined(statuses)
    if as_json:
        merged = {"run_id": documents[0]["run_id"], "exit_status": int(status),
                  "results": [r for d in documents for r in d["results"]]}
        click.echo(json.dumps(merged, indent=2))
    if status != ExitStatus.PASS:
        sys.exit(status)


COMMANDS = (check,)
