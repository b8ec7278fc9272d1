"""Options several commands share, defined once (with their environment variables, shown in --help)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from loadtests.analysis.capacity import DEFAULT_SLO_MS
from loadtests.core.flavour import SERVERS
from loadtests.results.records import EVENT_LOOPS, HTTP_PARSERS

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
    return preset_options("default")(func)


def preset_options(default_preset: str) -> Decorator:
    """A preset and its overrides; ``default_preset`` is the command's own (capacity has its own preset)."""
    return apply([
        click.option("--preset", default=default_preset, show_default=True, envvar="LAB_PRESET", show_envvar=True,
                     help="Preset from scenarios/presets/ (smoke, default, full, gil-trap, capacity, tune)."),
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
        click.option("--threads", envvar="LAB_THREADS", show_envvar=True,
                     help="Override the anyio thread limit of every configuration, comma-separated positive "
                          "integers: each configuration runs at each limit (e.g. 1,2,4,8 to find each "
                          "interpreter's best)."),
        click.option("--cpus", "cpus",
                     help="Sweep CPU sets: pin every server to the first N usable CPUs for each N, comma-separated "
                          "(e.g. 1,2,4). Three or more counts let the report fit a scaling model."),
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
    ])
