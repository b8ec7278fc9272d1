"""``gil-lab report``, ``history``, ``diff`` and ``threads``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from loadtests.cli.errors import lab_errors, progress
from loadtests.cli.options import slo_option, target_option
from loadtests.core.errors import ConfigError
from loadtests.core.exit_status import ExitStatus
from loadtests.report.diff_text import render_diff
from loadtests.report.gate_text import render_diff_gate
from loadtests.report.history_text import render_history
from loadtests.report.microbench_text import render_microbench
from loadtests.workflow import gates, reports
from loadtests.workflow.threads import threads as run_threads


@click.command()
@click.argument("run_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@slo_option
@target_option
@lab_errors
def report(run_dir: Path | None, slo_ms: float, target_rps: float | None) -> None:
    """Rewrite RUN_DIR's report.html and report.md from its run.json alone, and print their paths.

    Without RUN_DIR, the newest run under results/ (or $LAB_RESULTS_DIR).
    """
    paths = reports.report(run_dir, slo_ms, target_rps)
    click.echo(str(paths.html))
    click.echo(str(paths.markdown))


@click.command()
@click.option("--results", "results", type=click.Path(file_okay=False, path_type=Path), envvar="LAB_RESULTS_DIR",
              show_envvar=True, help="Directory holding the run directories (default: results/).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest N runs.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@lab_errors
def history(results: Path | None, limit: int, as_json: bool) -> None:
    """List recorded runs, newest first: date, git SHA, preset and headline speedups per scenario.

    Flags change points: a configuration's throughput, or a paired ratio, that steps out of
    the runs before it and stays out in the next run (docs/ci.md). Only runs measured under
    the same controlled conditions (machine, bytecode state, window design) are pooled; a
    run under new ones starts new series, and the table says why. Run directories written
    before the history existed are indexed on the way.
    """
    found = reports.history(results, limit)
    if as_json:
        click.echo(json.dumps([{**e.to_json(), "change_points": [c.to_json() for c in found.at(e.run_id)],
                                "new_conditions": found.conditions_at(e.run_id)} for e in found.entries], indent=2))
    else:
        click.echo(render_history(found.entries, found.change_points, found.new_conditions), nl=False)
    for p in found.problems:
        click.secho(f"skipped {p}", fg="yellow", err=True)


@click.command()
@click.argument("run_a", type=click.Path(exists=True, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--fail-above", "fail_above", type=click.FloatRange(min=0, max=100), metavar="PCT",
              envvar="LAB_FAIL_ABOVE", show_envvar=True,
              help="Exit 10 when a configuration in both runs is slower in B with significance and by more than PCT "
                   "percent; 11 when either run has invalid cells in them; else 0 (docs/ci.md).")
@lab_errors
def diff(run_a: Path, run_b: Path, as_json: bool, fail_above: float | None) -> None:
    """Compare RUN_B against RUN_A configuration by configuration (B ÷ A throughput, 95% CI, verdict).

    Also shows how each paired ratio (3.14t/3.14 ...) moved between the runs.
    """
    d = reports.diff(run_a, run_b)
    verdict = gates.diff_gate(d, fail_above) if fail_above is not None else None
    if as_json:
        doc = d.to_json()
        click.echo(json.dumps({**doc, "gate": verdict.to_json()} if verdict else doc, indent=2))
    else:
        click.echo(render_diff(d) + ("\n" + render_diff_gate(verdict) if verdict else ""), nl=False)
    if verdict is not None and verdict.status != ExitStatus.PASS:
        sys.exit(verdict.status)


def parse_int_list(value: str | None, what: str) -> list[int] | None:
    """``"1,2,4"`` → ``[1, 2, 4]``; a clear ConfigError for anything else."""
    if not value:
        return None
    try:
        out = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{what} takes comma-separated integers, not {value!r}") from None
    if not out or min(out) < 1:
        raise ConfigError(f"{what} must list integers >= 1, not {value!r}")
    return out


def _names(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@click.command()
@click.option("--workloads", help="Comma-separated: pure, json, hash (default: all).")
@click.option("--threads", "threads", help="Thread counts, comma-separated (default: 1, …, cores, 2 × cores).")
@click.option("--repeats", type=click.IntRange(1, 50), help="Repeats per point (default: 3).")
@click.option("--seconds", type=click.FloatRange(min=0, min_open=True), help="Measured seconds per point (default: 0.5).")
@click.option("--json", "as_json", is_flag=True, help="Print run.json's microbench section instead of a table.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the section as JSON here.")
@lab_errors
def threads(workloads: str | None, threads: str | None, repeats: int | None, seconds: float | None, as_json: bool,
            out: Path | None) -> None:
    """Pure-Python, json and sha256 work in 1..N threads on 3.14, 3.14t and 3.14t with PYTHON_GIL=1.

    No HTTP: the baseline for claims C1 (threads scale) and C3 (one-thread cost). About a minute on 2 cores.
    """
    settings: dict[str, Any] = {}
    for key, value in (("workloads", _names(workloads)), ("threads", parse_int_list(threads, "--threads")),
                       ("repeats", repeats), ("seconds_per_point", seconds)):
        if value is not None:
            settings[key] = value
    figures = run_threads(settings, progress)
    text = json.dumps(figures.section.to_json(), indent=1)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    click.echo(text if as_json else render_microbench(figures), nl=as_json)


COMMANDS = (report, history, diff, threads)
