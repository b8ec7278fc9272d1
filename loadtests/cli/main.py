"""``gil-lab``: a thin command line over the lab's library modules.

Every option can also be set from an environment variable (shown in ``--help``), in
the manner of granian's CLI. Errors the lab expects are printed as one clear message
with a remedy and exit status 1; usage errors exit 2.
"""

from __future__ import annotations

import functools
import json
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from loadtests.core.errors import LabError


def lab_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn LabError into a clean message and exit status 1; Ctrl-C into status 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LabError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "GIL_LAB"})
@click.version_option(package_name="gil-lab")
def main() -> None:
    """gil-lab: measure whether CPU-bound FastAPI endpoints get faster on free-threaded 3.14t.

    Typical use: `make compare` (or `gil-lab compare`), then open results/<run-id>/report.html.
    """
    # `kill PID` must tear down like Ctrl-C: unwind every context manager, so no server or
    # Locust process this command started outlives it. SIGINT is set too, because a shell
    # starts background jobs with it ignored.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def interpreter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--python-ft", envvar="LAB_PYTHON_FT", type=click.Path(dir_okay=False),
                        help="Free-threaded CPython 3.14t to use. [env: LAB_PYTHON_FT]")(func)
    func = click.option("--python-gil", envvar="LAB_PYTHON_GIL", type=click.Path(dir_okay=False),
                        help="Standard CPython 3.14 to use. [env: LAB_PYTHON_GIL]")(func)
    return func


@main.command()
@interpreter_options
@click.option("--force", is_flag=True, help="Re-sync environments even when nothing changed.")
@lab_errors
def setup(python_gil: str | None, python_ft: str | None, force: bool) -> None:
    """Find or build both interpreters and sync the environments (what `make setup` does)."""
    from loadtests.provision.interpreters import ResolveOptions
    from loadtests.provision.provisioning import provision

    explicit = {role: p for role, p in (("gil", python_gil), ("ft", python_ft)) if p}
    provision(ResolveOptions.from_env(explicit=explicit), force_sync=force)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@lab_errors
def doctor(as_json: bool) -> None:
    """Show the interpreters and environments the lab uses, re-verified by running them.

    Exits non-zero when something is missing or wrong, and says what to run.
    """
    from loadtests.provision.doctor import diagnose, render

    diagnosis = diagnose()
    click.echo(json.dumps(diagnosis.report, indent=2) if as_json else render(diagnosis))
    if not diagnosis.healthy:
        sys.exit(1)


def _csv(value: str | None) -> tuple[str, ...] | None:
    if not value:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by `run` and `compare`: a preset and its overrides."""
    options = [
        click.option("--preset", default="default", show_default=True, envvar="PRESET",
                     help="Matrix preset from scenarios/presets/ (smoke, default, full, gil-trap). [env: PRESET]"),
        click.option("--scenario", "scenarios", envvar="SCENARIO",
                     help="Only these scenarios, comma-separated: json, image, compute, hash, async, a drop-in module name (e.g. orders), or routes for all drop-ins. [env: SCENARIO]"),
        click.option("--servers", help="Only these servers, comma-separated (uvicorn, granian)."),
        click.option("--repeats", type=click.IntRange(1, 50), help="Repeats per configuration (preset's by default)."),
        click.option("--duration", type=click.FloatRange(1, 3600), help="Measured window per cell, seconds."),
        click.option("--warmup", type=click.FloatRange(0, 600), help="Discarded warm-up per cell, seconds."),
        click.option("--users", help="Override Locust users (concurrency), comma-separated integers."),
        click.option("--locust-workers", type=click.IntRange(0, 64), default=0, show_default=True,
                     envvar="LAB_LOCUST_WORKERS",
                     help="Run Locust as a master with N local worker processes (0: one process). [env: LAB_LOCUST_WORKERS]"),
        click.option("--out", "out_parent", type=click.Path(file_okay=False), envvar="LAB_RESULTS_DIR",
                     help="Parent directory for the run directory (default: results/). [env: LAB_RESULTS_DIR]"),
        click.option("--routes-dir", "routes_dirs", multiple=True, type=click.Path(file_okay=False, exists=True),
                     help="Extra directory of drop-in route modules for every cell (repeatable); each module's "
                          "name becomes a scenario."),
        click.option("--app-url", "app_urls", multiple=True, metavar="LABEL=URL", envvar="LAB_APP_URLS",
                     help="Load an app the lab does not start (a container, another machine), e.g. "
                          "3.14t=http://app-ft:8000; give one per interpreter of the preset. Only cells matching "
                          "that app's server and thread limit run; the rest are recorded as skipped, and its CPU "
                          "and memory cannot be sampled. [env: LAB_APP_URLS, space-separated]"),
        click.option("--no-threads-bench", "skip_microbench", is_flag=True,
                     help="Skip the preset's HTTP-free threads microbenchmark."),
        click.option("--resume", "resume_dir", type=click.Path(file_okay=False, exists=True),
                     help="Complete an interrupted run directory instead of starting a new one."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass(frozen=True)
class RunRequest:
    """What `run` and `compare` were asked to do, straight from their options."""

    preset: str
    scenarios: str | None = None
    servers: str | None = None
    repeats: int | None = None
    duration: float | None = None
    warmup: float | None = None
    users: str | None = None
    locust_workers: int = 0
    out_parent: str | None = None
    routes_dirs: tuple[str, ...] = ()
    skip_microbench: bool = False
    resume_dir: str | None = None
    app_urls: tuple[str, ...] = ()

    def external_apps(self, labels: set[str]) -> dict[str, str]:
        """``--app-url 3.14=URL --app-url 3.14t=URL`` as a dict, checked against the preset's interpreters."""
        from loadtests.core.errors import ConfigError

        urls = {}
        for item in self.app_urls:
            label, sep, url = item.partition("=")
            if not sep or label not in ("3.14", "3.14t") or not url.startswith(("http://", "https://")):
                raise ConfigError(f"--app-url takes LABEL=URL with LABEL 3.14 or 3.14t and an http(s) URL, "
                                  f"not {item!r}")
            urls[label] = url
        if urls and set(urls) != labels:
            raise ConfigError(f"--app-url covers {', '.join(sorted(urls))} but the preset also runs "
                              f"{', '.join(sorted(labels - set(urls)))}: give a URL for every interpreter, or none")
        return urls

    def overrides(self):  # noqa: ANN201
        from loadtests.core.errors import ConfigError
        from loadtests.plan.presets import Overrides

        try:
            user_levels = tuple(int(u) for u in _csv(self.users) or ()) or None
        except ValueError as exc:
            raise ConfigError(f"--users takes comma-separated integers, not {self.users!r}") from exc
        if user_levels and min(user_levels) < 1:
            raise ConfigError("--users must be at least 1")
        return Overrides(_csv(self.scenarios), _csv(self.servers), self.repeats, self.duration, self.warmup,
                         user_levels, tuple(str(Path(d).resolve()) for d in self.routes_dirs), self.skip_microbench)


def _check_environments(interpreters: dict) -> None:
    from loadtests.core.errors import EnvironmentSetupError
    from loadtests.provision import envs

    for spec in envs.env_specs(interpreters):
        if not spec.python.exists():
            raise EnvironmentSetupError(f"environment {spec.name} is missing ({spec.path}). Run `make setup`.")


def execute(request: RunRequest) -> Path:
    """Check everything (preset, flags, interpreters, environments) before any server starts, then run."""
    from loadtests.core.paths import results_dir
    from loadtests.measure.runner import Runner, RunOptions
    from loadtests.plan.presets import apply_overrides, load_preset
    from loadtests.provision.provisioning import load_interpreters

    if request.resume_dir:
        from loadtests.results.store import load_run

        external = load_run(Path(request.resume_dir))["settings"].get("app_urls")
        runner = Runner.resume(Path(request.resume_dir), {} if external else load_interpreters())
        return _finish(runner.run())
    preset = apply_overrides(load_preset(request.preset), request.overrides())
    app_urls = request.external_apps({c.interpreter for c in preset.configs})
    if app_urls:  # nothing local runs the app: no interpreters, environments or threads microbenchmark needed
        interpreters: dict = {}
        preset = replace(preset, microbench=None, audit=False)
    else:
        interpreters = load_interpreters()
        _check_environments(interpreters)
    out_parent = Path(request.out_parent) if request.out_parent else results_dir()
    runner = Runner.start(RunOptions(preset, out_parent, request.locust_workers, app_urls=app_urls), interpreters)
    return _finish(runner.run())


def _finish(run_dir: Path) -> Path:
    """Index the run in the history database."""
    from loadtests.results.history import record_run

    record_run(run_dir)
    return run_dir


@main.command()
@run_options
@lab_errors
def run(**options: Any) -> None:
    """Measure a preset's matrix and write results/<run-id>/run.json (no report).

    Ctrl-C stops cleanly and keeps every finished cell; `--resume RUN_DIR` completes it.
    """
    click.echo(str(execute(RunRequest(**options))))


@main.command()
@run_options
@click.option("--slo-ms", type=click.FloatRange(1, 600_000), default=500, show_default=True,
              help="Latency objective for the capacity section: highest rps with p95 under it.")
@click.option("--target-rps", type=click.FloatRange(0.001, None), help="Capacity section: cores needed for this rps.")
@lab_errors
def compare(slo_ms: float, target_rps: float | None, **options: Any) -> None:
    """Run a preset (default: default) and print the verdict; writes report.html and report.md.

    The run directory holds run.json, the reports and each cell's Locust CSV/HTML and
    server log. Ctrl-C keeps finished cells; `gil-lab compare --resume RUN_DIR` completes them.
    """
    from loadtests.cli.report_commands import summarize_run

    run_dir = execute(RunRequest(**options))
    click.echo(summarize_run(run_dir, slo_ms, target_rps))


@main.command()
@click.option("--interpreter", type=click.Choice(["gil", "ft"]), default="ft", show_default=True,
              help="gil: standard 3.14; ft: free-threaded 3.14t.")
@click.option("--server", type=click.Choice(["uvicorn", "granian"]), default="uvicorn", show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server workers (processes; granian on 3.14t: threads).")
@click.option("--threads", type=click.IntRange(1, 1024), default=8, show_default=True, envvar="LAB_THREADS",
              help="anyio thread limit per event loop. [env: LAB_THREADS]")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0 picks a free port.")
@click.option("--python-gil", type=click.Choice(["0", "1"]), help="PYTHON_GIL for the server (3.14t only).")
@click.option("--routes-dir", "routes_dirs", multiple=True, type=click.Path(file_okay=False, exists=True),
              help="Extra directory of drop-in route modules (repeatable).")
@click.option("--expose", "expose_host", metavar="HOST",
              help="Bind to HOST instead of 127.0.0.1. This EXPOSES the whole app (every route, /docs, and "
                   "/lab/runtime with its pid and package versions) to anyone who can reach HOST; use it only "
                   "for remote Locust workers on a trusted network.")
@lab_errors
def serve(interpreter: str, server: str, workers: int, threads: int, port: int, python_gil: str | None,
          routes_dirs: tuple[str, ...], expose_host: str | None) -> None:
    """Run one server on 127.0.0.1 for manual exploration, until Ctrl-C."""
    import time
    from pathlib import Path

    from loadtests.core.errors import ConfigError, ServerError
    from loadtests.core.paths import results_dir
    from loadtests.measure.servers import LOOPBACK, ServerSettings, running_server
    from loadtests.provision import envs

    if python_gil and interpreter != "ft":
        raise ConfigError("--python-gil applies to the free-threaded interpreter only (PYTHON_GIL=0 is a fatal error "
                          "on a GIL build).")
    env = "app-ft" if interpreter == "ft" else "app-gil"
    python = envs.app_python(env)
    if expose_host:
        click.secho(f"warning: --expose binds to {expose_host}: the app, /docs and /lab/runtime are reachable from "
                    "the network, without authentication.", fg="yellow", err=True)
    settings = ServerSettings(server=server, python=python, workers=workers, threads=threads,
                              python_gil=python_gil, port=port or None, host=expose_host or LOOPBACK,
                              routes_dirs=tuple(str(Path(d).resolve()) for d in routes_dirs))
    log = results_dir() / "serve" / f"{server}-{interpreter}.log"
    with running_server(settings, log) as running:
        rt = running.runtime
        click.echo(f"{server} on {rt.get('python_version', '?')} free_threaded={rt.get('free_threaded')} "
                   f"gil_enabled={rt.get('gil_enabled')} thread_limit={rt.get('thread_limit')}")
        click.echo(f"serving {running.base_url}  (docs: {running.base_url}/docs, log: {log}); Ctrl-C to stop")
        try:
            while running.exit_code() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            click.echo("stopping")
            return
        raise ServerError(f"the server exited with status {running.exit_code()}:\n{running.log_tail()}")



def _register_commands() -> None:
    """Commands that live beside the modules they drive (report, history, diff, threads, audit)."""
    from loadtests.cli import audit_command as cli_audit
    from loadtests.cli import report_commands as cli_report

    for command in (cli_report.report, cli_report.history, cli_report.diff, cli_report.threads, cli_audit.audit):
        main.add_command(command)


_register_commands()
