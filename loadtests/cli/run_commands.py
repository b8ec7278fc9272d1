"""``gil-lab setup``, ``doctor``, ``run``, ``compare``, ``diagnose``, ``capacity`` and ``serve``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from loadtests.cli.errors import lab_errors, progress
from loadtests.cli.options import (
    expect_option,
    interpreter_options,
    loop_option,
    preset_options,
    run_options,
    service_options,
    slo_option,
    soak_option,
    target_option,
)
from loadtests.cli.server_options import http_option, server_option, workers_option
from loadtests.core.flavour import ROLES
from loadtests.measure.servers import RunningServer
from loadtests.report.terminal import render_terminal
from loadtests.workflow import serve as serving
from loadtests.workflow import setup as setting_up
from loadtests.workflow.reports import compare as compare_workflow
from loadtests.workflow.run import RunRequest, RunResult
from loadtests.workflow.run import run as run_workflow
from loadtests.workflow.service import ServiceRequest
from loadtests.workflow.service import wanted as service_wanted


@click.command()
@interpreter_options
@click.option("--force", is_flag=True, help="Re-sync environments even when nothing changed.")
@service_options
@lab_errors
def setup(python_gil: str | None, python_ft: str | None, force: bool, app: str | None, app_dir: str | None,
          requirements: str | None) -> None:
    """Find or build both interpreters and sync the environments (what `make setup` does).

    With --requirements (and --app), also build your service's two environments, inspect
    the app in each and audit it on 3.14t.
    """
    setting_up.setup(python_gil, python_ft, force)
    service = ServiceRequest(app, app_dir, requirements)
    if service_wanted(service, ()):
        click.echo(setting_up.setup_service(service, progress))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@lab_errors
def doctor(as_json: bool) -> None:
    """Show the interpreters and environments the lab uses, re-verified by running them.

    Exits non-zero when something is missing or wrong, and says what to run.
    """
    from loadtests.provision.doctor import render

    diagnosis = setting_up.doctor()
    click.echo(json.dumps(diagnosis.report, indent=2) if as_json else render(diagnosis))
    if not diagnosis.healthy:
        sys.exit(1)


@click.command()
@run_options
@lab_errors
@expect_option
def run(**options: Any) -> RunResult:
    """Measure a preset's matrix and write results/<run-id>/run.json and summary.json (no report).

    Ctrl-C stops cleanly and keeps every finished cell; `--resume RUN_DIR` completes it.
    Prints the run directory on stdout.
    """
    result = run_workflow(RunRequest(**options), progress)
    click.echo(str(result.run_dir))
    return result


@click.command()
@run_options
@soak_option
@slo_option
@target_option
@lab_errors
@expect_option
def compare(slo_ms: float, target_rps: float | None, **options: Any) -> RunResult:
    """Run a preset (default: default) and print the verdict; writes report.html and report.md.

    The run directory holds run.json, the reports and each cell's Locust CSV/HTML and
    server log. Ctrl-C keeps finished cells; `gil-lab compare --resume RUN_DIR` completes them.
    """
    result = compare_workflow(RunRequest(**options), progress, slo_ms, target_rps)
    click.echo(render_terminal(result.analysis))
    return result


@click.command()
@preset_options("diagnose")
@slo_option
@lab_errors
@expect_option
def diagnose(slo_ms: float, **options: Any) -> RunResult:
    """Why it scales on 3.14t or not: every finding with its evidence (the diagnose preset: compute).

    Probes each endpoint the load reaches in process, from 1 to N threads (CPU per call and
    parallel efficiency on both interpreters), measures 3.14 against 3.14t on warm servers,
    then samples each server with perf under the same load (native flame graphs and causes:
    reference counting on shared objects, locks, garbage collection, the allocator) and reads
    its Python stacks from outside. Works on a team's app like compare (--app, --locustfile).
    Writes the run and its reports, and prints the findings. See docs/diagnosis.md.
    """
    request = RunRequest(**{**options, "probe": options.get("probe") is not False,
                            "profile": options.get("profile") is not False})
    result = compare_workflow(request, progress, slo_ms, None)
    click.echo(render_terminal(result.analysis))
    return result


@click.command()
@preset_options("capacity")
@slo_option
@target_option
@lab_errors
@expect_option
def capacity(slo_ms: float, target_rps: float | None, **options: Any) -> RunResult:
    """Estimate the arrival rate each configuration sustains while p95 stays under --slo-ms, with a 95% interval.

    Open-loop load (requests arrive at a set rate, whatever the answers), every arrival counted
    from the generator's schedule log, latency from its intended send. Each configuration's search
    brackets the capacity with short windows, then spends longer ones on either side of it; the
    capacity is where a curve fitted to its steps has 5% of the arrivals over the SLO, with the
    fit's 95% interval. The searches of one scenario take turns step by step; --max-time bounds
    each scenario-and-server's searches. A window whose load generator fell behind its schedule is
    invalid and is tried again. Writes run.json, summary.json (`capacity`, `capacity_ratios`) and
    the reports, and prints the capacities and their ratios; --expect judges a ratio of
    capacities on its interval (docs/ci.md).

    With several thread limits per configuration (--preset tune, or --threads 1,2,4,8) it also
    searches each side's best setting again and gives two labelled comparisons: 3.14t at equal
    settings (8 threads) and best against best (summary.json's `tuned` list).
    """
    result = compare_workflow(RunRequest(slo_ms=slo_ms, capacity=True, **options), progress, slo_ms, target_rps)
    click.echo(render_terminal(result.analysis))
    return result


@click.command()
@click.option("--interpreter", type=click.Choice(ROLES), default="ft", show_default=True,
              help="gil: standard 3.14; ft: free-threaded 3.14t.")
@server_option
@workers_option
@click.option("--threads", type=click.IntRange(1, 1024), default=8, show_default=True, envvar="LAB_THREADS",
              show_envvar=True, help="anyio thread limit per event loop.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0 picks a free port.")
@click.option("--python-gil", type=click.Choice(["0", "1"]), help="PYTHON_GIL for the server (3.14t only).")
@click.option("--routes-dir", "routes_dirs", multiple=True, type=click.Path(file_okay=False, exists=True),
              help="Extra directory of drop-in route modules (repeatable).")
@http_option
@loop_option
@service_options
@click.option("--expose", "expose_host", metavar="HOST",
              help="Bind to HOST instead of 127.0.0.1. This EXPOSES the whole app (every route, /docs, and "
                   "/lab/runtime with its pid and package versions) to anyone who can reach HOST; use it only "
                   "for remote Locust workers on a trusted network.")
@lab_errors
def serve(interpreter: str, server: str, workers: int, threads: int, port: int, python_gil: str | None,
          routes_dirs: tuple[str, ...], http: str | None, loop: str | None, app: str | None, app_dir: str | None,
          requirements: str | None, expose_host: str | None) -> None:
    """Run one server on 127.0.0.1 for manual exploration, until Ctrl-C."""
    if expose_host:
        click.secho(f"warning: --expose binds to {expose_host}: the app, /docs and /lab/runtime are reachable from "
                    "the network, without authentication.", fg="yellow", err=True)

    def ready(running: RunningServer, log: Any) -> None:
        rt = running.runtime
        assert rt is not None
        click.echo(f"{server} on {rt.python_version} free_threaded={rt.free_threaded} "
                   f"gil_enabled={rt.gil_enabled} thread_limit={rt.thread_limit}")
        click.echo(f"serving {running.base_url}  (docs: {running.base_url}/docs, log: {log}); Ctrl-C to stop")

    request = serving.ServeRequest(interpreter, server, workers, threads, port or None, python_gil, routes_dirs,
                                   expose_host, http or "auto", loop or "auto", ServiceRequest(app, app_dir, requirements))
    serving.serve(request, ready, progress)
    click.echo("stopping")


COMMANDS = (setup, doctor, run, compare, diagnose, capacity, serve)
