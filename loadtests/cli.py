"""``gil-lab``: a thin command line over the lab's library modules.

Every option can also be set from an environment variable (shown in ``--help``), in
the manner of granian's CLI. Errors the lab expects are printed as one clear message
with a remedy and exit status 1; usage errors exit 2.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable

import click

from .errors import LabError


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
    from .interpreters import ResolveOptions
    from .provision import provision

    explicit = {role: p for role, p in (("gil", python_gil), ("ft", python_ft)) if p}
    provision(ResolveOptions.from_env(explicit=explicit), force_sync=force)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@lab_errors
def doctor(as_json: bool) -> None:
    """Show the interpreters and environments the lab uses, re-verified by running them.

    Exits non-zero when something is missing or wrong, and says what to run.
    """
    from .doctor import diagnose, render

    diagnosis = diagnose()
    click.echo(json.dumps(diagnosis.report, indent=2) if as_json else render(diagnosis))
    if not diagnosis.healthy:
        sys.exit(1)
