"""``gil-lab audit``: the command line over the GIL audit.

Progress goes to stderr, the report to stdout, so ``--json`` output can be piped as is.
``python -m loadtests.cli.audit_command`` runs it stand-alone.
"""

from __future__ import annotations

import json
import sys

import click

from loadtests.audit.gil_audit import AuditOptions, exit_status, render
from loadtests.cli.errors import lab_errors
from loadtests.cli.options import app_dir_option, requirements_option
from loadtests.workflow.audit import audit_command
from loadtests.workflow.service import BUILTIN_APP, ServiceRequest


@click.command("audit")
@click.option("--app", "app", envvar=["LAB_APP", "LAB_AUDIT_APP"], show_envvar=True, metavar="MODULE:ATTR",
              help="The ASGI app to import: your own (with --app-dir and --requirements). Default: the lab's "
                   "built-in app (app.main:app), from the lab's own files.")
@app_dir_option
@requirements_option
@click.option("--module", "modules", multiple=True, metavar="NAME",
              help="Import this module instead of the app (repeatable).")
@click.option("--routes-dir", "--routes", "routes_dirs", multiple=True, type=click.Path(file_okay=False, exists=True),
              help="A drop-in routes directory for the app, as for run and serve (repeatable).")
@click.option("--interpreter", type=click.Choice(["ft", "gil"]), default="ft", show_default=True,
              help="Audit the free-threaded (3.14t) or the standard (3.14) app environment.")
@click.option("--distributions/--no-distributions", default=True, show_default=True,
              help="Also import every installed distribution, each in its own fresh process (slower).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(1, 3600), default=120.0, show_default=True,
              help="Seconds allowed for each import process.")
@click.option("--python-gil", type=click.Choice(["0", "1"]), envvar="LAB_AUDIT_PYTHON_GIL",
              help="Force PYTHON_GIL in the audited processes (reported as forced). Use this rather than exporting "
                   "PYTHON_GIL=0, which is fatal to the lab's own 3.14 interpreter.", show_envvar=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@lab_errors
def audit(app: str | None, app_dir: str | None, requirements: str | None, modules: tuple[str, ...],
          routes_dirs: tuple[str, ...], interpreter: str, distributions: bool, timeout_s: float,
          python_gil: str | None, as_json: bool) -> None:
    """Find imports that turn the GIL back on under free-threaded 3.14t, and say what to do.

    Imports the app in a fresh 3.14t process, then each installed distribution in its
    own process, and lists packages that could not be installed on 3.14t. PYTHON_GIL is
    removed from those processes unless you force it (--python-gil, or an exported
    PYTHON_GIL=1); a forced value is reported as such.
    With --requirements, the environment built from your requirements is audited (it is
    built first if needed), and --app-dir is where your app is imported from.
    The verdict tells the app's own import turning the GIL on (gil-enabled) from a
    distribution of its environment that would, if imported (requirement-needs-gil).
    Exits 1 for either, or when the app cannot be imported.
    """
    options = AuditOptions(app=app or BUILTIN_APP, modules=modules, routes_dirs=routes_dirs, interpreter=interpreter,
                           distributions=distributions, timeout_s=timeout_s, python_gil=python_gil)
    say = lambda line: click.echo(f"    {line}", err=True)  # noqa: E731 - one line of progress
    report = audit_command(options, say, ServiceRequest(app, app_dir, requirements))
    click.echo(json.dumps(report, indent=2) if as_json else render(report))
    sys.exit(exit_status(report))


if __name__ == "__main__":
    audit()
