"""``gil-lab clean``: the command line over :mod:`loadtests.workflow.clean`.

``make clean`` and ``make clean-all`` run the same function through
``python3 -m loadtests.cli.bootstrap clean``, which works before set-up too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from loadtests.cli.errors import lab_errors
from loadtests.workflow import clean as cleaning


def _part_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """One flag per part of workflow.clean.PARTS, in its order."""
    for name, text in reversed(cleaning.PARTS.items()):
        func = click.option(f"--{name}", is_flag=True, help=f"Remove {text}.")(func)
    return func


@click.command()
@_part_options
@click.option("--all", "everything", is_flag=True, help="Environments, caches and builds (what `make clean-all` "
              "removes); results only with --results as well.")
@click.option("--dry-run", is_flag=True, help="Print what would be removed, and remove nothing.")
@lab_errors
def clean(everything: bool, dry_run: bool, **parts: bool) -> None:
    """Remove the lab's environments and caches (default), or the parts named; print each thing removed.

    Without flags: --environments --caches, as `make clean`. Results are removed only with
    --results. Never asks anything.
    """
    chosen = [name for name, wanted in parts.items() if wanted]
    cleaning.clean(cleaning.choose_parts(chosen, everything), click.echo, dry_run=dry_run)
