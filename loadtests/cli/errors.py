"""How every command reports failure: one message with a remedy, and an exit status CI can tell apart."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from loadtests.core.errors import LabError
from loadtests.core.exit_status import ExitStatus

F = TypeVar("F", bound=Callable[..., Any])


def lab_errors(func: F) -> F:
    """Turn a LabError into its message and exit status 1; Ctrl-C into status 130. No traceback for either.

    Every status is defined in ``loadtests/core/exit_status.py``.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LabError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(ExitStatus.LAB_ERROR)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(ExitStatus.INTERRUPTED)

    return wrapper  # type: ignore[return-value]


def progress(line: str) -> None:
    """Progress goes to stderr, so stdout stays machine-readable (a run directory, JSON)."""
    click.echo(line, err=True)
