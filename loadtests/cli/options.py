"""Options several commands share, defined once (with their environment variables, shown in --help)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from loadtests.analysis.capacity import DEFAULT_SLO_MS
from loadtests.core.exit_status import ExitStatus
from loadtests.core.flavour import SERVERS
from loadtests.report.gate_text import render_expectations
from loadtests.results.expectation import Expectation, ExpectationError, parse_expectation
from loadtests.results.records import EVENT_LOOPS, HTTP_PARSERS
from loadtests.workflow import gates

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def apply(options: list[Decorator]) -> Decorator:
    """Stack ``options`` so they show in --help in the order listed."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


slo_option = click.option(
    "--slo-ms", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_SLO_MS, show_default=True,
    envvar="LAB_SLO_MS", show_envvar=True,
    help="The latency objective: p95 must stay under this many milliseconds (capacity figures).")
target_option = click.option(
    "--target-rps", type=click.FloatRange(min=0, min_open=True), envvar="LAB_TARGET_RPS", show_envvar=True,
    help="Throughput to plan cores for in the capacity section.")
http_option = click.option(
    "--http", type=click.Choice(HTTP_PARSERS), envvar="LAB_HTTP", show_envvar=True,
    help="uvicorn's HTTP parser for every server: h11 is pure Python, httptools a C extension (granian parses "
         "HTTP in Rust and ignores this). Default: auto.")
loop_option = click.option(
    "--loop", type=click.Choice(EVENT_LOOPS), envvar="LAB_LOOP", show_envvar=True,
    help="The event loop of every server: asyncio (standard library) or uvloop. Default: auto.")


def interpreter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    return apply([
        click.option("--python-gil", envvar="LAB_PYTHON_GIL", show_envvar=True, type=click.Path(dir_okay=False),
                     help="Standard CPython 3.14 to use."),
        click.option("--python-ft", envvar="LAB_PYTHON_FT", show_envvar=True, type=click.Path(dir_okay=False),
                     help="Free-threaded CPython 3.14t to use."),
    ])(func)


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by `run` and `compare`: a preset and its overrides."""
    return apply([
        click.option("--preset", default="default", show_default=True, envvar="LAB_PRESET", show_envvar=True,
                     help="Matrix preset from scenarios/presets/ (smoke, default, full, gil-trap)."),
        click.option("--scenario", "scenarios", envvar="LAB_SCENARIO", show_envvar=True,
                     help="Only these scenarios, comma-separated: json, image, compute, hash, async, a drop-in "
                          "module name (e.g. orders), or routes for all drop-ins."),
        click.option("--servers", help=f"Only these servers, comma-separated ({', '.join(SERVERS)})."),
        click.option("--repeats", type=click.IntRange(1, 500),
                     help="Pairs of windows per comparison. Alone: exactly that many (no precision target); with "
                          "--precision: the minimum (never fewer than 5)."),
        click.option("--precision", type=click.FloatRange(0, 1, min_open=True, max_open=True),
                     envvar="LAB_PRECISION", show_envvar=True,
                     help="Keep alternating each comparison until the 95% CI half-width of its ratios is at most "
                          "this fraction of the ratio (0.05 = ±5%), or --max-time is up. The default preset uses "
                          "0.10."),
        click.option("--max-time", "max_time", type=click.FloatRange(1, 86400), envvar="LAB_MAX_TIME",
                     show_envvar=True,
                     help="Time budget per comparison, seconds: an adaptive comparison stops there and is "
                          "reported as imprecise if it fell short."),
        click.option("--duration", type=click.FloatRange(1, 3600), help="Measured window per turn, seconds."),
        click.option("--warmup", type=click.FloatRange(0, 600),
                     help="Longest warm-up of each new server, seconds (it ends earlier once throughput is "
                          "stable; 0 skips it)."),
        click.option("--users", help="Override Locust users (concurrency), comma-separated integers."),
        click.option("--locust-workers", type=click.IntRange(0, 64), default=0, show_default=True,
                     envvar="LAB_LOCUST_WORKERS", show_envvar=True,
                     help="Run Locust as a master with N local worker processes (0: one process)."),
        click.option("--out", "out_parent", type=click.Path(file_okay=False), envvar="LAB_RESULTS_DIR",
                     show_envvar=True, help="Parent directory for the run directory (default: results/)."),
        click.option("--routes-dir", "routes_dirs", multiple=True, type=click.Path(file_okay=False, exists=True),
                     help="Extra directory of drop-in route modules for every cell (repeatable); each module's "
                          "name becomes a scenario."),
        click.option("--app-url", "app_urls", multiple=True, metavar="LABEL=URL", envvar="LAB_APP_URLS",
                     show_envvar=True,
                     help="Load an app the lab does not start (a container, another machine), e.g. "
                          "3.14t=http://app-ft:8000; give one per interpreter of the preset. Only cells matching "
                          "that app's server and thread limit run; the rest are recorded as skipped, and its CPU "
                          "and memory cannot be sampled. (Several values in the variable: space-separated.)"),
        http_option,
        loop_option,
        click.option("--no-threads-bench", "skip_microbench", is_flag=True,
                     help="Skip the preset's HTTP-free threads microbenchmark."),
        click.option("--resume", "resume_dir", type=click.Path(file_okay=False, exists=True),
                     help="Complete an interrupted run directory instead of starting a new one."),
    ])(func)


def not_measurable(exc: ExpectationError) -> click.BadParameter:
    """An expectation the run cannot answer, as the usage error (exit 2) it is."""
    return click.BadParameter(str(exc), ctx=click.get_current_context(silent=True), param_hint="'--expect'")


def _parse_expectations(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Expectation, ...]:
    """Each --expect parsed on the spot: a bad expression is a usage error before anything runs."""
    try:
        return tuple(parse_expectation(v) for v in values)
    except ExpectationError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def expect_param(required: bool = False) -> Decorator:
    """``--expect EXPR`` (repeatable), parsed into Expectation objects."""
    return click.option(
        "--expect", "expectations", multiple=True, required=required, callback=_parse_expectations,
        metavar="EXPR", envvar="LAB_EXPECT", show_envvar=True,
        help="A bound on a measured ratio, e.g. json:3.14t/3.14>=1.5 or compute@uvicorn,u1:3.14t/3.14>=0.85 "
             "(repeatable; docs/ci.md). The bound applies to the 95% interval: exit 10 when one fails, 11 when "
             "the comparison is invalid. (Several in the variable: space-separated.)")


def expect_option(command: Callable[..., Path]) -> Callable[..., Path]:
    """``--expect`` for a command that measures and returns its run directory (``run``, ``compare``).

    The expectations are checked against the plan before the command runs (a usage
    error, exit 2, for a scenario, server or comparison the plan does not measure) and
    evaluated on the run's summary.json after it: the reasons go to stderr, and the
    exit status is 10, 11 or 1 when they do not all pass (docs/ci.md).
    """

    @functools.wraps(command)
    def wrapper(*args: Any, expectations: tuple[Expectation, ...] = (), **options: Any) -> Path:
        try:
            gates.check_before_run(expectations, gates.run_request(options))
        except ExpectationError as exc:
            raise not_measurable(exc) from None
        run_dir = command(*args, **options)
        if expectations:
            report = gates.check_run(run_dir, expectations)
            click.echo(render_expectations(report), nl=False, err=True)  # stdout stays the command's own
            if report.status != ExitStatus.PASS:
                sys.exit(report.status)
        return run_dir

    return expect_param()(wrapper)
