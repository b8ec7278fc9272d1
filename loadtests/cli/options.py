"""Options several commands share, defined once (with their environment variables, shown in --help)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from loadtests.analysis.figures.capacity import DEFAULT_SLO_MS
from loadtests.analysis.safety_gate import judge_all
from loadtests.cli.server_options import http_option, servers_option
from loadtests.core.durations import parse_duration
from loadtests.core.errors import ConfigError
from loadtests.core.exit_status import ExitStatus, combined
from loadtests.provision import process_env
from loadtests.report.gate_text import render_expectations, render_safety_gate
from loadtests.results.expectation import Expectation, ExpectationError, parse_expectation
from loadtests.results.records import EVENT_LOOPS, SummaryRecord
from loadtests.results.safety_expectation import SafetyExpectation, parse_safety_expectation
from loadtests.workflow import gates
from loadtests.workflow.run import RunResult

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
loop_option = click.option(
    "--loop", type=click.Choice(EVENT_LOOPS), envvar="LAB_LOOP", show_envvar=True,
    help="The event loop of every server: asyncio (standard library) or uvloop. Default: auto.")


app_option = click.option(
    "--app", "app", metavar="MODULE:ATTR", envvar="LAB_APP", show_envvar=True,
    help="Your own ASGI app (FastAPI, Starlette, any ASGI 3 app), served unchanged behind the lab's layer. "
         "Default: the lab's built-in app (app.main:app).")
app_dir_option = click.option(
    "--app-dir", "app_dir", metavar="DIR", envvar="LAB_APP_DIR", show_envvar=True,
    type=click.Path(file_okay=False, exists=True),
    help="The directory holding the app's top-level package: first on the server's import path, and its working "
         "directory. Default: the current directory.")
requirements_option = click.option(
    "--requirements", "requirements", metavar="FILE", envvar="LAB_REQUIREMENTS", show_envvar=True,
    type=click.Path(dir_okay=False),
    help="The app's requirements (requirements.txt, or a pyproject.toml's [project].dependencies): the lab builds "
         "an environment per interpreter from them and its own app dependencies. A requirements.txt in a "
         "--routes-dir is used by itself.")
locustfile_option = click.option(
    "--locustfile", "locustfile", metavar="FILE", envvar="LAB_LOCUSTFILE", show_envvar=True,
    type=click.Path(dir_okay=False),
    help="Your own Locust file, unmodified: its User classes, tasks, weights and wait_time. Its stem names the "
         "scenario, which replaces the preset's; the lab sets the host and the user count.")
def _pass_env(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> None:
    """Hand the names to every child the lab starts from now on (process_env reads LAB_PASS_ENV)."""
    names = [n.strip() for value in values for n in value.split(",") if n.strip()]
    try:
        process_env.pass_patterns({process_env.PASS_ENV: ",".join(names)})
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    os.environ[process_env.PASS_ENV] = ",".join(names)


pass_env_option = click.option(
    "--pass-env", "pass_env", multiple=True, metavar="NAME", envvar=process_env.PASS_ENV, show_envvar=True,
    callback=_pass_env, expose_value=False,
    help="Pass this environment variable on to the servers, Locust and the imports of your app (repeatable or "
         "comma-separated; NAME* for a prefix). They get no other variable of yours but the basics (PATH, HOME, "
         "locale, certificates): no proxy, no token, no credentials.")
python_gil_arm_option = click.option(
    "--python-gil", "python_gil", type=click.Choice(["0"]), envvar="LAB_PYTHON_GIL_ARM", show_envvar=True,
    help="0: add a PYTHON_GIL=0 arm beside every 3.14t arm, to measure what forcing the GIL off would give. It is "
         "reported as a risk (extensions that need the GIL then run without it), never as the headline.")


class Duration(click.ParamType):
    """A duration as people type it (``2m``, ``90s``, ``1h``), in seconds, at least ``minimum``."""

    name = "duration"

    def __init__(self, minimum: float) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            try:
                seconds = parse_duration(str(value))
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        if seconds < self.minimum:
            self.fail(f"{value} is too short: a soak needs at least {self.minimum:g} s for the memory to settle "
                      "and a trend to show (2m is the shortest that tells a leak from the allocator's warm-up)",
                      param, ctx)
        return seconds


#: 30 s: the allocator's plateau takes up to a third of the soak, and the fit needs readings after it.
MIN_SOAK_S = 30.0
soak_option = click.option(
    "--soak", "soak_s", metavar="DURATION", type=Duration(MIN_SOAK_S), envvar="LAB_SOAK", show_envvar=True,
    help="Also hold a steady load on both interpreters' servers side by side for DURATION (2m, 10m, 1h) and "
         "sample their memory (USS, PSS) and threads: memory that keeps growing per request after the allocator's "
         "plateau is reported as growth, with its interval (docs/safety.md).")


def service_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--app, --app-dir, --requirements and --pass-env: what `serve`, `audit` and `setup` share with `run`."""
    return apply([app_option, app_dir_option, requirements_option, pass_env_option])(func)


def interpreter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    return apply([
        click.option("--python-gil", envvar="LAB_PYTHON_GIL", show_envvar=True, type=click.Path(dir_okay=False),
                     help="Standard CPython 3.14 to use."),
        click.option("--python-ft", envvar="LAB_PYTHON_FT", show_envvar=True, type=click.Path(dir_okay=False),
                     help="Free-threaded CPython 3.14t to use."),
    ])(func)


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by `run` and `compare`: a preset and its overrides."""
    return preset_options("default")(func)


def preset_options(default_preset: str) -> Decorator:
    """A preset and its overrides; ``default_preset`` is the command's own (capacity has its own preset)."""
    return apply([
        click.option("--preset", default=default_preset, show_default=True, envvar="LAB_PRESET", show_envvar=True,
                     help="Preset from scenarios/presets/ (smoke, default, full, gil-trap, capacity, tune, diagnose)."),
        click.option("--scenario", "scenarios", envvar="LAB_SCENARIO", show_envvar=True,
                     help="Only these scenarios, comma-separated: json, image, compute, contended, hash, async, a drop-in "
                          "module name (e.g. orders), or routes for all drop-ins."),
        servers_option,
        click.option("--repeats", type=click.IntRange(1, 500),
                     help="Pairs of windows per comparison. Alone: exactly that many (no precision target); with "
                          "--precision: the minimum (never fewer than 5)."),
        click.option("--precision", type=click.FloatRange(0, 1, min_open=True, max_open=True),
                     envvar="LAB_PRECISION", show_envvar=True,
                     help="Keep alternating each comparison until the 95% CI half-width of its ratios is at most "
                          "this fraction of the ratio (0.05 = ±5%), or --max-time is up. The default preset uses "
                          "0.10; a tighter target grows the preset's time budget by (0.10 ÷ target)², at most 4×."),
        click.option("--max-time", "max_time", type=click.FloatRange(1, 86400), envvar="LAB_MAX_TIME",
                     show_envvar=True,
                     help="Time budget per comparison, seconds (default: the preset's, grown for a tighter "
                          "--precision): an adaptive comparison stops there and is reported as imprecise if it fell "
                          "short."),
        click.option("--duration", type=click.FloatRange(1, 3600), help="Measured window per turn, seconds."),
        click.option("--instances", type=click.IntRange(1, 20), envvar="LAB_INSTANCES", show_envvar=True,
                     help="Server instances per arm of each comparison (fresh processes, each with its own hash "
                          "seed; blocks take turns between them), so the intervals hold what differs between two "
                          "starts of a server, as between two runs. Default: the preset's."),
        click.option("--warmup", type=click.FloatRange(0, 600),
                     help="Longest warm-up of each new server, seconds (it ends earlier once throughput is "
                          "stable; 0 skips it)."),
        click.option("--users", help="Override Locust users (concurrency), comma-separated integers."),
        click.option("--threads", envvar="LAB_THREAD_LIMITS", show_envvar=True,
                     help="Override the anyio thread limit of every configuration, comma-separated positive "
                          "integers: each configuration runs at each limit (e.g. 1,2,4,8 to find each "
                          "interpreter's best)."),
        click.option("--cpus", "cpus",
                     help="Sweep CPU sets: pin every server to the first N usable CPUs for each N, comma-separated "
                          "(e.g. 1,2,4). Three or more counts let the report fit a scaling model."),
        click.option("--locust-workers", type=click.IntRange(0, 64), default=0, show_default=True,
                     envvar="LAB_LOCUST_WORKERS", show_envvar=True,
                     help="Run Locust as a master with N local worker processes (0: one process)."),
        click.option("--expect-workers", type=click.IntRange(0, 256), default=0, show_default=True,
                     envvar="LAB_EXPECT_WORKERS", show_envvar=True,
                     help="Wait for N Locust workers from other machines (`gil-lab worker --master HOST:PORT`) "
                          "before every window; with --locust-workers, both kinds carry the load."),
        click.option("--locust-master-bind", metavar="ADDR", envvar="LAB_LOCUST_MASTER_BIND", show_envvar=True,
                     help="Address the Locust master listens on for those workers (default 127.0.0.1). The lab's "
                          "servers listen there too, so the workers reach them. Anything but loopback needs "
                          "--expose-master."),
        click.option("--locust-master-port", type=click.IntRange(1, 65535), envvar="LAB_LOCUST_MASTER_PORT",
                     show_envvar=True,
                     help="The master's port for workers (default: a free port, printed with the command for the "
                          "workers; another lab on this machine may be using Locust's 5557)."),
        click.option("--expose-master", is_flag=True, envvar="LAB_EXPOSE_MASTER", show_envvar=True,
                     help="Accept a non-loopback --locust-master-bind: Locust's master port has no authentication "
                          "(the lab's token, LAB_LOCUST_TOKEN, keeps other workers out), and the lab's servers "
                          "serve the whole app on that address. Use it on a network you trust."),
        click.option("--workers-timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
                     envvar="LAB_WORKERS_TIMEOUT", show_envvar=True,
                     help="Seconds to wait for the expected workers at each session start and before each window; "
                          "a window whose workers are not all there by then is recorded as invalid."),
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
        click.option("--profile/--no-profile", default=None, envvar="LAB_PROFILE", show_envvar=True,
                     help="Sample each headline server with perf in an extra window after its measured ones "
                          "(default: the preset's; the default, full and diagnose presets do). See docs/diagnosis.md."),
        click.option("--probe/--no-probe", default=None, envvar="LAB_PROBE", show_envvar=True,
                     help="Call each endpoint the load reaches in process, from 1 to N threads, before the first "
                          "window (default: the preset's; always with --app, --requirements or --locustfile)."),
        click.option("--resume", "resume_dir", type=click.Path(file_okay=False, exists=True),
                     help="Complete an interrupted run directory instead of starting a new one."),
        app_option,
        app_dir_option,
        requirements_option,
        locustfile_option,
        pass_env_option,
        python_gil_arm_option,
        click.option("--bytecode", type=click.Choice(["compiled", "source"]), default="compiled", show_default=True,
                     envvar="LAB_BYTECODE", show_envvar=True,
                     help="How the servers load the app and its libraries. compiled: the lab compiles them for "
                          "each interpreter first, into its own cache (never into your tree); source: they are "
                          "compiled from source at every start, as PYTHONDONTWRITEBYTECODE=1 or a read-only tree "
                          "makes a deployment do. On 3.14t it decides whether module constants are immortal "
                          "(docs/methodology.md)."),
        click.option("--no-safety", "safety", is_flag=True, flag_value=False, default=True,
                     envvar="LAB_NO_SAFETY", show_envvar=True,
                     help="With --app and --locustfile, skip the response check that follows the windows "
                          "(your answers under parallel load against a serial reference; docs/safety.md)."),
        click.option("--safety-budget", type=click.FloatRange(30, 7200), envvar="LAB_SAFETY_BUDGET",
                     show_envvar=True,
                     help="Time budget of that response check, seconds (default 180): the recording stops at "
                          "1,000 requests or at 30% of the budget, whichever comes first."),
    ])


def not_measurable(exc: ExpectationError) -> click.BadParameter:
    """An expectation the run cannot answer, as the usage error (exit 2) it is."""
    return click.BadParameter(str(exc), ctx=click.get_current_context(silent=True), param_hint="'--expect'")


AnyExpectation = Expectation | SafetyExpectation


def _parse_expectations(ctx: click.Context, param: click.Parameter,
                        values: tuple[str, ...]) -> tuple[AnyExpectation, ...]:
    """Each --expect parsed on the spot: a bad expression is a usage error before anything runs."""
    try:
        return tuple(parse_safety_expectation(v) or parse_expectation(v) for v in values)
    except ExpectationError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def split_expectations(expectations: tuple[AnyExpectation, ...]
                       ) -> tuple[tuple[Expectation, ...], tuple[SafetyExpectation, ...]]:
    """Bounds on ratios, and ``no-races`` gates on the safety checks."""
    return (tuple(e for e in expectations if isinstance(e, Expectation)),
            tuple(e for e in expectations if isinstance(e, SafetyExpectation)))


def expect_param(required: bool = False) -> Decorator:
    """``--expect EXPR`` (repeatable), parsed into Expectation objects."""
    return click.option(
        "--expect", "expectations", multiple=True, required=required, callback=_parse_expectations,
        metavar="EXPR", envvar="LAB_EXPECT", show_envvar=True,
        help="A bound on a measured ratio, e.g. json:3.14t/3.14>=1.5 or compute@uvicorn,u1:3.14t/3.14>=0.85 "
             "(repeatable; docs/ci.md). The bound applies to the 95% interval: exit 10 when one fails, 11 when "
             "the comparison is invalid. `no-races` (or no-races@responses, no-races@tests) exits 10 when the "
             "safety checks found a race. (Several in the variable: space-separated.)")


def safety_gate(summary: SummaryRecord, expectations: tuple[SafetyExpectation, ...]) -> ExitStatus:
    """``no-races`` judged on a run's summary, its lines on stderr; PASS when there is none."""
    if not expectations:
        return ExitStatus.PASS
    status, results = judge_all(expectations, summary)
    click.echo(render_safety_gate(summary.run_id, results, status), nl=False, err=True)
    return status


def expect_option(command: Callable[..., RunResult]) -> Callable[..., RunResult]:
    """``--expect`` for a command that measures (``run``, ``compare``).

    The command's run checks the expectations against its plan before anything starts (a
    usage error, exit 2, for a scenario, server or comparison the plan does not measure)
    and judges them on its analysis at the end: the reasons go to stderr, and the exit
    status is 10, 11 or 1 when they do not all pass (docs/ci.md).
    """

    @functools.wraps(command)
    def wrapper(*args: Any, expectations: tuple[AnyExpectation, ...] = (), **options: Any) -> RunResult:
        ratios, races = split_expectations(expectations)
        try:
            gates.check_safety_before_run(races, options)
            result = command(*args, expectations=ratios, **options)
        except ExpectationError as exc:
            raise not_measurable(exc) from None
        statuses = []
        if result.expectations is not None:
            click.echo(render_expectations(result.expectations), nl=False, err=True)  # stdout stays the command's own
            statuses.append(result.expectations.status)
        statuses.append(safety_gate(result.analysis.summary, races))
        status = combined(statuses)
        if status != ExitStatus.PASS:
            sys.exit(status)
        return result

    return expect_param()(wrapper)
