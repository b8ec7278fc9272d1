"""Click commands over the report, history, diff and microbench modules.

``cli.py`` registers them into the ``gil-lab`` group (``main.add_command(...)``).
They stay thin: every figure comes from a library function that tests call directly.
``lab_errors`` is looked up in ``cli`` when a command runs, not at import time,
because ``cli`` imports this module at its bottom.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from loadtests.analysis.capacity import DEFAULT_SLO_MS
from loadtests.core.errors import ConfigError


def lab_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """``cli.lab_errors``, resolved lazily: LabError becomes a message and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from loadtests.cli.main import lab_errors as handle

        return handle(func)(*args, **kwargs)

    return wrapper


def summarize_run(run_dir: Path | str, slo_ms: float = DEFAULT_SLO_MS, target_rps: float | None = None) -> str:
    """Write report.html and report.md for ``run_dir`` and return the terminal summary (table + verdict)."""
    from loadtests.report.build import render_terminal, write_report

    write_report(Path(run_dir), slo_ms, target_rps)
    return render_terminal(Path(run_dir), slo_ms)


def newest_run() -> Path:
    """The most recent run directory (run ids start with a UTC timestamp, so names sort by time)."""
    from loadtests.core.paths import results_dir

    runs = sorted(d for d in results_dir().glob("*/") if (d / "run.json").is_file())
    if not runs:
        raise ConfigError(f"no run in {results_dir()}; run `make compare` first, or pass RUN_DIR")
    return runs[-1]


slo_option = click.option("--slo-ms", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_SLO_MS,
                          show_default=True, envvar="LAB_SLO_MS",
                          help="Latency objective for the capacity section: p95 must stay under it. [env: LAB_SLO_MS]")
target_option = click.option("--target-rps", type=click.FloatRange(min=0, min_open=True), envvar="LAB_TARGET_RPS",
                             help="Throughput to plan cores for in the capacity section. [env: LAB_TARGET_RPS]")


@click.command()
@click.argument("run_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@slo_option
@target_option
@lab_errors
def report(run_dir: Path | None, slo_ms: float, target_rps: float | None) -> None:
    """Rewrite RUN_DIR's report.html and report.md from its run.json alone, and print their paths.

    Without RUN_DIR, the newest run under results/ (or $LAB_RESULTS_DIR).
    """
    from loadtests.report.build import write_report

    paths = write_report(run_dir or newest_run(), slo_ms, target_rps)
    click.echo(str(paths.html))
    click.echo(str(paths.markdown))


@click.command()
@click.option("--results", "results", type=click.Path(file_okay=False, path_type=Path), envvar="LAB_RESULTS_DIR",
              help="Directory holding the run directories (default: results/). [env: LAB_RESULTS_DIR]")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest N runs.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@lab_errors
def history(results: Path | None, limit: int, as_json: bool) -> None:
    """List recorded runs, newest first: date, git SHA, preset and headline speedups per scenario.

    Run directories written before the history existed are indexed on the way.
    """
    from loadtests.core.paths import results_dir
    from loadtests.results.history import list_runs, render_history, sync_history

    root = results or results_dir()
    problems = sync_history(root)
    entries = list_runs(root, limit)
    if as_json:
        click.echo(json.dumps([e.to_json() for e in entries], indent=2))
    else:
        click.echo(render_history(entries), nl=False)
    for p in problems:
        click.secho(f"skipped {p}", fg="yellow", err=True)


@click.command()
@click.argument("run_a", type=click.Path(exists=True, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@lab_errors
def diff(run_a: Path, run_b: Path, as_json: bool) -> None:
    """Compare RUN_B against RUN_A configuration by configuration (B ÷ A throughput, 95% CI, verdict)."""
    from loadtests.analysis.diff import diff_runs, render_diff

    d = diff_runs(run_a, run_b)
    click.echo(json.dumps(d.to_json(), indent=2) if as_json else render_diff(d), nl=as_json)


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
    from loadtests.measure.microbench import render_microbench, run_microbench
    from loadtests.provision.provisioning import load_interpreters

    settings: dict[str, Any] = {}
    for key, value in (("workloads", _names(workloads)), ("threads", parse_int_list(threads, "--threads")),
                       ("repeats", repeats), ("seconds_per_point", seconds)):
        if value is not None:
            settings[key] = value
    section = run_microbench(load_interpreters(), settings, lambda line: click.echo(line, err=True))
    text = json.dumps(section, indent=1)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    click.echo(text if as_json else render_microbench(section), nl=as_json)


COMMANDS: Sequence[click.Command] = (report, history, diff, threads)
